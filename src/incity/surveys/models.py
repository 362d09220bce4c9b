"""Forms, their published versions, consent records and submissions.

The raw submission (`Submission.answers` plus the encrypted sensitive part) is
the record of truth. `Answer` rows are derived from it for queries and can be
rebuilt at any time (`services.rebuild_answers`). A published `FormVersion`
never changes; editing a form changes its draft, and publishing the draft makes
the next version.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from incity.accounts.models import Project


class FormStatus(models.TextChoices):
    # Never published, or waiting for the media or CSV files it names.
    DRAFT = "draft", _("Draft")
    OPEN = "open", _("Open for answers")
    CLOSED = "closed", _("Closed")


class Form(models.Model):
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="forms")
    # XLSForm's form_id; OpenRosa clients know the form by it.
    form_id = models.CharField(max_length=100)
    title = models.CharField(max_length=255)
    status = models.CharField(max_length=8, choices=FormStatus.choices, default=FormStatus.DRAFT)
    # The definition being edited (see definition.FormDefinition).
    draft: models.JSONField[Any] = models.JSONField()
    consent_required = models.BooleanField(default=False)
    # Information sheet per form language: what is collected, why, who sees it, how to withdraw.
    consent_sheet: models.JSONField[Any] = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    is_synthetic = models.BooleanField(default=False)

    class Meta:
        ordering = ["project", "title"]
        constraints = [
            models.UniqueConstraint(fields=["project", "form_id"], name="form_id_unique_in_project")
        ]

    def __str__(self) -> str:
        return self.title

    def latest_version(self) -> FormVersion | None:
        return self.versions.order_by("-number").first()


class FormVersion(models.Model):
    """A published, immutable version of a form; submissions keep the one they answered."""

    form = models.ForeignKey(Form, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    definition: models.JSONField[Any] = models.JSONField()
    # SHA-256 of the canonical JSON of the definition: tells identical versions apart.
    content_hash = models.CharField(max_length=64)
    question_count = models.PositiveIntegerField()
    consent_required = models.BooleanField(default=False)
    consent_sheet: models.JSONField[Any] = models.JSONField(default=dict, blank=True)
    published_at = models.DateTimeField(default=timezone.now)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["form", "number"]
        constraints = [
            models.UniqueConstraint(fields=["form", "number"], name="version_number_unique")
        ]

    def __str__(self) -> str:
        return f"{self.form} v{self.number}"


def _media_path(instance: FormMedia, filename: str) -> str:
    return f"forms/{instance.form_id}/{instance.filename}"


class FormMedia(models.Model):
    """A media or CSV file a form names (images in labels, choices from a file)."""

    form = models.ForeignKey(Form, on_delete=models.CASCADE, related_name="media_files")
    filename = models.CharField(max_length=255)
    file = models.FileField(upload_to=_media_path, max_length=400)
    size = models.PositiveBigIntegerField()
    # OpenRosa manifests identify files by MD5; this is a checksum, not security.
    md5 = models.CharField(max_length=32)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["form", "filename"]
        constraints = [
            models.UniqueConstraint(fields=["form", "filename"], name="media_filename_unique")
        ]

    def __str__(self) -> str:
        return self.filename


class SurveySettings(models.Model):
    """A project's survey settings: which questions hold sensitive answers."""

    project = models.OneToOneField(
        Project, on_delete=models.CASCADE, related_name="survey_settings"
    )
    # Question names (in any of the project's forms) whose answers are encrypted at rest,
    # besides those a module or form already tags as sensitive.
    sensitive_questions: models.JSONField[Any] = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"survey settings of {self.project_id}"


class Respondent(models.Model):
    """One person who answered: their consent record and the code that withdraws their data."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="respondents")
    # Short code the person keeps; it can only withdraw data, never read it.
    withdrawal_code = models.CharField(max_length=16, unique=True)
    consent_given_at = models.DateTimeField(null=True, blank=True)
    consent_language = models.CharField(max_length=64, blank=True)
    # SHA-256 of the information sheet the person was shown, to prove which text they accepted.
    consent_sheet_hash = models.CharField(max_length=64, blank=True)
    consent_version = models.ForeignKey(
        FormVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        # Never the withdrawal code: it is the respondent's key.
        return f"respondent {self.pk}"


class SubmissionStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    APPROVED = "approved", _("Approved")
    FLAGGED = "flagged", _("Flagged")
    REJECTED = "rejected", _("Rejected")


class Submission(models.Model):
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="submissions")
    form = models.ForeignKey(Form, on_delete=models.PROTECT, related_name="submissions")
    version = models.ForeignKey(FormVersion, on_delete=models.PROTECT, related_name="submissions")
    # The client's id for this answer set (ODK's meta/instanceID); a retry carries the same one.
    instance_id = models.CharField(max_length=100)
    # Answers without the sensitive ones (those are in `sensitive`, encrypted).
    answers: models.JSONField[Any] = models.JSONField()
    sensitive = models.BinaryField(null=True, blank=True)
    language = models.CharField(max_length=64, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    collected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    device_id = models.CharField(max_length=100, blank=True)
    channel = models.CharField(max_length=16)
    status = models.CharField(
        max_length=10, choices=SubmissionStatus.choices, default=SubmissionStatus.RECEIVED
    )
    status_reason = models.TextField(blank=True)
    # Audit trail links, never filtered on: unindexed, so batch inserts stay cheap.
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    revision = models.PositiveIntegerField(default=1)
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    edited_at = models.DateTimeField(null=True, blank=True)
    respondent = models.ForeignKey(
        Respondent, null=True, blank=True, on_delete=models.CASCADE, related_name="submissions"
    )
    is_synthetic = models.BooleanField(default=False)
    # True until the typed answers are derived: batches store the raw submission (the
    # record of truth) and leave deriving to `services.submissions.derive_typed_answers`.
    typed_pending = models.BooleanField(default=False)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["form", "instance_id"], name="instance_id_unique_in_form"
            )
        ]
        indexes = [
            models.Index(fields=["form", "received_at", "id"]),
            # Only the few rows still waiting are indexed, so inserts stay cheap.
            models.Index(
                fields=["form"],
                condition=models.Q(typed_pending=True),
                name="submission_typed_pending",
            ),
        ]

    def __str__(self) -> str:
        return self.instance_id


class SubmissionRevision(models.Model):
    """The answers as they were before an edit, with who changed them and why."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    answers: models.JSONField[Any] = models.JSONField()
    sensitive = models.BinaryField(null=True, blank=True)
    # Who made this revision's answers (the collector for revision 1).
    made_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    made_at = models.DateTimeField()
    replaced_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    replaced_at = models.DateTimeField(default=timezone.now)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["submission", "number"]
        constraints = [
            models.UniqueConstraint(fields=["submission", "number"], name="revision_unique")
        ]

    def __str__(self) -> str:
        return f"{self.submission_id} r{self.number}"


class FormDataState(models.Model):
    """A counter that changes whenever a form's submissions do (new, edited, reviewed,
    withdrawn, re-split for sensitivity).

    Derived stores (the analysis snapshot, the export column store, map layers) compare
    it with the value they were built at, so that a freshness check costs one indexed
    read however many submissions the form has. It is its own table, not a field of
    `Form`, so that saving a form loaded earlier can never set the counter back.
    Bumped only by `services.data_state.bump` in the transaction of the change.
    """

    form = models.OneToOneField(
        Form, primary_key=True, on_delete=models.CASCADE, related_name="data_state"
    )
    version = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.form_id}@{self.version}"


class Answer(models.Model):
    """One typed value of a submission, derived from the raw answers (rebuildable)."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="typed")
    form = models.ForeignKey(Form, on_delete=models.CASCADE, related_name="+")
    path = models.CharField(max_length=255)
    name = models.CharField(max_length=100)
    repeat_path = models.CharField(max_length=255, blank=True)
    kind = models.CharField(max_length=10)
    # NULL means "this value is not of this kind"; SQL aggregates skip it, unlike "".
    text = models.TextField(null=True, blank=True)  # noqa: DJ001
    number = models.FloatField(null=True, blank=True)
    date = models.CharField(max_length=40, null=True, blank=True)  # noqa: DJ001
    geometry: models.JSONField[Any] = models.JSONField(null=True, blank=True)
    lat = models.FloatField(null=True, blank=True)
    lon = models.FloatField(null=True, blank=True)
    # The project area holding the representative point (lat, lon) of a geometry answer;
    # derived by `places.assignment`, refreshed whenever the project's areas change.
    area = models.ForeignKey(
        "places.Area", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["form", "name"])]

    def __str__(self) -> str:
        return self.path


class Tombstone(models.Model):
    """What is left when a respondent withdraws: that it happened, and no answers."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="tombstones")
    # SHA-256 of the withdrawal code: a repeated withdrawal is recognised, the code is not kept.
    code_hash = models.CharField(max_length=64, unique=True)
    submissions_removed = models.PositiveIntegerField()
    withdrawn_at = models.DateTimeField(default=timezone.now)
    channel = models.CharField(max_length=16)

    def __str__(self) -> str:
        return f"withdrawal of {self.submissions_removed} submissions"


class WithdrawnInstance(models.Model):
    """An instance id whose answers were withdrawn: a device that sends it again is
    acknowledged, and the answers are not stored a second time."""

    tombstone = models.ForeignKey(Tombstone, on_delete=models.CASCADE, related_name="instances")
    form = models.ForeignKey(Form, on_delete=models.CASCADE, related_name="+")
    instance_id = models.CharField(max_length=100)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["form", "instance_id"], name="withdrawn_instance_unique"
            )
        ]

    def __str__(self) -> str:
        return self.instance_id


def _attachment_path(instance: SubmissionAttachment, filename: str) -> str:
    # Per project and submission, so a project's files can be found (and removed) together.
    submission = instance.submission
    return f"submissions/{submission.project_id}/{submission.pk}/{filename}"


class SubmissionAttachment(models.Model):
    """A file a submission's answers name (a photo, a recording), as received from the device."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="attachments")
    # The name the answers use; the stored path may differ where the storage renames.
    filename = models.CharField(max_length=255)
    file = models.FileField(upload_to=_attachment_path, max_length=400)
    content_type = models.CharField(max_length=100, blank=True)
    size = models.PositiveBigIntegerField()
    # OpenRosa identifies files by MD5; this is a checksum, not security.
    md5 = models.CharField(max_length=32)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["submission", "filename"]
        constraints = [
            models.UniqueConstraint(
                fields=["submission", "filename"], name="attachment_filename_unique"
            )
        ]

    def __str__(self) -> str:
        return self.filename


@receiver(post_delete, sender=SubmissionAttachment)
def _remove_attachment_file(sender: Any, instance: SubmissionAttachment, **kwargs: Any) -> None:
    # Rows go with their submission (withdrawal, deletion) through on_delete=CASCADE, which no
    # service sees; the file is a respondent's photo and must go too, once the delete commits.
    name = instance.file.name
    storage = instance.file.storage
    if name:
        transaction.on_commit(lambda: storage.delete(name))

"""A demo-like form for the dashboard tests: the demo's modules with seeded synthetic answers."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

from incity.demo.surveys import EN, MODULES, SITES, synthetic_answer_sets
from incity.surveys.definition import walk
from incity.surveys.models import Form, Submission
from incity.surveys.services import forms as form_services
from incity.surveys.services import submissions as submission_services
from incity.surveys.services import typed as typed_services
from incity.surveys.services.submissions import SubmissionInput
from tests.personas import SYSTEM, Cast

# Two waves of fieldwork: the first half of the answers in September, the rest in November.
FIRST_WAVE = datetime(2026, 9, 1, 10, tzinfo=UTC)
SECOND_WAVE = datetime(2026, 11, 2, 10, tzinfo=UTC)


def demo_like_form(
    cast: Cast,
    count: int = 120,
    form_id: str = "dips_like",
    seed: int = 7,
    background_sensitive: bool = True,
) -> Form:
    """The demo's DiPS modules, `count` synthetic submissions from three sites' tablets.

    `background_sensitive=False` is a city that decided birth country and arrival are not
    sensitive in its survey, so they reach the typed answers (and the two-way view).
    """
    form = form_services.create_form_from_modules(
        acting_user=cast.researcher,
        origin=SYSTEM,
        project_slug=cast.survey.slug,
        form_id=form_id,
        title=f"DiPS-like survey ({form_id}, synthetic)",
        module_slugs=MODULES,
        languages=[EN],
        consent_required=False,
    )
    if not background_sensitive:
        definition = copy.deepcopy(form.draft)
        for element, _parents in walk(definition["children"]):
            if element["name"] in ("bg_born_here", "bg_arrival"):
                element.get("tags", {}).pop("sensitive", None)
        form_services.update_draft(
            acting_user=cast.researcher, origin=SYSTEM, form_pk=form.pk, definition=definition
        )
    form_services.publish_form(acting_user=cast.researcher, origin=SYSTEM, form_pk=form.pk)
    form.refresh_from_db()
    version = form.latest_version()
    assert version is not None
    answer_sets = synthetic_answer_sets(version.definition, count, seed=seed)
    items = [
        SubmissionInput(
            instance_id=f"test:{form_id}:{index:04d}",
            answers={k: v for k, v in answers.items() if k != "saf_places"},
            language=EN,
            device_id=f"demo-{SITES[index % 3].slug}-tablet-{1 + index % 2}",
        )
        for index, (_language, answers) in enumerate(answer_sets)
    ]
    results = submission_services.submit_batch(
        acting_user=cast.fieldworker, origin=SYSTEM, form_pk=form.pk, items=items, is_synthetic=True
    )
    assert all(result.outcome == "created" for result in results), results[0]
    typed_services.derive_typed_answers(form=form)
    # Spread the answers over two waves (test set-up: the received time is the server's own).
    for index, pk in enumerate(
        Submission.objects.filter(form=form).order_by("pk").values_list("pk", flat=True)
    ):
        start = FIRST_WAVE if index < count // 2 else SECOND_WAVE
        Submission.objects.filter(pk=pk).update(received_at=start + timedelta(days=index % 5))
    return form

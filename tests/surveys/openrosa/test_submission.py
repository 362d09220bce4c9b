"""The OpenRosa Form Submission API step by step: HEAD, then POST multipart with
xml_submission_file and attachments. Refusals first; nothing refused is stored."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.test.client import encode_multipart

from incity.accounts.models import AuditEvent
from incity.surveys.models import Form, Submission, SubmissionAttachment
from incity.surveys.services.forms import set_form_status
from incity.surveys.services.withdrawal import withdraw
from tests.personas import SYSTEM, Cast, bearer
from tests.surveys.openrosa.helpers import (
    BOUNDARY,
    PNG,
    as_user,
    basic,
    fill,
    new_id,
    post_submission,
    response_message,
)

pytestmark = pytest.mark.django_db

SLUG = "riverton-survey"
SUBMISSION = f"/openrosa/{SLUG}/submission"


def _xform(cast: Cast, form_id: str) -> bytes:
    response = Client().get(
        f"/openrosa/{SLUG}/forms/{form_id}/form.xml", headers=as_user(cast.fieldworker)
    )
    assert response.status_code == 200
    return response.content


def household_values(**changes: Any) -> dict[str, Any]:
    """What Collect writes for the household form's good answers (tests/surveys/forms.py)."""
    values: dict[str, Any] = {
        "incity_consent": "OK",
        "age": "34",
        "tenure": "private_rent",
        "rent": "640.5",
        "barriers": "no_time childcare",
        "born_here": "no",
        "household": [{"member_age": "7"}, {"member_age": "41"}],
        "places": [
            {
                "category": "unsafe",
                "geometry": "52.48 -1.89 0 0;52.49 -1.89 0 0;52.49 -1.88 0 0;52.48 -1.89 0 0",
                "time_of_day": "night",
                "comment": "no street lights",
            }
        ],
        "comment": "synthetic",
    }
    values.update(changes)
    return values


def field_values(**changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "start": "2026-11-01T10:00:00.000+01:00",
        "end": "2026-11-01T10:20:00.000+01:00",
        "deviceid": "collect:Xy12",
        "street": {
            "street_name": "High Street",
            "features": "lights trees",
            "spot": "52.48 -1.89 100 5",
        },
        "route": "52.48 -1.89 0 0;52.49 -1.88 0 0",
        "block": "52.48 -1.89 0 0;52.49 -1.89 0 0;52.49 -1.88 0 0;52.48 -1.89 0 0",
        "stops": [{"minutes": "5", "photo": "stop1.png"}, {"minutes": "7"}],
        "overview": "overview.png",
        "marks": [
            {"category": "unsafe", "geometry": "52.48 -1.89 0 0", "time_of_day": "night"},
        ],
    }
    values.update(changes)
    return values


def _send(cast: Cast, xml: bytes | None, files: dict[str, bytes] | None = None, **kw: Any) -> Any:
    return post_submission(Client(), SLUG, as_user(cast.fieldworker), xml, files, **kw)


def _refused(response: Any, status: int, fragment: str) -> None:
    assert response.status_code == status, response.content
    assert fragment in response_message(response)
    assert response["X-OpenRosa-Version"] == "1.0"
    assert Submission.objects.count() == 0
    assert SubmissionAttachment.objects.count() == 0


# --- HEAD ----------------------------------------------------------------------------


def test_head_without_credentials_is_challenged(household: Form) -> None:
    response = Client().head(SUBMISSION)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Basic realm="incity"'


def test_head_for_another_citys_project_is_not_found(cast: Cast, household: Form) -> None:
    token = bearer(cast.outsider)["Authorization"].removeprefix("Bearer ")
    assert Client().head(SUBMISSION, headers=basic("otto", token)).status_code == 404


def test_head_answers_204_with_the_size_limit(cast: Cast, household: Form) -> None:
    response = Client().head(SUBMISSION, headers=as_user(cast.fieldworker))
    assert response.status_code == 204
    assert response["X-OpenRosa-Version"] == "1.0"
    assert response["X-OpenRosa-Accept-Content-Length"] == str(25 * 1024 * 1024)


def test_get_is_not_a_submission(cast: Cast, household: Form) -> None:
    response = Client().get(SUBMISSION, headers=as_user(cast.fieldworker))
    assert response.status_code == 405
    assert response["Allow"] == "HEAD, POST"


# --- refusals --------------------------------------------------------------------------


def test_a_post_without_credentials_stores_nothing(cast: Cast, household: Form) -> None:
    xml = fill(_xform(cast, "household"), household_values())
    response = post_submission(Client(), SLUG, {}, xml)
    _refused(response, 401, "username and password")
    assert response["WWW-Authenticate"] == 'Basic realm="incity"'


def test_a_wrong_password_stores_nothing(cast: Cast, household: Form) -> None:
    xml = fill(_xform(cast, "household"), household_values())
    _refused(post_submission(Client(), SLUG, basic("fatima", "nope"), xml), 401, "wrong")


def test_a_viewer_cannot_submit(cast: Cast, household: Form) -> None:
    xml = fill(_xform(cast, "household"), household_values())
    _refused(post_submission(Client(), SLUG, as_user(cast.viewer), xml), 403, "collect")


def test_another_citys_project_is_not_found(cast: Cast, household: Form) -> None:
    xml = fill(_xform(cast, "household"), household_values())
    token = bearer(cast.outsider)["Authorization"].removeprefix("Bearer ")
    _refused(post_submission(Client(), SLUG, basic("otto", token), xml), 404, "No project")


def test_a_body_that_is_not_multipart_is_refused(cast: Cast, household: Form) -> None:
    response = Client().post(
        SUBMISSION, b"<data/>", content_type="text/xml", headers=as_user(cast.fieldworker)
    )
    _refused(response, 400, "multipart/form-data")


def test_a_missing_xml_part_is_refused(cast: Cast, household: Form) -> None:
    _refused(_send(cast, None, {"photo.png": PNG}), 400, "no xml_submission_file part")


def test_malformed_xml_is_refused(cast: Cast, household: Form) -> None:
    _refused(_send(cast, b"<data id='household'><age>34</data>"), 400, "not well-formed")


def test_a_dtd_is_refused(cast: Cast, household: Form) -> None:
    xml = b'<?xml version="1.0"?><!DOCTYPE data [<!ELEMENT data ANY>]><data id="household"/>'
    _refused(_send(cast, xml), 400, "DTD")


def test_entities_are_refused(cast: Cast, household: Form) -> None:
    xml = (
        b'<?xml version="1.0"?><!DOCTYPE data [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;">]>'
        b'<data id="household"><comment>&b;</comment></data>'
    )
    _refused(_send(cast, xml), 400, "DTD")


def test_a_root_without_a_form_id_is_refused(cast: Cast, household: Form) -> None:
    _refused(_send(cast, b"<data><age>3</age></data>"), 400, "no id attribute")


def test_an_unknown_form_is_not_found(cast: Cast, household: Form) -> None:
    xml = fill(_xform(cast, "household"), household_values()).replace(
        b'id="household"', b'id="no_such_form"'
    )
    _refused(_send(cast, xml), 404, "No form 'no_such_form'")


def test_a_closed_form_takes_no_answers(cast: Cast, household: Form) -> None:
    xml = fill(_xform(cast, "household"), household_values())
    set_form_status(
        acting_user=cast.researcher, origin=SYSTEM, form_pk=household.pk, status="closed"
    )
    _refused(_send(cast, xml), 403, "is closed")


def test_a_version_incity_never_published_is_refused(cast: Cast, household: Form) -> None:
    xml = fill(_xform(cast, "household"), household_values())
    _refused(_send(cast, xml.replace(b'version="1"', b'version="7"')), 400, "no version 7")
    _refused(_send(cast, xml.replace(b'version="1"', b'version="v1.2"')), 400, "download")


def test_an_invalid_answer_is_refused_naming_the_question(cast: Cast, household: Form) -> None:
    xml = fill(_xform(cast, "household"), household_values(age="12"))
    response = _send(cast, xml)
    _refused(response, 400, "age: Answers from people aged 16 or over only.")


def test_every_invalid_answer_is_named(cast: Cast, household: Form) -> None:
    xml = fill(
        _xform(cast, "household"),
        household_values(age="old", tenure="castle", household=[{"member_age": "x"}]),
    )
    message = response_message(_send(cast, xml))
    assert "3 problems" in message
    for path in ("age:", "tenure:", "household[1].member_age:"):
        assert path in message


def test_an_element_the_form_does_not_have_is_refused(cast: Cast, household: Form) -> None:
    xml = fill(_xform(cast, "household"), household_values()).replace(
        b"<comment>synthetic</comment>", b"<comment>synthetic</comment><salary>9</salary>"
    )
    _refused(_send(cast, xml), 400, "salary: This is not a question of this version")


def test_missing_consent_is_refused(cast: Cast, household: Form) -> None:
    xml = fill(_xform(cast, "household"), household_values(incity_consent=None))
    _refused(_send(cast, xml), 400, "consent is missing")


def test_a_submission_without_an_instance_id_is_refused(cast: Cast, household: Form) -> None:
    xml = fill(_xform(cast, "household"), household_values(), instance_id="")
    _refused(_send(cast, xml), 400, "meta/instanceID")


def test_an_edit_of_a_sent_submission_is_refused(cast: Cast, household: Form) -> None:
    xml = fill(_xform(cast, "household"), household_values()).replace(
        b"</meta>", b"<deprecatedID>uuid:old</deprecatedID></meta>"
    )
    _refused(_send(cast, xml), 400, "edit of a submission already sent")


def test_a_mark_geometry_that_is_not_points_is_refused(cast: Cast, household: Form) -> None:
    places = [{"category": "unsafe", "geometry": "somewhere near the park"}]
    xml = fill(_xform(cast, "household"), household_values(places=places))
    _refused(_send(cast, xml), 400, "places[1].geometry")


def test_a_file_no_answer_names_is_refused(cast: Cast, field_walk: Form) -> None:
    xml = fill(_xform(cast, "field_walk"), field_values())
    files = {"stop1.png": PNG, "overview.png": PNG, "selfie.png": PNG}
    _refused(_send(cast, xml, files), 400, "'selfie.png' is not named by any answer")


def test_a_file_name_with_a_folder_is_refused(cast: Cast, field_walk: Form) -> None:
    xml = fill(_xform(cast, "field_walk"), field_values(overview="overview.png"))
    _refused(_send(cast, xml, {"../overview.png": PNG}), 400, "is not allowed")


def test_an_empty_file_is_refused(cast: Cast, field_walk: Form) -> None:
    xml = fill(_xform(cast, "field_walk"), field_values())
    _refused(_send(cast, xml, {"overview.png": b""}), 400, "is empty")


@override_settings(OPENROSA_MAX_BYTES=4096)
def test_a_body_over_the_limit_is_refused_with_413(cast: Cast, field_walk: Form) -> None:
    xml = fill(_xform(cast, "field_walk"), field_values())
    response = _send(cast, xml, {"overview.png": PNG * 100})
    _refused(response, 413, "larger than this server takes in one request")
    assert response["X-OpenRosa-Accept-Content-Length"] == "4096"


def test_two_xml_parts_are_refused(cast: Cast, household: Form) -> None:
    xml = fill(_xform(cast, "household"), household_values())
    parts = [SimpleUploadedFile(f"{n}.xml", xml, content_type="text/xml") for n in (1, 2)]
    body = encode_multipart(BOUNDARY, {"xml_submission_file": parts})
    response = Client().generic(
        "POST",
        SUBMISSION,
        body,
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
        headers=as_user(cast.fieldworker),
    )
    _refused(response, 400, "more than one xml_submission_file")


# --- acceptance ------------------------------------------------------------------------


def test_a_submission_is_stored_with_its_answers_consent_and_provenance(
    cast: Cast, household: Form
) -> None:
    instance_id = new_id()
    xml = fill(_xform(cast, "household"), household_values(), instance_id=instance_id)
    response = _send(cast, xml)
    assert response.status_code == 201
    assert response["X-OpenRosa-Accept-Content-Length"]
    assert "received and stored" in response_message(response)
    submission = Submission.objects.get()
    assert submission.instance_id == instance_id
    assert submission.channel == "openrosa"
    assert submission.collected_by == cast.fieldworker
    assert submission.version.number == 1
    assert submission.respondent is not None
    assert submission.respondent.consent_given_at is not None
    # born_here is sensitive: encrypted, not among the plain answers.
    assert submission.sensitive
    assert submission.answers == {
        "age": 34,
        "tenure": "private_rent",
        "rent": 640.5,
        "barriers": ["no_time", "childcare"],
        "household": [{"member_age": 7}, {"member_age": 41}],
        "places": [
            {
                "category": "unsafe",
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [
                        [
                            [-1.89, 52.48, 0.0],
                            [-1.89, 52.49, 0.0],
                            [-1.88, 52.49, 0.0],
                            [-1.89, 52.48, 0.0],
                        ]
                    ],
                },
                "time_of_day": "night",
                "comment": "no street lights",
            }
        ],
        "comment": "synthetic",
    }
    event = AuditEvent.objects.get(action="submission.create")
    assert event.channel == "openrosa"


def test_every_shape_a_phone_sends_round_trips_with_its_photos(
    cast: Cast, field_walk: Form
) -> None:
    xml = fill(_xform(cast, "field_walk"), field_values())
    photo = PNG + b"stop"
    response = _send(cast, xml, {"stop1.png": photo, "overview.png": PNG})
    assert response.status_code == 201, response.content
    assert "with 2 files" in response_message(response)
    submission = Submission.objects.get()
    assert submission.device_id == "collect:Xy12"
    assert submission.started_at is not None
    assert submission.started_at.isoformat() == "2026-11-01T09:00:00+00:00"
    assert submission.answers["street_name"] == "High Street"
    assert submission.answers["features"] == ["lights", "trees"]
    assert submission.answers["spot"] == {"type": "Point", "coordinates": [-1.89, 52.48, 100.0]}
    assert submission.answers["route"]["type"] == "LineString"
    assert submission.answers["block"]["type"] == "Polygon"
    assert submission.answers["stops"] == [{"minutes": 5, "photo": "stop1.png"}, {"minutes": 7}]
    assert submission.answers["marks"] == [
        {
            "category": "unsafe",
            "geometry": {"type": "Point", "coordinates": [-1.89, 52.48, 0.0]},
            "time_of_day": "night",
        }
    ]
    stored = {a.filename: a for a in SubmissionAttachment.objects.filter(submission=submission)}
    assert set(stored) == {"stop1.png", "overview.png"}
    assert stored["stop1.png"].md5 == hashlib.md5(photo).hexdigest()
    assert stored["stop1.png"].size == len(photo)
    with stored["stop1.png"].file.open("rb") as handle:
        assert handle.read() == photo
    assert AuditEvent.objects.filter(action="submission.attach_files").count() == 1


def test_a_duplicate_is_acknowledged_and_stored_once(cast: Cast, field_walk: Form) -> None:
    xml = fill(_xform(cast, "field_walk"), field_values())
    files = {"stop1.png": PNG, "overview.png": PNG}
    first = _send(cast, xml, files)
    again = _send(cast, xml, files)
    assert first.status_code == 201
    assert again.status_code == 202
    assert "already received" in response_message(again)
    assert Submission.objects.count() == 1
    assert SubmissionAttachment.objects.count() == 2
    assert AuditEvent.objects.filter(action="submission.attach_files").count() == 1


def test_a_split_submission_gets_its_remaining_files(cast: Cast, field_walk: Form) -> None:
    xml = fill(_xform(cast, "field_walk"), field_values())
    first = _send(cast, xml, {"stop1.png": PNG}, **{"*isIncomplete*": "yes"})
    second = _send(cast, xml, {"overview.png": PNG})
    assert (first.status_code, second.status_code) == (201, 201)
    assert "1 more files were added" in response_message(second)
    assert Submission.objects.count() == 1
    assert sorted(SubmissionAttachment.objects.values_list("filename", flat=True)) == [
        "overview.png",
        "stop1.png",
    ]


def test_someone_else_resending_an_instance_id_adds_no_files(cast: Cast, field_walk: Form) -> None:
    xml = fill(_xform(cast, "field_walk"), field_values())
    assert _send(cast, xml, {"stop1.png": PNG}).status_code == 201
    other = post_submission(Client(), SLUG, as_user(cast.researcher), xml, {"overview.png": PNG})
    assert other.status_code == 202
    assert SubmissionAttachment.objects.count() == 1


def test_withdrawal_removes_the_photos_too(cast: Cast, field_walk: Form) -> None:
    xml = fill(_xform(cast, "field_walk"), field_values())
    assert _send(cast, xml, {"stop1.png": PNG, "overview.png": PNG}).status_code == 201
    submission = Submission.objects.get()
    assert submission.respondent is not None
    paths = [a.file.path for a in SubmissionAttachment.objects.all()]
    with pytest.MonkeyPatch.context() as patch:
        # on_commit runs at once: the test's transaction never commits.
        patch.setattr("django.db.transaction.on_commit", lambda func, **kw: func())
        withdraw(origin=SYSTEM, code=submission.respondent.withdrawal_code)
    assert SubmissionAttachment.objects.count() == 0
    assert not any(__import__("os").path.exists(path) for path in paths)
    again = _send(cast, xml, {"stop1.png": PNG})
    assert again.status_code == 202
    assert "withdrew" in response_message(again)
    assert Submission.objects.count() == 0

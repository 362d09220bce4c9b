"""Every geometry answer assigned to its area (stored on Answer.area), over the service, API and CLI.

Riverton North and South (tests/places/geo.py) share the border line at latitude 52.475;
both are 0.04 x 0.025 degrees, so a tie on that line goes to the first by name (North).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from incity.accounts.models import AuditEvent, AuditKind
from incity.accounts.roles import ProjectState
from incity.accounts.services import change_project_state
from incity.cli import main
from incity.places.assignment import assign_answers, assign_submissions, reassign_project
from incity.places.drawn_areas import save_drawn_area
from incity.places.models import Area
from incity.places.services import import_boundaries
from incity.surveys.models import Answer, Form, SubmissionStatus
from incity.surveys.services import forms as form_services
from incity.surveys.services.submissions import SubmissionInput, submit
from tests.personas import SYSTEM, Cast, bearer
from tests.places.geo import as_bytes, collection, feature, riverton_areas, square
from tests.surveys.forms import DE, EN, household_definition, new_instance_id

pytestmark = pytest.mark.django_db

IN_NORTH = (-1.90, 52.49)
IN_SOUTH = (-1.90, 52.46)
ON_BORDER = (-1.90, 52.475)
# 0.0003 degrees of longitude west of both areas: about 20 m, inside the 50 m tolerance.
JUST_OUTSIDE = (-1.9203, 52.49)
FAR_AWAY = (-1.50, 52.00)


def _label(text: str) -> dict[str, str]:
    return {EN: text, DE: text}


MAPPING_FORM = household_definition(
    form_id="mapping",
    title="Where things are (synthetic test form)",
    children=[
        {"type": "geopoint", "name": "home", "label": _label("Where do you live?")},
        {"type": "geotrace", "name": "route", "label": _label("Your walk to the shops")},
        {"type": "geoshape", "name": "zone", "label": _label("The area you call home")},
        {
            "type": "map_marks",
            "name": "places",
            "list_name": "mark_category",
            "label": _label("Mark places"),
        },
    ],
)


def mapping_form(cast: Cast) -> Form:
    form = form_services.create_form(
        acting_user=cast.researcher,
        origin=SYSTEM,
        project_slug=cast.survey.slug,
        definition=MAPPING_FORM,
        consent_required=False,
    )
    form_services.publish_form(acting_user=cast.researcher, origin=SYSTEM, form_pk=form.pk)
    form.refresh_from_db()
    return form


def point(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [lon, lat]}


def mark(lon: float, lat: float, category: str = "unsafe") -> dict[str, Any]:
    return {"geometry": point(lon, lat), "category": category}


def send(cast: Cast, form: Form, **answers: Any) -> int:
    """Store a submission through the service, as a citizen researcher would; its id."""
    result = submit(
        acting_user=cast.fieldworker,
        origin=SYSTEM,
        form_pk=form.pk,
        item=SubmissionInput(instance_id=new_instance_id(), answers=answers, language=EN),
    )
    assert result.submission is not None, result.errors
    return result.submission.pk


def area_of(submission: int, path: str) -> str | None:
    answer = Answer.objects.select_related("area").get(submission_id=submission, path=path)
    return answer.area.name if answer.area else None


# --- points ------------------------------------------------------------------------------


def test_a_point_inside_an_area_is_assigned_to_it(cast: Cast) -> None:
    riverton_areas(cast)
    form = mapping_form(cast)
    north, south = send(cast, form, home=point(*IN_NORTH)), send(cast, form, home=point(*IN_SOUTH))
    assert assign_answers(form, [north, south]) == 2
    assert area_of(north, "home") == "Riverton North"
    assert area_of(south, "home") == "Riverton South"


def test_a_stored_submission_has_its_areas_without_anyone_asking(cast: Cast) -> None:
    riverton_areas(cast)
    form = mapping_form(cast)
    north = send(cast, form, home=point(*IN_NORTH), places=[mark(*IN_SOUTH)])
    assert area_of(north, "home") == "Riverton North"
    assert area_of(north, "places[1]") == "Riverton South"


def test_a_batch_gets_its_areas_when_its_typed_answers_are_derived(cast: Cast) -> None:
    from incity.surveys.services.submissions import submit_batch
    from incity.surveys.services.typed import derive_typed_answers

    riverton_areas(cast)
    form = mapping_form(cast)
    items = [
        SubmissionInput(instance_id=new_instance_id(), answers={"home": point(*spot)}, language=EN)
        for spot in (IN_NORTH, IN_SOUTH, FAR_AWAY)
    ]
    results = submit_batch(
        acting_user=cast.fieldworker, origin=SYSTEM, form_pk=form.pk, items=items
    )
    ids = [result.submission.pk for result in results if result.submission is not None]
    assert len(ids) == 2  # far away is outside the project area: refused
    assert not Answer.objects.filter(submission_id__in=ids).exists()  # derived later
    derive_typed_answers(form=form)
    assert [area_of(pk, "home") for pk in ids] == ["Riverton North", "Riverton South"]


def test_only_the_submissions_named_are_assigned(cast: Cast) -> None:
    riverton_areas(cast)
    form = mapping_form(cast)
    named, other = send(cast, form, home=point(*IN_NORTH)), send(cast, form, home=point(*IN_SOUTH))
    Answer.objects.update(area=None)
    assert assign_answers(form, [named]) == 1
    assert area_of(named, "home") == "Riverton North"
    assert area_of(other, "home") is None


def test_a_point_on_a_shared_border_goes_to_one_area_by_the_tie_rule(cast: Cast) -> None:
    riverton_areas(cast)
    form = mapping_form(cast)
    submission = send(cast, form, home=point(*ON_BORDER))
    assign_answers(form, [submission])
    # Same kind, same surface: the first by name.
    assert area_of(submission, "home") == "Riverton North"
    assert Answer.objects.filter(area__isnull=False).count() == 1


def test_a_point_just_outside_goes_to_the_nearest_area_within_the_tolerance(cast: Cast) -> None:
    riverton_areas(cast)
    form = mapping_form(cast)
    submission = send(cast, form, home=point(*JUST_OUTSIDE))
    assign_answers(form, [submission])
    assert area_of(submission, "home") == "Riverton North"


def test_a_point_outside_every_area_has_none(cast: Cast) -> None:
    # Without areas the project accepts marks anywhere; the areas come afterwards.
    form = mapping_form(cast)
    far, inside = send(cast, form, home=point(*FAR_AWAY)), send(cast, form, home=point(*IN_SOUTH))
    assert assign_answers(form) == 0
    riverton_areas(cast)  # the import reassigns the project's answers
    assert area_of(far, "home") is None
    assert area_of(inside, "home") == "Riverton South"


def test_a_place_described_in_words_has_no_area(cast: Cast) -> None:
    riverton_areas(cast)
    form = mapping_form(cast)
    submission = send(cast, form, home={"description": "behind the old mill"})
    assert assign_answers(form, [submission]) == 0
    assert area_of(submission, "home") is None


# --- lines, shapes and map marks -------------------------------------------------------


def test_a_line_across_the_border_goes_to_the_area_of_its_mean_vertex(cast: Cast) -> None:
    riverton_areas(cast)
    form = mapping_form(cast)
    # Most of its length lies in North, but the mean of its vertices (lat 52.4733) in South.
    route = {
        "type": "LineString",
        "coordinates": [[-1.91, 52.46], [-1.905, 52.461], [-1.90, 52.499]],
    }
    submission = send(cast, form, route=route)
    assign_answers(form, [submission])
    assert area_of(submission, "route") == "Riverton South"


def test_a_shape_across_the_border_goes_to_the_area_of_its_mean_vertex(cast: Cast) -> None:
    riverton_areas(cast)
    form = mapping_form(cast)
    zone = {"type": "Polygon", "coordinates": square(-1.91, 52.47, -1.90, 52.485)}
    submission = send(cast, form, zone=zone)
    assign_answers(form, [submission])
    assert area_of(submission, "zone") == "Riverton North"  # mean latitude 52.4775


def test_each_map_mark_is_assigned_and_a_described_mark_is_not(cast: Cast) -> None:
    riverton_areas(cast)
    form = mapping_form(cast)
    marks = [
        mark(*IN_SOUTH),
        mark(*IN_NORTH, "safe"),
        {"description": "the underpass", "category": "unsafe"},
    ]
    submission = send(cast, form, places=marks)
    assert assign_submissions([submission]) == 2
    assert area_of(submission, "places[1]") == "Riverton South"
    assert area_of(submission, "places[2]") == "Riverton North"
    assert area_of(submission, "places[3]") is None


def test_assigning_again_changes_nothing(cast: Cast) -> None:
    riverton_areas(cast)
    form = mapping_form(cast)
    send(cast, form, home=point(*IN_NORTH), places=[mark(*IN_SOUTH)])
    first = reassign_project(cast.survey)
    again = reassign_project(cast.survey)
    assert (first.assigned, again.assigned, again.changed) == (2, 2, 0)


# --- overlapping areas -------------------------------------------------------------------


def _import(cast: Cast, kind: str, *features: dict[str, Any]) -> None:
    import_boundaries(
        acting_user=None,
        origin=SYSTEM,
        data=as_bytes(collection(*features)),
        filename=f"{kind}.geojson",
        project_slug=cast.survey.slug,
        kind=kind,
    )


def test_overlapping_neighbourhoods_give_the_point_to_the_smallest(cast: Cast) -> None:
    riverton_areas(cast)
    form = mapping_form(cast)
    submission = send(cast, form, home=point(*IN_NORTH), places=[mark(-1.89, 52.48)])
    _import(cast, "neighbourhood", feature("Mill Quarter", square(-1.905, 52.485, -1.895, 52.495)))
    assert area_of(submission, "home") == "Mill Quarter"
    assert area_of(submission, "places[1]") == "Riverton North"


def test_a_neighbourhood_wins_over_a_smaller_ward_around_the_same_point(cast: Cast) -> None:
    riverton_areas(cast)
    form = mapping_form(cast)
    submission = send(cast, form, home=point(*IN_NORTH))
    _import(cast, "ward", feature("Market ward", square(-1.901, 52.489, -1.899, 52.491)))
    assert area_of(submission, "home") == "Riverton North"


def test_a_point_on_a_border_goes_to_the_smaller_area(cast: Cast) -> None:
    riverton_areas(cast)
    form = mapping_form(cast)
    submission = send(cast, form, home=point(*ON_BORDER))
    # A small neighbourhood whose southern edge is the North/South border line.
    _import(cast, "neighbourhood", feature("Canal Side", square(-1.91, 52.475, -1.89, 52.48)))
    assert area_of(submission, "home") == "Canal Side"


# --- reassignment when areas change ----------------------------------------------------


def test_an_edited_boundary_moves_the_answers(cast: Cast) -> None:
    riverton_areas(cast)
    form = mapping_form(cast)
    submission = send(cast, form, home=point(*IN_NORTH))
    assign_answers(form, [submission])
    south = Area.objects.get(name="Riverton South")
    save_drawn_area(
        acting_user=cast.lead,
        origin=SYSTEM,
        project_slug=cast.survey.slug,
        name="Riverton South",
        area_id=south.pk,
        geometry={"type": "Polygon", "coordinates": square(-1.91, 52.45, -1.895, 52.492)},
    )
    # South now reaches over the point and is smaller than North, so it wins the overlap.
    assert area_of(submission, "home") == "Riverton South"


def test_a_newly_drawn_area_takes_the_answers_inside_it(cast: Cast) -> None:
    riverton_areas(cast)
    form = mapping_form(cast)
    submission = send(cast, form, home=point(*IN_SOUTH))
    assign_answers(form, [submission])
    save_drawn_area(
        acting_user=cast.lead,
        origin=SYSTEM,
        project_slug=cast.survey.slug,
        name="Station Yard",
        geometry={"type": "Polygon", "coordinates": square(-1.905, 52.455, -1.895, 52.465)},
    )
    assert area_of(submission, "home") == "Station Yard"


def test_an_area_taken_out_of_the_project_loses_its_answers(cast: Cast) -> None:
    riverton_areas(cast)
    form = mapping_form(cast)
    submission = send(cast, form, home=point(*IN_SOUTH), places=[mark(*IN_NORTH)])
    assign_answers(form, [submission])
    north = Area.objects.get(name="Riverton North")
    response = Client().put(
        f"/api/v1/projects/{cast.survey.slug}/areas",
        {"areas": [north.pk]},
        content_type="application/json",
        headers=bearer(cast.lead),
    )
    assert response.status_code == 200, response.content
    assert area_of(submission, "home") is None
    assert area_of(submission, "places[1]") == "Riverton North"


def test_a_deleted_area_leaves_no_dangling_answer_and_reassigning_finds_the_next(
    cast: Cast,
) -> None:
    riverton_areas(cast)
    form = mapping_form(cast)
    _import(cast, "ward", feature("Riverton ward", square(-1.93, 52.44, -1.87, 52.51)))
    submission = send(cast, form, home=point(*IN_SOUTH))
    assign_answers(form, [submission])
    assert area_of(submission, "home") == "Riverton South"
    Area.objects.filter(name="Riverton South").delete()
    assert area_of(submission, "home") is None
    reassign_project(cast.survey)
    assert area_of(submission, "home") == "Riverton ward"


def test_another_projects_answers_are_not_touched(cast: Cast) -> None:
    riverton_areas(cast)
    form = mapping_form(cast)
    submission = send(cast, form, home=point(*IN_NORTH))
    assign_answers(form, [submission])
    summary = reassign_project(cast.hillside_project)
    assert (summary.assigned, summary.unassigned, summary.changed) == (0, 0, 0)
    assert area_of(submission, "home") == "Riverton North"


# --- the published figure ---------------------------------------------------------------

ANSWERS = "/api/v1/projects/{slug}/areas/answers"


def _counts(user: Any, form: Form, slug: str = "riverton-survey", **params: Any) -> Any:
    return Client().get(
        ANSWERS.format(slug=slug), {"form": form.pk, **params}, headers=bearer(user)
    )


def counted_form(cast: Cast) -> Form:
    """12 people with marks in North (one of them with two), 3 people with marks in South."""
    riverton_areas(cast)
    form = mapping_form(cast)
    ids = [send(cast, form, places=[mark(*IN_NORTH), mark(*IN_NORTH, "safe")])]
    ids += [send(cast, form, places=[mark(*IN_NORTH)]) for _ in range(11)]
    ids += [send(cast, form, places=[mark(*IN_SOUTH)], home=point(*IN_SOUTH)) for _ in range(3)]
    assign_answers(form, ids)
    return form


def _row(body: dict[str, Any], name: str) -> dict[str, Any]:
    return next(row for row in body["areas"] if row["name"] == name)


def test_the_published_figure_hides_counts_below_the_threshold(cast: Cast) -> None:
    form = counted_form(cast)
    response = _counts(cast.viewer, form)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["scope"] == "published"
    assert body["threshold"] == 10
    assert body["questions"] == ["home", "route", "zone", "places"]
    north, south = _row(body, "Riverton North"), _row(body, "Riverton South")
    assert south["questions"]["places"] == {"people": None, "suppressed": "primary"}
    assert south["questions"]["home"] == {"people": None, "suppressed": "primary"}
    assert north["questions"]["route"] == {"people": 0, "suppressed": None}
    # 3 in South would follow from the total minus 12 in North: one of them is hidden too.
    places = [north["questions"]["places"]["people"], body["totals"]["places"]["people"]]
    assert None in places
    assert "answers" not in json.dumps(body["areas"])
    assert 3 not in [entry["people"] for entry in south["questions"].values()]


def test_the_published_figure_shows_counts_at_the_threshold(cast: Cast) -> None:
    form = counted_form(cast)
    cast.survey.disclosure_threshold = 3
    cast.survey.save(update_fields=["disclosure_threshold"])
    body = _counts(cast.partner, form).json()
    north, south = _row(body, "Riverton North"), _row(body, "Riverton South")
    # People, not marks: the person with two marks in North counts once.
    assert north["questions"]["places"] == {"people": 12, "suppressed": None}
    assert south["questions"]["places"] == {"people": 3, "suppressed": None}
    assert body["totals"]["places"]["people"] == 15
    assert body["people"] == 15


def test_raw_counts_are_for_roles_that_may_read_raw_data_and_audited(cast: Cast) -> None:
    form = counted_form(cast)
    response = _counts(cast.researcher, form, scope="raw")
    assert response.status_code == 200, response.content
    south = _row(response.json(), "Riverton South")
    north = _row(response.json(), "Riverton North")
    assert south["questions"]["places"] == {"people": 3, "answers": 3}
    assert north["questions"]["places"] == {"people": 12, "answers": 13}
    event = AuditEvent.objects.get(action="places.area_answers")
    assert event.kind == AuditKind.RAW_READ


def test_rejected_submissions_are_left_out(cast: Cast) -> None:
    form = counted_form(cast)
    form.submissions.filter(answers__home__isnull=False).update(status=SubmissionStatus.REJECTED)
    body = _counts(cast.lead, form, scope="raw").json()
    assert _row(body, "Riverton South")["people"] == 0


@pytest.mark.parametrize("role", ["partner", "viewer", "citizen_researcher"])
def test_roles_without_raw_access_cannot_read_raw_counts(cast: Cast, role: str) -> None:
    form = counted_form(cast)
    response = _counts(cast.by_role(role), form, scope="raw")
    assert response.status_code == 403
    assert "view_raw_data" in response.json()["message"]
    assert not AuditEvent.objects.filter(action="places.area_answers").exists()


def test_another_citys_lead_cannot_tell_the_project_exists(cast: Cast) -> None:
    form = counted_form(cast)
    response = _counts(cast.outsider, form)
    assert response.status_code == 404
    assert response.json()["message"] == "No project 'riverton-survey' among yours."


def test_an_anonymous_request_is_refused(cast: Cast) -> None:
    form = counted_form(cast)
    response = Client().get(ANSWERS.format(slug="riverton-survey"), {"form": form.pk})
    assert response.status_code == 401


def test_a_form_of_another_project_is_not_found(cast: Cast) -> None:
    form = counted_form(cast)
    change_project_state(
        acting_user=None, origin=SYSTEM, project=cast.hillside_project, state=ProjectState.ACTIVE
    )
    response = _counts(cast.outsider, form, slug="hillside-survey")
    assert response.status_code == 404
    assert response.json()["message"] == f"The project has no form {form.pk}."


@pytest.mark.parametrize(
    ("params", "field"),
    [({"scope": "everything"}, "scope"), ({"form": "first"}, "form")],
)
def test_bad_parameters_are_refused_naming_the_field(
    cast: Cast, params: dict[str, str], field: str
) -> None:
    form = counted_form(cast)
    query: dict[str, str | int] = {"form": form.pk, **params}
    response = Client().get(
        ANSWERS.format(slug="riverton-survey"), query, headers=bearer(cast.lead)
    )
    assert response.status_code == 422
    assert field in json.dumps(response.json())


# --- command line ------------------------------------------------------------------------


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(args)
    out, err = capsys.readouterr()
    return status, out, err


def test_the_cli_reassigns_and_prints_a_summary(
    cast: Cast, capsys: pytest.CaptureFixture[str]
) -> None:
    riverton_areas(cast)
    form = mapping_form(cast)
    send(cast, form, home=point(*IN_NORTH), places=[mark(*IN_SOUTH), mark(*JUST_OUTSIDE)])
    Area.objects.filter(name="Riverton South").delete()
    Answer.objects.update(area=None)
    status, out, err = _run(["places", "assign", "riverton-survey"], capsys)
    assert status == 0, err
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary == {"project": "riverton-survey", "assigned": 2, "unassigned": 1, "changed": 2}


def test_the_cli_refuses_an_unknown_project_with_one_line(
    cast: Cast, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = _run(["places", "assign", "atlantis"], capsys)
    assert status == 1
    assert out == ""
    assert err.strip() == "incity: no project 'atlantis'."


def test_the_cli_refuses_a_missing_project_argument(
    cast: Cast, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["places", "assign"])
    assert exit_info.value.code == 2
    assert "project" in capsys.readouterr().err


def test_a_project_without_areas_has_an_empty_table(cast: Cast) -> None:
    form = mapping_form(cast)
    send(cast, form, home=point(*FAR_AWAY))
    response = _counts(cast.lead, form)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["areas"] == []
    assert body["people"] == 0

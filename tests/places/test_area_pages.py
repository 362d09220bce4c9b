"""The places page: drawing and changing areas, adding and removing named places.

Refusals first (other tenants, roles that may not edit, CSRF, bad drawings and
names), then what works: a drawn area is saved, audited and used to assign answers.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from incity.accounts.models import AuditEvent
from incity.places.geometry import assign_area, forget_project_area, project_area
from incity.places.models import Area, NamedPlace
from tests.personas import Cast, signed_in
from tests.places.geo import riverton_areas, square

pytestmark = pytest.mark.django_db

PAGE = "/places/projects/riverton-survey/"
NEW_AREA = PAGE + "areas/"
NEW_PLACE = PAGE + "places/"
# A triangle east of the two Riverton neighbourhoods (which end at longitude -1.88).
TRIANGLE = {
    "type": "Polygon",
    "coordinates": [[[-1.87, 52.46], [-1.85, 52.46], [-1.86, 52.48], [-1.87, 52.46]]],
}
BOWTIE = {
    "type": "Polygon",
    "coordinates": [
        [[-1.87, 52.46], [-1.85, 52.48], [-1.85, 52.46], [-1.87, 52.48], [-1.87, 52.46]]
    ],
}


def _area(name: str = "Eastfield", geometry: Any = TRIANGLE, **fields: str) -> dict[str, str]:
    text = geometry if isinstance(geometry, str) else json.dumps(geometry)
    return {
        "name": name,
        "code": "EF",
        "kind": "neighbourhood",
        "geometry": text,
        "repair": "on",
        **fields,
    }


def _state() -> tuple[list[tuple[str, str, Any]], int, int]:
    areas = [(a.name, a.code, a.boundary) for a in Area.objects.order_by("pk")]
    writes = AuditEvent.objects.filter(action__startswith="places.").count()
    return areas, NamedPlace.objects.count(), writes


# --- refusals: who may see and change ----------------------------------------------------


def test_signed_out_people_are_sent_to_sign_in(cast: Cast) -> None:
    for response in (Client().get(PAGE), Client().post(NEW_AREA, _area())):
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]
    assert not Area.objects.exists()


def test_another_citys_lead_gets_404_for_the_page_and_every_form(cast: Cast) -> None:
    riverton_areas(cast)
    area = Area.objects.get(name="Riverton North")
    before = _state()
    outsider = signed_in(cast.outsider)
    for response in (
        outsider.get(PAGE),
        outsider.get(f"{NEW_AREA}{area.pk}/"),
        outsider.post(NEW_AREA, _area()),
        outsider.post(f"{NEW_AREA}{area.pk}/", _area("Stolen")),
        outsider.post(NEW_PLACE, {"name": "X", "kind": "landmark", "lon": "-1.89", "lat": "52.48"}),
    ):
        assert response.status_code == 404
    assert _state() == before


def test_an_area_of_another_tenant_answers_404_through_this_project(cast: Cast) -> None:
    lead = signed_in(cast.outsider)
    lead.post("/places/projects/hillside-survey/areas/", _area("Hill top"))
    theirs = Area.objects.get(name="Hill top")
    before = _state()
    mine = signed_in(cast.lead)
    assert mine.get(f"{NEW_AREA}{theirs.pk}/").status_code == 404
    assert mine.post(f"{NEW_AREA}{theirs.pk}/", _area("Mine now")).status_code == 404
    assert _state() == before


@pytest.mark.parametrize("role", ["viewer", "partner", "citizen_researcher"])
def test_roles_that_may_not_edit_see_the_page_but_get_403_for_each_change(
    cast: Cast, role: str
) -> None:
    riverton_areas(cast)
    area = Area.objects.get(name="Riverton North")
    client = signed_in(cast.by_role(role))
    page = client.get(PAGE)
    assert page.status_code == 200
    assert "Riverton North" in page.content.decode()
    assert 'data-testid="area-form"' not in page.content.decode()
    before = _state()
    for response in (
        client.post(NEW_AREA, _area()),
        client.get(f"{NEW_AREA}{area.pk}/"),
        client.post(f"{NEW_AREA}{area.pk}/", _area("Renamed")),
        client.post(NEW_PLACE, {"name": "X", "kind": "landmark", "lon": "-1.89", "lat": "52.48"}),
    ):
        assert response.status_code == 403
    assert _state() == before


def test_a_post_without_the_csrf_token_is_refused(cast: Cast) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.lead)
    assert client.post(NEW_AREA, _area()).status_code == 403
    assert not Area.objects.exists()


def test_the_page_refuses_methods_it_does_not_answer(cast: Cast) -> None:
    lead = signed_in(cast.lead)
    assert lead.post(PAGE, {}).status_code == 405
    assert lead.get(NEW_AREA).status_code == 405


# --- refusals: bad drawings, names and places --------------------------------------------


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"name": "  "}, "Give the area a name."),
        ({"geometry": ""}, "Draw the area on the map (at least 3 points)"),
        ({"geometry": "{not json"}, "The boundary is not valid GeoJSON"),
        (
            {"geometry": json.dumps({"type": "Point", "coordinates": [-1.86, 52.47]})},
            "is a Point; an area must be a Polygon",
        ),
        (
            {
                "geometry": json.dumps(
                    {
                        "type": "Polygon",
                        "coordinates": [[[-1.87, 52.46], [-1.85, 52.46], [-1.87, 52.46]]],
                    }
                )
            },
            "fewer than 4 positions",
        ),
        (
            {
                "geometry": json.dumps(
                    {
                        "type": "Polygon",
                        "coordinates": [
                            [[-1.87, 52.46], [-1.85, 52.46], [-1.86, 52.48], [-1.8, 52.4]]
                        ],
                    }
                )
            },
            "is not closed",
        ),
        (
            {
                "geometry": json.dumps(
                    {
                        "type": "Polygon",
                        "coordinates": [
                            [[-100.0, 52.46], [-1.85, 52.46], [-1.86, 95.0], [-100.0, 52.46]]
                        ],
                    }
                )
            },
            "outside longitude -180 to 180 or latitude -90 to 90",
        ),
        (
            {
                "geometry": json.dumps(
                    {
                        "type": "Polygon",
                        "coordinates": [
                            [[52.46, -1.87], [52.46, -1.85], [52.48, -100.0], [52.46, -1.87]]
                        ],
                    }
                )
            },
            "look swapped",
        ),
        (
            {
                "geometry": json.dumps(
                    {
                        "type": "Polygon",
                        "coordinates": [
                            [[-1.87, 52.46], [-1.86, 52.47], [-1.85, 52.48], [-1.87, 52.46]]
                        ],
                    }
                )
            },
            "could not be repaired",
        ),
        ({"geometry": json.dumps(BOWTIE), "repair": ""}, "Self-intersection"),
        ({"kind": "castle"}, "The kind 'castle' is not one of"),
        ({"code": "x" * 65}, "code is longer than 64 characters"),
    ],
)
def test_a_bad_area_shows_the_page_again_with_the_reason_and_changes_nothing(
    cast: Cast, fields: dict[str, str], words: str
) -> None:
    riverton_areas(cast)
    before = _state()
    response = signed_in(cast.lead).post(NEW_AREA, _area(**fields))
    assert response.status_code == 422
    text = response.content.decode()
    assert 'data-testid="area-problem"' in text
    assert words in response.context["problem"]["message"]
    assert _state() == before


def test_a_name_or_code_the_organisation_already_uses_is_refused(cast: Cast) -> None:
    riverton_areas(cast)
    before = _state()
    lead = signed_in(cast.lead)
    taken = lead.post(NEW_AREA, _area("RIVERTON NORTH"))
    assert taken.status_code == 422
    assert "already has an area named 'RIVERTON NORTH'" in taken.context["problem"]["message"]
    code = lead.post(NEW_AREA, _area(code="RN"))
    assert code.status_code == 422
    assert "already has an area with the code 'RN'" in code.context["problem"]["message"]
    south = Area.objects.get(name="Riverton South")
    renamed = lead.post(f"{NEW_AREA}{south.pk}/", _area("Riverton North", geometry=""))
    assert renamed.status_code == 422
    assert _state() == before


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"name": " "}, "Give the place a name."),
        ({"lon": "east"}, "The longitude must be a number from -180 to 180 (got 'east')"),
        ({"lat": "91"}, "The latitude must be a number from -90 to 90"),
        ({"kind": "castle"}, "The kind must be one of"),
    ],
)
def test_a_bad_place_shows_the_page_again_with_the_reason(
    cast: Cast, fields: dict[str, str], words: str
) -> None:
    body = {"name": "Station square", "kind": "landmark", "lon": "-1.89", "lat": "52.48", **fields}
    response = signed_in(cast.lead).post(NEW_PLACE, body)
    assert response.status_code == 422
    assert words in response.context["problem"]["message"]
    assert response.context["place_entered"]["kind"] == body["kind"]
    assert not NamedPlace.objects.exists()


def test_a_duplicate_place_name_is_refused(cast: Cast) -> None:
    lead = signed_in(cast.lead)
    body = {"name": "Station square", "kind": "landmark", "lon": "-1.89", "lat": "52.48"}
    assert lead.post(NEW_PLACE, body).status_code == 302
    again = lead.post(NEW_PLACE, {**body, "name": "station SQUARE"})
    assert again.status_code == 422
    assert "already has a place named" in again.context["problem"]["message"]
    assert NamedPlace.objects.count() == 1


def test_removing_a_place_of_another_project_answers_404(cast: Cast) -> None:
    signed_in(cast.outsider).post(
        "/places/projects/hillside-survey/places/",
        {"name": "Hill cafe", "kind": "meeting_place", "lon": "2.1", "lat": "41.3"},
    )
    theirs = NamedPlace.objects.get()
    response = signed_in(cast.lead).post(f"{NEW_PLACE}{theirs.pk}/delete/")
    assert response.status_code == 404
    assert NamedPlace.objects.count() == 1


# --- what works --------------------------------------------------------------------------


def test_a_drawn_area_is_saved_audited_and_used_to_assign_answers(cast: Cast) -> None:
    riverton_areas(cast)
    response = signed_in(cast.lead).post(NEW_AREA, _area())
    assert response.status_code == 302
    area = Area.objects.get(name="Eastfield")
    assert area.code == "EF"
    assert area.organisation == cast.riverton
    assert cast.survey.areas.filter(pk=area.pk).exists()
    forget_project_area(cast.survey)
    whole = project_area(cast.survey)
    assert whole is not None
    assert "Eastfield" in whole.names
    assert assign_area(cast.survey, {"type": "Point", "coordinates": [-1.86, 52.465]}) == area
    event = AuditEvent.objects.get(action="places.draw_area")
    assert event.actor == cast.lead
    assert event.channel == "web"
    assert event.detail["name"] == "Eastfield"
    assert event.detail["boundary_changed"] is True
    page = signed_in(cast.viewer).get(PAGE).content.decode()
    assert "Eastfield" in page
    assert "places-data" in page


def test_a_self_intersecting_drawing_is_repaired_and_the_repair_reported(cast: Cast) -> None:
    lead = signed_in(cast.lead)
    response = lead.post(NEW_AREA, _area(geometry=BOWTIE), follow=True)
    assert response.status_code == 200
    assert "crossed itself (Self-intersection" in response.content.decode()
    boundary = Area.objects.get(name="Eastfield").boundary
    assert boundary is not None
    assert boundary["type"] == "MultiPolygon"
    assert (
        AuditEvent.objects.get(action="places.draw_area")
        .detail["repaired"]
        .startswith("Self-intersection")
    )


def test_a_feature_typed_in_the_keyboard_field_is_accepted(cast: Cast) -> None:
    feature = {"type": "Feature", "properties": {}, "geometry": TRIANGLE}
    assert signed_in(cast.lead).post(NEW_AREA, _area(geometry=feature)).status_code == 302
    boundary = Area.objects.get(name="Eastfield").boundary
    assert boundary is not None
    assert boundary["type"] == "Polygon"


def test_changing_an_area_renames_it_and_replaces_its_boundary(cast: Cast) -> None:
    riverton_areas(cast)
    lead = signed_in(cast.lead)
    place = {"name": "Corner shop", "kind": "service", "lon": "-1.86", "lat": "52.465"}
    lead.post(NEW_PLACE, place)
    assert NamedPlace.objects.get().area is None  # outside both Riverton areas
    south = Area.objects.get(name="Riverton South")
    edit = lead.get(f"{NEW_AREA}{south.pk}/")
    assert edit.status_code == 200
    assert edit.context["area_entered"]["name"] == "Riverton South"
    wider = {"type": "Polygon", "coordinates": square(-1.92, 52.45, -1.85, 52.475)}
    assert (
        lead.post(
            f"{NEW_AREA}{south.pk}/", _area("Riverton South-East", geometry=wider, code="RSE")
        ).status_code
        == 302
    )
    south.refresh_from_db()
    assert (south.name, south.code) == ("Riverton South-East", "RSE")
    assert south.boundary is not None
    assert max(p[0] for p in south.boundary["coordinates"][0]) == -1.85
    # The named place now lies in the widened area.
    assert NamedPlace.objects.get().area == south
    # Only the name changes when the boundary field is left empty.
    boundary = south.boundary
    assert (
        lead.post(
            f"{NEW_AREA}{south.pk}/", _area("Riverton Southeast", geometry="", code="RSE")
        ).status_code
        == 302
    )
    south.refresh_from_db()
    assert south.name == "Riverton Southeast"
    assert south.boundary == boundary
    actions = list(
        AuditEvent.objects.filter(action="places.edit_area")
        .order_by("pk")
        .values_list("detail", flat=True)
    )
    assert [d["boundary_changed"] for d in actions] == [True, False]


def test_a_place_is_added_by_coordinates_and_removed(cast: Cast) -> None:
    riverton_areas(cast)
    lead = signed_in(cast.lead)
    body = {"name": "Station square", "kind": "landmark", "lon": "-1,89", "lat": "52.48"}
    assert lead.post(NEW_PLACE, body).status_code == 302
    place = NamedPlace.objects.get()
    assert (place.lon, place.area.name if place.area else None) == (-1.89, "Riverton North")
    page = lead.get(PAGE)
    assert "Station square" in page.content.decode()
    assert lead.post(f"{NEW_PLACE}{place.pk}/delete/").status_code == 302
    assert not NamedPlace.objects.exists()
    assert list(
        AuditEvent.objects.filter(action__in=["places.create_place", "places.delete_place"])
        .order_by("pk")
        .values_list("action", flat=True)
    ) == ["places.create_place", "places.delete_place"]

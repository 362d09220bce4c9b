"""Map questions in chromium: draw a mark, the offline fallback, the text alternative by keyboard.

The page is a small test-only harness served by this module's URLs: it imports
collect/map.js exactly as the collection app does and mounts one question of the
personas' published form with the project's real map context. The answers it
produces are then sent through the real submissions API.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import include, path

from incity.places.queries import map_context
from incity.places.services import PlaceInput, create_place
from incity.surveys.models import Form, Submission
from tests.personas import SYSTEM, Cast, bearer
from tests.places.geo import riverton_areas
from tests.surveys.forms import good_answers, payload, published_form

pytestmark = [pytest.mark.browser, pytest.mark.urls(__name__)]

# A 1x1 PNG served as every map tile, so "online" works without any network.
TILE = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
HARNESS = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Map question harness (tests only)</title></head>
<body><main><h1>Map question</h1><div id="question"></div></main>
<script id="harness" type="application/json">%s</script>
<script type="module">
import { mountMapQuestion } from "/static/collect/map.js";
const data = JSON.parse(document.getElementById("harness").textContent);
const t = (texts) => (typeof texts === "string" ? texts : (texts || {})["English (en)"] || "");
window.changes = 0;
window.mount = mountMapQuestion(document.getElementById("question"), data.question, {
  language: "English (en)", t, map: data.map, choices: data.choices,
  onChange: () => { window.changes += 1; },
});
</script></body></html>"""


def harness(request: HttpRequest) -> HttpResponse:
    form = Form.objects.select_related("project").get(pk=int(request.GET["form"]))
    definition = form.latest_version().definition  # type: ignore[union-attr]
    question = next(e for e in definition["children"] if e["name"] == request.GET["question"])
    context = map_context(form.project)
    if request.GET.get("tiles") == "local":
        context["tile_url"] = "/tiles/{z}/{x}/{y}.png"
    elif request.GET.get("tiles") == "missing":
        context["tile_url"] = "/no-tiles/{z}/{x}/{y}.png"
    data = {
        "question": question,
        "map": context,
        "choices": definition["choices"].get(question.get("list_name", ""), []),
    }
    return HttpResponse(HARNESS % json.dumps(data).replace("</", "<\\/"))


def tile(request: HttpRequest, z: int, x: int, y: int) -> HttpResponse:
    return HttpResponse(TILE, content_type="image/png")


urlpatterns = [
    path("map-harness/", harness),
    path("tiles/<int:z>/<int:x>/<int:y>.png", tile),
    path("", include("incity.urls")),
]


def _open(page: Any, form: Form, question: str = "places", tiles: str = "local") -> None:
    page.set_viewport_size({"width": 360, "height": 640})
    page.goto(f"/map-harness/?form={form.pk}&question={question}&tiles={tiles}")
    page.locator(".incity-map-canvas.leaflet-container").wait_for()


def _submit(cast: Cast, form: Form, places: Any) -> Any:
    return Client().post(
        f"/api/v1/forms/{form.pk}/submissions",
        payload(answers=good_answers(places=places)),
        content_type="application/json",
        headers=bearer(cast.fieldworker),
    )


@pytest.fixture
def riverton_form(cast: Cast) -> Form:
    riverton_areas(cast)
    create_place(
        acting_user=None,
        origin=SYSTEM,
        project_slug=cast.survey.slug,
        place=PlaceInput(name="Library", kind="service", lon=-1.9, lat=52.46),
    )
    return published_form(cast)


def test_a_tap_outside_the_project_area_is_refused_with_a_message(
    browser_page: Any, riverton_form: Form
) -> None:
    page = browser_page
    _open(page, riverton_form)
    page.locator(".incity-map-canvas").click(position={"x": 4, "y": 120})
    alert = page.get_by_role("alert").filter(has_text="outside the project area")
    assert "Riverton North, Riverton South" in alert.inner_text()
    page.get_by_label("Unsafe").check()
    page.get_by_role("button", name="Save the mark").click()
    assert "Mark the place on the map" in page.locator(".incity-mark-problem").inner_text()
    assert page.evaluate("window.mount.getValue()") is None


def test_a_resident_draws_a_mark_with_category_and_time_and_the_server_takes_it(
    browser_page: Any, cast: Cast, riverton_form: Form
) -> None:
    page = browser_page
    _open(page, riverton_form)
    assert page.locator(".incity-map-offline").is_hidden()
    page.locator(".incity-map-canvas").click()  # the centre of the map is inside the area
    assert "Point set at" in page.locator(".incity-map-status").first.inner_text()
    page.get_by_label("Unsafe").check()
    page.get_by_label("Night").check()
    page.get_by_label("Comment (optional)").fill("no street lights")
    page.get_by_role("button", name="Save the mark").click()

    marks = page.locator(".incity-marks li")
    assert marks.count() == 1
    assert "Unsafe · on the map · Night" in marks.first.inner_text()
    value = page.evaluate("window.mount.getValue()")
    assert value[0]["category"] == "unsafe"
    assert value[0]["time_of_day"] == "night"
    assert value[0]["geometry"]["type"] == "Point"

    response = _submit(cast, riverton_form, value)
    assert response.status_code == 201, response.json()
    stored = Submission.objects.get()
    assert stored.answers["places"][0]["comment"] == "no street lights"


def test_a_line_is_drawn_by_keyboard_from_the_map_centre(
    browser_page: Any, cast: Cast, riverton_form: Form
) -> None:
    page = browser_page
    _open(page, riverton_form)
    page.get_by_label("A street or path").check()
    page.locator(".incity-map-canvas").focus()
    add = page.get_by_role("button", name="Add a point at the centre")
    add.click()
    page.locator(".incity-map-canvas").focus()
    page.keyboard.press("ArrowUp")
    page.wait_for_timeout(400)
    add.click()
    assert "2 points so far." in page.locator(".incity-map-status").first.inner_text()
    page.get_by_label("Safe", exact=True).check()
    page.get_by_role("button", name="Save the mark").click()
    value = page.evaluate("window.mount.getValue()")
    assert value[0]["geometry"]["type"] == "LineString"
    assert len(value[0]["geometry"]["coordinates"]) == 2
    assert _submit(cast, riverton_form, value).status_code == 201


def test_when_tiles_fail_the_boundary_is_drawn_on_a_plain_background(
    browser_page: Any, riverton_form: Form
) -> None:
    page = browser_page
    _open(page, riverton_form, tiles="missing")
    note = page.locator(".incity-map-offline")
    note.wait_for(state="visible")
    assert "cannot load" in note.inner_text()
    assert page.locator(".incity-map-canvas").get_attribute("data-offline") == "true"
    assert page.locator(".leaflet-overlay-pane path").count() >= 1  # the boundary
    assert page.locator(".leaflet-tile-pane img").count() == 0


def test_going_offline_switches_to_the_boundary_on_a_plain_background(
    browser_page: Any, riverton_form: Form
) -> None:
    page = browser_page
    _open(page, riverton_form)
    assert page.locator(".incity-map-offline").is_hidden()
    page.context.set_offline(True)
    page.locator(".incity-map-offline").wait_for(state="visible")
    assert page.locator(".leaflet-overlay-pane path").count() >= 1
    page.context.set_offline(False)


def test_the_text_alternative_is_reached_and_used_by_keyboard_alone(
    browser_page: Any, cast: Cast, riverton_form: Form
) -> None:
    page = browser_page
    _open(page, riverton_form)
    page.get_by_label("On the map").focus()
    page.keyboard.press("ArrowDown")  # to "Choose a named place"
    page.keyboard.press("ArrowDown")  # to "Describe it in words"
    assert page.get_by_label("Describe it in words").is_checked()
    page.keyboard.press("Tab")
    page.keyboard.type("the underpass by the station")
    page.keyboard.press("Tab")  # into the category choices
    page.keyboard.press("Space")
    page.keyboard.press("ArrowDown")  # to "Unsafe"
    assert page.get_by_label("Unsafe").is_checked()
    page.get_by_role("button", name="Save the mark").focus()
    page.keyboard.press("Enter")

    page.get_by_label("Choose a named place").check()
    page.get_by_label("Named place", exact=True).select_option(label="Library")
    page.get_by_label("Safe", exact=True).check()
    page.get_by_role("button", name="Save the mark").click()

    value = page.evaluate("window.mount.getValue()")
    assert value == [
        {"description": "the underpass by the station", "category": "unsafe"},
        {"place": "Library", "category": "safe"},
    ]
    assert _submit(cast, riverton_form, value).status_code == 201

    page.get_by_role("button", name="Delete mark 1").click()
    assert page.evaluate("window.mount.getValue()") == [{"place": "Library", "category": "safe"}]


def test_the_categories_come_from_the_questions_own_list(
    browser_page: Any, riverton_form: Form
) -> None:
    page = browser_page
    _open(page, riverton_form)
    categories = page.get_by_role("group", name="What kind of place is it?")
    labels = categories.locator("label").all_inner_texts()
    # The form's list (safe, unsafe), not the four default categories.
    assert [label.strip() for label in labels] == ["Safe", "Unsafe"]

"""The collection app in chromium on a phone-sized screen: offline queue, rules, Arabic,
keyboard only, the public link's consent, and the JavaScript evaluator against Python's."""

from __future__ import annotations

import math
from typing import Any

import pytest
from playwright.sync_api import expect

from incity.collect import services as collect_services
from incity.collect.runtime import parse_to_json
from incity.surveys import expressions
from incity.surveys.definition import FormDefinition
from incity.surveys.models import Form, Submission
from incity.surveys.services import forms as form_services
from tests.personas import PASSWORD, SYSTEM, Cast

pytestmark = pytest.mark.browser


EN = "English (en)"
AR = "العربية (ar)"
PHONE = {"width": 360, "height": 640}

DEFINITION: FormDefinition = {
    "form_id": "street",
    "title": "Street survey (synthetic test form)",
    "default_language": EN,
    "languages": [EN, AR],
    "settings": {},
    "choices": {
        "yes_no": [
            {"name": "yes", "label": {EN: "Yes", AR: "نعم"}},
            {"name": "no", "label": {EN: "No", AR: "لا"}},
        ]
    },
    "children": [
        {"type": "text", "name": "first_name", "label": {EN: "Your first name", AR: "اسمك"}},
        {
            "type": "integer",
            "name": "age",
            "label": {EN: "How old are you?", AR: "كم عمرك؟"},
            "required": True,
            "constraint": ". >= 16",
            "constraint_message": {EN: "Only people aged 16 or over.", AR: "فقط من 16 سنة."},
        },
        {
            "type": "select_one",
            "name": "children",
            "list_name": "yes_no",
            "label": {EN: "Do you have children?", AR: "هل لديك أطفال؟"},
        },
        {
            "type": "integer",
            "name": "children_count",
            "label": {EN: "How many children?", AR: "كم طفلا؟"},
            "relevant": "${children} = 'yes'",
        },
        {
            "type": "calculate",
            "name": "adult",
            "calculation": "if(${age} >= 18, 'yes', 'no')",
        },
        {
            "type": "group",
            "name": "street",
            "label": {EN: "Your street", AR: "شارعك"},
            "children": [
                {
                    "type": "text",
                    "name": "comment",
                    "label": {EN: "What would make your street better?", AR: "ما الذي يحسن شارعك؟"},
                }
            ],
        },
    ],
}
SHEET = {EN: "Synthetic information sheet: what we ask, why, who sees it.", AR: "ورقة معلومات"}


def _form(cast: Cast, *, consent: bool) -> Form:
    form = form_services.create_form(
        acting_user=cast.researcher,
        origin=SYSTEM,
        project_slug=cast.survey.slug,
        definition=DEFINITION,
        consent_required=consent,
        consent_sheet=SHEET if consent else None,
    )
    form_services.publish_form(acting_user=cast.researcher, origin=SYSTEM, form_pk=form.pk)
    return form


def _sign_in(page: Any, username: str) -> None:
    # The first request to a cold live server imports the whole site; give it time.
    page.goto("/accounts/login/", timeout=60_000)
    form = page.locator("form:has(input[name=login])")
    form.locator("input[name=login]").fill(username)
    form.locator("input[name=password]").fill(PASSWORD)
    with page.expect_navigation():
        form.locator("[type=submit]:not([form])").click()


def _open(page: Any, url: str, state: str = "form") -> Any:
    page.set_viewport_size(PHONE)
    page.goto(url)
    app = page.locator("#collect")
    expect(app).to_have_attribute("data-state", state)
    return app


def _fill_and_finish(page: Any, age: str, comment: str) -> None:
    page.get_by_label("Your first name").fill("Amal")
    page.get_by_label("How old are you?").fill(age)
    page.get_by_label("No", exact=True).check()
    page.get_by_test_id("next").click()
    page.get_by_label("What would make your street better?").fill(comment)
    page.get_by_test_id("finish").click()
    expect(page.get_by_test_id("done")).to_be_visible()


def test_three_forms_finished_offline_survive_a_reload_and_are_stored_once_online(
    browser_page: Any, cast: Cast
) -> None:
    page = browser_page
    form = _form(cast, consent=False)
    _sign_in(page, "fatima")
    app = _open(page, "/collect/riverton-survey/street/")
    expect(app).to_have_attribute("data-offline", "ready")

    page.context.set_offline(True)
    for number in range(3):
        if number:
            page.get_by_test_id("another").click()
        _fill_and_finish(page, str(30 + number), f"street lights {number}")
    expect(app).to_have_attribute("data-waiting", "3")
    expect(page.get_by_test_id("queue-status")).to_contain_text("3 waiting to send")

    response = page.reload()
    assert response is not None
    assert response.from_service_worker
    expect(app).to_have_attribute("data-state", "form")
    expect(app).to_have_attribute("data-waiting", "3")
    assert Submission.objects.filter(form=form).count() == 0

    page.context.set_offline(False)
    expect(app).to_have_attribute("data-waiting", "0")
    expect(app).to_have_attribute("data-sent", "3")
    stored = Submission.objects.filter(form=form)
    assert stored.count() == 3
    assert sorted(s.answers["comment"] for s in stored) == [f"street lights {n}" for n in range(3)]
    assert {s.collected_by for s in stored} == {cast.fieldworker}
    assert all(s.answers["adult"] == "yes" for s in stored)
    expect(page.locator(".outbox-list .sent")).to_have_count(3)


def test_relevance_shows_questions_and_constraints_explain_and_take_focus(
    browser_page: Any, cast: Cast
) -> None:
    page = browser_page
    _form(cast, consent=False)
    _sign_in(page, "fatima")
    _open(page, "/collect/riverton-survey/street/")
    count = page.get_by_label("How many children?")
    expect(count).to_be_hidden()
    page.get_by_label("Yes", exact=True).check()
    expect(count).to_be_visible()
    page.get_by_label("No", exact=True).check()
    expect(count).to_be_hidden()

    page.get_by_test_id("next").click()
    age = page.get_by_label("How old are you?")
    expect(age).to_be_focused()
    expect(age).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#q-age-error")).to_have_text("This question needs an answer.")
    age.fill("12")
    page.get_by_test_id("next").click()
    expect(page.locator("#q-age-error")).to_have_text("Only people aged 16 or over.")
    assert "q-age-error" in (age.get_attribute("aria-describedby") or "")
    age.fill("40")
    page.get_by_test_id("next").click()
    expect(page.get_by_label("What would make your street better?")).to_be_visible()


def test_switching_to_arabic_lays_the_form_out_right_to_left(browser_page: Any, cast: Cast) -> None:
    page = browser_page
    _form(cast, consent=False)
    _sign_in(page, "fatima")
    _open(page, "/collect/riverton-survey/street/")
    page.get_by_label("Your first name").fill("Amal")
    page.locator("#form-language").select_option(AR)
    form = page.get_by_test_id("respondent-form")
    expect(form).to_have_attribute("dir", "rtl")
    expect(form).to_have_attribute("lang", "ar")
    assert page.evaluate("document.documentElement.dir") == "rtl"
    expect(page.get_by_label("كم عمرك؟")).to_be_visible()
    # The answer typed before the switch is still there.
    expect(page.get_by_label("اسمك")).to_have_value("Amal")
    radio = page.get_by_label("نعم", exact=True).bounding_box()
    label = page.locator("label.choice").first.bounding_box()
    assert radio is not None
    assert label is not None
    # Right to left: the radio button sits at the right-hand end of its row.
    assert radio["x"] > label["x"] + label["width"] / 2
    assert radio["x"] > PHONE["width"] / 2


def test_a_whole_form_is_filled_and_finished_by_keyboard_alone(
    browser_page: Any, cast: Cast
) -> None:
    page = browser_page
    form = _form(cast, consent=False)
    _sign_in(page, "fatima")
    app = _open(page, "/collect/riverton-survey/street/")
    keyboard = page.keyboard
    keyboard.press("Tab")
    expect(page.get_by_label("Your first name")).to_be_focused()
    keyboard.type("Amal")
    keyboard.press("Tab")
    keyboard.type("29")
    keyboard.press("Tab")
    expect(page.get_by_label("Yes", exact=True)).to_be_focused()
    keyboard.press("Space")
    keyboard.press("Tab")
    expect(page.get_by_label("How many children?")).to_be_focused()
    keyboard.type("2")
    keyboard.press("Tab")
    expect(page.get_by_test_id("next")).to_be_focused()
    keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Your street")).to_be_focused()
    keyboard.press("Tab")
    keyboard.type("benches")
    keyboard.press("Tab")
    keyboard.press("Tab")
    expect(page.get_by_test_id("finish")).to_be_focused()
    keyboard.press("Enter")
    expect(app).to_have_attribute("data-sent", "1")
    stored = Submission.objects.get(form=form)
    assert stored.answers["children_count"] == 2
    assert stored.answers["comment"] == "benches"


def test_the_public_link_shows_the_information_sheet_before_anything_is_asked(
    browser_page: Any, cast: Cast
) -> None:
    page = browser_page
    form = _form(cast, consent=True)
    link = collect_services.enable_public_link(acting_user=cast.lead, origin=SYSTEM, form=form)
    app = _open(page, f"/collect/riverton-survey/street/?link={link.token}", state="consent")
    expect(page.get_by_test_id("consent-sheet")).to_contain_text("Synthetic information sheet")
    expect(page.get_by_label("Your first name")).to_have_count(0)
    page.get_by_role("button", name="I do not agree").click()
    expect(app).to_have_attribute("data-state", "declined")
    page.get_by_role("button", name="Back to the information").click()
    page.get_by_role("button", name="I agree, start").click()
    expect(app).to_have_attribute("data-state", "form")
    _fill_and_finish(page, "52", "more light")
    expect(app).to_have_attribute("data-sent", "1")
    stored = Submission.objects.get(form=form)
    assert stored.collected_by is None
    assert stored.respondent is not None
    assert stored.respondent.consent_given_at is not None
    expect(page.locator(".outbox-list .code")).to_contain_text("Code to withdraw")


ANSWERS: dict[str, Any] = {
    "age": 34,
    "name": "Amal",
    "barriers": ["no_time", "childcare"],
    "missing": "",
    "household": [{"member_age": 7}, {"member_age": 41}],
    "arabic": "محمد",
}
REPEATS = {"member_age": ("household",)}
PARITY = [
    "${age} >= 16 and ${age} <= 120",
    "selected(${barriers}, 'no_time')",
    "selected(${barriers}, 'language')",
    "count-selected(${barriers})",
    "if(${age} > 30, 'older', 'younger')",
    "coalesce(${missing}, ${name}, 'x')",
    "concat(${name}, '-', ${age})",
    "concat(${barriers})",
    "string-length(${name})",
    "string-length(${arabic})",
    "regex(${name}, '^[A-Z][a-z]+$')",
    "regex(${name}, '^[0-9]+$')",
    "number('3.50') + 1",
    "int(7.9) - int(-7.9)",
    "round(2.345, 2)",
    "round(2.5)",
    "round(-2.5)",
    "10 div 4",
    "1 div 0",
    "-7 mod 3",
    "0.1 + 0.2",
    "count(${member_age})",
    "sum(${member_age})",
    "not(${missing} = '')",
    "${missing} > 3",
    "${age} = '34'",
    "${age} != 34 or ${name} = 'Amal'",
    "jr:choice-name('yes', '${children}')",
    "position(..)",
    "today() = today()",
    "string-length(now()) > 18",
    "-${age} * 2",
    "true() and not(false())",
]


def test_the_browser_evaluator_agrees_with_the_server_engine(browser_page: Any, cast: Cast) -> None:
    page = browser_page
    _form(cast, consent=False)
    _sign_in(page, "fatima")
    _open(page, "/collect/riverton-survey/street/")
    context = expressions.EvalContext(ANSWERS, repeats=REPEATS)
    expected = []
    for text in PARITY:
        value = expressions.evaluate(text, context)
        expected.append([expressions.to_string(value), expressions.truthy(value)])
    trees = [parse_to_json(text) for text in PARITY]
    got = page.evaluate(
        """async ([trees, answers, repeats]) => {
          const m = await import('/static/collect/expr.js');
          const ctx = new m.Context({ answers, repeats });
          return trees.map((tree) => {
            const value = m.evaluate(tree, ctx);
            return [m.toString(value), m.truthy(value)];
          });
        }""",
        [trees, ANSWERS, {name: list(path) for name, path in REPEATS.items()}],
    )
    mismatches = [
        (text, want, have)
        for text, want, have in zip(PARITY, expected, got, strict=True)
        if want != have and not (want[0] == have[0] == "NaN" or _close(want[0], have[0]))
    ]
    assert mismatches == []


def _close(a: str, b: str) -> bool:
    try:
        return math.isclose(float(a), float(b), rel_tol=1e-12)
    except ValueError:
        return False

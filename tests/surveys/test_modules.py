"""The module library: every shipped module is well formed, and forms compose from them."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from incity.errors import InvalidInput, NotFound
from incity.surveys import modules
from incity.surveys.definition import (
    STRUCTURE_TYPES,
    count_questions,
    elements_by_name,
    is_sensitive,
    questions,
    walk,
)

ALL = [info.slug for info in modules.list_modules()]
LANGS = ["English (en)", "Deutsch (de)", "Svenska (sv)"]

# Questions whose wording comes from a published instrument, with the variable where
# the instrument has one (None: the instrument stores the answer in several variables).
FROM_INSTRUMENTS: dict[str, tuple[str, str | None]] = {
    "saf_dark": ("European Social Survey", "aesfdrk"),
    "saf_victim": ("European Social Survey", "crmvct"),
    "con_meet": ("European Social Survey", "sclmeet"),
    "con_confide": ("European Social Survey", "inmdisc"),
    "con_trust": ("European Social Survey", "ppltrst"),
    "idn_discrim_group": ("European Social Survey", "dscrgrp"),
    "idn_discrim_grounds": ("European Social Survey", None),
    "wrk_income": ("European Social Survey", "hincfel"),
    "lng_home": ("European Social Survey", "lnghom1"),
    "bg_born_here": ("European Social Survey", "brncntr"),
    "bg_arrival": ("European Social Survey", "livecntr"),
    "bg_citizen": ("European Social Survey", "ctzcntr"),
    "nbh_belong": ("Community Life Survey", None),
    "nbh_satisfied": ("Community Life Survey", None),
    "nbh_get_on": ("Community Life Survey", None),
    "nbh_trust": ("Community Life Survey", None),
    "nbh_chat": ("Community Life Survey", None),
    "con_help": ("Community Life Survey", None),
    "con_lonely": ("Community Life Survey", None),
    "par_influence": ("Community Life Survey", None),
    "par_more_involved": ("Community Life Survey", None),
    "par_meeting": ("SAGE", "q6001"),
}


def _element(module: dict[str, Any], name: str) -> dict[str, Any]:
    return next(e for e in module["children"] if e["name"] == name)


def _all_questions(slug: str) -> list[dict[str, Any]]:
    return [e for e in modules.get_module(slug)["children"] if e["type"] not in STRUCTURE_TYPES]


# -- the shipped library


@pytest.mark.parametrize("slug", ALL)
def test_every_shipped_module_passes_its_check(slug: str) -> None:
    assert modules.check_module(modules.get_module(slug)) == []


def test_the_library_has_at_least_nine_topical_modules_and_a_background_module() -> None:
    topical = [slug for slug in ALL if slug != "background"]
    assert len(topical) >= 9
    for slug in (
        "housing",
        "neighbourhood",
        "safety",
        "connections",
        "participation",
        "services",
        "identity",
        "work",
        "language",
    ):
        assert slug in topical


def test_background_is_listed_last() -> None:
    assert ALL[-1] == "background"


@pytest.mark.parametrize("slug", ALL)
def test_every_module_is_short(slug: str) -> None:
    info = next(i for i in modules.list_modules() if i.slug == slug)
    assert 4 <= info.question_count <= 9


@pytest.mark.parametrize("slug", ALL)
def test_every_question_is_tagged_with_a_domain_and_its_module(slug: str) -> None:
    for element in _all_questions(slug):
        assert element["tags"]["domains"], element["name"]
        assert element["tags"]["module"] == slug


@pytest.mark.parametrize("slug", ALL)
def test_every_module_is_in_english_german_and_swedish(slug: str) -> None:
    module = modules.get_module(slug)
    assert set(LANGS) <= set(module["languages"])
    for element in module["children"]:
        assert set(element["label"]) == set(LANGS), element["name"]
    assert isinstance(module["notes"], str)
    assert module["notes"]


@pytest.mark.parametrize(("name", "source"), sorted(FROM_INSTRUMENTS.items()))
def test_questions_with_published_wording_name_their_source(
    name: str, source: tuple[str, str | None]
) -> None:
    survey, variable = source
    element = elements_by_name(
        modules.compose_definition(form_id="f", title="F", module_slugs=ALL)
    )[name]
    assert survey in element["tags"]["source_survey"]
    assert element["tags"].get("source_variable") == variable


def test_no_question_claims_a_variable_without_a_survey() -> None:
    for slug in ALL:
        for element in _all_questions(slug):
            tags = element["tags"]
            if tags.get("source_variable"):
                assert tags.get("source_survey"), element["name"]


def test_migration_status_questions_are_sensitive() -> None:
    background = modules.get_module("background")
    for name in ("bg_born_here", "bg_arrival", "bg_citizen"):
        assert is_sensitive(_element(background, name))
    assert not is_sensitive(_element(background, "bg_age"))


def test_years_since_arrival_is_asked_only_of_people_born_elsewhere() -> None:
    arrival = _element(modules.get_module("background"), "bg_arrival")
    assert arrival["relevant"] == "${bg_born_here} = 'no'"


def test_safety_has_a_map_question_and_a_text_alternative() -> None:
    safety = modules.get_module("safety")
    marks = _element(safety, "saf_places")
    assert marks["type"] == "map_marks"
    assert marks["list_name"] == "mark_category"
    assert [c["name"] for c in safety["choices"]["mark_category"]] == [
        "safe",
        "unsafe",
        "resource",
        "meeting_place",
    ]
    assert _element(safety, "saf_avoid_places")["type"] == "text"


def test_participation_asks_the_barriers_and_the_main_one() -> None:
    participation = modules.get_module("participation")
    barriers = _element(participation, "par_barriers")
    assert barriers["type"] == "select_multiple"
    codes = [c["name"] for c in participation["choices"][barriers["list_name"]]]
    for code in (
        "dont_know_how",
        "no_time",
        "childcare_family",
        "language_culture",
        "no_faith_process",
        "views_no_impact",
        "other",
    ):
        assert code in codes
    main = _element(participation, "par_main_barrier")
    assert main["list_name"] == barriers["list_name"]
    assert "${par_barriers}" in main["relevant"]
    assert main["constraint"]
    assert main["constraint_message"]["English (en)"]


def test_get_module_returns_a_copy() -> None:
    module = modules.get_module("housing")
    module["children"].clear()
    assert modules.get_module("housing")["children"]


def test_an_unknown_module_is_not_found_with_the_available_ones_named() -> None:
    with pytest.raises(NotFound) as refused:
        modules.get_module("gardening")
    assert "gardening" in refused.value.message
    assert "housing" in refused.value.message


# -- composing forms


def test_all_modules_compose_into_one_form_with_unique_names() -> None:
    definition = modules.compose_definition(form_id="dips", title="DiPS", module_slugs=ALL)
    names = [element["name"] for element, _ in walk(definition["children"])]
    assert len(names) == len(set(names))
    assert [group["name"] for group in definition["children"]] == ALL
    assert count_questions(definition) == sum(i.question_count for i in modules.list_modules())
    assert definition["languages"] == LANGS
    assert definition["default_language"] == "English (en)"


def test_each_module_becomes_a_group_labelled_with_its_title() -> None:
    definition = modules.compose_definition(
        form_id="f", title="F", module_slugs=["safety", "housing"]
    )
    safety, housing = definition["children"]
    assert safety["type"] == "group"
    assert safety["name"] == "safety"
    assert safety["label"] == modules.get_module("safety")["title"]
    assert housing["children"][0]["name"] == "hou_tenure"


def test_shared_choice_lists_are_merged_once() -> None:
    definition = modules.compose_definition(form_id="f", title="F", module_slugs=ALL)
    used = {e["list_name"] for e in questions(definition) if e.get("list_name")}
    assert used == set(definition["choices"])
    for slug in ALL:
        for list_name, entries in modules.get_module(slug)["choices"].items():
            assert definition["choices"][list_name] == entries
    # yes_no_pns is used by several modules.
    assert sum("yes_no_pns" in modules.get_module(s)["choices"] for s in ALL) > 1


def test_composing_in_fewer_languages_drops_the_others() -> None:
    definition = modules.compose_definition(
        form_id="f", title="F", module_slugs=["housing"], languages=["Deutsch (de)"]
    )
    assert definition["languages"] == ["Deutsch (de)"]
    assert definition["default_language"] == "Deutsch (de)"
    tenure = definition["children"][0]["children"][0]
    assert set(tenure["label"]) == {"Deutsch (de)"}
    assert set(definition["choices"]["hou_tenure"][0]["label"]) == {"Deutsch (de)"}


def test_composing_does_not_change_the_library() -> None:
    before = modules.get_module("housing")
    modules.compose_definition(
        form_id="f", title="F", module_slugs=["housing"], languages=["English (en)"]
    )
    assert modules.get_module("housing") == before


def test_composing_an_unknown_module_is_refused_naming_it() -> None:
    with pytest.raises(InvalidInput) as refused:
        modules.compose_definition(form_id="f", title="F", module_slugs=["housing", "gardening"])
    assert refused.value.field == "module_slugs"
    assert "gardening" in refused.value.message


def test_composing_a_module_twice_is_refused_naming_it() -> None:
    with pytest.raises(InvalidInput) as refused:
        modules.compose_definition(
            form_id="f", title="F", module_slugs=["safety", "housing", "safety"]
        )
    assert "safety" in refused.value.message
    assert "twice" in refused.value.message


def test_composing_no_module_is_refused() -> None:
    with pytest.raises(InvalidInput) as refused:
        modules.compose_definition(form_id="f", title="F", module_slugs=[])
    assert refused.value.field == "module_slugs"
    assert "at least one module" in refused.value.message


def test_composing_in_a_language_a_module_lacks_is_refused_naming_it() -> None:
    with pytest.raises(InvalidInput) as refused:
        modules.compose_definition(
            form_id="f", title="F", module_slugs=["housing"], languages=["Français (fr)"]
        )
    assert refused.value.field == "languages"
    assert "Français (fr)" in refused.value.message


def test_composing_with_an_invalid_form_id_is_refused() -> None:
    with pytest.raises(InvalidInput) as refused:
        modules.compose_definition(form_id="1 bad id", title="F", module_slugs=["housing"])
    assert refused.value.field == "form_id"


def test_a_conflicting_shared_list_is_a_bug_and_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    library = copy.deepcopy(modules._modules())
    library["safety"]["choices"]["yes_no_pns"][0]["label"]["English (en)"] = "Yep"
    monkeypatch.setattr(modules, "_modules", lambda: library)
    with pytest.raises(modules.ModuleDataError, match="yes_no_pns"):
        modules.compose_definition(form_id="f", title="F", module_slugs=["housing", "safety"])


def test_the_composed_form_passes_the_form_check() -> None:
    formcheck = pytest.importorskip("incity.surveys.formcheck")
    definition = modules.compose_definition(form_id="dips", title="DiPS", module_slugs=ALL)
    assert formcheck.check_definition(definition) == []


# -- check_module refuses broken modules


def _housing() -> dict[str, Any]:
    return modules.get_module("housing")


def test_a_missing_german_label_is_reported() -> None:
    module = _housing()
    del _element(module, "hou_cost")["label"]["Deutsch (de)"]
    problems = modules.check_module(module)
    assert any("hou_cost (label)" in p and "Deutsch (de)" in p for p in problems), problems


def test_a_missing_swedish_choice_label_is_reported() -> None:
    module = _housing()
    del module["choices"]["hou_cost"][0]["label"]["Svenska (sv)"]
    problems = modules.check_module(module)
    assert any("hou_cost" in p and "Svenska (sv)" in p for p in problems), problems


def test_a_missing_constraint_message_translation_is_reported() -> None:
    module = _housing()
    del _element(module, "hou_people")["constraint_message"]["Svenska (sv)"]
    problems = modules.check_module(module)
    assert any("hou_people (constraint_message)" in p for p in problems), problems


def test_an_unknown_domain_is_reported() -> None:
    module = _housing()
    _element(module, "hou_tenure")["tags"]["domains"] = ["ioi-2019:gardening"]
    problems = modules.check_module(module)
    assert any("ioi-2019:gardening" in p for p in problems), problems


def test_a_principle_is_not_a_domain() -> None:
    module = _housing()
    _element(module, "hou_tenure")["tags"]["domains"] = ["ioi-2019:multi_dimensional"]
    assert modules.check_module(module)


def test_a_question_without_domains_is_reported() -> None:
    module = _housing()
    _element(module, "hou_tenure")["tags"]["domains"] = []
    problems = modules.check_module(module)
    assert any("hou_tenure (tags.domains)" in p for p in problems), problems


def test_a_question_tagged_with_another_module_is_reported() -> None:
    module = _housing()
    _element(module, "hou_tenure")["tags"]["module"] = "safety"
    problems = modules.check_module(module)
    assert any("hou_tenure (tags.module)" in p for p in problems), problems


def test_an_unknown_choice_list_is_reported() -> None:
    module = _housing()
    _element(module, "hou_cost")["list_name"] = "hou_costs"
    problems = modules.check_module(module)
    assert any("'hou_costs' does not exist" in p for p in problems), problems


def test_a_name_another_module_uses_is_reported() -> None:
    module = _housing()
    _element(module, "hou_cost")["name"] = "saf_dark"
    problems = modules.check_module(module)
    assert any("saf_dark (name)" in p and "safety" in p for p in problems), problems


def test_a_shared_list_with_different_content_is_reported() -> None:
    module = _housing()
    module["choices"]["yes_no_pns"][0]["name"] = "yes_indeed"
    problems = modules.check_module(module)
    assert any("'yes_no_pns'" in p and "different content" in p for p in problems), problems


def test_a_reference_to_another_modules_question_is_reported() -> None:
    module = _housing()
    _element(module, "hou_cost")["relevant"] = "${bg_born_here} = 'no'"
    problems = modules.check_module(module)
    assert any("${bg_born_here}" in p for p in problems), problems


def test_a_choice_name_that_is_not_snake_case_is_reported() -> None:
    module = _housing()
    module["choices"]["hou_cost"][0]["name"] = "Not Hard"
    assert modules.check_module(module)


def test_a_module_without_a_required_language_is_reported() -> None:
    module = _housing()
    module["languages"] = ["English (en)", "Svenska (sv)"]
    problems = modules.check_module(module)
    assert any("'Deutsch (de)' is missing" in p for p in problems), problems

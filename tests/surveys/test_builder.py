"""The form builder's draft edits: pure functions that refuse what would break the form."""

from __future__ import annotations

import copy

import pytest

from incity.errors import InvalidInput
from incity.surveys import builder
from incity.surveys.builder import QuestionSpec
from incity.surveys.definition import FormDefinition
from incity.surveys.formcheck import check_definition
from incity.surveys.modules import compose_definition
from tests.surveys.forms import DE, EN, household_definition

AR = "العربية (ar)"


@pytest.fixture
def definition() -> FormDefinition:
    return household_definition()


def _names(definition: FormDefinition) -> list[str]:
    return [element["name"] for element in definition["children"]]


def _refused(field: str, text: str, call: object, *args: object, **kwargs: object) -> None:
    with pytest.raises(InvalidInput) as refused:
        call(*args, **kwargs)  # type: ignore[operator]
    assert refused.value.field == field
    assert text in refused.value.message


def _text(name: str = "bus", **changes: object) -> QuestionSpec:
    values: dict[str, object] = {"type": "text", "name": name, "label": {EN: "Bus?"}}
    values.update(changes)
    return QuestionSpec(**values)  # type: ignore[arg-type]


# --- refusals -------------------------------------------------------------------------


def test_it_refuses_a_type_the_builder_does_not_offer(definition: FormDefinition) -> None:
    _refused(
        "type", "'audio' is not one of them", builder.add_question, definition, _text(type="audio")
    )


@pytest.mark.parametrize("name", ["", "1st", "two words", "a/b", "x" * 101])
def test_it_refuses_a_name_that_cannot_be_an_xml_name(
    definition: FormDefinition, name: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        builder.add_question(definition, _text(name))
    assert refused.value.field == "name"


def test_it_refuses_a_name_the_form_already_has(definition: FormDefinition) -> None:
    _refused(
        "name", "already has an element named 'age'", builder.add_question, definition, _text("age")
    )


def test_it_refuses_a_name_taken_inside_a_repeat(definition: FormDefinition) -> None:
    _refused("name", "'member_age'", builder.add_question, definition, _text("member_age"))


def test_it_refuses_a_question_without_a_label_in_the_default_language(
    definition: FormDefinition,
) -> None:
    spec = _text(label={DE: "Bus?"})
    _refused("label", "default language (English (en))", builder.add_question, definition, spec)


def test_it_refuses_a_text_in_a_language_the_form_does_not_have(definition: FormDefinition) -> None:
    spec = _text(label={EN: "Bus?", AR: "حافلة؟"})
    _refused("label", "not one of the form's languages", builder.add_question, definition, spec)


def test_it_refuses_an_expression_it_cannot_read(definition: FormDefinition) -> None:
    _refused(
        "relevant", "cannot be read", builder.add_question, definition, _text(relevant="${age} >>")
    )


def test_it_refuses_a_reference_to_a_question_the_form_lacks(definition: FormDefinition) -> None:
    spec = _text(constraint=". != ${agee}")
    _refused("constraint", "${agee}", builder.add_question, definition, spec)


def test_it_refuses_a_question_shown_only_on_its_own_answer(definition: FormDefinition) -> None:
    spec = _text(relevant="${bus} = 'yes'")
    _refused("relevant", "its own answer", builder.add_question, definition, spec)


def test_it_refuses_a_constraint_message_without_a_constraint(definition: FormDefinition) -> None:
    spec = _text(constraint_message={EN: "Too high"})
    _refused("constraint_message", "needs a constraint", builder.add_question, definition, spec)


@pytest.mark.parametrize("kind", ["note", "group", "calculate"])
def test_it_refuses_to_require_an_element_without_an_answer(
    definition: FormDefinition, kind: str
) -> None:
    spec = _text(type=kind, required=True, calculation="1" if kind == "calculate" else "")
    _refused("required", "cannot be required", builder.add_question, definition, spec)


def test_it_refuses_a_calculate_without_a_calculation(definition: FormDefinition) -> None:
    spec = QuestionSpec(type="calculate", name="total")
    _refused("calculation", "needs a calculation", builder.add_question, definition, spec)


def test_it_refuses_a_select_without_choices(definition: FormDefinition) -> None:
    spec = _text(type="select_one")
    _refused(
        "new_choices", "Pick one of the form's choice lists", builder.add_question, definition, spec
    )


def test_it_refuses_a_choice_list_the_form_does_not_have(definition: FormDefinition) -> None:
    spec = _text(type="select_one", list_name="colours")
    _refused("list_name", "no choice list 'colours'", builder.add_question, definition, spec)


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("often", "Line 1: write each choice as 'name | label'"),
        ("often | Often\noften | Again", "Line 2: the choice 'often' is there twice"),
        ("two words | Often", "cannot be a choice name"),
        ("often |  ", "has no label"),
    ],
)
def test_it_refuses_choices_written_wrongly(
    definition: FormDefinition, written: str, message: str
) -> None:
    spec = _text(type="select_one", new_choices=written)
    _refused("new_choices", message, builder.add_question, definition, spec)


def test_it_refuses_a_new_list_named_like_an_existing_one(definition: FormDefinition) -> None:
    spec = _text(type="select_one", new_choices="a | A", new_list_name="tenure")
    _refused(
        "new_list_name",
        "already has a choice list 'tenure'",
        builder.add_question,
        definition,
        spec,
    )


def test_it_refuses_choices_on_a_question_that_has_none(definition: FormDefinition) -> None:
    spec = _text(list_name="tenure")
    _refused("list_name", "has no choices", builder.add_question, definition, spec)


def test_it_refuses_a_choice_filter_outside_a_select(definition: FormDefinition) -> None:
    spec = _text(choice_filter="name = 'x'")
    _refused("choice_filter", "Only a select question", builder.add_question, definition, spec)


def test_it_refuses_to_add_into_an_element_that_is_not_a_group(definition: FormDefinition) -> None:
    _refused(
        "parent", "only a group or repeat", builder.add_question, definition, _text(), parent="age"
    )


def test_it_refuses_an_edit_of_an_element_it_cannot_find(definition: FormDefinition) -> None:
    _refused(
        "name", "no element named 'ghost'", builder.update_question, definition, "ghost", _text()
    )


def test_it_refuses_to_turn_a_question_into_a_group(definition: FormDefinition) -> None:
    spec = _text("comment", type="group")
    _refused("type", "cannot become a group", builder.update_question, definition, "comment", spec)


def test_it_refuses_to_rename_a_question_others_refer_to(definition: FormDefinition) -> None:
    spec = QuestionSpec(
        type="select_one", name="housing_tenure", label={EN: "T"}, list_name="tenure"
    )
    _refused("name", "rent refer to it", builder.update_question, definition, "tenure", spec)


def test_it_refuses_to_remove_a_question_others_refer_to(definition: FormDefinition) -> None:
    _refused(
        "name", "'tenure' cannot be removed: rent", builder.remove_element, definition, "tenure"
    )


def test_it_refuses_to_remove_the_last_element(definition: FormDefinition) -> None:
    definition["children"] = definition["children"][:1]
    _refused("name", "the last one", builder.remove_element, definition, "age")


@pytest.mark.parametrize(
    ("name", "direction", "message"),
    [
        ("age", "up", "already first"),
        ("comment", "down", "already last"),
        ("member_age", "up", "already first"),
    ],
)
def test_it_refuses_to_move_past_the_edge_of_the_group(
    definition: FormDefinition, name: str, direction: str, message: str
) -> None:
    _refused("direction", message, builder.move_element, definition, name, direction)


def test_it_refuses_a_direction_other_than_up_or_down(definition: FormDefinition) -> None:
    _refused("direction", "'up' or 'down'", builder.move_element, definition, "rent", "left")


def test_it_refuses_to_remove_the_default_language(definition: FormDefinition) -> None:
    _refused(
        "languages",
        "default language and cannot be removed",
        builder.remove_language,
        definition,
        EN,
    )


@pytest.mark.parametrize(
    "key", ["", "Arabic", "ar", "default", "Arabic (arabic)", "a:b (ar)", "x" * 60 + " (ar)"]
)
def test_it_refuses_a_language_key_without_a_code(definition: FormDefinition, key: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        builder.add_language(definition, key)
    assert refused.value.field == "language"


def test_it_refuses_a_language_the_form_has_or_a_second_key_for_it(
    definition: FormDefinition,
) -> None:
    _refused("language", "already in 'Deutsch (de)'", builder.add_language, definition, DE)
    _refused("languages", "the same language (de)", builder.add_language, definition, "German (de)")


def test_it_refuses_a_language_code_not_in_the_list(definition: FormDefinition) -> None:
    _refused("language", "'xx' is not in the list", builder.language_key, "xx")


def test_it_refuses_to_translate_into_the_default_or_a_missing_language(
    definition: FormDefinition,
) -> None:
    _refused("language", "the default language", builder.set_translation, definition, EN, {})
    _refused("language", "add the language first", builder.set_translation, definition, AR, {})
    _refused("language", "add the language first", builder.translatable_texts, definition, AR)


def test_it_refuses_a_translation_of_a_text_the_form_lacks(definition: FormDefinition) -> None:
    _refused(
        "texts", "'label:ghost'", builder.set_translation, definition, DE, {"label:ghost": "x"}
    )


def test_it_refuses_a_module_already_in_the_form() -> None:
    form = compose_definition(form_id="f", title="F", module_slugs=["housing"], languages=[EN])
    housing = compose_definition(form_id="f", title="F", module_slugs=["housing"], languages=[EN])
    _refused("module", "'housing' is already in the form", builder.add_module_group, form, housing)


def test_it_refuses_a_module_whose_names_the_form_already_uses(definition: FormDefinition) -> None:
    module = compose_definition(form_id="f", title="F", module_slugs=["housing"], languages=[EN])
    definition["children"].append({"type": "text", "name": "hou_tenure", "label": {EN: "Mine"}})
    _refused("module", "hou_tenure", builder.add_module_group, definition, module)


# --- acceptances ----------------------------------------------------------------------


def test_no_function_changes_the_definition_it_is_given(definition: FormDefinition) -> None:
    before = copy.deepcopy(definition)
    builder.add_question(definition, _text())
    builder.move_element(definition, "rent", "up")
    builder.remove_element(definition, "comment")
    builder.add_language(definition, AR)
    builder.set_translation(definition, DE, {"label:age": "Alter?"})
    assert definition == before


def test_a_select_with_new_choices_makes_its_list_and_passes_the_form_check(
    definition: FormDefinition,
) -> None:
    spec = QuestionSpec(
        type="select_one",
        name="bus",
        label={EN: "Do you take the bus?", DE: "Fahren Sie Bus?"},
        new_choices="often | Often\n\nnever | Never",
        relevant="${age} >= 16",
        domains=("ioi-2019:social_bridges",),
    )
    edited = builder.add_question(definition, spec)
    bus = edited["children"][-1]
    assert bus["list_name"] == "bus"
    assert bus["tags"] == {"domains": ["ioi-2019:social_bridges"]}
    assert edited["choices"]["bus"] == [
        {"name": "often", "label": {EN: "Often"}},
        {"name": "never", "label": {EN: "Never"}},
    ]
    assert check_definition(edited) == []


def test_a_new_group_starts_with_a_note_so_it_passes_the_form_check(
    definition: FormDefinition,
) -> None:
    edited = builder.add_question(
        definition, QuestionSpec(type="group", name="extra", label={EN: "More"})
    )
    assert edited["children"][-1]["children"][0]["name"] == "extra_intro"
    edited = builder.add_question(edited, _text("inside"), parent="extra")
    assert [c["name"] for c in edited["children"][-1]["children"]] == ["extra_intro", "inside"]
    assert check_definition(edited) == []


def test_map_marks_use_the_mark_category_list_by_default(definition: FormDefinition) -> None:
    spec = QuestionSpec(type="map_marks", name="dark_spots", label={EN: "Where is it dark?"})
    assert builder.add_question(definition, spec)["children"][-1]["list_name"] == "mark_category"


def test_an_edit_keeps_columns_the_builder_does_not_show_and_translations_of_choices(
    definition: FormDefinition,
) -> None:
    definition["children"][1]["extra"] = {"bind::odk:note": "kept"}
    spec = QuestionSpec(
        type="select_one",
        name="tenure",
        label={EN: "Own or rent?"},
        list_name="tenure",
        new_choices="owner | Owner-occupier\nprivate_rent | Private rent\nsocial_rent | Social\nother | Other",
    )
    edited = builder.update_question(definition, "tenure", spec)
    tenure = edited["children"][1]
    assert tenure["extra"] == {"bind::odk:note": "kept"}
    assert tenure["label"] == {EN: "Own or rent?"}
    owner = edited["choices"]["tenure"][0]
    assert owner["label"] == {EN: "Owner-occupier", DE: "Eigentum"}
    assert [c["name"] for c in edited["choices"]["tenure"]][-1] == "other"


def test_removing_an_element_drops_the_choice_list_only_it_used(definition: FormDefinition) -> None:
    edited = builder.remove_element(definition, "barriers")
    assert "barriers" not in _names(edited)
    assert "barrier" not in edited["choices"]
    assert "tenure" in edited["choices"]


def test_a_group_moves_as_one_unit(definition: FormDefinition) -> None:
    edited = builder.move_element(definition, "household", "up")
    assert _names(edited)[4:6] == ["household", "born_here"]
    assert edited["children"][4]["children"][0]["name"] == "member_age"


def test_adding_and_removing_a_language_adds_and_drops_its_texts(
    definition: FormDefinition,
) -> None:
    edited = builder.add_language(definition, builder.language_key("ar"))
    assert edited["languages"] == [EN, DE, AR]
    edited = builder.set_translation(
        edited, AR, {"label:age": "كم عمرك؟", "choice:yes_no:yes": "نعم"}
    )
    assert edited["children"][0]["label"][AR] == "كم عمرك؟"
    assert edited["choices"]["yes_no"][0]["label"][AR] == "نعم"
    removed = builder.remove_language(edited, AR)
    assert removed["languages"] == [EN, DE]
    assert AR not in removed["children"][0]["label"]
    assert AR not in removed["choices"]["yes_no"][0]["label"]


def test_translatable_texts_list_every_text_with_its_source(definition: FormDefinition) -> None:
    texts = {text.key: text for text in builder.translatable_texts(definition, DE)}
    assert texts["label:age"].source == "How old are you?"
    assert texts["label:age"].text == "Wie alt sind Sie?"
    assert texts["constraint_message:age"].text == ""
    assert texts["choice:tenure:owner"].text == "Eigentum"
    assert "hint:age" not in texts  # no source text, nothing to translate


def test_an_empty_translation_removes_it(definition: FormDefinition) -> None:
    edited = builder.set_translation(definition, DE, {"label:age": "  "})
    assert edited["children"][0]["label"] == {EN: "How old are you?"}


def test_a_module_is_added_as_one_group_in_the_form_languages(definition: FormDefinition) -> None:
    module = compose_definition(
        form_id="f", title="F", module_slugs=["housing"], languages=[EN, DE]
    )
    edited = builder.add_module_group(definition, module)
    assert _names(edited)[-1] == "housing"
    assert edited["children"][-1]["tags"]["module"] == "housing"
    assert set(edited["choices"]) >= set(module["choices"])
    assert check_definition(edited) == []

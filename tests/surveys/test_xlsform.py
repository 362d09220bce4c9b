"""XLSForm import and export.

Varied forms, built in code, read from every format pyxform knows; each refusal
names its sheet, row and column in one line; and every definition read comes back
unchanged from `write_xlsform`, and converts to an XForm.
"""

from __future__ import annotations

import copy
import io
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from incity.errors import InvalidInput
from incity.surveys.definition import (
    FormDefinition,
    count_questions,
    elements_by_name,
    is_right_to_left,
    language_code,
    walk,
)
from incity.surveys.xlsform import (
    ImportedForm,
    XLSFormError,
    read_xlsform,
    required_files,
    to_xform,
    write_xlsform,
)
from tests.surveys import xlsform_fixtures as fx

Writer = Callable[[Mapping[str, Sequence[Sequence[Any]]]], bytes]
WRITERS: dict[str, Writer] = {
    "xlsx": fx.xlsx_bytes,
    "xls": fx.xls_bytes,
    "csv": fx.csv_bytes,
    "md": fx.md_bytes,
}
XFORM = "{http://www.w3.org/2002/xforms}"


def read(sheets: fx.Sheets, filename: str = "form.xlsx") -> ImportedForm:
    suffix = filename.rsplit(".", 1)[-1]
    return read_xlsform(WRITERS[suffix](sheets), filename)


def refused(data: bytes, filename: str = "form.xlsx") -> XLSFormError:
    with pytest.raises(XLSFormError) as caught:
        read_xlsform(data, filename)
    error = caught.value
    assert "\n" not in error.message
    assert error.message == str(error)
    assert error.message.endswith((".", "?", ")"))
    assert isinstance(error, InvalidInput)
    assert error.field == "file"
    return error


def refused_sheets(sheets: fx.Sheets, filename: str = "form.xlsx") -> XLSFormError:
    suffix = filename.rsplit(".", 1)[-1]
    return refused(WRITERS[suffix](sheets), filename)


def where(error: XLSFormError) -> tuple[str | None, int | None, str | None]:
    return error.extra["sheet"], error.extra["row"], error.extra["column"]


def assert_round_trip(definition: FormDefinition) -> None:
    again = read_xlsform(write_xlsform(definition), "again.xlsx").definition
    assert again == definition
    root = ET.fromstring(to_xform(definition))
    assert root.tag == "{http://www.w3.org/1999/xhtml}html"


def survey_cell(sheets: fx.Sheets, row: int, column: str) -> Any:
    """A cell of the survey sheet by spreadsheet row number (headers are row 1)."""
    headers = sheets["survey"][0]
    return sheets["survey"][row - 1][headers.index(column)]


def set_survey(sheets: fx.Sheets, row: int, column: str, value: Any) -> fx.Sheets:
    headers = sheets["survey"][0]
    if column not in headers:
        headers.append(column)
        for cells in sheets["survey"][1:]:
            cells.append(None)
    sheets["survey"][row - 1][headers.index(column)] = value
    return sheets


def add_survey_rows(sheets: fx.Sheets, *records: Mapping[str, Any]) -> fx.Sheets:
    headers = sheets["survey"][0]
    for record in records:
        for column in record:
            if column not in headers:
                headers.append(column)
                for cells in sheets["survey"][1:]:
                    cells.append(None)
        sheets["survey"].append([record.get(column) for column in headers])
    return sheets


def xlsx_rows(data: bytes, sheet: str) -> list[dict[str, Any]]:
    workbook = load_workbook(io.BytesIO(data), read_only=True)
    rows = list(workbook[sheet].iter_rows(values_only=True))
    headers = rows[0]
    return [{h: v for h, v in zip(headers, row, strict=False) if v is not None} for row in rows[1:]]


# ======================================================================================
# Forms incity accepts
# ======================================================================================


@pytest.fixture(scope="module")
def needs() -> ImportedForm:
    return read(fx.needs_assessment(), "needs.xlsx")


@pytest.fixture(scope="module")
def roster() -> ImportedForm:
    return read(fx.household_roster(), "roster.xlsx")


@pytest.fixture(scope="module")
def legacy() -> ImportedForm:
    return read(fx.legacy_form(), "legacy.xlsx")


@pytest.fixture(scope="module")
def marks() -> ImportedForm:
    return read(fx.map_marks_form(), "walk.xlsx")


class TestNeedsAssessment:
    """150+ questions in six languages, one of them a legacy name without a code."""

    def test_languages_default_first_then_as_first_seen(self, needs: ImportedForm) -> None:
        definition = needs.definition
        assert definition["languages"] == list(fx.NEEDS_LANGUAGES)
        assert definition["default_language"] == "english"
        assert language_code("english") == "en"
        assert is_right_to_left("العربية (ar)")

    def test_counts(self, needs: ImportedForm) -> None:
        definition = needs.definition
        assert count_questions(definition) == 153
        groups = [e for e, _ in walk(definition["children"]) if e["type"] == "group"]
        notes = [e for e, _ in walk(definition["children"]) if e["type"] == "note"]
        assert len(groups) == 10
        assert len(notes) == 10
        assert all(group["appearance"] == "field-list" for group in groups)
        assert [len(group["children"]) for group in groups] == [16] * 10

    def test_settings(self, needs: ImportedForm) -> None:
        definition = needs.definition
        assert definition["form_id"] == "needs_2026"
        assert definition["title"] == "Needs assessment 2026"
        assert definition["version_label"] == "2026-11"
        assert definition["settings"] == {"style": "pages"}

    def test_texts_in_every_language(self, needs: ImportedForm) -> None:
        element = elements_by_name(needs.definition)["health_1"]
        assert element["label"]["العربية (ar)"] == "سؤال health 1"
        assert element["label"]["english"] == "Question health 1"
        assert set(element["hint"]) == set(fx.NEEDS_LANGUAGES)
        assert element["required"] is True
        assert element["required_message"]["Deutsch (de)"] == "Bitte antworten !"

    def test_constraints_relevance_and_tags(self, needs: ImportedForm) -> None:
        by_name = elements_by_name(needs.definition)
        age_like = by_name["work_2"]
        assert age_like["constraint"] == ". >= 0 and . <= 120"
        assert age_like["constraint_message"]["Soomaali (so)"] == "Fadlan jawaab 0-120"
        assert by_name["work_3"]["relevant"] == "${work_2} > 0"
        assert by_name["services"]["relevant"] == "${housing_1} != ''"
        assert by_name["health_4"]["tags"] == {
            "domains": ["ioi-2019:health", "dips:health-4"],
            "module": "health",
            "source_survey": "European Social Survey",
            "source_variable": "ess_health",
            "sensitive": True,
        }
        assert by_name["housing_4"]["tags"]["sensitive"] is False
        assert "sensitive" not in by_name["housing_5"]["tags"]
        assert by_name["total_people"] == {
            "type": "calculate",
            "name": "total_people",
            "calculation": "${housing_2} + 1",
        }

    def test_choices_and_selects(self, needs: ImportedForm) -> None:
        definition = needs.definition
        assert list(definition["choices"]) == ["yes_no", "frequency", "services"]
        assert definition["choices"]["yes_no"][0] == {
            "name": "yes",
            "label": {
                "english": "Yes",
                "Deutsch (de)": "Ja",
                "Svenska (sv)": "Ja",
                "العربية (ar)": "نعم",
                "Français (fr)": "Oui",
                "Soomaali (so)": "Haa",
            },
        }
        services = elements_by_name(definition)["food_4"]
        assert services["type"] == "select_multiple"
        assert services["list_name"] == "services"
        assert services["appearance"] == "minimal"

    def test_warns_about_the_legacy_language_name(self, needs: ImportedForm) -> None:
        assert any("english" in warning for warning in needs.warnings)
        assert all("\n" not in warning for warning in needs.warnings)

    def test_xform_has_every_translation(self, needs: ImportedForm) -> None:
        root = ET.fromstring(to_xform(needs.definition))
        languages = [t.get("lang") for t in root.iter(f"{XFORM}translation")]
        assert languages == list(fx.NEEDS_LANGUAGES)

    @pytest.mark.parametrize("suffix", ["xls", "csv", "md"])
    def test_every_format_reads_the_same(self, needs: ImportedForm, suffix: str) -> None:
        again = read(fx.needs_assessment(), f"needs.{suffix}")
        assert again.definition == needs.definition


class TestHouseholdRoster:
    def test_repeats_keep_repeat_count_as_written(self, roster: ImportedForm) -> None:
        by_name = elements_by_name(roster.definition)
        assert by_name["members"]["type"] == "repeat"
        assert by_name["members"]["repeat_count"] == "${hh_size}"
        assert by_name["visits"]["repeat_count"] == "${hh_size} + 1"
        # pyxform's generated 'visits_count' calculate is not part of the definition.
        assert "visits_count" not in by_name
        assert [child["name"] for child in by_name["members"]["children"]] == [
            "member_name",
            "member_age",
            "relation",
            "schooling",
        ]

    def test_group_in_repeat(self, roster: ImportedForm) -> None:
        schooling = elements_by_name(roster.definition)["schooling"]
        parents = {e["name"]: p for e, p in walk(roster.definition["children"])}
        assert [p["name"] for p in parents["is_pupil"]] == ["members", "schooling"]
        assert schooling["relevant"] == "${member_age} >= 5"
        assert schooling["appearance"] == "field-list"

    def test_cascading_choice_filters(self, roster: ImportedForm) -> None:
        definition = roster.definition
        by_name = elements_by_name(definition)
        assert by_name["district"]["choice_filter"] == "country=${country}"
        assert by_name["village"]["choice_filter"] == "district=${district} and country=${country}"
        lund = definition["choices"]["village"][0]
        assert lund == {
            "name": "lund",
            "label": {"English (en)": "Lund", "Deutsch (de)": "LUND"},
            "extra": {"country": "se", "district": "skane"},
        }
        assert definition["choices"]["district"][0]["extra"] == {"country": "se"}
        assert "extra" not in definition["choices"]["country"][0]

    def test_defaults_read_only_and_messages(self, roster: ImportedForm) -> None:
        by_name = elements_by_name(roster.definition)
        assert by_name["hh_size"]["default"] == "1"
        assert by_name["hh_size"]["constraint_message"] == {"English (en)": "Between 1 and 29."}
        assert by_name["visit_note"]["read_only"] is True
        assert roster.definition["languages"] == ["English (en)", "Deutsch (de)"]
        assert count_questions(roster.definition) == 12

    def test_xform_repeat_count(self, roster: ImportedForm) -> None:
        xform = to_xform(roster.definition)
        assert '<repeat nodeset="/data/members" jr:count=" /data/hh_size ">' in xform
        # An expression gets pyxform's generated calculate again, as on the way in.
        assert '<repeat nodeset="/data/visits" jr:count=" /data/visits_count ">' in xform
        assert 'calculate=" /data/hh_size  + 1"' in xform


class TestLegacyForm:
    def test_legacy_types_become_incity_types(self, legacy: ImportedForm) -> None:
        types = {e["name"]: e["type"] for e, _ in walk(legacy.definition["children"])}
        assert types == {
            "start": "start",
            "end": "end",
            "today": "today",
            "deviceid": "deviceid",
            "phone_imei": "deviceid",
            "username": "username",
            "audit": "audit",
            "generated_note_name_9": "note",
            "location": "geopoint",
            "fruit": "select_one",
            "fruits": "select_multiple",
            "town": "select_one_from_file",
            "fruit_search": "select_one",
            "town_pop": "calculate",
            "code": "text",
            "photo": "image",
            "seen_at": "datetime",
            "ok": "acknowledge",
            "remark": "text",
        }

    def test_required_files(self, legacy: ImportedForm) -> None:
        assert legacy.required_files == [
            "apple.png",
            "codes.csv",
            "fruit_prices.csv",
            "pear-big.png",
            "pear.png",
            "towns.csv",
            "welcome.mp3",
            "welcome.png",
        ]

    def test_unmodelled_columns_kept_in_extra(self, legacy: ImportedForm) -> None:
        by_name = elements_by_name(legacy.definition)
        assert by_name["code"]["extra"] == {"bind::odk:length": "3 5", "instance::x": "y"}
        assert by_name["location"]["extra"] == {"body::accuracyThreshold": "10"}
        assert by_name["location"]["parameters"] == "capture-accuracy=10"
        assert by_name["fruits"]["extra"] == {"guidance_hint::english": "Ask slowly."}

    def test_media_on_questions_and_choices(self, legacy: ImportedForm) -> None:
        definition = legacy.definition
        note = elements_by_name(definition)["generated_note_name_9"]
        assert note["media"] == {
            "image": {"english": "welcome.png"},
            "audio": {"english": "welcome.mp3"},
        }
        pear = definition["choices"]["fruit"][1]
        assert pear["media"] == {
            "image": {"english": "pear.png"},
            "big-image": {"english": "pear-big.png"},
        }

    def test_languages_and_version(self, legacy: ImportedForm) -> None:
        assert legacy.definition["languages"] == ["english"]
        assert legacy.definition["default_language"] == "english"
        assert legacy.definition["version_label"] == "3"

    def test_xform_keeps_metadata_and_kept_columns(self, legacy: ImportedForm) -> None:
        xform = to_xform(legacy.definition)
        assert 'odk:length="3 5"' in xform
        assert 'accuracyThreshold="10"' in xform
        assert "jr:preload" in xform
        assert "<instanceID/>" in xform


class TestMapMarks:
    def test_marked_repeats_become_one_element(self, marks: ImportedForm) -> None:
        definition = marks.definition
        names = [e["name"] for e, _ in walk(definition["children"])]
        assert names == ["walked", "unsafe_places", "favourite_spots", "routes"]
        places = definition["children"][1]
        assert places == {
            "type": "map_marks",
            "name": "unsafe_places",
            "label": {
                "English (en)": "Mark places where you feel unsafe",
                "Svenska (sv)": "Markera platser där du känner dig otrygg",
            },
            "hint": {"English (en)": "Tap the map."},
            "required": True,
            "relevant": "${walked} = 'yes'",
            "list_name": "place_kind",
            "tags": {"domains": ["ioi-2019:safety"], "sensitive": True},
        }

    def test_geometry_kind_from_the_geometry_question(self, marks: ImportedForm) -> None:
        by_name = elements_by_name(marks.definition)
        assert "parameters" not in by_name["unsafe_places"]
        assert by_name["favourite_spots"]["parameters"] == "geometry=point"
        assert by_name["routes"]["parameters"] == "geometry=line"
        assert by_name["routes"]["list_name"] == "place_kind"

    def test_time_of_day_list_is_the_writers_not_the_forms(self, marks: ImportedForm) -> None:
        assert list(marks.definition["choices"]) == ["yes_no", "place_kind", "spot_kind"]

    def test_written_as_a_marked_repeat(self, marks: ImportedForm) -> None:
        data = write_xlsform(marks.definition)
        rows = xlsx_rows(data, "survey")
        begin = rows.index(next(r for r in rows if r.get("name") == "favourite_spots"))
        block = rows[begin : begin + 6]
        assert [(r["type"], r.get("name")) for r in block] == [
            ("begin_repeat", "favourite_spots"),
            ("select_one spot_kind", "category"),
            ("geopoint", "geometry"),
            ("select_one incity_time_of_day", "time_of_day"),
            ("text", "comment"),
            ("end_repeat", None),
        ]
        assert block[0]["incity_type"] == "map_marks"
        assert block[0]["parameters"] == "geometry=point"
        geometry_types = [r["type"] for r in rows if r.get("name") == "geometry"]
        assert geometry_types == ["geoshape", "geopoint", "geotrace"]
        times = [r for r in xlsx_rows(data, "choices") if r["list_name"] == "incity_time_of_day"]
        assert [t["name"] for t in times] == ["day", "evening", "night"]
        # English labels, in every language of the form.
        assert times[1] == {
            "list_name": "incity_time_of_day",
            "name": "evening",
            "label::English (en)": "Evening",
            "label::Svenska (sv)": "Evening",
        }

    def test_xform_has_the_repeat(self, marks: ImportedForm) -> None:
        root = ET.fromstring(to_xform(marks.definition))
        repeats = [r.get("nodeset") for r in root.iter(f"{XFORM}repeat")]
        assert repeats == ["/data/unsafe_places", "/data/favourite_spots", "/data/routes"]
        binds = {b.get("nodeset"): b.get("type") for b in root.iter(f"{XFORM}bind")}
        assert binds["/data/routes/geometry"] == "geotrace"
        assert binds["/data/unsafe_places/geometry"] == "geoshape"

    def test_markdown_fixture(self) -> None:
        marks = read_xlsform(fx.fixture_text("safety_walk.md"), "safety_walk.md")
        definition = marks.definition
        places = elements_by_name(definition)["places"]
        assert places["type"] == "map_marks"
        assert places["list_name"] == "place_kind"
        assert places["tags"] == {"module": "safety"}
        assert definition["languages"] == ["English (en)", "Deutsch (de)"]
        remarks = elements_by_name(definition)["other_remarks"]
        assert remarks["label"]["English (en)"] == "Anything else? (a | b)"
        assert "incity_time_of_day" not in definition["choices"]


def test_xls_written_with_xlwt() -> None:
    imported = read(fx.xls_form(), "old.xls")
    definition = imported.definition
    about = definition["children"][0]
    assert about["type"] == "group"
    assert about["label"] == {"English (en)": "About you", "Polski (pl)": "O tobie"}
    years, rent, tenure = about["children"]
    assert years["default"] == "5"  # a number cell, as pyxform writes it
    assert rent["default"] == "2.5"
    assert tenure["required"] is True  # "TRUE"
    assert [c["name"] for c in definition["choices"]["tenure"]] == ["own", "rent", "3"]
    assert definition["languages"] == ["English (en)", "Polski (pl)"]


def test_csv_fixture() -> None:
    imported = read_xlsform(fx.fixture_text("water_points.csv"), "water_points.csv")
    definition = imported.definition
    assert definition["form_id"] == "water_points"
    assert definition["languages"] == ["English (en)", "Français (fr)"]
    point = definition["children"][0]
    assert point["type"] == "geopoint"
    assert point["label"]["Français (fr)"] == "Où est le point d'eau ?"
    assert elements_by_name(definition)["users"]["label"]["English (en)"] == (
        "People using it, per day"
    )
    assert [c["name"] for c in definition["choices"]["problems"]] == ["dirty", "broken", "far"]
    assert count_questions(definition) == 5


def test_form_without_language_columns_uses_default() -> None:
    definition = read(fx.minimal_form()).definition
    assert definition["languages"] == ["default"]
    assert definition["default_language"] == "default"
    assert definition["children"][0] == {
        "type": "text",
        "name": "first_name",
        "label": {"default": "First name"},
        "required": True,
    }
    rows = xlsx_rows(write_xlsform(definition), "survey")
    assert rows[0] == {
        "type": "text",
        "name": "first_name",
        "label": "First name",
        "required": "yes",
    }
    assert "default_language" not in xlsx_rows(write_xlsform(definition), "settings")[0]


def test_unsuffixed_columns_take_the_default_language_setting() -> None:
    sheets = fx.minimal_form()
    sheets["survey"][0].append("label::Deutsch (de)")
    for row in sheets["survey"][1:]:
        row.append("auf Deutsch")
    sheets["settings"] = [["form_id", "default_language"], ["m", "English (en)"]]
    definition = read(sheets).definition
    assert definition["languages"] == ["English (en)", "Deutsch (de)"]
    assert definition["children"][0]["label"] == {
        "English (en)": "First name",
        "Deutsch (de)": "auf Deutsch",
    }
    assert_round_trip(definition)


def test_suffixed_default_language_wins_over_unsuffixed() -> None:
    sheets = fx.minimal_form()
    sheets["survey"][0].append("label::English (en)")
    for row in sheets["survey"][1:]:
        row.append("explicit")
    sheets["settings"] = [["form_id", "default_language"], ["m", "English (en)"]]
    definition = read(sheets).definition
    assert definition["children"][0]["label"] == {"English (en)": "explicit"}


def test_title_and_form_id_fall_back_to_the_file_name() -> None:
    sheets = fx.minimal_form()
    del sheets["settings"]
    definition = read(sheets, "My survey (v2).xlsx").definition
    assert definition["title"] == "My survey (v2)"
    assert definition["form_id"] == "My_survey_v2"
    assert definition["settings"] == {}
    assert "version_label" not in definition


def test_settings_aliases_and_other_columns() -> None:
    sheets = fx.minimal_form()
    sheets["settings"] = [
        ["id_string", "title", "version", "instance_name", "allow_choice_duplicates"],
        ["aliased", "Aliased", "v7", "concat(${first_name}, '')", "no"],
    ]
    definition = read(sheets).definition
    assert definition["form_id"] == "aliased"
    assert definition["title"] == "Aliased"
    assert definition["version_label"] == "v7"
    assert definition["settings"] == {
        "instance_name": "concat(${first_name}, '')",
        "allow_choice_duplicates": "no",
    }
    assert_round_trip(definition)


def test_or_other_is_spelt_out() -> None:
    sheets = set_survey(fx.minimal_form(), 4, "type", "select_one yes_no or_other")
    imported = read(sheets)
    by_name = elements_by_name(imported.definition)
    assert by_name["consent"]["type"] == "select_one"
    assert by_name["consent_other"] == {
        "type": "text",
        "name": "consent_other",
        "label": {"default": "Specify other."},
        "relevant": "selected(${consent}, 'other')",
    }
    assert imported.definition["choices"]["yes_no"][-1] == {
        "name": "other",
        "label": {"default": "Other"},
    }
    assert any("or_other" in w and "row 4" in w for w in imported.warnings)
    assert_round_trip(imported.definition)


def test_conditional_required_and_read_only_kept_as_columns() -> None:
    sheets = set_survey(fx.minimal_form(), 3, "required", "${first_name} != ''")
    set_survey(sheets, 3, "read_only", "no")
    set_survey(sheets, 2, "read_only", "${age} > 3")
    definition = read(sheets).definition
    age = elements_by_name(definition)["age"]
    assert age["extra"] == {"required": "${first_name} != ''"}
    assert "required" not in age
    assert "read_only" not in age
    assert elements_by_name(definition)["first_name"]["extra"] == {"read_only": "${age} > 3"}
    assert_round_trip(definition)


def test_aliases_and_legacy_headers() -> None:
    sheets: fx.Sheets = {
        "Survey": [
            ["Type", "Name", "caption:english", "relevance", "jr:count", "constraining_message"],
            ["integer", "n", "How many", None, None, "positive"],
            ["begin repeat", "rows", "Rows", "${n} > 0", "${n}", None],
            ["text", "what", "What", None, None, None],
            ["end repeat", None, None, None, None, None],
        ]
    }
    definition = read(sheets).definition
    # Unsuffixed translated columns are in the "default" language, next to 'english'.
    assert definition["languages"] == ["default", "english"]
    n, repeat = definition["children"]
    assert n["label"] == {"english": "How many"}
    assert n["constraint_message"] == {"default": "positive"}
    assert repeat["relevant"] == "${n} > 0"
    assert repeat["repeat_count"] == "${n}"
    assert repeat["type"] == "repeat"


def test_a_single_sheet_of_any_name_is_the_survey() -> None:
    sheets = {"Sheet1": fx.minimal_form()["survey"][:3]}
    definition = read(sheets, "one.xlsx").definition
    assert [e["name"] for e in definition["children"]] == ["first_name", "age"]
    assert definition["choices"] == {}


def test_disabled_and_blank_rows_are_skipped() -> None:
    sheets = fx.minimal_form()
    set_survey(sheets, 2, "disabled", "yes")
    sheets["survey"].insert(2, [None] * len(sheets["survey"][0]))
    definition = read(sheets).definition
    assert [e["name"] for e in definition["children"]] == ["age", "consent", "adult"]


def test_pyxform_warnings_name_the_row() -> None:
    sheets = add_survey_rows(fx.minimal_form(), {"type": "image", "name": "photo", "label": "P"})
    imported = read(sheets)
    assert any(w.startswith("survey sheet, row 6: ") for w in imported.warnings)


def test_cells_that_look_like_formulas_stay_text() -> None:
    definition = copy.deepcopy(read(fx.minimal_form()).definition)
    definition["children"][0]["label"] = {"default": "=1+1"}
    definition["children"][1]["hint"] = {"default": "=SUM(A1:A3)"}
    assert_round_trip(definition)


def test_required_files_from_expressions_and_media() -> None:
    definition: Any = {
        "form_id": "f",
        "title": "F",
        "default_language": "default",
        "languages": ["default"],
        "children": [
            {
                "type": "calculate",
                "name": "price",
                "calculation": "pulldata('prices', 'price', 'item', ${item})",
            },
            {"type": "text", "name": "item", "default": "jr://file/items.xml"},
            {"type": "select_one", "name": "s", "list_name": "l", "appearance": "search('shops')"},
            {"type": "image", "name": "photo", "default": "placeholder.png"},
            {"type": "select_multiple_from_file", "name": "m", "list_name": "areas.geojson"},
            {
                "type": "group",
                "name": "g",
                "children": [
                    {"type": "note", "name": "n", "media": {"video": {"default": "intro.mp4"}}}
                ],
            },
        ],
        "choices": {"l": [{"name": "a", "label": {}, "media": {"audio": {"default": "a.mp3"}}}]},
    }
    assert required_files(definition) == [
        "a.mp3",
        "areas.geojson",
        "intro.mp4",
        "items.xml",
        "placeholder.png",
        "prices.csv",
        "shops.csv",
    ]


def test_works_without_formcheck(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "incity.surveys.formcheck", None)  # import fails
    assert read(fx.minimal_form()).definition["form_id"] == "minimal"


# ======================================================================================
# Round trips
# ======================================================================================

FIXTURE_FORMS: dict[str, Callable[[], bytes]] = {
    "needs.xlsx": lambda: fx.xlsx_bytes(fx.needs_assessment()),
    "roster.xlsx": lambda: fx.xlsx_bytes(fx.household_roster()),
    "roster.md": lambda: fx.md_bytes(fx.household_roster()),
    "legacy.xlsx": lambda: fx.xlsx_bytes(fx.legacy_form()),
    "legacy.csv": lambda: fx.csv_bytes(fx.legacy_form()),
    "walk.xlsx": lambda: fx.xlsx_bytes(fx.map_marks_form()),
    "old.xls": lambda: fx.xls_bytes(fx.xls_form()),
    "minimal.xlsx": lambda: fx.xlsx_bytes(fx.minimal_form()),
    "water_points.csv": lambda: fx.fixture_text("water_points.csv"),
    "safety_walk.md": lambda: fx.fixture_text("safety_walk.md"),
}


@pytest.mark.parametrize("filename", FIXTURE_FORMS)
def test_round_trip(filename: str) -> None:
    definition = read_xlsform(FIXTURE_FORMS[filename](), filename).definition
    assert_round_trip(definition)
    # And the written file is stable: writing what was read back gives the same rows.
    written = write_xlsform(definition)
    again = write_xlsform(read_xlsform(written, "again.xlsx").definition)
    assert xlsx_rows(written, "survey") == xlsx_rows(again, "survey")


_LANGUAGE_SETS = st.sampled_from(
    [
        ["default"],
        ["English (en)"],
        ["English (en)", "العربية (ar)"],
        ["english", "Deutsch (de)", "Svenska (sv)"],
        ["default", "Français (fr)"],
    ]
)
_TEXT = (
    st.text(
        alphabet=st.characters(
            categories=("L", "N", "P", "Zs"), exclude_characters="\xa0_", codec="utf-8"
        ),
        min_size=1,
        max_size=16,
    )
    .map(lambda text: " ".join(text.split()))
    .filter(bool)
)
_NAMES = st.lists(
    st.from_regex(r"[a-z][a-z0-9]{0,7}", fullmatch=True).filter(lambda n: n != "meta"),
    min_size=12,
    max_size=12,
    unique=True,
)


@st.composite
def definitions(draw: st.DrawFn) -> FormDefinition:
    languages = draw(_LANGUAGE_SETS)
    names = iter(draw(_NAMES))

    def texts(required: bool = False) -> dict[str, str]:
        chosen = draw(st.lists(st.sampled_from(languages), unique=True))
        if required and languages[0] not in chosen:
            chosen.insert(0, languages[0])
        return {lang: draw(_TEXT) for lang in chosen}

    choices: dict[str, Any] = {}
    for list_name in ("l1", "l2"):
        option_names = draw(
            st.lists(
                st.from_regex(r"[a-z][a-z0-9]{0,4}", fullmatch=True),
                min_size=1,
                max_size=3,
                unique=True,
            )
        )
        choices[list_name] = []
        for option_name in option_names:
            option: dict[str, Any] = {"name": option_name, "label": texts(required=True)}
            if draw(st.booleans()):
                option["extra"] = {"region": draw(st.sampled_from(["north", "south"]))}
            choices[list_name].append(option)

    def element() -> dict[str, Any]:
        kind = draw(
            st.sampled_from(
                [
                    "text",
                    "integer",
                    "decimal",
                    "date",
                    "select_one",
                    "select_multiple",
                    "note",
                    "calculate",
                    "geopoint",
                    "map_marks",
                ]
            )
        )
        made: dict[str, Any] = {"type": kind, "name": next(names)}
        if kind == "calculate":
            made["calculation"] = "1 + 1"
        else:
            made["label"] = texts(required=True)
        if kind in ("select_one", "select_multiple", "map_marks"):
            made["list_name"] = draw(st.sampled_from(["l1", "l2"]))
        if kind == "map_marks" and draw(st.booleans()):
            made["parameters"] = f"geometry={draw(st.sampled_from(['point', 'line']))}"
        if draw(st.booleans()):
            hint = texts()
            if hint:
                made["hint"] = hint
        if kind not in ("note", "calculate") and draw(st.booleans()):
            made["required"] = True
        if draw(st.booleans()):
            made["relevant"] = "1 = 1"
        if draw(st.booleans()):
            made["tags"] = {
                "domains": ["ioi-2019:housing"],
                "sensitive": draw(st.booleans()),
                "module": draw(_TEXT),
            }
        if kind == "text" and draw(st.booleans()):
            made["extra"] = {"bind::odk:length": "1 10"}
        return made

    children: list[dict[str, Any]] = [element() for _ in range(draw(st.integers(1, 4)))]
    if draw(st.booleans()):
        group: dict[str, Any] = {
            "type": draw(st.sampled_from(["group", "repeat"])),
            "name": next(names),
            "label": texts(required=True),
            "children": [element() for _ in range(draw(st.integers(1, 3)))],
        }
        children.insert(draw(st.integers(0, len(children))), group)
    definition: dict[str, Any] = {
        "form_id": "generated",
        "title": draw(_TEXT),
        "default_language": languages[0],
        "languages": languages,
        "children": children,
        "choices": choices,
        "settings": draw(st.sampled_from([{}, {"style": "pages"}])),
    }
    if draw(st.booleans()):
        definition["version_label"] = draw(_TEXT)
    return definition  # type: ignore[return-value]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(definitions())
def test_round_trip_of_generated_definitions(definition: FormDefinition) -> None:
    assert read_xlsform(write_xlsform(definition), "generated.xlsx").definition == definition


_CELLS = st.sampled_from(
    [
        "",
        "yes",
        "${age}",
        "${nope}",
        "select_one yes_no",
        "select_one",
        "begin_group",
        "end_group",
        "begin_repeat",
        "end_repeat",
        "calculate",
        "note",
        "range",
        "a b",
        "1",
        "label::x",
        "::",
        "${",
        "select_one_from_file a.csv",
        "gps",
        "map_marks",
        "start=1 end=10 step=1",
        "=1+1",
        "select_one yes_no or_other",
        "audit",
        "meta",
        "max-pixels=a",
        "table-list",
        "count(${age})",
        "'",
        "selected(., 'yes')",
        "begin loop over yes_no",
        "a:b c",
    ]
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(st.integers(1, 4), st.integers(0, 5), _CELLS), min_size=1, max_size=4),
    st.sampled_from(["xlsx", "csv", "md"]),
)
def test_spoilt_forms_are_refused_cleanly_or_round_trip(
    edits: list[tuple[int, int, str]], suffix: str
) -> None:
    sheets = fx.minimal_form()
    for row, column, value in edits:
        sheets["survey"][row][column] = value
    refusal: XLSFormError | None = None
    try:
        definition = read(sheets, f"spoilt.{suffix}").definition
    except XLSFormError as error:
        refusal = error
    if refusal is not None:
        assert "\n" not in refusal.message
        assert "could not be read (" not in refusal.message  # no bug of ours wrapped up
    else:
        assert_round_trip(definition)


# ======================================================================================
# Refusals: the file itself
# ======================================================================================


@pytest.mark.parametrize(
    ("data", "filename", "words"),
    [
        (bytes(range(256)) * 4, "form.xlsx", "is not an Excel .xlsx workbook: it is a binary file"),
        (b"%PDF-1.7\n1 0 obj\n", "form.xlsx", "it is a PDF document"),
        (b"type,name\ntext,a\n", "form.xlsx", "it is a text file"),
        (b"%PDF-1.4 rest", "form.xls", "is not an Excel 97-2003 .xls workbook: it is a PDF"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "form.xlsx", "password-protected"),
        (b"PK\x03\x04 not really a zip", "form.xlsx", "damaged zip archive"),
        (b"survey,\x00\x01\x02", "form.csv", "is not a UTF-8 text file: it is a binary file"),
        ("survey,type,name\n,text,é".encode("latin-1"), "form.csv", "neither a spreadsheet"),
        (b"%PDF-1.4", "form.md", "it is a PDF document"),
    ],
)
def test_refuses_files_that_are_not_what_they_say(data: bytes, filename: str, words: str) -> None:
    error = refused(data, filename)
    assert words in error.message
    assert where(error) == (None, None, None)


def test_refuses_an_xlsx_named_xls() -> None:
    error = refused(fx.xlsx_bytes(fx.minimal_form()), "form.xls")
    assert error.message == (
        "The file 'form.xls' is not an Excel 97-2003 .xls workbook: "
        "it is an .xlsx workbook, so name it .xlsx."
    )


def test_refuses_a_zip_that_is_not_a_workbook() -> None:
    output = io.BytesIO()
    import zipfile

    with zipfile.ZipFile(output, "w") as archive:
        archive.writestr("word/document.xml", "<w/>")
    error = refused(output.getvalue(), "form.xlsx")
    assert "a zip archive but not a spreadsheet" in error.message


@pytest.mark.parametrize("filename", ["form.ods", "form.txt", "form.json", "form"])
def test_refuses_unsupported_suffixes(filename: str) -> None:
    error = refused(fx.xlsx_bytes(fx.minimal_form()), filename)
    assert "upload an XLSForm as .xlsx, .xls, .csv or .md" in error.message


def test_refuses_an_empty_file() -> None:
    assert refused(b"", "form.xlsx").message == "The file 'form.xlsx' is empty."


def test_refuses_an_empty_workbook() -> None:
    error = refused(fx.xlsx_bytes({"Sheet": []}))
    assert error.message == "The workbook is empty: none of its sheets has any content."


@pytest.mark.parametrize("suffix", ["csv", "md"])
def test_refuses_text_without_sheets(suffix: str) -> None:
    error = refused(b"hello, this is just a sentence\n", f"notes.{suffix}")
    assert error.message.startswith("The file holds no XLSForm sheets")


def test_refuses_a_workbook_without_a_survey_sheet() -> None:
    sheets = fx.minimal_form()
    sheets["servey"] = sheets.pop("survey")
    error = refused_sheets(sheets)
    assert error.message == (
        "The workbook has no sheet named 'survey' (its sheets: 'choices', 'settings', "
        "'servey'). Should 'servey' be called 'survey'?"
    )
    assert where(error) == (None, None, None)


def test_refuses_a_survey_sheet_without_rows() -> None:
    sheets = fx.minimal_form()
    sheets["survey"] = sheets["survey"][:1]
    error = refused_sheets(sheets)
    assert where(error) == ("survey", None, None)
    assert error.message == (
        "survey sheet: the survey sheet has no rows; add at least one question below the headers."
    )


def test_refuses_a_survey_sheet_without_a_type_column() -> None:
    sheets = fx.minimal_form()
    sheets["survey"][0][0] = "kind"
    error = refused_sheets(sheets)
    assert where(error) == ("survey", 1, "type")


@pytest.mark.parametrize("suffix", ["xlsx", "xls", "csv", "md"])
def test_refuses_duplicate_survey_headers(suffix: str) -> None:
    sheets = fx.minimal_form()
    sheets["survey"][0][4] = "label"  # 'relevant' becomes a second 'label'
    error = refused_sheets(sheets, f"form.{suffix}")
    assert where(error) == ("survey", 1, "label")
    assert error.message == (
        "survey sheet, row 1, column label: the column header 'label' appears more than once; "
        "keep one of them."
    )


def test_refuses_duplicate_choices_headers() -> None:
    sheets = fx.minimal_form()
    sheets["choices"][0].append("label")
    for row in sheets["choices"][1:]:
        row.append("again")
    error = refused_sheets(sheets, "form.csv")
    assert where(error) == ("choices", 1, "label")


def test_refuses_duplicate_settings_headers() -> None:
    sheets = fx.minimal_form()
    sheets["settings"] = [["form_id", "form_id"], ["a", "b"]]
    error = refused_sheets(sheets, "form.md")
    assert where(error) == ("settings", 1, "form_id")


def test_refuses_two_columns_for_one_field() -> None:
    sheets = fx.minimal_form()
    sheets["survey"][0][5] = "relevance"  # next to 'relevant'
    error = refused_sheets(sheets)
    assert where(error) == ("survey", 1, "relevance")
    assert error.message == (
        "survey sheet, row 1, column relevance: the columns 'relevant' and 'relevance' both "
        "give the relevant; keep one of them."
    )


def test_refuses_a_number_as_a_column_header() -> None:
    sheets = fx.minimal_form()
    sheets["survey"][0][5] = 2026
    error = refused_sheets(sheets)
    assert where(error) == ("survey", 1, "2026")
    assert "the column header 2026 is not text" in error.message


# ======================================================================================
# Refusals: rows
# ======================================================================================


def test_refuses_a_calculate_without_a_calculation() -> None:
    sheets = set_survey(fx.minimal_form(), 5, "calculation", None)
    error = refused_sheets(sheets)
    assert where(error) == ("survey", 5, "calculation")
    assert error.message == (
        "survey sheet, row 5, column calculation: the calculate question 'adult' has no "
        "calculation."
    )


def test_refuses_a_misspelt_type() -> None:
    sheets = set_survey(fx.minimal_form(), 4, "type", "selct_one yes_no")
    error = refused_sheets(sheets)
    assert where(error) == ("survey", 4, "type")
    assert error.message == (
        "survey sheet, row 4, column type: unknown question type 'selct_one'; "
        "did you mean 'select_one'?"
    )


def test_refuses_an_unknown_type() -> None:
    sheets = set_survey(fx.minimal_form(), 3, "type", "number")
    error = refused_sheets(sheets, "form.md")
    assert where(error) == ("survey", 3, "type")
    assert error.message == "survey sheet, row 3, column type: unknown question type 'number'."


def test_type_column_is_named_as_written() -> None:
    sheets = fx.minimal_form()
    sheets["survey"][0][0] = "command"
    set_survey(sheets, 2, "command", "txt")
    error = refused_sheets(sheets)
    assert where(error) == ("survey", 2, "command")


@pytest.mark.parametrize(
    ("type_text", "shown"),
    [
        ("osm building", "osm"),
        ("select_one_external yes_no", "select_one_external"),
        ("xml-external lookup", "xml-external"),
        ("background-geopoint", "background-geopoint"),
        ("begin loop over yes_no", "begin loop"),
    ],
)
def test_refuses_types_incity_does_not_model(type_text: str, shown: str) -> None:
    sheets = set_survey(fx.minimal_form(), 3, "type", type_text)
    error = refused_sheets(sheets)
    assert where(error) == ("survey", 3, "type")
    assert error.message == (
        f"survey sheet, row 3, column type: the question type '{shown}' is not supported by incity."
    )


def test_refuses_a_select_without_its_choice_list() -> None:
    sheets = set_survey(fx.minimal_form(), 4, "type", "select_one yes_noo")
    error = refused_sheets(sheets)
    assert where(error) == ("survey", 4, "type")
    assert error.message == (
        "survey sheet, row 4, column type: the choice list 'yes_noo' is not on the choices "
        "sheet; did you mean 'yes_no'?"
    )


def test_refuses_a_select_without_a_list_name() -> None:
    sheets = set_survey(fx.minimal_form(), 4, "type", "select_multiple")
    error = refused_sheets(sheets)
    assert where(error) == ("survey", 4, "type")
    assert "needs a choice list name after it" in error.message


def test_refuses_a_select_from_a_file_that_is_not_data() -> None:
    sheets = set_survey(fx.minimal_form(), 4, "type", "select_one_from_file towns.txt")
    error = refused_sheets(sheets)
    assert where(error) == ("survey", 4, "type")
    assert "ending in .csv, .xml or .geojson" in error.message


def test_refuses_duplicate_names() -> None:
    sheets = set_survey(fx.minimal_form(), 3, "name", "first_name")
    error = refused_sheets(sheets)
    assert where(error) == ("survey", 3, "name")
    assert error.message == (
        "survey sheet, row 3, column name: the name 'first_name' is already used in row 2; "
        "names must be unique in the form."
    )


def test_refuses_duplicate_names_in_different_groups() -> None:
    sheets = add_survey_rows(
        fx.minimal_form(),
        {"type": "begin_group", "name": "more", "label": "More"},
        {"type": "integer", "name": "age", "label": "Age again"},
        {"type": "end_group"},
    )
    error = refused_sheets(sheets)
    assert where(error) == ("survey", 7, "name")


def test_refuses_an_end_without_a_begin() -> None:
    sheets = add_survey_rows(fx.minimal_form(), {"type": "end_group"})
    error = refused_sheets(sheets)
    assert where(error) == ("survey", 6, "type")
    assert error.message == (
        "survey sheet, row 6, column type: 'end_group' has no matching 'begin_group'."
    )


def test_refuses_a_begin_never_closed() -> None:
    sheets = add_survey_rows(
        fx.minimal_form(),
        {"type": "begin_repeat", "name": "people", "label": "People"},
        {"type": "text", "name": "person", "label": "Name"},
    )
    error = refused_sheets(sheets)
    assert where(error) == ("survey", 6, "type")
    assert error.message == (
        "survey sheet, row 6, column type: 'begin_repeat' 'people' is never closed; add an "
        "'end_repeat' row."
    )


def test_refuses_an_end_of_the_wrong_kind() -> None:
    sheets = add_survey_rows(
        fx.minimal_form(),
        {"type": "begin group", "name": "about", "label": "About"},
        {"type": "text", "name": "town", "label": "Town"},
        {"type": "end repeat"},
    )
    error = refused_sheets(sheets)
    assert where(error) == ("survey", 8, "type")
    assert error.message == (
        "survey sheet, row 8, column type: 'end_repeat' does not match 'begin_group' 'about' "
        "in row 6."
    )


def test_refuses_a_row_with_a_name_but_no_type() -> None:
    sheets = set_survey(fx.minimal_form(), 3, "type", None)
    error = refused_sheets(sheets)
    assert where(error) == ("survey", 3, "type")


def test_refuses_a_question_without_a_name() -> None:
    sheets = set_survey(fx.minimal_form(), 3, "name", None)
    error = refused_sheets(sheets)
    assert where(error) == ("survey", 3, "name")
    assert error.message == "survey sheet, row 3, column name: the question has no name."


def test_refuses_a_repeat_without_a_name() -> None:
    sheets = add_survey_rows(
        fx.minimal_form(),
        {"type": "begin_repeat", "label": "People"},
        {"type": "text", "name": "person", "label": "Name"},
        {"type": "end_repeat"},
    )
    error = refused_sheets(sheets)
    assert error.message == "survey sheet, row 6, column name: the repeat has no name."


def test_refuses_an_invalid_name() -> None:
    sheets = set_survey(fx.minimal_form(), 2, "name", "first name")
    error = refused_sheets(sheets)
    assert where(error) == ("survey", 2, "name")
    assert "'first name' is not a valid name" in error.message


def test_refuses_a_bad_sensitivity() -> None:
    sheets = set_survey(fx.minimal_form(), 3, "incity_sensitive", "maybe")
    error = refused_sheets(sheets)
    assert where(error) == ("survey", 3, "incity_sensitive")
    assert error.message == (
        "survey sheet, row 3, column incity_sensitive: incity_sensitive must be yes or no, "
        "not 'maybe'."
    )


def test_refuses_a_domain_without_its_framework() -> None:
    sheets = set_survey(fx.minimal_form(), 3, "incity_domains", "ioi-2019:housing health")
    error = refused_sheets(sheets)
    assert where(error) == ("survey", 3, "incity_domains")
    assert "'health' is not a framework domain" in error.message


def test_refuses_an_unknown_incity_type() -> None:
    sheets = set_survey(fx.minimal_form(), 3, "incity_type", "heatmap")
    error = refused_sheets(sheets)
    assert where(error) == ("survey", 3, "incity_type")
    assert "unknown incity_type 'heatmap'" in error.message


def test_refuses_map_marks_on_a_question() -> None:
    sheets = set_survey(fx.minimal_form(), 3, "incity_type", "map_marks")
    error = refused_sheets(sheets)
    assert where(error) == ("survey", 3, "incity_type")
    assert "belongs on a begin_repeat row" in error.message


def test_refuses_map_marks_without_a_category() -> None:
    sheets = fx.map_marks_form()
    set_survey(sheets, 4, "name", "kind")
    error = refused_sheets(sheets)
    assert where(error) == ("survey", 4, "name")  # 'kind' does not belong there
    sheets = fx.map_marks_form()
    del sheets["survey"][3]  # the category row
    error = refused_sheets(sheets)
    assert where(error) == ("survey", 3, "incity_type")
    assert "needs a select_one question named 'category'" in error.message


def test_refuses_a_choice_without_a_name() -> None:
    sheets = fx.minimal_form()
    sheets["choices"][2][1] = None
    error = refused_sheets(sheets)
    assert where(error) == ("choices", 3, "name")
    assert error.message == (
        "choices sheet, row 3, column name: the choice in list 'yes_no' has no name."
    )


def test_refuses_duplicate_choice_names_through_pyxform() -> None:
    sheets = fx.minimal_form()
    sheets["choices"].append(["yes_no", "yes", "Yes again"])
    sheets["choices"].append(["yes_no", "no", "No again"])
    error = refused_sheets(sheets)
    assert where(error) == ("choices", 4, "name")
    assert "Choice names must be unique" in error.message
    assert "(1 more like this.)" in error.message


def test_refuses_unreadable_parameters_through_pyxform() -> None:
    sheets = set_survey(fx.minimal_form(), 3, "parameters", "start=1 end")
    error = refused_sheets(sheets)
    assert where(error) == ("survey", 3, "parameters")
    assert error.message.startswith("survey sheet, row 3, column parameters: the 'parameters'")


def test_refuses_a_reference_to_a_missing_question() -> None:
    sheets = set_survey(fx.minimal_form(), 3, "relevant", "${agee} > 1")
    error = refused_sheets(sheets)
    assert where(error) == ("survey", 3, "relevant")
    assert "Could not find the name 'agee'" in error.message


def test_refuses_pyxform_errors_that_name_a_question_but_no_row() -> None:
    sheets = add_survey_rows(
        fx.minimal_form(),
        {"type": "select_one_from_file towns.csv", "name": "town", "label": "Town"},
    )
    set_survey(sheets, 6, "appearance", "search('towns')")
    error = refused_sheets(sheets)
    assert where(error) == ("survey", 6, None)
    assert "search()" in error.message


def test_refuses_or_other_with_a_choice_filter() -> None:
    sheets = set_survey(fx.minimal_form(), 4, "type", "select_one yes_no or_other")
    set_survey(sheets, 4, "choice_filter", "name != 'no'")
    error = refused_sheets(sheets)
    assert where(error) == ("survey", 4, "choice_filter")


def test_refuses_or_other_without_a_choice_list() -> None:
    sheets = set_survey(fx.minimal_form(), 4, "type", "select_one_from_file towns.csv or_other")
    error = refused_sheets(sheets)
    assert where(error) == ("survey", 4, "type")
    assert "'or_other' needs a choice list" in error.message


def test_refuses_entities() -> None:
    sheets = fx.minimal_form()
    sheets["entities"] = [["list_name", "label"], ["trees", "${first_name}"]]
    error = refused_sheets(sheets)
    assert where(error) == ("entities", None, None)
    assert "ODK entities are not supported" in error.message


def test_refuses_what_formcheck_finds_at_its_row() -> None:
    sheets = set_survey(fx.minimal_form(), 2, "relevant", "${age} > 1")
    set_survey(sheets, 3, "relevant", "${first_name} != ''")
    error = refused_sheets(sheets)
    assert where(error) == ("survey", 2, "relevant")
    assert error.message == (
        "survey sheet, row 2, column relevant: circular dependency: first_name → age → first_name."
    )


def test_refuses_a_choice_filter_on_a_missing_choice_column() -> None:
    sheets = set_survey(fx.minimal_form(), 4, "choice_filter", "county = 'x'")
    error = refused_sheets(sheets)
    assert where(error) == ("survey", 4, "choice_filter")
    assert "has no column 'county'" in error.message


def test_unexpected_pyxform_failures_become_refusals(monkeypatch: pytest.MonkeyPatch) -> None:
    import pyxform.xls2json

    def broken(**_: Any) -> Any:
        raise KeyError("survey")

    monkeypatch.setattr(pyxform.xls2json, "workbook_to_json", broken)
    error = refused_sheets(fx.minimal_form())
    assert error.message == "The XLSForm converter failed on this form (KeyError: 'survey')."


def test_to_xform_refuses_with_the_question_named() -> None:
    definition = copy.deepcopy(read(fx.minimal_form()).definition)
    definition["children"][1]["parameters"] = "rows=lots"
    definition["children"][1]["type"] = "text"
    with pytest.raises(XLSFormError) as caught:
        to_xform(definition)
    assert caught.value.message.startswith(
        "The form cannot be made into an XForm: question 'age': "
    )
    assert "\n" not in caught.value.message

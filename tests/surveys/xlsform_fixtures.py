"""XLSForms for the xlsform tests, built in code (no binary files in the repository).

A form is a `Sheets` mapping: sheet name -> rows, the first row being the column
headers. The writers save it as .xlsx (openpyxl), .xls (xlwt), .csv or .md in the
layouts pyxform reads. The builders return varied, realistic forms; tests that need
a broken form take `minimal_form()` and spoil one cell.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import xlwt
from openpyxl import Workbook

Sheets = dict[str, list[list[Any]]]

XLSFORMS_DIR = Path(__file__).parent / "xlsforms"


# -- writers ------------------------------------------------------------------------------


def xlsx_bytes(sheets: Mapping[str, Sequence[Sequence[Any]]]) -> bytes:
    workbook = Workbook()
    if workbook.active is not None:
        workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(list(row))
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def xls_bytes(sheets: Mapping[str, Sequence[Sequence[Any]]]) -> bytes:
    workbook = xlwt.Workbook(encoding="utf-8")
    for title, rows in sheets.items():
        sheet = workbook.add_sheet(title)
        for row_number, row in enumerate(rows):
            for column_number, value in enumerate(row):
                if value is not None and value != "":
                    sheet.write(row_number, column_number, value)
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def csv_bytes(sheets: Mapping[str, Sequence[Sequence[Any]]]) -> bytes:
    """pyxform's csv layout: the sheet name alone on a line, then rows indented one column."""
    output = io.StringIO(newline="")
    writer = csv.writer(output)
    for title, rows in sheets.items():
        writer.writerow([title])
        for row in rows:
            writer.writerow(["", *("" if value is None else value for value in row)])
    return output.getvalue().encode("utf-8")


def md_bytes(sheets: Mapping[str, Sequence[Sequence[Any]]]) -> bytes:
    lines: list[str] = []
    for title, rows in sheets.items():
        lines.append(f"| {title} |")
        for row in rows:
            cells = ["" if value is None else str(value).replace("|", "\\|") for value in row]
            lines.append("| | " + " | ".join(cells) + " |")
    return ("\n".join(lines) + "\n").encode("utf-8")


def table(headers: Sequence[str], *records: Mapping[str, Any]) -> list[list[Any]]:
    """Rows from dicts keyed by header; missing cells stay empty."""
    for record in records:
        unknown = set(record) - set(headers)
        assert not unknown, f"unknown columns {unknown}"
    return [list(headers), *([record.get(h) for h in headers] for record in records)]


# -- a minimal form that the refusal tests spoil ----------------------------------------


def minimal_form() -> Sheets:
    return {
        "survey": [
            ["type", "name", "label", "required", "relevant", "calculation"],
            ["text", "first_name", "First name", "yes", None, None],
            ["integer", "age", "Age", None, None, None],
            ["select_one yes_no", "consent", "Do you agree?", None, "${age} >= 16", None],
            ["calculate", "adult", None, None, None, "${age} >= 18"],
        ],
        "choices": [
            ["list_name", "name", "label"],
            ["yes_no", "yes", "Yes"],
            ["yes_no", "no", "No"],
        ],
        "settings": [["form_id", "form_title"], ["minimal", "Minimal form"]],
    }


# -- a large multilingual needs assessment ----------------------------------------------

# Legacy 'english' (no code) next to coded languages, as real forms mix them.
NEEDS_LANGUAGES = (
    "english",
    "Deutsch (de)",
    "Svenska (sv)",
    "العربية (ar)",
    "Français (fr)",
    "Soomaali (so)",
)
_WORDS = {
    "english": ("Question", "Hint", "Section", "Please answer", "Yes", "No"),
    "Deutsch (de)": ("Frage", "Hinweis", "Abschnitt", "Bitte antworten", "Ja", "Nein"),
    "Svenska (sv)": ("Fråga", "Tips", "Avsnitt", "Var god svara", "Ja", "Nej"),
    "العربية (ar)": ("سؤال", "تلميح", "قسم", "يرجى الإجابة", "نعم", "لا"),
    "Français (fr)": ("Question", "Indice", "Section", "Veuillez répondre", "Oui", "Non"),
    "Soomaali (so)": ("Su'aal", "Tilmaan", "Qaybta", "Fadlan jawaab", "Haa", "Maya"),
}
NEEDS_SECTIONS = (
    "housing",
    "health",
    "education",
    "work",
    "safety",
    "transport",
    "food",
    "water",
    "services",
    "community",
)
_QUESTION_TYPES = (
    "text",
    "integer",
    "select_one yes_no",
    "select_multiple services",
    "decimal",
    "select_one frequency",
    "date",
    "integer",
    "select_one yes_no",
    "text",
    "select_one frequency",
    "integer",
    "select_multiple services",
    "select_one yes_no",
    "text",
)


def _in_all(index: int, text: str) -> dict[str, str]:
    return {lang: f"{_WORDS[lang][index]} {text}" for lang in NEEDS_LANGUAGES}


def needs_assessment() -> Sheets:
    """10 field-list sections of a note and 15 questions each, in six languages."""
    langs = NEEDS_LANGUAGES
    headers = [
        "type",
        "name",
        *(f"label::{lang}" for lang in langs),
        *(f"hint::{lang}" for lang in langs),
        "required",
        *(f"required_message::{lang}" for lang in langs),
        "relevant",
        "constraint",
        *(f"constraint_message::{lang}" for lang in langs),
        "appearance",
        "calculation",
        "incity_domains",
        "incity_module",
        "incity_source_survey",
        "incity_source_variable",
        "incity_sensitive",
    ]

    def texts(column: str, values: Mapping[str, str]) -> dict[str, str]:
        return {f"{column}::{lang}": text for lang, text in values.items()}

    records: list[dict[str, Any]] = [
        {"type": "start", "name": "started"},
        {"type": "end", "name": "ended"},
    ]
    for number, section in enumerate(NEEDS_SECTIONS, start=1):
        records.append(
            {
                "type": "begin_group",
                "name": section,
                "appearance": "field-list",
                **texts("label", _in_all(2, f"{number}: {section}")),
                **({"relevant": "${housing_1} != ''"} if number == 9 else {}),
            }
        )
        records.append(
            {"type": "note", "name": f"{section}_intro", **texts("label", _in_all(3, section))}
        )
        for position, question_type in enumerate(_QUESTION_TYPES, start=1):
            name = f"{section}_{position}"
            record: dict[str, Any] = {
                "type": question_type,
                "name": name,
                **texts("label", _in_all(0, f"{section} {position}")),
                **texts("hint", _in_all(1, f"{section} {position}")),
                "incity_domains": f"ioi-2019:{section} dips:{section}-{position}",
                "incity_module": section,
            }
            if question_type == "integer":
                record["constraint"] = ". >= 0 and . <= 120"
                record.update(texts("constraint_message", _in_all(3, "0-120")))
            if position == 1:
                record["required"] = "yes"
                record.update(texts("required_message", _in_all(3, "!")))
            if position == 3:
                record["relevant"] = f"${{{section}_2}} > 0"
            if position == 4:
                record["incity_source_survey"] = "European Social Survey"
                record["incity_source_variable"] = f"ess_{section}"
                record["incity_sensitive"] = "yes" if section == "health" else "no"
            if question_type == "select_multiple services":
                record["appearance"] = "minimal"
            records.append(record)
        records.append({"type": "end_group"})
    records.append({"type": "calculate", "name": "total_people", "calculation": "${housing_2} + 1"})
    choice_headers = ["list_name", "name", *(f"label::{lang}" for lang in langs)]
    choices = [
        {"list_name": "yes_no", "name": "yes", **texts("label", _in_all(4, ""))},
        {"list_name": "yes_no", "name": "no", **texts("label", _in_all(5, ""))},
    ]
    for name in ("never", "sometimes", "often", "always"):
        choices.append({"list_name": "frequency", "name": name, **texts("label", _in_all(0, name))})
    for name in ("clinic", "school", "library", "bus", "shop", "park"):
        choices.append({"list_name": "services", "name": name, **texts("label", _in_all(0, name))})
    return {
        "survey": table(headers, *records),
        "choices": table(choice_headers, *({k: v.strip() for k, v in c.items()} for c in choices)),
        "settings": [
            ["form_id", "form_title", "version", "default_language", "style"],
            ["needs_2026", "Needs assessment 2026", "2026-11", "english", "pages"],
        ],
    }


# -- a household roster: repeats, repeat_count, cascading selects ---------------------


def household_roster() -> Sheets:
    headers = [
        "type",
        "name",
        "label::English (en)",
        "label::Deutsch (de)",
        "hint::English (en)",
        "required",
        "relevant",
        "constraint",
        "constraint_message::English (en)",
        "choice_filter",
        "repeat_count",
        "default",
        "read_only",
        "appearance",
        "calculation",
    ]
    survey = table(
        headers,
        {"type": "select_one country", "name": "country", "label::English (en)": "Country"},
        {
            "type": "select_one district",
            "name": "district",
            "label::English (en)": "District",
            "choice_filter": "country=${country}",
        },
        {
            "type": "select_one village",
            "name": "village",
            "label::English (en)": "Village",
            "choice_filter": "district=${district} and country=${country}",
        },
        {
            "type": "integer",
            "name": "hh_size",
            "label::English (en)": "How many people live here?",
            "label::Deutsch (de)": "Wie viele Menschen leben hier?",
            "required": "yes",
            "constraint": ". > 0 and . < 30",
            "constraint_message::English (en)": "Between 1 and 29.",
            "default": "1",
        },
        {
            "type": "begin_repeat",
            "name": "members",
            "label::English (en)": "Household member",
            "label::Deutsch (de)": "Haushaltsmitglied",
            "repeat_count": "${hh_size}",
        },
        {"type": "text", "name": "member_name", "label::English (en)": "Name", "required": "yes"},
        {
            "type": "integer",
            "name": "member_age",
            "label::English (en)": "Age",
            "hint::English (en)": "In whole years.",
        },
        {"type": "select_one relation", "name": "relation", "label::English (en)": "Relation"},
        {
            "type": "begin_group",
            "name": "schooling",
            "label::English (en)": "Schooling",
            "relevant": "${member_age} >= 5",
            "appearance": "field-list",
        },
        {"type": "select_one level", "name": "school_level", "label::English (en)": "Level"},
        {
            "type": "calculate",
            "name": "is_pupil",
            "calculation": "if(${school_level} = 'primary', 1, 0)",
        },
        {"type": "end_group"},
        {"type": "end_repeat"},
        {
            "type": "begin_repeat",
            "name": "visits",
            "label::English (en)": "Visit",
            "repeat_count": "${hh_size} + 1",
        },
        {"type": "date", "name": "visit_date", "label::English (en)": "Date"},
        {
            "type": "text",
            "name": "visit_note",
            "label::English (en)": "Note",
            "read_only": "yes",
            "default": "none",
        },
        {"type": "end_repeat"},
        {"type": "calculate", "name": "members_count", "calculation": "count(${members})"},
    )
    choice_rows: list[dict[str, Any]] = [
        {"list_name": "country", "name": "se", "label::English (en)": "Sweden"},
        {"list_name": "country", "name": "de", "label::English (en)": "Germany"},
    ]
    districts = {"se": ("skane", "uppsala"), "de": ("berlin", "bayern")}
    villages = {
        "skane": ("lund", "ystad"),
        "uppsala": ("knivsta",),
        "berlin": ("mitte", "pankow"),
        "bayern": ("dachau",),
    }
    for country, names in districts.items():
        for district in names:
            choice_rows.append(
                {
                    "list_name": "district",
                    "name": district,
                    "label::English (en)": district.title(),
                    "country": country,
                }
            )
            for village in villages[district]:
                choice_rows.append(
                    {
                        "list_name": "village",
                        "name": village,
                        "label::English (en)": village.title(),
                        "label::Deutsch (de)": village.upper(),
                        "country": country,
                        "district": district,
                    }
                )
    for name in ("head", "partner", "child", "other"):
        choice_rows.append({"list_name": "relation", "name": name, "label::English (en)": name})
    for name in ("none", "primary", "secondary"):
        choice_rows.append({"list_name": "level", "name": name, "label::English (en)": name})
    return {
        "survey": survey,
        "choices": table(
            [
                "list_name",
                "name",
                "label::English (en)",
                "label::Deutsch (de)",
                "country",
                "district",
            ],
            *choice_rows,
        ),
        "settings": [["form_id", "form_title"], ["household_roster", "Household roster"]],
    }


# -- a legacy form: gps, metadata, files, media, kept columns --------------------------


def legacy_form() -> Sheets:
    headers = [
        "type",
        "name",
        "label::english",
        "hint::english",
        "image::english",
        "audio::english",
        "relevant",
        "calculation",
        "appearance",
        "default",
        "parameters",
        "bind::odk:length",
        "body::accuracyThreshold",
        "instance::x",
        "guidance_hint::english",
    ]
    survey = table(
        headers,
        {"type": "start", "name": "start"},
        {"type": "end", "name": "end"},
        {"type": "today", "name": "today"},
        {"type": "deviceid", "name": "deviceid"},
        {"type": "imei", "name": "phone_imei"},
        {"type": "username", "name": "username"},
        {"type": "audit"},
        {
            "type": "note",
            "label::english": "Welcome",
            "image::english": "welcome.png",
            "audio::english": "welcome.mp3",
        },
        {
            "type": "gps",
            "name": "location",
            "label::english": "Where are you?",
            "body::accuracyThreshold": "10",
            "parameters": "capture-accuracy=10",
        },
        {"type": "select one fruit", "name": "fruit", "label::english": "Favourite fruit"},
        {
            "type": "select all that apply fruit",
            "name": "fruits",
            "label::english": "All fruit you eat",
            "guidance_hint::english": "Ask slowly.",
        },
        {"type": "select_one_from_file towns.csv", "name": "town", "label::english": "Town"},
        {
            "type": "select_one market",
            "name": "fruit_search",
            "label::english": "Fruit (search)",
            "appearance": "search('fruit_prices')",
        },
        {
            "type": "calculate",
            "name": "town_pop",
            "calculation": "concat(${town}, '-', ${fruit})",
        },
        {
            "type": "text",
            "name": "code",
            "label::english": "Code",
            "bind::odk:length": "3 5",
            "instance::x": "y",
            "hint::english": "Codes are listed in jr://file-csv/codes.csv",
        },
        {
            "type": "image",
            "name": "photo",
            "label::english": "Photo",
            "parameters": "max-pixels=1024",
        },
        {"type": "dateTime", "name": "seen_at", "label::english": "When?"},
        {"type": "trigger", "name": "ok", "label::english": "OK?"},
        {"type": "string", "name": "remark", "label::english": "Remark"},
    )
    choices = table(
        ["list_name", "name", "label::english", "image::english", "big-image::english"],
        {
            "list_name": "fruit",
            "name": "apple",
            "label::english": "Apple",
            "image::english": "apple.png",
        },
        {
            "list_name": "fruit",
            "name": "pear",
            "label::english": "Pear",
            "image::english": "pear.png",
            "big-image::english": "pear-big.png",
        },
        {"list_name": "fruit", "name": "plum", "label::english": "Plum"},
        {"list_name": "market", "name": "name", "label::english": "label"},
    )
    return {
        "survey": survey,
        "choices": choices,
        "settings": [["form_id", "form_title", "version"], ["legacy", "Legacy form", 3]],
    }


# -- map marks: incity's own type written as a marked repeat ---------------------------


def map_marks_form() -> Sheets:
    headers = [
        "type",
        "name",
        "label::English (en)",
        "label::Svenska (sv)",
        "hint::English (en)",
        "required",
        "relevant",
        "parameters",
        "incity_type",
        "incity_domains",
        "incity_sensitive",
    ]
    survey = table(
        headers,
        {"type": "select_one yes_no", "name": "walked", "label::English (en)": "Did you walk?"},
        {
            "type": "begin_repeat",
            "name": "unsafe_places",
            "label::English (en)": "Mark places where you feel unsafe",
            "label::Svenska (sv)": "Markera platser där du känner dig otrygg",
            "hint::English (en)": "Tap the map.",
            "required": "yes",
            "relevant": "${walked} = 'yes'",
            "incity_type": "map_marks",
            "incity_domains": "ioi-2019:safety",
            "incity_sensitive": "yes",
        },
        {"type": "select_one place_kind", "name": "category", "label::English (en)": "Kind"},
        {"type": "geoshape", "name": "geometry", "label::English (en)": "Where"},
        {
            "type": "select_one incity_time_of_day",
            "name": "time_of_day",
            "label::English (en)": "When",
        },
        {"type": "text", "name": "comment", "label::English (en)": "Comment"},
        {"type": "end_repeat"},
        {
            "type": "begin_repeat",
            "name": "favourite_spots",
            "label::English (en)": "Favourite spots",
            "parameters": "geometry=point",
            "incity_type": "map_marks",
        },
        {"type": "select_one spot_kind", "name": "category", "label::English (en)": "Kind"},
        {"type": "geopoint", "name": "geometry", "label::English (en)": "Where"},
        {
            "type": "select_one incity_time_of_day",
            "name": "time_of_day",
            "label::English (en)": "When",
        },
        {"type": "text", "name": "comment", "label::English (en)": "Comment"},
        {"type": "end_repeat"},
        {
            "type": "begin_repeat",
            "name": "routes",
            "label::English (en)": "Routes you avoid",
            "incity_type": "map_marks",
        },
        {"type": "select_one place_kind", "name": "category", "label::English (en)": "Kind"},
        {"type": "geotrace", "name": "geometry", "label::English (en)": "Route"},
        {"type": "end_repeat"},
    )
    choices = table(
        ["list_name", "name", "label::English (en)", "label::Svenska (sv)"],
        {
            "list_name": "yes_no",
            "name": "yes",
            "label::English (en)": "Yes",
            "label::Svenska (sv)": "Ja",
        },
        {
            "list_name": "yes_no",
            "name": "no",
            "label::English (en)": "No",
            "label::Svenska (sv)": "Nej",
        },
        {"list_name": "place_kind", "name": "dark", "label::English (en)": "Dark"},
        {"list_name": "place_kind", "name": "lonely", "label::English (en)": "Lonely"},
        {"list_name": "spot_kind", "name": "bench", "label::English (en)": "Bench"},
        {"list_name": "incity_time_of_day", "name": "day", "label::English (en)": "Day"},
        {"list_name": "incity_time_of_day", "name": "evening", "label::English (en)": "Evening"},
        {"list_name": "incity_time_of_day", "name": "night", "label::English (en)": "Night"},
    )
    return {
        "survey": survey,
        "choices": choices,
        "settings": [
            ["form_id", "form_title", "default_language"],
            ["walk", "Safety walk", "English (en)"],
        ],
    }


# -- a small bilingual form saved as .xls with xlwt -----------------------------------


def xls_form() -> Sheets:
    return {
        "survey": [
            ["type", "name", "label::English (en)", "label::Polski (pl)", "required", "default"],
            ["begin_group", "about", "About you", "O tobie", None, None],
            ["integer", "years_here", "Years in the city", "Lata w mieście", "yes", 5],
            ["decimal", "rent", "Monthly rent", "Czynsz", None, 2.5],
            ["select_one tenure", "tenure", "Tenure", "Najem", "TRUE", None],
            ["end_group", None, None, None, None, None],
        ],
        "choices": [
            ["list_name", "name", "label::English (en)", "label::Polski (pl)"],
            ["tenure", "own", "Own", "Własność"],
            ["tenure", "rent", "Rent", "Najem"],
            ["tenure", 3, "Other", "Inne"],
        ],
        "settings": [["form_id", "form_title"], ["xls_form", "Old Excel form"]],
    }


def fixture_text(name: str) -> bytes:
    return (XLSFORMS_DIR / name).read_bytes()

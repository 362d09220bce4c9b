"""Consent: the default information sheet and the respondents' withdrawal codes."""

from __future__ import annotations

import hashlib
import re
import secrets
from functools import lru_cache

from incity.surveys.definition import language_code

# No 0/O, 1/I/L or 5/S: a code is read aloud, written on paper and typed on a phone.
CODE_ALPHABET = "ABCDEFGHJKMNPQRTUVWXYZ2346789"
CODE_LENGTH = 10  # 29**10 ≈ 4e14: guessing a live code is hopeless.
_CODE_INPUT = re.compile(r"[\s-]+")

# incity's own wording, in the languages the module library ships. Projects edit
# the sheet per form; a language without a sheet must be written before publishing.
_DEFAULT_SHEETS: dict[str, str] = {
    "en": (
        "{title}\n\n"
        "What we ask: questions about your home, your neighbourhood and your daily life. "
        "You can skip any question.\n"
        "Why: so that the city and its partners understand what residents need and can act on it.\n"
        "Who sees your answers: only the research team of this project. Published figures "
        "never show groups smaller than ten people, and never show where you live or walk.\n"
        "Some answers (for example about migration) are stored encrypted.\n"
        "How to withdraw: you will get a short code. Enter it on the withdrawal page, or give it "
        "to the team, and all your answers will be deleted."
    ),
    "de": (
        "{title}\n\n"
        "Was wir fragen: Fragen zu Ihrer Wohnung, Ihrer Nachbarschaft und Ihrem Alltag. "
        "Sie können jede Frage überspringen.\n"
        "Warum: damit die Stadt und ihre Partner verstehen, was die Bewohnerinnen und Bewohner "
        "brauchen, und handeln können.\n"
        "Wer Ihre Antworten sieht: nur das Forschungsteam dieses Projekts. Veröffentlichte Zahlen "
        "zeigen nie Gruppen mit weniger als zehn Personen und nie, wo Sie wohnen oder unterwegs sind.\n"
        "Manche Antworten (zum Beispiel zur Migration) werden verschlüsselt gespeichert.\n"
        "Widerruf: Sie erhalten einen kurzen Code. Geben Sie ihn auf der Widerrufsseite ein oder "
        "nennen Sie ihn dem Team, dann werden alle Ihre Antworten gelöscht."
    ),
    "sv": (
        "{title}\n\n"
        "Vad vi frågar: frågor om ditt boende, ditt område och din vardag. "
        "Du kan hoppa över vilken fråga som helst.\n"
        "Varför: så att staden och dess partner förstår vad de boende behöver och kan agera.\n"
        "Vem som ser dina svar: bara projektets forskargrupp. Publicerade siffror visar aldrig "
        "grupper med färre än tio personer och aldrig var du bor eller rör dig.\n"
        "Vissa svar (till exempel om migration) sparas krypterade.\n"
        "Att återkalla: du får en kort kod. Skriv in den på sidan för återkallelse, eller ge den "
        "till gruppen, så raderas alla dina svar."
    ),
}


def default_sheet(languages: list[str], title: str) -> dict[str, str]:
    """incity's default information sheet in each of `languages` it has wording for."""
    sheets: dict[str, str] = {}
    for language in languages:
        text = _DEFAULT_SHEETS.get(language_code(language))
        if text is not None:
            sheets[language] = text.format(title=title)
    return sheets


@lru_cache(maxsize=64)
def sheet_hash(text: str) -> str:
    # Kept: a batch hashes the same few sheets a thousand times.
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def new_withdrawal_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(raw: str) -> str:
    """Accept the code as people type it: lower case, spaces and dashes ('abcd-efgh-jk')."""
    return _CODE_INPUT.sub("", raw).upper()


def is_well_formed(code: str) -> bool:
    return len(code) == CODE_LENGTH and all(char in CODE_ALPHABET for char in code)


def display_code(code: str) -> str:
    """'ABCDEFGHJK' -> 'ABCD-EFGH-JK', easier to read out and copy."""
    return "-".join(code[index : index + 4] for index in range(0, len(code), 4))


def code_hash(code: str) -> str:
    return hashlib.sha256(code.encode("ascii")).hexdigest()

"""Free-text answers and map-mark comments in the interview language (invented; short)."""

from __future__ import annotations

import random

from incity.surveys.definition import language_code

_TEXTS: dict[str, dict[str, tuple[str, ...]]] = {
    "nbh_better": {
        "en": (
            "More street lights on the way to the station",
            "A place where young people can meet",
            "Cleaner streets and more bins",
            "Rents people here can afford",
            "A bigger playground",
            "Information in more languages",
        ),
        "de": (
            "Mehr Straßenbeleuchtung auf dem Weg zum Bahnhof",
            "Ein Treffpunkt für Jugendliche",
            "Sauberere Straßen und mehr Mülleimer",
            "Mieten, die man hier bezahlen kann",
            "Ein größerer Spielplatz",
            "Informationen in mehr Sprachen",
        ),
        "sv": (
            "Mer gatubelysning på vägen till stationen",
            "En mötesplats för unga",
            "Renare gator och fler papperskorgar",
            "Hyror som folk här har råd med",
            "En större lekplats",
            "Information på fler språk",
        ),
    },
    "saf_avoid_places": {
        "en": ("The underpass, it is dark", "The car park at night", "The path by the canal"),
        "de": ("Die Unterführung, dort ist es dunkel", "Den Parkplatz nachts", "Den Weg am Kanal"),
        "sv": ("Gångtunneln, den är mörk", "Parkeringen på kvällen", "Gångvägen vid kanalen"),
    },
    "srv_welcome_which": {
        "en": ("The library", "The community centre", "The family centre"),
        "de": ("Die Bücherei", "Das Stadtteilzentrum", "Das Familienzentrum"),
        "sv": ("Biblioteket", "Träffpunkten", "Familjecentralen"),
    },
    "par_barrier_other": {
        "en": ("Meetings are at the wrong time for shift workers",),
        "de": ("Die Treffen sind zur falschen Zeit für Schichtarbeit",),
        "sv": ("Mötena är vid fel tid för skiftarbetare",),
    },
    "_generic": {
        "en": ("Synthetic demo answer",),
        "de": ("Synthetische Demo-Antwort",),
        "sv": ("Syntetiskt demosvar",),
    },
}

LANGUAGE_NAMES: dict[str, dict[str, str]] = {
    "english": {"en": "English", "de": "Englisch", "sv": "engelska"},
    "german": {"en": "German", "de": "Deutsch", "sv": "tyska"},
    "swedish": {"en": "Swedish", "de": "Schwedisch", "sv": "svenska"},
    "urdu": {"en": "Urdu", "de": "Urdu", "sv": "urdu"},
    "punjabi": {"en": "Punjabi", "de": "Panjabi", "sv": "punjabi"},
    "arabic": {"en": "Arabic", "de": "Arabisch", "sv": "arabiska"},
    "somali": {"en": "Somali", "de": "Somali", "sv": "somaliska"},
    "polish": {"en": "Polish", "de": "Polnisch", "sv": "polska"},
    "romanian": {"en": "Romanian", "de": "Rumänisch", "sv": "rumänska"},
    "turkish": {"en": "Turkish", "de": "Türkisch", "sv": "turkiska"},
    "russian": {"en": "Russian", "de": "Russisch", "sv": "ryska"},
    "kurdish": {"en": "Kurdish", "de": "Kurdisch", "sv": "kurdiska"},
    "ukrainian": {"en": "Ukrainian", "de": "Ukrainisch", "sv": "ukrainska"},
    "persian": {"en": "Persian", "de": "Persisch", "sv": "persiska"},
    "bosnian": {"en": "Bosnian", "de": "Bosnisch", "sv": "bosniska"},
    "tigrinya": {"en": "Tigrinya", "de": "Tigrinya", "sv": "tigrinja"},
    "finnish": {"en": "Finnish", "de": "Finnisch", "sv": "finska"},
}
COUNTRY_LANGUAGE = {"birmingham": "english", "bochum": "german", "gothenburg": "swedish"}

MARK_COMMENTS: dict[str, dict[str, tuple[str, ...]]] = {
    "unsafe": {
        "en": (
            "No lights at night",
            "Dark underpass",
            "Empty after the shops close",
            "Cannot see who is there",
        ),
        "de": (
            "Nachts kein Licht",
            "Dunkle Unterführung",
            "Leer, wenn die Läden zu sind",
            "Man sieht nicht, wer da ist",
        ),
        "sv": (
            "Ingen belysning på kvällen",
            "Mörk gångtunnel",
            "Tomt när affärerna stängt",
            "Man ser inte vem som är där",
        ),
    },
    "safe": {
        "en": ("Busy and well lit", "Lots of families here"),
        "de": ("Belebt und hell", "Viele Familien hier"),
        "sv": ("Mycket folk och bra belysning", "Många familjer här"),
    },
    "resource": {
        "en": ("Library with free internet", "Advice centre helps with forms"),
        "de": ("Bücherei mit freiem Internet", "Beratungsstelle hilft mit Formularen"),
        "sv": ("Bibliotek med gratis internet", "Rådgivning hjälper med blanketter"),
    },
    "meeting_place": {
        "en": ("We meet at the café", "People chat on the benches"),
        "de": ("Wir treffen uns im Café", "Auf den Bänken wird geplaudert"),
        "sv": ("Vi träffas på kaféet", "Folk pratar på bänkarna"),
    },
}


def pick_text(rng: random.Random, key: str, language: str) -> str:
    options = _TEXTS.get(key, _TEXTS["_generic"])
    code = language_code(language)
    return rng.choice(options.get(code) or options["en"])

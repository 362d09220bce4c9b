"""Per-question answer generators: answers that follow from the respondent's profile.

This is where the demo's patterns are put: women feel less safe after dark and
mark more unsafe places at night, unsafe marks cluster around the invented dark
spots, recent arrivals belong less strongly and name language as a barrier more
often. Each generator takes (person, answers so far, place) and returns a value,
`SKIP` (leave the question unanswered) or `GENERIC` (use a value by type).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any

from incity.demo.surveys.form import NEIGHBOURHOOD_QUESTION
from incity.demo.surveys.people import ARRIVAL_BANDS, Person, weighted
from incity.demo.surveys.places import Place, point_near, random_point_in
from incity.demo.surveys.texts import COUNTRY_LANGUAGE, LANGUAGE_NAMES, MARK_COMMENTS, pick_text
from incity.surveys.definition import Choice, language_code

SKIP = object()  # a generator's "leave this question unanswered"
GENERIC = object()  # a generator's "no opinion here, use the generic value"
QuestionGenerator = Callable[[Person, dict[str, Any], Place], Any]


def _ordinal(
    rng: random.Random, latent: float, ordered: Sequence[str], dont_know: float = 0.03
) -> str:
    """Map a latent score (about -2..2, higher = more positive) onto a scale listed best first."""
    if rng.random() < dont_know:
        return "dont_know"
    steps = len(ordered)
    # Cut points spread evenly over -1.5..1.5 with some noise per answer.
    score = latent + rng.gauss(0, 0.35)
    cuts = [1.5 - 3.0 * (i + 1) / steps for i in range(steps - 1)]
    for index, cut in enumerate(cuts):
        if score > cut:
            return ordered[index]
    return ordered[-1]


class QuestionAnswers:
    """The generators for the DiPS modules' questions, sharing one seeded generator."""

    def __init__(self, rng: random.Random, choices: dict[str, list[Choice]]) -> None:
        self.rng = rng
        self.choices = choices

    def generators(self) -> dict[str, QuestionGenerator]:
        """Question name -> generator; questions not named here are answered by type."""
        return {
            NEIGHBOURHOOD_QUESTION: lambda p, a, s: s.site.slug,
            "bg_gender": lambda p, a, s: p.gender,
            "bg_age": lambda p, a, s: p.age_band,
            "bg_children": lambda p, a, s: "yes" if p.children else "no",
            "bg_born_here": lambda p, a, s: p.born_here,
            "bg_arrival": self._arrival,
            "bg_citizen": self._citizen,
            "hou_tenure": self._tenure,
            "hou_people": lambda p, a, s: (
                self.rng.randint(2, 6) if p.children else self.rng.choice((1, 1, 2, 2, 3))
            ),
            "nbh_years": self._years_in_area,
            "nbh_belong": lambda p, a, s: _ordinal(
                self.rng,
                p.attachment,
                ("very_strongly", "fairly_strongly", "not_very_strongly", "not_at_all_strongly"),
            ),
            "nbh_satisfied": lambda p, a, s: _ordinal(
                self.rng,
                p.attachment + 0.3,
                (
                    "very_satisfied",
                    "fairly_satisfied",
                    "neither",
                    "fairly_dissatisfied",
                    "very_dissatisfied",
                ),
            ),
            "nbh_get_on": lambda p, a, s: _ordinal(
                self.rng,
                p.attachment + 0.4,
                ("definitely_agree", "tend_to_agree", "tend_to_disagree", "definitely_disagree"),
            ),
            "nbh_trust": lambda p, a, s: _ordinal(
                self.rng,
                p.attachment,
                ("many_trusted", "some_trusted", "few_trusted", "none_trusted"),
            ),
            "nbh_better": lambda p, a, s: (
                pick_text(self.rng, "nbh_better", p.language) if self.rng.random() < 0.4 else SKIP
            ),
            "saf_day": lambda p, a, s: _ordinal(
                self.rng, p.safety + 0.8, ("very_safe", "safe", "unsafe", "very_unsafe"), 0.02
            ),
            "saf_dark": lambda p, a, s: _ordinal(
                self.rng, p.safety - 0.5, ("very_safe", "safe", "unsafe", "very_unsafe"), 0.04
            ),
            "saf_avoid": self._avoid,
            "saf_avoid_when": self._avoid_when,
            "saf_avoid_places": lambda p, a, s: (
                pick_text(self.rng, "saf_avoid_places", p.language)
                if self.rng.random() < 0.5
                else SKIP
            ),
            "saf_places": self.map_marks,
            "saf_victim": lambda p, a, s: weighted(
                self.rng, {"no": 0.83, "yes": 0.12, "prefer_not_to_say": 0.05}
            ),
            "con_trust": lambda p, a, s: max(
                0, min(10, round(5 + 1.6 * p.attachment + self.rng.gauss(0, 1.5)))
            ),
            "con_help": lambda p, a, s: _ordinal(
                self.rng,
                p.attachment + 0.3,
                ("definitely_agree", "tend_to_agree", "tend_to_disagree", "definitely_disagree"),
            ),
            "par_influence": lambda p, a, s: _ordinal(
                self.rng,
                p.attachment - 0.6,
                ("definitely_agree", "tend_to_agree", "tend_to_disagree", "definitely_disagree"),
                0.08,
            ),
            "par_barriers": self._barriers,
            "par_main_barrier": self._main_barrier,
            "par_barrier_other": lambda p, a, s: pick_text(
                self.rng, "par_barrier_other", p.language
            ),
            "srv_welcome_which": lambda p, a, s: (
                pick_text(self.rng, "srv_welcome_which", p.language)
                if self.rng.random() < 0.6
                else SKIP
            ),
            "lng_mother_tongue": lambda p, a, s: p.mother_tongue,
            "lng_home": self._home_language,
            "lng_spoken": self._spoken_languages,
            "lng_conf_speak": lambda p, a, s: _ordinal(
                self.rng,
                3 * p.fluency - 1.5,
                ("very_confident", "fairly_confident", "a_little", "not_at_all"),
                0,
            ),
            "lng_conf_read": lambda p, a, s: _ordinal(
                self.rng,
                3 * p.fluency - 1.8,
                ("very_confident", "fairly_confident", "a_little", "not_at_all"),
                0,
            ),
            "lng_course": self._course,
            "lng_interpreter": lambda p, a, s: (
                "yes" if self.rng.random() < max(0.05, 0.7 - p.fluency) else "no"
            ),
        }

    def _arrival(self, person: Person, answers: dict[str, Any], place: Place) -> Any:
        years = person.years_in_country
        if years is None or self.rng.random() < 0.02:
            return "prefer_not_to_say"
        for name, low, high in ARRIVAL_BANDS:
            if low <= years <= high:
                return name
        return "over_20_years"

    def _citizen(self, person: Person, answers: dict[str, Any], place: Place) -> Any:
        if person.born_here == "yes":
            return "yes"
        years = person.years_in_country or 0
        chance = 0.05 if years < 5 else (0.45 if years <= 10 else 0.8)
        return (
            "prefer_not_to_say"
            if self.rng.random() < 0.04
            else ("yes" if self.rng.random() < chance else "no")
        )

    def _tenure(self, person: Person, answers: dict[str, Any], place: Place) -> Any:
        if person.arrived_recently:
            return weighted(
                self.rng,
                {
                    "rent_private": 0.45,
                    "rent_social": 0.2,
                    "sublet": 0.12,
                    "with_family_friends": 0.15,
                    "shelter": 0.05,
                    "owned_by_household": 0.03,
                },
            )
        own = 0.15 + 0.01 * min(person.age, 70) - (0.1 if person.born_here == "no" else 0)
        return weighted(
            self.rng,
            {
                "owned_by_household": own,
                "rent_private": 0.3,
                "rent_social": 0.3,
                "with_family_friends": 0.05,
                "other": 0.01,
                "prefer_not_to_say": 0.01,
            },
        )

    def _years_in_area(self, person: Person, answers: dict[str, Any], place: Place) -> Any:
        years = person.years_in_area
        if person.born_here == "yes" and years >= person.age - 1:
            return "whole_life"
        if years < 1:
            return "under_1_year"
        if years <= 5:
            return "years_1_to_5"
        if years <= 10:
            return "years_6_to_10"
        return "over_10_years"

    def _avoid(self, person: Person, answers: dict[str, Any], place: Place) -> Any:
        unsafe = answers.get("saf_dark") in ("unsafe", "very_unsafe")
        chance = 0.6 if unsafe else 0.2
        if self.rng.random() < 0.03:
            return "prefer_not_to_say"
        return "yes" if self.rng.random() < chance else "no"

    def _avoid_when(self, person: Person, answers: dict[str, Any], place: Place) -> Any:
        chosen = [
            name
            for name, chance in (
                ("day", 0.12),
                ("evening", 0.55),
                ("night", 0.85 if person.woman else 0.65),
            )
            if self.rng.random() < chance
        ]
        return chosen or ["night"]

    def _barriers(self, person: Person, answers: dict[str, Any], place: Place) -> Any:
        rng = self.rng
        chances = {
            "dont_know_how": 0.45 if person.arrived_recently else 0.22,
            "no_time": 0.45 if person.works else 0.15,
            "childcare_family": 0.5
            if person.woman and person.children
            else (0.2 if person.children else 0.04),
            "language_culture": 0.6
            if person.fluency < 0.5
            else (0.25 if person.fluency < 1 else 0.03),
            "no_faith_process": 0.15,
            "views_no_impact": 0.12 + max(0.0, -0.1 * person.attachment),
            "other": 0.03,
        }
        chosen = [name for name, chance in chances.items() if rng.random() < chance]
        return chosen or ["nothing"]

    def _main_barrier(self, person: Person, answers: dict[str, Any], place: Place) -> Any:
        chosen = answers.get("par_barriers") or []
        if not isinstance(chosen, list) or not chosen:
            return GENERIC
        for preferred in ("language_culture", "childcare_family", "no_time"):
            if preferred in chosen and self.rng.random() < 0.6:
                return preferred
        return self.rng.choice(chosen)

    def _home_language(self, person: Person, answers: dict[str, Any], place: Place) -> Any:
        if self.rng.random() < 0.25:
            return SKIP
        code = language_code(person.language)
        if person.mother_tongue == "yes":
            own = COUNTRY_LANGUAGE[person.site.slug]
            return LANGUAGE_NAMES[own].get(code, own)
        home = self.rng.choice(person.site.home_languages)
        return LANGUAGE_NAMES[home].get(code, home)

    def _spoken_languages(self, person: Person, answers: dict[str, Any], place: Place) -> Any:
        if self.rng.random() < 0.35:
            return SKIP
        code = language_code(person.language)
        names = [COUNTRY_LANGUAGE[person.site.slug]]
        if person.mother_tongue != "yes":
            names.insert(0, self.rng.choice(person.site.home_languages))
        if "english" not in names and self.rng.random() < 0.5:
            names.append("english")
        return ", ".join(LANGUAGE_NAMES[name].get(code, name) for name in names)

    def _course(self, person: Person, answers: dict[str, Any], place: Place) -> Any:
        if person.fluency >= 0.9:
            return "not_needed"
        if person.arrived_recently:
            return weighted(
                self.rng,
                {"taking_now": 0.45, "would_like": 0.35, "finished": 0.15, "not_needed": 0.05},
            )
        return weighted(
            self.rng, {"finished": 0.4, "would_like": 0.25, "taking_now": 0.1, "not_needed": 0.25}
        )

    def map_marks(self, person: Person, answers: dict[str, Any], place: Place) -> Any:
        rng = self.rng
        if rng.random() < 0.15:
            return SKIP  # some people skip the map
        marks: list[dict[str, Any]] = []
        dark = answers.get("saf_dark") in ("unsafe", "very_unsafe")
        unsafe_chance = 0.35 + (0.25 if person.woman else 0) + (0.15 if dark else 0)
        if rng.random() < unsafe_chance:
            for _ in range(rng.choice((1, 1, 2))):
                if rng.random() < 0.85:
                    _, spot = rng.choice(place.dark_spots)
                    lon, lat = point_near(place.boundary, rng, spot, 60)
                else:
                    lon, lat = random_point_in(place.boundary, rng)
                night = (
                    {"day": 0.1, "evening": 0.3, "night": 0.6}
                    if person.woman
                    else {"day": 0.3, "evening": 0.35, "night": 0.35}
                )
                marks.append(self._mark(person, "unsafe", lon, lat, weighted(rng, night)))
        for category, chance, spots in (
            ("safe", 0.3, place.good_spots[1:2]),
            ("resource", 0.25, place.good_spots[0:1] + place.good_spots[2:3]),
            ("meeting_place", 0.25, place.good_spots[1:3]),
        ):
            if rng.random() < chance:
                if rng.random() < 0.6:
                    _, spot = rng.choice(spots)
                    lon, lat = point_near(place.boundary, rng, spot, 120)
                else:
                    lon, lat = random_point_in(place.boundary, rng)
                time_of_day = (
                    weighted(rng, {"day": 0.7, "evening": 0.3}) if rng.random() < 0.5 else ""
                )
                marks.append(self._mark(person, category, lon, lat, time_of_day))
        options = {choice["name"] for choice in self.choices.get("mark_category", [])}
        marks = [mark for mark in marks if not options or mark["category"] in options]
        return marks or SKIP

    def _mark(
        self, person: Person, category: str, lon: float, lat: float, time_of_day: str
    ) -> dict[str, Any]:
        mark: dict[str, Any] = {
            "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "category": category,
        }
        if time_of_day:
            mark["time_of_day"] = time_of_day
        if self.rng.random() < 0.5:
            comments = MARK_COMMENTS[category]
            code = language_code(person.language)
            mark["comment"] = self.rng.choice(comments.get(code) or comments["en"])
        return mark

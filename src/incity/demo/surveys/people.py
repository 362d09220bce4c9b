"""Synthetic respondents: a profile first, from which their answers follow."""

from __future__ import annotations

import random
from dataclasses import dataclass

from incity.demo.surveys.form import EN
from incity.demo.surveys.places import Site

AGE_BANDS = ("age_16_24", "age_25_34", "age_35_44", "age_45_54", "age_55_64", "age_65_plus")
_AGE_RANGES = {
    "age_16_24": (16, 24),
    "age_25_34": (25, 34),
    "age_35_44": (35, 44),
    "age_45_54": (45, 54),
    "age_55_64": (55, 64),
    "age_65_plus": (65, 88),
}
ARRIVAL_BANDS = (
    ("within_last_year", 0, 0),
    ("years_1_5", 1, 5),
    ("years_6_10", 6, 10),
    ("years_11_20", 11, 20),
    ("over_20_years", 21, 60),
)


@dataclass
class Person:
    site: Site
    language: str
    gender: str  # the bg_gender choice: woman, man, another_way, prefer_not_to_say
    age_band: str
    age: int
    born_here: str  # yes, no, prefer_not_to_say
    years_in_country: int | None  # since arrival, for people born abroad
    years_in_area: int
    children: bool
    works: bool
    mother_tongue: str  # yes, one_of_several, no
    fluency: float  # 0..1 in the country's main language
    attachment: float  # latent: belonging, trust, satisfaction
    safety: float  # latent: feeling safe (by day; after dark is lower)
    short_interview: bool = False

    @property
    def woman(self) -> bool:
        return self.gender == "woman"

    @property
    def arrived_recently(self) -> bool:
        return self.years_in_country is not None and self.years_in_country <= 5


def weighted(rng: random.Random, weights: dict[str, float]) -> str:
    names = list(weights)
    return rng.choices(names, weights=[weights[name] for name in names])[0]


def make_person(site: Site, rng: random.Random) -> Person:
    gender = weighted(
        rng, {"woman": 0.5, "man": 0.47, "another_way": 0.015, "prefer_not_to_say": 0.015}
    )
    age_band = rng.choices(AGE_BANDS, weights=(14, 22, 20, 17, 13, 14))[0]
    low, high = _AGE_RANGES[age_band]
    age = rng.randint(low, high)
    roll = rng.random()
    born_here = (
        "prefer_not_to_say" if roll < 0.02 else ("no" if roll < 0.02 + site.born_abroad else "yes")
    )
    years_in_country: int | None = None
    if born_here == "no":
        # Younger people arrived more recently; nobody arrived before they were born.
        most = max(age - 1, 0)
        years_in_country = min(int(rng.expovariate(1 / (4 + most * 0.25))), most)
    lived = age if years_in_country is None else years_in_country
    years_in_area = min(int(rng.expovariate(1 / 7)), lived)
    if born_here == "yes":
        mother_tongue = weighted(rng, {"yes": 0.9, "one_of_several": 0.08, "no": 0.02})
    else:
        mother_tongue = weighted(rng, {"no": 0.75, "one_of_several": 0.15, "yes": 0.1})
    if mother_tongue == "no":
        fluency = min(1.0, 0.15 + 0.06 * (years_in_country or 0) + rng.uniform(-0.15, 0.25))
    else:
        fluency = 1.0
    works_chance = {"age_16_24": 0.45, "age_65_plus": 0.08}.get(age_band, 0.68)
    if years_in_country is not None and years_in_country < 2:
        works_chance *= 0.5
    language = _interview_language(site, rng, fluency)
    attachment = (
        rng.gauss(0, 0.8) + 0.07 * min(years_in_area, 20) - 0.2 - (0.3 if fluency < 0.5 else 0)
    )
    safety = (
        rng.gauss(0.7, 0.8)
        - (0.45 if gender == "woman" else 0)
        - (0.2 if age_band == "age_65_plus" else 0)
    )
    return Person(
        site=site,
        language=language,
        gender=gender,
        age_band=age_band,
        age=age,
        born_here=born_here,
        years_in_country=years_in_country,
        years_in_area=years_in_area,
        children=rng.random() < (0.5 if age_band in ("age_25_34", "age_35_44") else 0.2),
        works=rng.random() < works_chance,
        mother_tongue=mother_tongue,
        fluency=fluency,
        attachment=attachment,
        safety=safety,
        short_interview=rng.random() < 0.03,
    )


def _interview_language(site: Site, rng: random.Random, fluency: float) -> str:
    weights = dict(site.languages)
    if fluency < 0.5 and EN in weights and max(weights, key=weights.__getitem__) != EN:
        # Someone not yet at ease in the country's language is often interviewed in English.
        weights[EN] += 0.3
    return weighted(rng, weights)

"""Domain scores: the items, a person's score, a group's score and change between waves."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pytest

from incity.analysis.scores import (
    BY_MIGRATION,
    BY_RESIDENCE,
    NEWCOMERS_AND_LONG_STANDING,
    Summary,
    compare,
    default_scoring,
    domain_scores,
    group_of,
    person_scores,
    scored_items,
    summarise,
    two_way_groups,
)
from incity.errors import InvalidInput
from incity.surveys.definition import FormDefinition, elements_by_name
from incity.surveys.modules import compose_definition, list_modules

SAFETY = "ioi-2019:safety"


@pytest.fixture(scope="module")
def dips() -> FormDefinition:
    return compose_definition(
        form_id="dips",
        title="DiPS (synthetic test form)",
        module_slugs=[module.slug for module in list_modules()],
        languages=["English (en)"],
    )


# --- refusals ----------------------------------------------------------------------


def test_an_override_for_a_question_the_form_lacks_is_refused(dips: FormDefinition) -> None:
    with pytest.raises(InvalidInput, match="no question 'shoe_size'"):
        scored_items(dips, {"shoe_size": {"small": 0}})


def test_an_override_naming_an_answer_the_question_lacks_is_refused(dips: FormDefinition) -> None:
    with pytest.raises(InvalidInput, match="'saf_dark' has no answer 'fairly_safe'"):
        scored_items(dips, {"saf_dark": {"very_safe": 100, "fairly_safe": 50}})


@pytest.mark.parametrize("bad", [-1, 101, "high", True, math.nan])
def test_a_score_outside_0_to_100_is_refused(dips: FormDefinition, bad: Any) -> None:
    with pytest.raises(InvalidInput, match="must be a number from 0 to 100"):
        scored_items(dips, {"saf_dark": {"very_safe": bad}})


def test_free_text_and_multiple_choice_questions_cannot_be_scored(dips: FormDefinition) -> None:
    with pytest.raises(InvalidInput, match="'nbh_better' is text"):
        scored_items(dips, {"nbh_better": {"a": 1}})
    with pytest.raises(InvalidInput, match="'hou_problems' is select_multiple"):
        scored_items(dips, {"hou_problems": {"none": 100}})


@pytest.mark.parametrize("bad", [{"min": 10, "max": 0}, {"min": 0}, {"min": 0, "max": 10, "x": 1}])
def test_a_number_question_needs_a_proper_range(dips: FormDefinition, bad: Any) -> None:
    with pytest.raises(InvalidInput, match="'con_trust' needs a scoring"):
        scored_items(dips, {"con_trust": bad})


def test_an_untagged_question_cannot_be_scored(dips: FormDefinition) -> None:
    untagged = dict(dips)
    element = elements_by_name(dips)["saf_dark"]
    element_copy = {**element, "tags": {}}
    untagged["children"] = [
        {
            **group,
            "children": [
                element_copy if child["name"] == "saf_dark" else child
                for child in group.get("children", [])
            ],
        }
        for group in dips["children"]
    ]
    with pytest.raises(InvalidInput, match="tagged with no domain"):
        scored_items(untagged, {"saf_dark": {"very_safe": 100, "very_unsafe": 0}})  # type: ignore[arg-type]


@pytest.mark.parametrize("weights", [[1.0, 0.0], [1.0, -2.0], [1.0, math.inf], [1.0]])
def test_weights_must_be_positive_and_one_per_value(weights: list[float]) -> None:
    with pytest.raises(InvalidInput):
        summarise([50.0, 60.0], weights)


# --- items and people ----------------------------------------------------------------


def test_every_default_scoring_fits_the_module_library(dips: FormDefinition) -> None:
    items = scored_items(dips)
    assert set(items) == set(default_scoring())
    assert items["saf_dark"].domains[0] == SAFETY
    assert items["saf_dark"].score("very_unsafe") == 0
    assert items["saf_dark"].score("dont_know") is None
    assert items["con_trust"].score(7) == pytest.approx(70)
    assert items["con_trust"].score(11) is None
    assert items["con_lonely"].score("never") == 100


def test_a_person_needs_half_a_domains_items_for_a_score(dips: FormDefinition) -> None:
    items = scored_items(dips)
    safety_items = [name for name, item in items.items() if SAFETY in item.domains]
    assert sorted(safety_items) == ["saf_avoid", "saf_dark", "saf_day", "saf_victim"]
    one = {"saf_dark": "very_unsafe"}
    assert SAFETY not in person_scores(items, one)
    two = {"saf_dark": "very_unsafe", "saf_day": "safe", "saf_avoid": "dont_know"}
    assert person_scores(items, two)[SAFETY] == pytest.approx((0 + 66.667) / 2)


def test_an_override_changes_the_score(dips: FormDefinition) -> None:
    items = scored_items(dips, {"saf_dark": {"very_safe": 100, "safe": 100, "unsafe": 0}})
    answers = {"saf_dark": "safe", "saf_day": "very_unsafe"}
    assert person_scores(items, answers)[SAFETY] == pytest.approx(50)


# --- groups and waves ----------------------------------------------------------------


def test_the_weighted_mean_and_its_error_match_svy() -> None:
    import polars as pl
    import svy

    rng = np.random.default_rng(7)
    values = rng.uniform(0, 100, 40)
    weights = rng.uniform(0.5, 3.0, 40)
    ours = summarise(list(values), list(weights))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sample = svy.Sample(pl.DataFrame({"y": values, "w": weights}), svy.Design(wgt="w"))
        reference = sample.estimation.mean("y").to_polars().row(0, named=True)
    assert ours.mean == pytest.approx(reference["est"], abs=1e-10)
    assert ours.se == pytest.approx(reference["se"], abs=1e-10)
    assert ours.n == 40


def test_a_domain_score_over_people_leaves_out_those_with_too_few_answers(
    dips: FormDefinition,
) -> None:
    items = scored_items(dips)
    people = [
        {"saf_dark": "very_safe", "saf_day": "very_safe"},
        {"saf_dark": "very_unsafe", "saf_day": "unsafe"},
        {"saf_dark": "safe"},
    ]
    result = domain_scores(items, people)[SAFETY]
    assert result.n == 2
    assert result.mean == pytest.approx((100 + (0 + 33.333) / 2) / 2)
    assert result.ci_low is not None
    assert result.ci_low < result.mean


def test_the_two_way_view_puts_newcomers_beside_long_standing_residents() -> None:
    groups = NEWCOMERS_AND_LONG_STANDING
    assert group_of({"bg_born_here": "no", "bg_arrival": "years_1_5"}, groups) == "newcomers"
    assert group_of({"bg_born_here": "yes"}, groups) == "long-standing residents"
    assert (
        group_of({"bg_born_here": "no", "bg_arrival": "over_20_years"}, groups)
        == "long-standing residents"
    )
    assert group_of({"bg_born_here": "no", "bg_arrival": "years_11_20"}, groups) is None
    assert group_of({"bg_born_here": "prefer_not_to_say"}, groups) is None


def test_the_two_way_view_splits_by_migration_only_where_those_answers_may_be_analysed() -> None:
    assert two_way_groups({"bg_born_here", "bg_arrival", "nbh_years"}) is BY_MIGRATION
    assert two_way_groups({"nbh_years", "bg_gender"}) is BY_RESIDENCE
    assert two_way_groups({"bg_gender"}) is None
    assert group_of({"nbh_years": "whole_life"}, BY_RESIDENCE.groups) == "long-standing residents"
    assert group_of({"nbh_years": "years_1_to_5"}, BY_RESIDENCE.groups) == "newcomers"
    assert group_of({"nbh_years": "years_6_to_10"}, BY_RESIDENCE.groups) is None


def test_a_clear_fall_between_waves_is_called_worse() -> None:
    earlier = Summary(60.0, 2.0, 56.0, 64.0, 200)
    assert compare(earlier, Summary(50.0, 2.0, 46.0, 54.0, 200)).direction == "worse"
    assert compare(earlier, Summary(70.0, 2.0, 66.0, 74.0, 200)).direction == "better"
    assert compare(earlier, Summary(62.0, 2.0, 58.0, 66.0, 200)).direction == "no clear change"
    change = compare(earlier, Summary(50.0, 2.0, 46.0, 54.0, 200))
    assert change.difference == pytest.approx(-10)
    assert change.se == pytest.approx(math.sqrt(8))
    assert compare(earlier, Summary(None, None, None, None, 0)).direction == "not comparable"

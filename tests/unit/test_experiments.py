"""A/B tests: assignment, the two-proportion z-test and the sample size, on hand-computed numbers."""
from __future__ import annotations

import hashlib
import math
from collections import Counter

import pytest
from pydantic import ValidationError

from chalicelib.config import Rules
from chalicelib.domain.experiments import (
    Experiment,
    VariantCounts,
    VariantResult,
    assign,
    bucket,
    evaluate,
    rate_bp,
    sample_size_per_variant,
    z_test_p_value,
)

HOME = Experiment("home_layout", (("A", 50), ("B", 50)))


def test_a_user_gets_the_same_variant_every_time():
    assert {assign(HOME, "u-42") for _ in range(5)} == {assign(HOME, "u-42")}


def test_the_bucket_is_the_first_8_bytes_of_the_sha256_of_experiment_and_user():
    digest = hashlib.sha256(b"home_layout:u-1").digest()
    assert bucket("home_layout", "u-1", 100) == int.from_bytes(digest[:8], "big") % 100
    position = bucket("home_layout", "u-1", 100)
    assert assign(HOME, "u-1") == ("A" if position < 50 else "B")


@pytest.mark.parametrize("weights", [(50, 50), (90, 10), (1, 2, 1)])
def test_weights_are_honoured_within_two_points_over_10000_users(weights):
    names = ("A", "B", "C")[: len(weights)]
    experiment = Experiment("home_layout", tuple(zip(names, weights, strict=True)))
    counts = Counter(assign(experiment, f"user-{i}") for i in range(10_000))
    total = sum(weights)
    for name, weight in zip(names, weights, strict=True):
        assert abs(counts[name] / 10_000 - weight / total) < 0.02, counts


def test_experiments_split_users_independently():
    other = Experiment("checkout_button", (("A", 50), ("B", 50)))
    same = sum(assign(HOME, f"u{i}") == assign(other, f"u{i}") for i in range(10_000))
    assert abs(same / 10_000 - 0.5) < 0.02


def test_a_zero_weight_variant_gets_nobody():
    ramped = Experiment("home_layout", (("A", 1), ("B", 0)))
    assert {assign(ramped, f"u{i}") for i in range(500)} == {"A"}


@pytest.mark.parametrize(("variants", "problem"), [
    ((("A", 1),), "at least two"),
    ((("A", 1), ("A", 1)), "at least two"),
    ((("A", -1), ("B", 2)), "weights"),
    ((("A", 0), ("B", 0)), "weights"),
    ((("A", 1), ("B b", 1)), "variant names"),
])
def test_a_malformed_experiment_is_refused(variants, problem):
    with pytest.raises(ValueError, match=problem):
        Experiment("x", variants)


def test_an_experiment_name_is_lowercase_snake():
    with pytest.raises(ValueError, match="experiment name"):
        Experiment("Home-Layout", (("A", 1), ("B", 1)))


def test_the_p_value_of_100_of_1000_against_130_of_1000():
    # pooled p = 230/2000 = 0.115; se = √(0.115·0.885·(2/1000)) = 0.0142671;
    # z = 0.03/0.0142671 = 2.10274; p = erfc(2.10274/√2) = 0.03549
    assert z_test_p_value(100, 1000, 130, 1000) == pytest.approx(0.03549, abs=5e-5)


def test_equal_rates_have_a_p_value_of_one_and_the_test_is_symmetric():
    assert z_test_p_value(50, 500, 100, 1000) == pytest.approx(1.0)
    assert z_test_p_value(130, 1000, 100, 1000) == z_test_p_value(100, 1000, 130, 1000)


def test_the_p_value_matches_the_normal_tail_for_a_hand_computed_z():
    # 10/100 vs 20/100: pooled 0.15, se = √(0.15·0.85·0.02) = 0.0504975, z = 1.98030
    z = 0.1 / math.sqrt(0.15 * 0.85 * 0.02)
    assert z == pytest.approx(1.98030, abs=1e-5)
    assert z_test_p_value(10, 100, 20, 100) == pytest.approx(0.04767, abs=5e-5)


@pytest.mark.parametrize("counts", [(0, 0, 5, 10), (5, 10, 0, 0), (0, 10, 0, 10), (10, 10, 10, 10)])
def test_the_p_value_is_undefined_without_data_or_without_variance(counts):
    assert z_test_p_value(*counts) is None


def test_conversions_above_exposures_are_refused():
    with pytest.raises(ValueError, match="conversions are between 0 and the exposures"):
        z_test_p_value(11, 10, 1, 10)


@pytest.mark.parametrize(("baseline", "effect", "needed"), [
    # 10% → 15%: p̄ = 0.125; (1.95996·√(2·0.125·0.875) + 0.84162·√(0.09 + 0.1275))² / 0.05²
    #          = (0.91686 + 0.39253)² / 0.0025 = 685.4 → 686 (the textbook figure)
    (0.10, 0.05, 686),
    # 8% → 15% (DOMAIN.md §5's new-user conversion): p̄ = 0.115;
    # (1.95996·0.451165 + 0.84162·0.448442)² / 0.0049 = 1.261686² / 0.0049 = 324.9 → 325
    (0.08, 0.07, 325),
    # 50% → 60%: p̄ = 0.55; (1.95996·0.703562 + 0.84162·0.7)² / 0.01 = 1.968079² / 0.01 = 387.3 → 388
    (0.50, 0.10, 388),
])
def test_the_sample_size_per_variant_at_alpha_5_percent_and_power_80_percent(baseline, effect, needed):
    assert sample_size_per_variant(baseline, effect) == needed


def test_an_effect_past_100_percent_is_measured_downwards():
    assert sample_size_per_variant(0.95, 0.10) == sample_size_per_variant(0.85, 0.10)


def test_rates_are_basis_points_floored():
    assert rate_bp(1, 3) == 3333
    assert rate_bp(0, 0) == 0


def test_evaluate_compares_each_variant_with_the_control_and_says_what_is_still_needed():
    experiment = Experiment("home_layout", (("A", 50), ("B", 50)), min_detectable_effect_bp=500)
    results = evaluate(experiment, {"A": VariantCounts("A", 1000, 100), "B": VariantCounts("B", 1000, 130)})
    # baseline: A's observed 10% (≥ 100 exposures); 10% → 15% needs 686 per variant: both have 1000
    assert results == [VariantResult("A", 1000, 100, 1000, None, 0),
                       VariantResult("B", 1000, 130, 1300, pytest.approx(0.03549, abs=5e-5), 0)]


def test_before_the_control_has_100_exposures_the_configured_baseline_is_planned_with():
    experiment = Experiment("home_layout", (("A", 50), ("B", 50)), min_detectable_effect_bp=700, baseline_bp=800)
    results = evaluate(experiment, {"A": VariantCounts("A", 40, 1)})
    # 8% → 15% needs 325: A has 40, B nothing yet
    assert [(r.variant, r.exposures, r.p_value, r.sample_size_needed) for r in results] == [
        ("A", 40, None, 285), ("B", 0, None, 325)]


def test_the_demo_configuration_runs_home_layout_50_50():
    rules = Rules()
    assert rules.experiment_definitions() == {"home_layout": Experiment("home_layout", (("A", 50), ("B", 50)), 700, 800)}


def test_a_bad_experiment_configuration_fails_at_load():
    with pytest.raises(ValidationError, match="variant names"):
        Rules.model_validate({"experiments": {"x": {"variants": {"A": 1, "B": 1}}, "y": {"variants": {"A": 1, "A ": 1}}}})
    with pytest.raises(ValidationError, match="at least 2 items"):
        Rules.model_validate({"experiments": {"x": {"variants": {"A": 1}}}})
    with pytest.raises(ValidationError, match="experiment name"):
        Rules.model_validate({"experiments": {"Bad-Name": {"variants": {"A": 1, "B": 1}}}})
    with pytest.raises(ValidationError, match="weights"):
        Rules.model_validate({"experiments": {"x": {"variants": {"A": 0, "B": 0}}}})

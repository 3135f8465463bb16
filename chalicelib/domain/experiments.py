"""A/B tests (DOMAIN.md §5: every metric lever is tried as an experiment first).

An experiment has named variants with integer weights; the first variant is the control the
others are compared with. Three pure rules live here:

* **Assignment** is deterministic: ``sha256("<experiment>:<user_id>")``, its first 8 bytes read as
  a big-endian integer, modulo the sum of the weights, falls in one variant's slice of
  ``[0, total)`` (slices in the order the variants are listed). The same user always gets the
  same variant of an experiment, and different experiments split users independently.
* **Significance**: a pooled two-proportion z-test, two-sided:
  ``p̂ = (x₁+x₂)/(n₁+n₂)``, ``z = (x₂/n₂ − x₁/n₁) / √(p̂(1−p̂)(1/n₁+1/n₂))``,
  ``p = erfc(|z|/√2)``.
* **Sample size** per variant to detect an absolute lift ``δ`` over a baseline rate ``p₁``
  (two-sided α = 0.05, power 0.8 unless told otherwise), ``p₂ = p₁ + δ`` (``p₁ − δ`` where that
  would pass 1), ``p̄ = (p₁+p₂)/2``:
  ``n = ⌈(z₁₋α/₂·√(2p̄(1−p̄)) + z₁₋β·√(p₁(1−p₁)+p₂(1−p₂)))² / δ²⌉``
  (z quantiles of the standard normal: 1.95996 and 0.84162). E.g. 10% → 15% needs 686 per variant.
"""
from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass

from chalicelib.domain.catalog import BP
from chalicelib.domain.errors import Kind, error

ExperimentNotFound = error("EXPERIMENT_NOT_FOUND", Kind.NOT_FOUND, "No experiment of this name is configured.")

NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
VARIANT = re.compile(r"^[A-Za-z0-9_]{1,20}$")
ALPHA = 0.05
POWER = 0.8
# Until the control has this many exposures its observed rate is too noisy to plan with, and the
# configured baseline is used instead.
MIN_BASELINE_EXPOSURES = 100


@dataclass(frozen=True)
class Experiment:
    """``variants`` in order, control first, each with a weight ≥ 0 (the sum is positive)."""

    name: str
    variants: tuple[tuple[str, int], ...]
    min_detectable_effect_bp: int = 200  # absolute lift of the conversion rate worth detecting
    baseline_bp: int = 800  # the control's expected rate before it has data (DOMAIN.md §5: 8%)

    def __post_init__(self) -> None:
        if not NAME.match(self.name):
            raise ValueError(f"experiment name {self.name!r}: lowercase letters, digits and _, at most 40")
        names = [v for v, _ in self.variants]
        if len(names) < 2 or len(set(names)) != len(names):
            raise ValueError(f"experiment {self.name}: at least two variants, each named once")
        if any(not VARIANT.match(v) for v in names):
            raise ValueError(f"experiment {self.name}: variant names are letters, digits and _, at most 20")
        if any(w < 0 for _, w in self.variants) or self.total_weight <= 0:
            raise ValueError(f"experiment {self.name}: weights are ≥ 0 and add up to more than 0")
        if not 0 < self.min_detectable_effect_bp < BP or not 0 < self.baseline_bp < BP:
            raise ValueError(f"experiment {self.name}: the effect and the baseline are between 0 and 10000 bp")

    @property
    def total_weight(self) -> int:
        return sum(w for _, w in self.variants)

    @property
    def control(self) -> str:
        return self.variants[0][0]

    @property
    def variant_names(self) -> tuple[str, ...]:
        return tuple(v for v, _ in self.variants)


def bucket(experiment: str, user_id: str, total: int) -> int:
    """The user's position in ``[0, total)`` for an experiment (first 8 bytes of the sha256)."""
    digest = hashlib.sha256(f"{experiment}:{user_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % total


def assign(experiment: Experiment, user_id: str) -> str:
    """The variant whose weight slice holds the user's bucket: stable for a given configuration."""
    position = bucket(experiment.name, user_id, experiment.total_weight)
    for variant, weight in experiment.variants:
        if position < weight:
            return variant
        position -= weight
    raise AssertionError("a bucket below the total always falls in a slice")


def rate_bp(conversions: int, exposures: int) -> int:
    """A conversion rate in basis points, floored; 0 without exposures."""
    return conversions * BP // exposures if exposures > 0 else 0


def z_test_p_value(conversions_a: int, exposures_a: int, conversions_b: int, exposures_b: int) -> float | None:
    """Two-sided p-value of the pooled two-proportion z-test; None when it is undefined (a variant
    without exposures, or every user converting or none)."""
    if exposures_a <= 0 or exposures_b <= 0:
        return None
    if not (0 <= conversions_a <= exposures_a and 0 <= conversions_b <= exposures_b):
        raise ValueError("conversions are between 0 and the exposures")
    pooled = (conversions_a + conversions_b) / (exposures_a + exposures_b)
    variance = pooled * (1 - pooled) * (1 / exposures_a + 1 / exposures_b)
    if variance <= 0:
        return None
    z = (conversions_b / exposures_b - conversions_a / exposures_a) / math.sqrt(variance)
    return math.erfc(abs(z) / math.sqrt(2))


def sample_size_per_variant(baseline: float, effect: float, alpha: float = ALPHA, power: float = POWER) -> int:
    """Users each variant needs to detect an absolute ``effect`` over a ``baseline`` rate (the
    formula in the module docstring)."""
    if not 0 <= baseline <= 1 or not 0 < effect < 1:
        raise ValueError("the baseline is a rate in [0, 1] and the effect in (0, 1)")
    other = baseline + effect if baseline + effect <= 1 else baseline - effect
    if other < 0:
        raise ValueError("the effect does not fit around the baseline")
    from statistics import NormalDist

    normal = NormalDist()
    z_alpha, z_beta = normal.inv_cdf(1 - alpha / 2), normal.inv_cdf(power)
    mean = (baseline + other) / 2
    spread = z_alpha * math.sqrt(2 * mean * (1 - mean)) + z_beta * math.sqrt(
        baseline * (1 - baseline) + other * (1 - other))
    return math.ceil(spread ** 2 / effect ** 2)


@dataclass(frozen=True)
class VariantCounts:
    variant: str
    exposures: int
    conversions: int


@dataclass(frozen=True)
class VariantResult:
    variant: str
    exposures: int
    conversions: int
    conversion_rate_bp: int
    p_value: float | None  # against the control; None for the control itself
    sample_size_needed: int  # more exposures this variant needs before the test can conclude


def evaluate(experiment: Experiment, counts: dict[str, VariantCounts]) -> list[VariantResult]:
    """Every variant's rate, its p-value against the control and the sample still needed, in the
    configured order (variants without counts yet count zero)."""
    def of(variant: str) -> VariantCounts:
        return counts.get(variant) or VariantCounts(variant, 0, 0)

    control = of(experiment.control)
    if control.exposures >= MIN_BASELINE_EXPOSURES:
        baseline = control.conversions / control.exposures
    else:
        baseline = experiment.baseline_bp / BP
    required = sample_size_per_variant(baseline, experiment.min_detectable_effect_bp / BP)
    results = []
    for name in experiment.variant_names:
        row = of(name)
        p_value = None if name == experiment.control else z_test_p_value(
            control.conversions, control.exposures, row.conversions, row.exposures)
        results.append(VariantResult(name, row.exposures, row.conversions, rate_bp(row.conversions, row.exposures),
                                     p_value, max(0, required - row.exposures)))
    return results

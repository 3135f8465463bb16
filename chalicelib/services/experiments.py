"""A/B tests as use cases: a user's variant (recorded once as an exposure), conversions after a
payment, and each variant's figures for the admin metrics (docs/experiments.md)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING

from chalicelib.domain.experiments import (
    Experiment,
    ExperimentNotFound,
    VariantCounts,
    VariantResult,
    assign,
    evaluate,
)
from chalicelib.services.retry import run_until_committed

if TYPE_CHECKING:
    from chalicelib.bootstrap import Deps
    from chalicelib.domain.orders import Order

ATTEMPTS = 6


def _retrying(write: Callable[[], bool]) -> bool:
    """A counted write that lost to a concurrent transaction on the same counter shard is tried
    again (it changed nothing)."""
    return run_until_committed(write, attempts=ATTEMPTS, what="the experiment's counters")


def experiment(name: str, deps: Deps) -> Experiment:
    """The configured experiment of this name; EXPERIMENT_NOT_FOUND when there is none."""
    found = deps.rules.experiment_definitions().get(name)
    if found is None:
        raise ExperimentNotFound(f"no experiment named {name!r}", experiments=sorted(
            deps.rules.experiments))
    return found


def variant_for(name: str, user_id: str, deps: Deps) -> str:
    """The user's variant. The first time, the hashed assignment is recorded as an exposure (once:
    a conditional put, then the variant's counter); afterwards the recorded variant is answered,
    so a user keeps their variant even when the operator changes the weights later."""
    definition = experiment(name, deps)
    recorded = deps.experiments.exposure(user_id, name)
    if recorded is not None and recorded.variant in definition.variant_names:
        return recorded.variant
    variant = assign(definition, user_id)
    if recorded is None and not _retrying(lambda: deps.experiments.expose(user_id, name, variant, deps.clock())):
        again = deps.experiments.exposure(user_id, name)  # a concurrent first call recorded it
        if again is not None and again.variant in definition.variant_names:
            return again.variant
    return variant


def home_layout_variant(user_id: str, deps: Deps) -> str | None:
    """The user's ``home_layout`` variant, or None when the operator runs no such experiment."""
    if "home_layout" not in deps.rules.experiments:
        return None
    return variant_for("home_layout", user_id, deps)


def record_conversions(user_id: str, paid_at: datetime, deps: Deps) -> int:
    """A paid order converts the buyer in every configured experiment they were exposed to before
    ``paid_at``, once per experiment (later orders change nothing). Returns how many converted."""
    configured = deps.rules.experiments
    converted = 0
    for exposure in deps.experiments.exposures_of(user_id):
        if exposure.experiment in configured and exposure.converted_at is None and exposure.exposed_at <= paid_at:
            convert = partial(deps.experiments.convert, user_id, exposure.experiment, exposure.variant, paid_at)
            converted += _retrying(convert)
    return converted


def order_paid(deps: Deps, order: Order, at: datetime) -> None:
    """The hook of the order-paid fact: the buyer's conversions. Best effort: a failure is logged
    and counted (``experiment_conversion_failed``), never raised into the payment."""
    try:
        record_conversions(order.buyer_id, at, deps)
    except Exception as exc:  # noqa: BLE001 - an experiment must never fail the payment
        from chalicelib.observability import logger, metrics

        logger().exception("experiment conversion not counted", extra={"order_id": order.order_id, "error": repr(exc)})
        metrics().add_metric(name="experiment_conversion_failed", unit="Count", value=1)


@dataclass(frozen=True)
class ExperimentReport:
    experiment: str
    control: str
    min_detectable_effect_bp: int
    variants: list[VariantResult]


def reports(deps: Deps) -> list[ExperimentReport]:
    """Each configured experiment's variants: exposures, conversions, rate, p-value against the
    control and the sample still needed (one query per experiment)."""
    out = []
    for name, definition in sorted(deps.rules.experiment_definitions().items()):
        counts: dict[str, VariantCounts] = deps.experiments.counts(name)
        out.append(ExperimentReport(name, definition.control, definition.min_detectable_effect_bp,
                                    evaluate(definition, counts)))
    return out

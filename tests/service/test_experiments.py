"""Experiments on moto: exposure recorded once, conversions counted once after exposure, figures."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from chalicelib.bootstrap import Deps
from chalicelib.config import Rules
from chalicelib.domain.experiments import ExperimentNotFound
from chalicelib.services import experiments
from chalicelib.store.analytics import AnalyticsItem
from chalicelib.store.experiments import counter_pk
from tests.service.test_orders import login, paid_order, product  # noqa: F401 - the product fixture


def configure(deps: Deps, experiments_config: dict[str, Any]) -> None:
    rules = Rules.model_validate({"experiments": experiments_config})
    deps.settings = deps.settings.model_copy(update={"rules": rules})


def only(variant: str) -> dict[str, Any]:
    """home_layout with all the weight on one variant."""
    return {"home_layout": {"variants": {"A": int(variant == "A"), "B": int(variant == "B")}}}


def test_the_first_variant_asked_for_is_recorded_once_and_counted_once(deps, clock):
    user = login(deps, "u1")
    first = experiments.variant_for("home_layout", user, deps)
    clock.advance(minutes=5)
    assert experiments.variant_for("home_layout", user, deps) == first
    counts = deps.experiments.counts("home_layout")
    assert {v: (c.exposures, c.conversions) for v, c in counts.items()} == {first: (1, 0)}
    exposure = deps.experiments.exposure(user, "home_layout")
    assert (exposure.variant, exposure.exposed_at, exposure.converted_at) == (first, clock() - timedelta(minutes=5), None)


def test_an_unknown_experiment_is_refused_and_records_nothing(deps):
    user = login(deps, "u1")
    with pytest.raises(ExperimentNotFound):
        experiments.variant_for("no_such_test", user, deps)
    assert deps.experiments.exposures_of(user) == []


def test_a_user_keeps_the_recorded_variant_when_the_weights_change(deps):
    user = login(deps, "u1")
    configure(deps, only("A"))
    assert experiments.variant_for("home_layout", user, deps) == "A"
    configure(deps, only("B"))
    assert experiments.variant_for("home_layout", user, deps) == "A"
    assert experiments.variant_for("home_layout", login(deps, "u2"), deps) == "B"


def test_a_payment_after_exposure_converts_once_however_many_orders(deps, clock, product):  # noqa: F811
    configure(deps, only("B"))
    buyer = login(deps, "buyer")
    assert experiments.variant_for("home_layout", buyer, deps) == "B"
    clock.advance(minutes=1)
    first = deps.orders.get(paid_order(deps, buyer, product))
    experiments.order_paid(deps, first, first.paid_at)
    experiments.order_paid(deps, first, first.paid_at)  # a replayed fact
    second = deps.orders.get(paid_order(deps, buyer, product))
    experiments.order_paid(deps, second, second.paid_at)
    counts = deps.experiments.counts("home_layout")
    assert (counts["B"].exposures, counts["B"].conversions) == (1, 1)
    assert deps.experiments.exposure(buyer, "home_layout").converted_at == first.paid_at.replace(microsecond=0)


def test_a_payment_before_exposure_or_without_one_converts_nothing(deps, clock, product):  # noqa: F811
    configure(deps, only("A"))
    early, never = login(deps, "early"), login(deps, "never")
    order = deps.orders.get(paid_order(deps, early, product))
    clock.advance(minutes=1)
    experiments.variant_for("home_layout", early, deps)
    experiments.order_paid(deps, order, order.paid_at)  # paid before the exposure
    other = deps.orders.get(paid_order(deps, never, product))
    experiments.order_paid(deps, other, other.paid_at)
    assert deps.experiments.counts("home_layout")["A"].conversions == 0
    assert experiments.record_conversions(early, clock(), deps) == 1  # a later payment does convert


def test_a_conversion_failure_never_reaches_the_payment(deps, product, monkeypatch):  # noqa: F811
    buyer = login(deps, "buyer")
    experiments.variant_for("home_layout", buyer, deps)
    order = deps.orders.get(paid_order(deps, buyer, product))

    def broken(*args: Any) -> bool:
        raise RuntimeError("DynamoDB is down")

    monkeypatch.setattr(deps.experiments, "convert", broken)
    experiments.order_paid(deps, order, order.paid_at)  # logged and counted, not raised


def test_the_report_compares_each_variant_with_the_control(deps):
    configure(deps, {"home_layout": {"variants": {"A": 50, "B": 50}, "min_detectable_effect_bp": 500}})
    for variant, exposures, conversions in (("A", 1000, 100), ("B", 1000, 130)):
        AnalyticsItem(counter_pk("home_layout", 0), f"x#{variant}", n=exposures - 1).save()  # counters on two shards
        AnalyticsItem(counter_pk("home_layout", 7), f"x#{variant}", n=1).save()
        AnalyticsItem(counter_pk("home_layout", 1), f"c#{variant}", n=conversions).save()
    [report] = experiments.reports(deps)
    assert (report.experiment, report.control, report.min_detectable_effect_bp) == ("home_layout", "A", 500)
    a, b = report.variants
    assert (a.exposures, a.conversions, a.conversion_rate_bp, a.p_value, a.sample_size_needed) == (1000, 100, 1000, None, 0)
    assert (b.exposures, b.conversions, b.conversion_rate_bp, b.sample_size_needed) == (1000, 130, 1300, 0)
    assert b.p_value == pytest.approx(0.03549, abs=5e-5)  # tests/unit/test_experiments.py


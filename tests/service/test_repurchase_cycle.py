"""The repurchase cycle per category on moto: each payment keeps the buyer's last paid day per
category and adds its gap to the day's counters; the metrics job's ``rcy`` part summarises the
days and stores the medians of the window beside the seed's cycle; the admin answer reads them
(stored, or live for today) without reading any order."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from chalicelib.bootstrap import Deps
from chalicelib.domain.catalog import Product
from chalicelib.domain.clock import SHANGHAI
from chalicelib.jobs import run_job
from chalicelib.services import repurchase
from tests.service.test_orders import login, paid_order

DAY0 = date(2026, 6, 1)


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI).astimezone(UTC)


@pytest.fixture
def shop(deps: Deps) -> None:
    for product in (Product("p-mask", "面膜", "beauty", 1_500, 5_000, 500, 2_000, 500),
                    Product("p-serum", "精华", "beauty", 5_000, 15_000, 500, 2_000, 500),
                    Product("p-tea", "花茶", "food", 2_800, 8_000, 500, 1_600, 500)):
        deps.products.put_if_absent(product, deps.clock())


def pay(deps: Deps, clock, buyer: str, product: str, day: date, hour: int = 12) -> None:
    clock.at = at(day, hour)
    paid_order(deps, buyer, product)


def nightly(deps: Deps, clock, day: date) -> dict:
    """The job after ``day``: its figures as stored."""
    clock.at = at(day + timedelta(days=1), 1)
    run_job("compute_metrics", clock(), deps)
    stored = deps.analytics.stored_cycles(day)
    assert stored is not None and stored["as_of"] == day.isoformat()
    return stored


def by_category(figures: dict) -> dict[str, tuple]:
    return {c["category"]: (c["median_days"], c["repurchases"], c["seed_days"], c["lag_days"])
            for c in figures["categories"]}


def test_the_job_stores_each_categorys_median_gap_beside_the_seed_most_lagging_first(deps, clock, shop):
    clock.at = at(DAY0)
    ann, bo = login(deps, "ann"), login(deps, "bo")
    plan = [(ann, "p-mask", 0), (ann, "p-tea", 0), (bo, "p-serum", 0),
            (ann, "p-mask", 30), (ann, "p-serum", 30),  # a second beauty order the same day: one repurchase
            (bo, "p-mask", 40),
            (ann, "p-mask", 50),
            (ann, "p-tea", 100)]
    for buyer, product, offset in plan:
        pay(deps, clock, buyer, product, DAY0 + timedelta(days=offset))
        nightly(deps, clock, DAY0 + timedelta(days=offset))
    figures = nightly(deps, clock, DAY0 + timedelta(days=100))
    assert figures["window_days"] == 180
    assert by_category(figures) == {"food": (100, 1, 90, 10), "beauty": (30, 3, 30, 0),
                                    "appliance": (None, 0, 180, None)}
    assert [c["category"] for c in figures["categories"]] == ["food", "beauty", "appliance"]


def test_gaps_older_than_the_window_leave_the_median(deps, clock, shop):
    clock.at = at(DAY0)
    ann = login(deps, "ann")
    for offset in (0, 10, 200):
        pay(deps, clock, ann, "p-mask", DAY0 + timedelta(days=offset))
        nightly(deps, clock, DAY0 + timedelta(days=offset))
    # the window (180 days ending with day 200) starts on day 21: the 10-day gap of day 10 is out
    assert by_category(nightly(deps, clock, DAY0 + timedelta(days=200)))["beauty"] == (190, 1, 30, 160)


def test_a_missed_night_is_summarised_by_the_next_run(deps, clock, shop):
    clock.at = at(DAY0)
    ann = login(deps, "ann")
    pay(deps, clock, ann, "p-mask", DAY0)
    nightly(deps, clock, DAY0)
    pay(deps, clock, ann, "p-mask", DAY0 + timedelta(days=20))  # no run that night
    pay(deps, clock, ann, "p-mask", DAY0 + timedelta(days=23))
    assert by_category(nightly(deps, clock, DAY0 + timedelta(days=23)))["beauty"] == (11, 2, 30, -19)


def test_a_rerun_replaces_the_days_summary_and_counts_nothing_twice(deps, clock, shop):
    clock.at = at(DAY0)
    ann = login(deps, "ann")
    pay(deps, clock, ann, "p-mask", DAY0)
    pay(deps, clock, ann, "p-mask", DAY0 + timedelta(days=30))
    nightly(deps, clock, DAY0 + timedelta(days=30))
    assert by_category(nightly(deps, clock, DAY0 + timedelta(days=30)))["beauty"] == (30, 1, 30, 0)


def test_today_is_answered_live_from_the_counters_before_any_run(deps, clock, shop):
    clock.at = at(DAY0)
    ann = login(deps, "ann")
    pay(deps, clock, ann, "p-tea", DAY0)
    pay(deps, clock, ann, "p-tea", DAY0 + timedelta(days=95))
    today = DAY0 + timedelta(days=95)
    assert deps.analytics.stored_cycles(today) is None
    figures = repurchase.cycles_as_of(today, deps)
    assert figures is not None and figures["as_of"] == today.isoformat()
    assert by_category(figures)["food"] == (95, 1, 90, 5)


def test_a_past_range_gets_the_latest_figures_stored_before_it(deps, clock, shop):
    clock.at = at(DAY0)
    ann = login(deps, "ann")
    pay(deps, clock, ann, "p-mask", DAY0)
    pay(deps, clock, ann, "p-mask", DAY0 + timedelta(days=25))
    nightly(deps, clock, DAY0 + timedelta(days=25))
    clock.at = at(DAY0 + timedelta(days=60))
    figures = repurchase.cycles_as_of(DAY0 + timedelta(days=40), deps)
    assert figures is not None and figures["as_of"] == (DAY0 + timedelta(days=25)).isoformat()
    assert repurchase.cycles_as_of(DAY0 - timedelta(days=1), deps) is None


def test_the_seed_cycles_and_window_come_from_the_rules(deps, clock, shop, monkeypatch):
    from chalicelib.config import RepurchaseRules

    rules = deps.rules.model_copy(update={"repurchase": RepurchaseRules(window_days=30, seed_cycle_days={"beauty": 7})})
    monkeypatch.setattr(type(deps), "rules", property(lambda self: rules))
    clock.at = at(DAY0)
    ann = login(deps, "ann")
    pay(deps, clock, ann, "p-mask", DAY0)
    pay(deps, clock, ann, "p-mask", DAY0 + timedelta(days=20))
    figures = nightly(deps, clock, DAY0 + timedelta(days=20))
    assert figures["window_days"] == 30
    assert by_category(figures) == {"beauty": (20, 1, 7, 13)}

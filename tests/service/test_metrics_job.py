"""The compute_metrics job on moto: one stored row per day, windows carried from run to run (and
rebuilt when a run was missed), late events included the next night, EMF named from the
catalogue, live rows for today and yesterday."""
from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from chalicelib.bootstrap import Deps
from chalicelib.domain.activity import Event, EventType
from chalicelib.domain.clock import SHANGHAI
from chalicelib.domain.metric_catalog import DAY_METRICS, PRODUCT_METRICS
from chalicelib.jobs import run_job
from chalicelib.services import events, facts, metrics
from chalicelib.store.analytics import AnalyticsItem

DAY = date(2026, 11, 10)


def at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI).astimezone(UTC)


def visit(deps: Deps, clock, user: str, day: date, hour: int = 12) -> None:
    clock.at = at(day, hour)
    events.record_events(user, [Event(EventType.PAGE_VIEW, f"s-{user}-{day}", at(day, 12), "/")], deps)


def run(deps: Deps, clock, day: date) -> dict:
    clock.at = at(day + timedelta(days=1), 1)
    run_job("compute_metrics", clock(), deps)
    return deps.analytics.rows(day, day)[0]


def test_each_run_reads_the_window_the_run_before_stored(deps, clock, monkeypatch):
    facts.user_registered(deps, "u1", at(DAY - timedelta(days=1), 9))
    run(deps, clock, DAY - timedelta(days=1))  # the first run: rebuilds from the counters
    rebuilt = []
    monkeypatch.setattr(metrics, "rebuilt_window", lambda day, d: rebuilt.append(day))
    facts.user_registered(deps, "u2", at(DAY, 9))
    run(deps, clock, DAY)
    row = run(deps, clock, DAY + timedelta(days=1))
    assert rebuilt == []
    assert row["new_users"] == 0 and row["new_user_conversion_bp"] == 0  # 2 registered, none paid
    stored = {i.sk: json.loads(i.data) for i in AnalyticsItem.query("metrics", AnalyticsItem.sk.startswith("win#"))}
    assert sorted(stored) == [f"win#2026-11-{d}" for d in ("08", "09", "10", "11")]
    assert stored["win#2026-11-11"]["new_users"] == [0, 0, 0, 0, 1, 1, 0]


def test_a_missed_night_is_rebuilt_from_the_counters_and_gives_the_same_row(deps, clock):
    for offset, user in ((0, "a"), (1, "b"), (3, "c")):
        facts.user_registered(deps, user, at(DAY + timedelta(days=offset), 9))
        visit(deps, clock, user, DAY + timedelta(days=offset))
    run(deps, clock, DAY)
    row = run(deps, clock, DAY + timedelta(days=3))  # nights of days 1 and 2 missed
    assert row["new_users"] == 1 and row["visitors"] == 1
    steady = run(deps, clock, DAY + timedelta(days=4))
    assert steady["new_users"] == 0
    # the 7-day window ending day 4 still holds the 3 registrations (none paid)
    facts.order_paid(deps, _order("b", at(DAY + timedelta(days=5), 10)), [], at(DAY + timedelta(days=5), 10))
    assert run(deps, clock, DAY + timedelta(days=5))["new_user_conversion_bp"] == 3_333  # b of a, b, c


def test_an_event_arriving_after_its_nights_run_counts_in_the_next_nights_window(deps, clock):
    visit(deps, clock, "early", DAY)
    facts.order_paid(deps, _order("early", at(DAY, 13)), [], at(DAY, 13))
    run(deps, clock, DAY)  # day 0: 1 visitor, 1 payer
    clock.at = at(DAY + timedelta(days=1), 9)  # 09:00 the next day: a late event of day 0
    events.record_events("late", [Event(EventType.PAGE_VIEW, "s-late", at(DAY, 23), "/")], deps)
    row = run(deps, clock, DAY + timedelta(days=1))
    # day 1 has no visitor: 0 minus the mean of the days before with visitors (day 0: 1 payer / 2 visitors)
    assert row["conversion_vs_7day_mean_bp"] == -5_000


def _order(buyer: str, paid_at: datetime):
    from chalicelib.domain.orders import Line, Order, OrderStatus

    line = Line("p1", "面膜", 1, 5_000, 1_500, 2_000, 500)
    return Order(f"o-{buyer}-{paid_at:%d%H}", buyer, OrderStatus.PAID, [line], 5_000, paid_at, paid_at,
                 paid_at=paid_at)


def test_the_row_is_published_as_emf_with_the_catalogues_names(capsys):
    day = date(2026, 11, 23)
    row = {"date": day.isoformat(), **dict.fromkeys(DAY_METRICS, 1),
           "products": [{"product_id": "p1", "name": "面膜", **dict.fromkeys(PRODUCT_METRICS, 2),
                         "inventory_turnover_days": None}]}
    emitted = metrics.publish(row, lambda: at(day + timedelta(days=1), 1))
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    names = {m["Name"] for line in lines for d in line["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]}
    assert names == set(DAY_METRICS) | set(PRODUCT_METRICS) - {"inventory_turnover_days"}
    assert emitted == len(DAY_METRICS) + len(PRODUCT_METRICS) - 1
    assert {line["_aws"]["Timestamp"] for line in lines} == {int(at(day, 12).timestamp() * 1000)}
    assert [line.get("product_id") for line in lines] == [None, "p1"]
    assert metrics.publish(row, lambda: at(day + timedelta(days=20), 1)) == 0  # too old for CloudWatch


@pytest.mark.parametrize("stored", [True, False])
def test_the_board_gets_stored_rows_and_live_rows_for_today_and_yesterday(deps, clock, stored):
    visit(deps, clock, "x", DAY - timedelta(days=3))
    if stored:
        run(deps, clock, DAY - timedelta(days=3))
    visit(deps, clock, "y", DAY)
    rows = metrics.metrics_rows(DAY - timedelta(days=5), DAY, deps)
    expected = (["2026-11-07"] if stored else []) + ["2026-11-09", "2026-11-10"]
    assert [r["date"] for r in rows] == expected
    assert rows[-1]["visitors"] == 1


def test_product_ids_no_product_has_stay_out_of_the_row(deps, clock):
    from chalicelib.domain.catalog import Product

    deps.products.put_if_absent(Product("p1", "面膜", "beauty", 1_500, 5_000, 50, 2_000, 500), clock())
    clock.at = at(DAY, 12)
    events.record_events("u", [Event(EventType.PRODUCT_VIEW, "s", at(DAY, 12), product_id=p)
                               for p in ("p1", "made-up-1", "made-up-2")], deps)
    row = run(deps, clock, DAY)
    assert [p["product_id"] for p in row["products"]] == ["p1"] and row["product_views"] == 3

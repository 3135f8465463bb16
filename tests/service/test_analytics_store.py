"""The analytics store on moto: counted once per marker, sharded counters summed, state items
conditioned on their version, baskets and rows read back."""
from __future__ import annotations

from datetime import UTC, date, datetime

from chalicelib.bootstrap import Deps
from chalicelib.store.analytics import (
    DAY_COUNTERS,
    DAY_SHARDS,
    AnalyticsItem,
    StateChange,
    Tally,
    Write,
    basket_item,
    buyer_key,
    day_key,
    fact_key,
)

DAY = date(2026, 11, 10)
NOW = datetime(2026, 11, 10, 4, 0, tzinfo=UTC)


def counted(n: int, marker: str) -> Write:
    tally = Tally()
    tally.add(DAY, "orders", n)
    tally.add_product(DAY, "p1", "units", n)
    return Write(markers=((fact_key("paid", marker), NOW),), tally=tally)


def test_a_write_counts_once_and_a_replay_is_refused_as_a_duplicate(deps: Deps):
    assert deps.analytics.write(counted(2, "o1")) is None
    refused = deps.analytics.write(counted(2, "o1"))
    assert refused is not None and refused.duplicates == {0} and not refused.conflict
    assert deps.analytics.day_counts([DAY])[DAY]["orders"] == 2
    assert deps.analytics.product_day_counts(DAY)["p1"].units == 2


def test_counters_spread_over_shards_add_up_and_every_counter_is_reported(deps: Deps):
    for i in range(20):
        assert deps.analytics.write(counted(1, f"o{i}")) is None
    counts = deps.analytics.day_counts([DAY, date(2026, 11, 9)])
    assert counts[DAY]["orders"] == 20 and set(counts[DAY]) == set(DAY_COUNTERS)
    assert counts[date(2026, 11, 9)] == dict.fromkeys(DAY_COUNTERS, 0)
    assert sum(1 for s in range(DAY_SHARDS) for _ in AnalyticsItem.query(day_key(DAY, s)[0])) > 1  # sharded
    assert deps.analytics.product_day_counts(DAY)["p1"].units == 20


def test_a_state_change_is_refused_when_the_item_changed_since_it_was_read(deps: Deps):
    seen = deps.analytics.states([buyer_key("u1")])[buyer_key("u1")]
    assert seen.v == 0
    assert deps.analytics.write(Write(changes=(StateChange(seen, {"pay_day": "2026-11-10", "pay_n": 1}),))) is None
    refused = deps.analytics.write(Write(changes=(StateChange(seen, {"pay_day": "2026-11-10", "pay_n": 1}),)))
    assert refused is not None and refused.stale
    now = deps.analytics.states([buyer_key("u1")])[buyer_key("u1")]
    assert now.v == 1 and now.get("pay_n") == 1 and now.get("pay_day") == "2026-11-10"


def test_baskets_and_rows_read_back(deps: Deps):
    assert deps.analytics.write(Write(puts=(basket_item(DAY, "o1", "u1", [("p1", 2), ("p2", 1)], NOW),))) is None
    assert [(b.order_id, b.buyer_id, b.items) for b in deps.analytics.baskets(DAY)] == \
        [("o1", "u1", (("p1", 2), ("p2", 1)))]
    for day in (date(2026, 11, 9), DAY, date(2026, 11, 11)):
        deps.analytics.save_row(day, {"date": day.isoformat(), "orders": day.day})
    assert [r["orders"] for r in deps.analytics.rows(date(2026, 11, 10), date(2026, 11, 30))] == [10, 11]

"""The demo mall of ``make dev`` (issue 17) on DynamoDB Local, the whole month as ``make dev``
walks it: distributors at every tier with their teams (the seniors on their own figures), orders
in every state on each of the 30 days, a metric row a day, settled commissions and paid
withdrawals, something in each of the operator's queues, the operator's steps in the audit log;
and once: a second run changes nothing."""
from __future__ import annotations

import contextlib
import io
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.bootstrap import Deps, set_default_deps
from chalicelib.domain.after_sales import CaseStatus
from chalicelib.domain.clock import business_date
from chalicelib.domain.orders import Order, OrderStatus
from chalicelib.domain.tiers import Tier
from chalicelib.domain.withdrawals import WithdrawalStatus
from chalicelib.jobs.demo_mall import CAST, CONVERSATIONS, DAYS, FINAL_FREEZE, PARTNER, SENIOR, seed_demo_mall
from chalicelib.services import (
    after_sales,
    audit_log,
    distributors,
    fulfilment,
    moderation,
    settings,
    support,
    withdrawals,
)
from chalicelib.services.demo import seed_demo
from chalicelib.store.users import user_id_for

NOW = datetime(2026, 12, 6, 16, 40, tzinfo=UTC)  # 00:40 in Shanghai: the walk ends the day before
YESTERDAY = business_date(NOW) - timedelta(days=1)


@pytest.fixture(scope="module")
def walked(private_tables: None) -> Iterator[tuple[Deps, dict[str, Any]]]:
    """One walk for the module (two minutes of a loaded machine)."""
    deps = Deps(clock=lambda: NOW)
    seed_demo(deps)
    with contextlib.redirect_stdout(io.StringIO()):  # the metric lines (EMF) of 30 days
        result = seed_demo_mall(deps)
    set_default_deps(deps)
    yield deps, result
    set_default_deps(None)


def all_orders(deps: Deps) -> list[Order]:
    found: list[Order] = []
    cursor = None
    while True:
        page, cursor = fulfilment.list_orders(fulfilment.OrderFilter(start=YESTERDAY - timedelta(days=DAYS)), 100,
                                              cursor, deps)
        found += page
        if cursor is None:
            return found


def test_distributors_at_every_tier_with_teams_and_wallets(walked: tuple[Deps, dict[str, Any]]) -> None:
    deps, _ = walked
    listed, _ = distributors.distributors(distributors.Filters(), 50, None, deps)
    by_name = {d.user.nickname: d for d in listed}
    assert {s.name for s in CAST} <= set(by_name)
    assert Counter(d.user.tier for d in listed) == {Tier.PARTNER: 1, Tier.SENIOR: 2, Tier.REGULAR: len(listed) - 3}
    assert by_name[PARTNER].user.manual_tier is Tier.PARTNER
    seniors = [d.user for d in listed if d.user.tier is Tier.SENIOR]
    assert all(u.manual_tier is None and u.member.direct_count >= 10 for u in seniors)  # on their own figures
    assert by_name[PARTNER].user.member.team_count >= 30  # two levels
    assert by_name["liu.fang"].user.member.grandparent_id == by_name[PARTNER].user.user_id
    assert [d.user.nickname for d in listed if d.user.frozen] == [FINAL_FREEZE]
    assert all(d.wallet["withdrawn"] > 0 for d in listed if d.user.nickname in ("chen.siyuan", "wang.kexin"))


def test_thirty_days_of_orders_in_every_state(walked: tuple[Deps, dict[str, Any]]) -> None:
    deps, result = walked
    found = all_orders(deps)
    assert len(found) == result["orders"] >= 200
    statuses = Counter(o.status for o in found)
    assert set(statuses) == {OrderStatus.COMPLETED, OrderStatus.SHIPPED, OrderStatus.PAID, OrderStatus.REFUNDED,
                             OrderStatus.CANCELLED}
    assert statuses[OrderStatus.REFUNDED] == result["refunded"] > 0
    assert {business_date(o.created_at) for o in found} == {YESTERDAY - timedelta(days=i) for i in range(DAYS)}
    assert {business_date(o.created_at) for o in found if o.status is OrderStatus.PAID} == {YESTERDAY}


def test_a_metric_row_a_day_and_the_operators_queues(walked: tuple[Deps, dict[str, Any]]) -> None:
    deps, _ = walked
    rows = deps.analytics.rows(YESTERDAY - timedelta(days=DAYS - 1), YESTERDAY)
    assert len(rows) == DAYS
    assert all(r["gmv_fen"] > 0 and r["visitors"] > 0 and r["orders"] > 0 for r in rows)
    assert sum(r["commission_settled_fen"] for r in rows) > 0 and sum(r["withdrawn_fen"] for r in rows) > 0
    queue, _ = withdrawals.review_queue(50, None, deps)
    assert [w.status for w in queue] == [WithdrawalStatus.REVIEWING]
    assert len(moderation.pending_reviews(50, None, deps)[0]) == 1  # the material held for review
    assert settings.current(deps).version == 2  # the mid-month rate change
    first, last = (YESTERDAY - timedelta(days=DAYS)).isoformat(), business_date(NOW).isoformat()
    for action in ("order.ship", "withdrawal.approve", "withdrawal.reject", "settings.update", "user.tier",
                   "user.freeze", "material.create"):
        assert audit_log.entries(None, action, first, last, 1, None, deps)[0], action


def test_after_sales_cases_in_the_queue_awaiting_a_return_and_refunded(walked: tuple[Deps, dict[str, Any]]) -> None:
    deps, result = walked
    found = {s: after_sales.queue(s, 10, None, deps)[0] for s in CaseStatus}
    assert {s: len(cases) for s, cases in found.items() if cases} == {
        CaseStatus.REQUESTED: 1, CaseStatus.AWAITING_RETURN: 1, CaseStatus.REFUNDED: 1} and result["after_sales"] == 3
    assert all(not c.photos and c.reason for cases in found.values() for c in cases)
    refunded = deps.orders.get(found[CaseStatus.REFUNDED][0].order_id)
    assert refunded is not None and refunded.status is not OrderStatus.REFUNDED and refunded.refunded_fen > 0
    first, last = (YESTERDAY - timedelta(days=DAYS)).isoformat(), business_date(NOW).isoformat()
    assert len(audit_log.entries(None, "after_sales.approve", first, last, 10, None, deps)[0]) == 2


def test_customers_wrote_to_customer_service_and_the_senior_distributor_waits_first(
        walked: tuple[Deps, dict[str, Any]]) -> None:
    deps, result = walked
    assert result["conversations"] == len(CONVERSATIONS) == 3
    queue, _ = support.queue(10, None, deps)
    assert [(r.conversation.user_id, r.user.tier if r.user else None) for r in queue] == [
        (user_id_for(f"dev:{SENIOR}"), Tier.SENIOR), (user_id_for("dev:xiaomei.chen"), Tier.REGULAR)]
    everything, _ = support.conversations(10, None, deps)
    assert len(everything) == 3
    answered = support.conversation(user_id_for("dev:ahua.wang"), 10, None, deps)
    assert [m.sender.value for m in answered.messages] == ["operator", "user"]  # newest first
    assert deps.customer_service.sent("dev:ahua.wang")  # type: ignore[attr-defined]  # through the simulator


def test_a_second_run_changes_nothing(walked: tuple[Deps, dict[str, Any]]) -> None:
    deps, _ = walked
    before = sorted((o.order_id, o.status) for o in all_orders(deps))
    cases = after_sales.queue(None, 50, None, deps)[0]
    talks = [(r.conversation, support.conversation(r.conversation.user_id, 50, None, deps).messages)
             for r in support.conversations(50, None, deps)[0]]
    assert seed_demo_mall(deps) == {"skipped": "the demo mall is seeded already"}
    assert sorted((o.order_id, o.status) for o in all_orders(deps)) == before
    assert after_sales.queue(None, 50, None, deps)[0] == cases
    assert [(r.conversation, support.conversation(r.conversation.user_id, 50, None, deps).messages)
            for r in support.conversations(50, None, deps)[0]] == talks

"""Group-buy under concurrency, on DynamoDB Local: seats, last payments, expiry."""
from __future__ import annotations

import uuid
from collections import Counter

import pytest

from chalicelib.bootstrap import Deps
from chalicelib.domain.catalog import GroupBuy, Product
from chalicelib.services import groups, payments
from tests import order_jobs
from tests.race.concurrency import login, race

pytestmark = pytest.mark.race


def new_product(deps: Deps, stock: int) -> str:
    product_id = f"p{uuid.uuid4().hex[:10]}"
    deps.products.put_if_absent(Product(product_id, "坚果", "food", 2_000, 5_000, stock, 1_600, 500, GroupBuy()),
                                deps.clock())
    return product_id


def join(deps: Deps, user: str, group_id: str) -> str:
    return groups.join_group(user, group_id, {}, uuid.uuid4().hex, deps).order.order_id


def pay(deps: Deps, order_id: str) -> str:
    order = deps.orders.get(order_id)
    assert order is not None
    headers, body = deps.pay.build_payment_notification(order_id, deps.clock(),  # type: ignore[attr-defined]
                                                        amount_fen=order.amount_fen)
    return payments.handle_notification(headers, body, deps).outcome


def refund_numbers(deps: Deps, order_id: str) -> list[str]:
    return sorted(deps.pay._orders[order_id].refunds)  # type: ignore[attr-defined]


def test_a_leader_and_twelve_racing_joiners_never_make_more_than_three_paid_members(deps):
    product_id = new_product(deps, stock=50)
    leader = login(deps, "leader")
    opened = groups.open_group(leader, product_id, {"product_id": product_id}, uuid.uuid4().hex, deps)
    gid = opened.group.group_id
    joiners = [login(deps, "j") for _ in range(12)]
    outcomes = race([lambda u=u: join(deps, u, gid) for u in joiners])
    seated = [o for o in outcomes if o.startswith("o")]
    assert Counter("JOINED" if o in seated else o for o in outcomes) == {"JOINED": 2, "GROUP_FULL": 10}
    # one seated joiner misses the payment deadline: the job cancels the order and frees the seat
    lapsed = deps.orders.get(seated[0])
    assert lapsed is not None
    deps.orders.cancel(lapsed, lapsed.pay_deadline)
    refused = [u for u, o in zip(joiners, outcomes, strict=True) if o == "GROUP_FULL"]
    again = race([lambda u=u: join(deps, u, gid) for u in refused])
    assert Counter("JOINED" if o.startswith("o") else o for o in again) == {"JOINED": 1, "GROUP_FULL": 9}
    holders = [opened.order.order_id, seated[1], next(o for o in again if o.startswith("o"))]
    # everyone who ever held a seat pays at once, the lapsed one too
    paid = race([lambda o=o: pay(deps, o) for o in [*holders, lapsed.order_id]])
    assert paid == ["paid", "paid", "paid", "refunded_late"]
    assert refund_numbers(deps, lapsed.order_id) == [f"{lapsed.order_id}L"]
    group = groups.get_group(gid, deps)
    assert (group.status.value, group.paid_count, len(group.members())) == ("complete", 3, 3)
    assert {seat.order_id for _, seat in group.members()} == set(holders)
    assert deps.products.get(product_id).stock == 47


def test_two_last_payments_at_once_complete_the_group_once(deps):
    product_id = new_product(deps, stock=10)
    opened = groups.open_group(login(deps, "leader"), product_id, {"product_id": product_id}, uuid.uuid4().hex,
                               deps)
    gid = opened.group.group_id
    last = [join(deps, login(deps, "m"), gid) for _ in range(2)]
    assert pay(deps, opened.order.order_id) == "paid"
    assert race([lambda o=o: pay(deps, o) for o in last]) == ["paid", "paid"]
    group = groups.get_group(gid, deps)
    assert (group.status.value, group.paid_count) == ("complete", 3)
    assert race([lambda o=o: pay(deps, o) for o in last]) == ["already_paid", "already_paid"]
    assert groups.get_group(gid, deps).paid_count == 3


def test_the_expiry_job_run_twice_at_once_refunds_each_paid_member_once(deps):
    product_id = new_product(deps, stock=10)
    opened = groups.open_group(login(deps, "leader"), product_id, {"product_id": product_id}, uuid.uuid4().hex,
                               deps)
    gid = opened.group.group_id
    member = join(deps, login(deps, "m"), gid)
    assert [pay(deps, o) for o in (opened.order.order_id, member)] == ["paid", "paid"]
    late = opened.group.expires_at
    summaries = race([lambda: order_jobs.expire_groups(late, deps) for _ in range(3)])
    assert sum(s["failed"] for s in summaries) == 1
    assert groups.get_group(gid, deps).status.value == "failed"
    for order_id in (opened.order.order_id, member):
        assert deps.orders.get(order_id).status.value == "refunded"
        assert refund_numbers(deps, order_id) == [f"{order_id}R"]
    assert deps.products.get(product_id).stock == 10
    assert order_jobs.expire_groups(late, deps) == {"failed": 0, "refunded": 0, "cancelled": 0}


def test_a_payment_racing_the_expiry_job_is_refunded_either_way(deps):
    product_id = new_product(deps, stock=10)
    opened = groups.open_group(login(deps, "leader"), product_id, {"product_id": product_id}, uuid.uuid4().hex,
                               deps)
    gid = opened.group.group_id
    member = join(deps, login(deps, "m"), gid)
    assert pay(deps, opened.order.order_id) == "paid"
    outcomes = race([lambda: pay(deps, member), lambda: order_jobs.expire_groups(opened.group.expires_at, deps)])
    order_jobs.expire_groups(opened.group.expires_at, deps)  # a later run winds up whatever the race left
    assert groups.get_group(gid, deps).status.value == "failed"
    final = deps.orders.get(member)
    assert (final.status.value, outcomes[0]) in {("refunded", "paid"), ("cancelled", "refunded_late")}
    assert refund_numbers(deps, member) == [f"{member}{'R' if outcomes[0] == 'paid' else 'L'}"]
    assert deps.orders.get(opened.order.order_id).status.value == "refunded"
    assert deps.products.get(product_id).stock == 10

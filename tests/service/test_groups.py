"""Group-buy use cases on moto: seats, completion, released seats, expiry and its idempotency."""
from __future__ import annotations

import uuid

import pytest

from chalicelib.bootstrap import Deps
from chalicelib.domain.catalog import GroupBuy, Product
from chalicelib.domain.errors import DomainError
from chalicelib.services import auth, groups, orders, payments, referrals, shops
from chalicelib.services.sessions import Caller
from tests import order_jobs


def login(deps: Deps, name: str) -> str:
    return auth.login(f"dev:{name}", deps).user.user_id


@pytest.fixture
def product(deps: Deps) -> str:
    deps.products.put_if_absent(Product("pg", "坚果", "food", 2_000, 5_000, 10, 1_600, 500, GroupBuy()), deps.clock())
    return "pg"


def open_(deps: Deps, user: str, product: str = "pg") -> groups.GroupCheckout:
    return groups.open_group(user, product, {"product_id": product}, uuid.uuid4().hex, deps)


def join(deps: Deps, user: str, group_id: str) -> groups.GroupCheckout:
    return groups.join_group(user, group_id, {}, uuid.uuid4().hex, deps)


def pay(deps: Deps, order_id: str) -> str:
    order = deps.orders.get(order_id)
    headers, raw = deps.pay.build_payment_notification(order_id, deps.clock(), amount_fen=order.amount_fen)
    return payments.handle_notification(headers, raw, deps).outcome


def refunds(deps: Deps, order_id: str) -> list[str]:
    return sorted(deps.pay._orders[order_id].refunds)


def code(call) -> str:
    with pytest.raises(DomainError) as caught:
        call()
    return caught.value.code


def test_three_paid_members_complete_the_group_and_a_fourth_is_refused(deps, product):
    seller = login(deps, "seller")
    invite = shops.open_shop(seller, "seller shop", deps).invite_code
    leader, a, b, d = (login(deps, n) for n in ("leader", "a", "b", "d"))
    referrals.bind(a, invite, deps)
    opened = open_(deps, leader)
    assert opened.order.amount_fen == 3_500 and opened.order.kind == "group"
    gid = opened.group.group_id
    members = [opened.order.order_id, join(deps, a, gid).order.order_id, join(deps, b, gid).order.order_id]
    assert code(lambda: join(deps, d, gid)) == "GROUP_FULL"  # three seats held, none paid yet
    assert [pay(deps, o) for o in members] == ["paid", "paid", "paid"]
    group = groups.get_group(gid, deps)
    assert (group.status.value, group.paid_count, len(group.members())) == ("complete", 3, 3)
    assert code(lambda: join(deps, d, gid)) == "GROUP_CLOSED"
    assert deps.products.get(product).stock == 7
    # commission accrues on the paid group price: 16% of 3,500
    assert deps.orders.get(members[1]).commissions[0].amount_fen == 560
    assert deps.ledger.wallet(seller)["pending"] == 560


def test_a_member_cannot_join_twice_and_the_leader_cannot_join_their_own_group(deps, product):
    leader, a = login(deps, "leader"), login(deps, "a")
    gid = open_(deps, leader).group.group_id
    join(deps, a, gid)
    assert code(lambda: join(deps, a, gid)) == "ALREADY_MEMBER"
    assert code(lambda: join(deps, leader, gid)) == "ALREADY_MEMBER"
    assert code(lambda: join(deps, a, "nosuchgroup")) == "GROUP_NOT_FOUND"


def test_a_product_without_group_buy_settings_cannot_open_a_group(deps):
    deps.products.put_if_absent(Product("plain", "茶", "food", 2_000, 5_000, 10, 1_600, 500), deps.clock())
    leader = login(deps, "leader")
    assert code(lambda: open_(deps, leader, "plain")) == "NOT_A_GROUP_PRODUCT"
    assert code(lambda: open_(deps, leader, "nosuch")) == "PRODUCT_NOT_FOUND"


def test_open_and_join_are_idempotent_per_key(deps, product):
    leader, a = login(deps, "leader"), login(deps, "a")
    first = groups.open_group(leader, product, {"product_id": product}, "k1", deps)
    again = groups.open_group(leader, product, {"product_id": product}, "k1", deps)
    assert (again.order.order_id, again.group.group_id, again.replayed) == (first.order.order_id,
                                                                            first.group.group_id, True)
    gid = first.group.group_id
    joined = groups.join_group(a, gid, {}, "k2", deps)
    assert groups.join_group(a, gid, {}, "k2", deps).order.order_id == joined.order.order_id
    assert code(lambda: groups.join_group(leader, gid, {}, "k1", deps)) == "IDEMPOTENCY_KEY_REUSED"
    assert deps.products.get(product).stock == 8


def test_an_unpaid_seat_is_released_at_the_payment_deadline_and_its_late_payment_refunded(deps, clock, product):
    leader, a, b = login(deps, "leader"), login(deps, "a"), login(deps, "b")
    gid = open_(deps, leader).group.group_id
    late = join(deps, a, gid).order
    join(deps, b, gid)
    clock.advance(minutes=16)
    assert order_jobs.cancel_unpaid(clock(), deps) == {"cancelled": 3}
    group = groups.get_group(gid, deps)
    assert (group.status.value, group.held_count) == ("open", 0)
    assert deps.products.get(product).stock == 10
    rejoined = join(deps, a, gid).order  # a released seat may be taken again
    assert pay(deps, late.order_id) == "refunded_late"
    assert refunds(deps, late.order_id) == [f"{late.order_id}L"]
    assert pay(deps, rejoined.order_id) == "paid"
    assert groups.get_group(gid, deps).paid_count == 1


def test_a_paid_group_order_ships_only_once_the_group_is_complete(deps, product):
    leader, a, b = login(deps, "leader"), login(deps, "a"), login(deps, "b")
    opened = open_(deps, leader)
    gid = opened.group.group_id
    pay(deps, opened.order.order_id)
    assert code(lambda: orders.ship(opened.order.order_id, "SF", "SF123456", deps)) == "GROUP_NOT_COMPLETE"
    caller = Caller(leader, "user")
    assert code(lambda: orders.refund(opened.order.order_id, caller, "changed mind", deps)) == "GROUP_NOT_COMPLETE"
    for user in (a, b):
        pay(deps, join(deps, user, gid).order.order_id)
    assert orders.ship(opened.order.order_id, "SF", "SF123456", deps).status.value == "shipped"


def test_an_expired_group_fails_refunds_its_paid_members_and_returns_stock_once(deps, clock, product):
    seller = login(deps, "seller")
    invite = shops.open_shop(seller, "seller shop", deps).invite_code
    leader, a, b = login(deps, "leader"), login(deps, "a"), login(deps, "b")
    referrals.bind(a, invite, deps)
    opened = open_(deps, leader)
    gid = opened.group.group_id
    paid = [opened.order.order_id, join(deps, a, gid).order.order_id]
    assert [pay(deps, o) for o in paid] == ["paid", "paid"]
    assert deps.ledger.wallet(seller)["pending"] == 560
    clock.advance(hours=23, minutes=50)
    unpaid = join(deps, b, gid).order  # joins ten minutes before the deadline
    assert unpaid.pay_deadline == opened.group.expires_at  # payable until the group's deadline, not 15 minutes
    assert order_jobs.expire_groups(clock(), deps) == {"failed": 0, "refunded": 0, "cancelled": 0}
    clock.advance(minutes=10)
    assert order_jobs.expire_groups(clock(), deps) == {"failed": 1, "refunded": 2, "cancelled": 1}
    assert groups.get_group(gid, deps).status.value == "failed"
    assert [deps.orders.get(o).status.value for o in paid] == ["refunded", "refunded"]
    assert deps.orders.get(unpaid.order_id).status.value == "cancelled"
    assert [refunds(deps, o) for o in paid] == [[f"{o}R"] for o in paid]
    assert deps.products.get(product).stock == 10
    wallet = deps.ledger.wallet(seller)
    assert (wallet["pending"], wallet["available"]) == (0, 0)
    assert [c.status.value for c in deps.ledger.commissions_of_order(paid[1], [(seller, 1)])] == ["reversed"]
    # run again, and late: nothing more
    assert order_jobs.expire_groups(clock(), deps) == {"failed": 0, "refunded": 0, "cancelled": 0}
    clock.advance(days=3)
    assert order_jobs.expire_groups(clock(), deps) == {"failed": 0, "refunded": 0, "cancelled": 0}
    assert [refunds(deps, o) for o in paid] == [[f"{o}R"] for o in paid]
    assert deps.products.get(product).stock == 10
    assert code(lambda: join(deps, login(deps, "c"), gid)) == "GROUP_CLOSED"


def test_a_payment_arriving_after_the_group_failed_is_refunded_and_its_order_cancelled(deps, clock, product):
    leader = login(deps, "leader")
    opened = open_(deps, leader)
    gid = opened.group.group_id
    clock.advance(hours=24)
    order = deps.orders.get(opened.order.order_id)
    assert deps.groups.fail(gid)  # the job failed the group but has not reached this order yet
    headers, raw = deps.pay.build_payment_notification(order.order_id, clock(), amount_fen=order.amount_fen)
    assert payments.handle_notification(headers, raw, deps).outcome == "refunded_late"
    assert deps.orders.get(order.order_id).status.value == "cancelled"
    assert refunds(deps, order.order_id) == [f"{order.order_id}L"]
    assert deps.products.get(product).stock == 10
    assert order_jobs.expire_groups(clock(), deps) == {"failed": 0, "refunded": 0, "cancelled": 0}

"""A fault at every DynamoDB call of checkout, payment, group join and completion, settlement and
withdrawal, on DynamoDB Local; the recovered state must equal a fault-free run's.

For each case (``tests/faults.py``): set up fault-free, save every table, run the operation once
fault-free counting its DynamoDB calls, then its recovery (the same request again with the same
Idempotency-Key, the same notification redelivered, the next job run), and keep the result as the
expectation. Then for every call index and every fault (throttling, a cancelled transaction, a
timeout after the call succeeded, a crash before the call, a crash after the last one): restore
the saved tables, run the operation with that fault, run the recovery, and compare every table
with the expectation (timestamps left out, generated ids labelled by what identifies them). The
calls are whatever the code makes, counted on the botocore clients, so "every call" stays true
when the code changes.

The module has tables of its own on the session's DynamoDB Local (the models' table names with a
suffix, created and dropped here), so that a test can save and restore whole tables; a fixed clock.
"""
from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bench.settlement import seed_frozen
from chalicelib.bootstrap import Deps
from chalicelib.domain.catalog import GroupBuy, Product
from chalicelib.domain.errors import DomainError
from chalicelib.jobs.engine import Deadline
from chalicelib.services import groups, orders, payments, referrals, settlement, withdrawals
from chalicelib.services.sessions import Caller
from tests.faults import Case, restore, run_with_faults
from tests.service.test_orders import ADDRESS, distributor, login
from tests.service.test_withdrawals import verified

pytestmark = pytest.mark.race

NOW = datetime(2026, 11, 10, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai
KEY = "fault-key-0001"


@pytest.fixture
def deps(private_tables: None) -> Deps:
    """The app's adapters over this module's tables, emptied, with a fixed clock."""
    restore({})
    return Deps(clock=lambda: NOW)


def new_product(deps: Deps, group_buy: bool = False) -> str:
    product_id = f"p{uuid.uuid4().hex[:8]}"
    deps.products.put_if_absent(Product(product_id, "面膜", "beauty", 1_500, 5_000, 20, 2_000, 500,
                                        GroupBuy() if group_buy else None), deps.clock())
    return product_id


def bound_buyer(deps: Deps, name: str) -> str:
    """A buyer under a local distributor who is under a regional one (two payees)."""
    _, regional_code = distributor(deps, f"{name}-regional")
    local, local_code = distributor(deps, f"{name}-local")
    referrals.bind(local, regional_code, deps)
    buyer = login(deps, name)
    referrals.bind(buyer, local_code, deps)
    return buyer


def notification(deps: Deps, order_id: str) -> tuple[dict[str, str], bytes]:
    order = deps.orders.get(order_id)
    assert order is not None
    return deps.pay.build_payment_notification(order_id, deps.clock(), amount_fen=order.amount_fen)  # type: ignore[attr-defined]


def deliver(deps: Deps, note: tuple[dict[str, str], bytes]) -> str:
    return payments.handle_notification(note[0], note[1], deps).outcome


# Checkout --------------------------------------------------------------------------------------

def checkout_setup(deps: Deps) -> tuple[str, str]:
    return bound_buyer(deps, "buyer"), new_product(deps)


def checkout(deps: Deps, context: tuple[str, str]) -> Any:
    buyer, product_id = context
    body = {"items": [{"product_id": product_id, "quantity": 2}], "address": ADDRESS}
    return orders.place_order(buyer, [(product_id, 2)], body, KEY, deps)


def test_a_fault_at_any_call_of_checkout_then_the_same_request_again_leaves_one_order(deps, faults):
    calls, endings = run_with_faults(Case(checkout_setup, checkout, checkout), deps, faults)
    assert calls[:2] == ["BatchGetItem", "TransactWriteItems"]
    assert endings["crashed"] == len(calls) + 1


# Payment ---------------------------------------------------------------------------------------

def payment_setup(deps: Deps) -> tuple[dict[str, str], bytes]:
    return notification(deps, checkout(deps, checkout_setup(deps)).order.order_id)


def test_a_fault_at_any_call_of_a_payment_then_the_same_notification_again_pays_once(deps, faults):
    calls, _ = run_with_faults(Case(payment_setup, deliver, deliver), deps, faults)
    assert calls[:3] == ["GetItem", "BatchGetItem", "TransactWriteItems"]


# Refund (of a paid order: stock back, both commissions reversed) ----------------------------------

def refund_setup(deps: Deps) -> tuple[str, str]:
    placed = checkout(deps, checkout_setup(deps)).order
    assert deliver(deps, notification(deps, placed.order_id)) == "paid"
    return placed.buyer_id, placed.order_id


def refund(deps: Deps, context: tuple[str, str]) -> Any:
    buyer, order_id = context
    return orders.refund(order_id, Caller(buyer, "user"), "不想要了", deps)


def test_a_fault_at_any_call_of_a_refund_then_the_same_request_again_refunds_once(deps, faults):
    calls, _ = run_with_faults(Case(refund_setup, refund, refund_again), deps, faults)
    assert "TransactWriteItems" in calls
    assert [len(o.refunds) for o in deps.pay._orders.values()] == [1]  # type: ignore[attr-defined]


def refund_again(deps: Deps, context: tuple[str, str]) -> Any:
    """The buyer asks again; an order refunded already answers as it is (409 at the API)."""
    try:
        return refund(deps, context)
    except DomainError as exc:
        return exc.code


# Group-buy: a join, and the payment that completes the group ------------------------------------

def group_setup(deps: Deps) -> tuple[str, str]:
    product_id = new_product(deps, group_buy=True)
    opened = groups.open_group(bound_buyer(deps, "leader"), product_id, {"product_id": product_id}, "open", deps)
    return opened.group.group_id, bound_buyer(deps, "member")


def join(deps: Deps, context: tuple[str, str]) -> Any:
    group_id, member = context
    return groups.join_group(member, group_id, {}, KEY, deps)


def test_a_fault_at_any_call_of_a_group_join_then_the_same_request_again_takes_one_seat(deps, faults):
    calls, _ = run_with_faults(Case(group_setup, join, join), deps, faults)
    assert calls[:2] == ["BatchGetItem", "TransactWriteItems"]


def completion_setup(deps: Deps) -> tuple[dict[str, str], bytes]:
    group_id, member = group_setup(deps)
    group = deps.groups.get(group_id)
    assert group is not None
    second = groups.join_group(member, group_id, {}, "join-1", deps).order.order_id
    last = groups.join_group(bound_buyer(deps, "last"), group_id, {}, "join-2", deps).order.order_id
    for order_id in (group.members()[0][1].order_id, second):
        assert deliver(deps, notification(deps, order_id)) == "paid"
    return notification(deps, last)


def test_a_fault_at_any_call_of_the_completing_payment_then_the_notification_again_completes_the_group_once(
        deps, faults):
    calls, _ = run_with_faults(Case(completion_setup, deliver, deliver), deps, faults)
    assert calls[:3] == ["GetItem", "BatchGetItem", "TransactWriteItems"]
    [group] = [deps.groups.get(gid) for gid in _group_ids()]
    assert group is not None and (group.status.value, group.paid_count) == ("complete", 3)


def _group_ids() -> list[str]:
    from chalicelib.store.order_items import OrderItem

    return [i.order_id.removeprefix("group#") for i in OrderItem.scan() if i.order_id.startswith("group#")]


# Settlement --------------------------------------------------------------------------------------

def every_part(job: str, deps: Deps) -> dict[str, int]:
    """A whole run of ``job``'s parts, each slice after the other as workers take them, without
    the engine's bookkeeping (the jobs table; the engine's own exactly-once is
    tests/service/test_job_engine.py's): the job's own calls only, each a success when nothing
    is faulted, so that every fault at every call fires."""
    from chalicelib.jobs import JOBS

    definition, totals = JOBS[job], Counter[str]()
    for part in definition.plan(deps.clock(), deps):
        cursor: str | None = None
        while True:
            progress = definition.work(part, cursor, deps.clock(), deps, Deadline.after(60))
            totals.update(progress.counts)
            if (cursor := progress.cursor) is None:
                break
    return dict(totals)


def settle(deps: Deps, _: Any) -> Any:
    return every_part("settle_commissions", deps)


def test_a_fault_at_any_call_of_the_settlement_job_then_the_next_run_credits_each_commission_once(deps, faults):
    """60 frozen commissions of 3 users of shard 0 due now: that part's two transactions (≤ 100
    items each), then one Query for each of the other 15 shards."""
    frozen: dict[str, int] = {}

    def setup(d: Deps) -> None:
        frozen.update(seed_frozen(60, users=3, prefix="F", available_at=NOW - timedelta(hours=1), shard="0"))

    calls, endings = run_with_faults(Case(setup, settle, settle), deps, faults)
    assert calls == ["Query", "TransactWriteItems", "TransactWriteItems"] + ["Query"] * 15
    assert endings["crashed"] == len(calls) + 1
    for user, fen in frozen.items():
        assert settlement.wallet_differences(user, deps) == {}
        assert deps.ledger.wallet(user) == {"pending": 0, "frozen": 0, "available": fen, "withdrawing": 0,
                                            "withdrawn": 0}


def one_slice(deps: Deps, _: Any) -> Any:
    """One slice of shard 0 as a worker runs it: one page (the deadline has passed at once)."""
    return settlement.settle_part("0", None, NOW, deps, Deadline.after(0))


def redelivered_then_the_rest(deps: Deps, _: Any) -> Any:
    """What SQS does next: the same message again (its slice from the start), then the part's
    continuations until it is done."""
    cursor: str | None = None
    while True:
        cursor = settlement.settle_part("0", cursor, NOW, deps, Deadline.after(0)).cursor
        if cursor is None:
            return None


def test_a_fault_at_any_call_of_one_slice_of_a_settlement_part_then_its_redelivery_credits_each_once(deps, faults):
    """150 commissions of 4 users in shard 0: a slice is a Query page of 100 and its transactions;
    whatever call fails, the redelivered slice and the part's continuation settle each once."""
    frozen: dict[str, int] = {}

    def setup(d: Deps) -> None:
        frozen.update(seed_frozen(150, users=4, prefix="S", available_at=NOW - timedelta(days=45), shard="0"))

    calls, endings = run_with_faults(Case(setup, one_slice, redelivered_then_the_rest), deps, faults)
    assert calls[0] == "Query" and calls.count("Query") == 1 and calls.count("TransactWriteItems") == 3
    assert endings["crashed"] == len(calls) + 1
    for user, fen in frozen.items():
        assert settlement.wallet_differences(user, deps) == {}
        assert deps.ledger.wallet(user) == {"pending": 0, "frozen": 0, "available": fen, "withdrawing": 0,
                                            "withdrawn": 0}


# Withdrawal ------------------------------------------------------------------------------------

def withdraw(deps: Deps, user: str) -> Any:
    return withdrawals.request_withdrawal(user, 2_000, KEY, deps)


def withdraw_then_poll(deps: Deps, user: str) -> Any:
    """The client retries with the same key; the polling job then finds the transfer."""
    withdraw(deps, user)
    return every_part("poll_transfers", deps)


def test_a_fault_at_any_call_of_a_withdrawal_then_the_same_request_and_the_polling_job_pay_out_once(deps, faults):
    calls, _ = run_with_faults(Case(lambda d: verified(d, "payee", 3_000), withdraw, withdraw_then_poll), deps, faults)
    assert "TransactWriteItems" in calls
    [user] = [u for u in _ledger_users() if deps.ledger.wallet(u)["withdrawing"]]
    assert deps.ledger.wallet(user)["available"] == 1_000 and settlement.wallet_differences(user, deps) == {}
    assert len(deps.transfers._bills) == 1  # type: ignore[attr-defined]


def _ledger_users() -> set[str]:
    from chalicelib.store.ledger import LedgerItem

    return {i.pk for i in LedgerItem.scan() if i.sk == "wallet"}


# Another caller at every point of a request ------------------------------------------------------

def test_a_duplicate_notification_arriving_at_any_point_of_the_first_ones_handling_pays_once(deps, faults):
    """WeChat's duplicate delivered before and after each call of the first delivery's handling,
    so also while its payment transaction is in flight (before it committed, after it committed
    and before it returned)."""
    calls, endings = run_with_faults(Case(payment_setup, deliver, deliver), deps, faults, duplicate=deliver)
    assert endings["already_paid"] >= calls.index("TransactWriteItems") * 2 + 1  # the duplicate won from there
    assert set(endings) <= {"paid", "already_paid"}


def test_a_retried_checkout_arriving_at_any_point_of_the_first_one_makes_one_order(deps, faults):
    """The client sends the same checkout again (same Idempotency-Key) before and after each call
    of the first, so also while the first one's transaction is in flight."""
    calls, endings = run_with_faults(Case(checkout_setup, checkout, checkout), deps, faults, duplicate=checkout)
    assert endings == {"answered": 2 * len(calls)}


def pay_if_placed(deps: Deps, context: tuple[str, str]) -> str:
    """WeChat's notification for the buyer's order, once the order exists."""
    placed, _ = deps.orders.by_buyer(context[0], 10, None)
    return deliver(deps, notification(deps, placed[0].order_id)) if placed else "no order yet"


def checkout_then_pay(deps: Deps, context: tuple[str, str]) -> str:
    checkout(deps, context)
    return pay_if_placed(deps, context)


def test_a_notification_arriving_at_any_point_of_its_checkout_pays_the_order_once(deps, faults):
    """The order's payment notification comes in before and after each call of its checkout, so
    also between the checkout's transaction and its answer: the checkout still answers, the order
    is paid once (the recovery: the checkout again, and WeChat's redelivery)."""
    calls, endings = run_with_faults(Case(checkout_setup, checkout, checkout_then_pay), deps, faults,
                                     duplicate=pay_if_placed)
    assert endings == {"answered": 2 * len(calls)}
    [order] = orders_of_all(deps)
    assert order.status.value == "paid"


def orders_of_all(deps: Deps) -> list[Any]:
    from chalicelib.store.order_items import OrderItem
    from chalicelib.store.orders import to_order

    return [to_order(i) for i in OrderItem.scan() if i.status and not i.order_id.startswith(("idem#", "group#"))]


def test_a_duplicate_notification_arriving_at_any_point_of_a_group_payment_pays_once_and_refunds_nothing(deps, faults):
    """As above for the payment that completes a group: the duplicate that finds the seat paid by
    the first delivery is a duplicate, not a payment for a lost seat (no refund)."""
    _, endings = run_with_faults(Case(completion_setup, deliver, deliver), deps, faults, duplicate=deliver)
    assert set(endings) <= {"paid", "already_paid"}, endings
    assert not any(number.endswith("L") for o in deps.pay._orders.values() for number in o.refunds)  # type: ignore[attr-defined]

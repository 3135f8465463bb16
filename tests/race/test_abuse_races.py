"""Business abuse under concurrency, on DynamoDB Local (tests/api/test_abuse.py has the sequential
cases): what an abuser gains by sending the conflicting requests at the same moment.

- three accounts binding in a ring at once never make a loop (two-way loops: test_referral_races);
- a refund clawing back a settled commission while withdrawals of that money race it: the money
  leaves at most once, and if it left, the wallet owes it (negative), never both kept;
- replays of a payment notification racing the order's refund: paid once, refunded once, the
  commission accrued once and reversed once.
"""
from __future__ import annotations

import random
import time
from datetime import timedelta
from typing import Any

import pytest

from chalicelib.bootstrap import Deps
from chalicelib.domain.binding import BindingDuration
from chalicelib.domain.identity import check_char
from chalicelib.domain.orders import Order
from chalicelib.domain.withdrawals import InsufficientBalance, Withdrawal
from chalicelib.services import identity, orders, payments, referrals, settlement, shops, withdrawals
from chalicelib.services.sessions import Caller
from tests.race.concurrency import login, race
from tests.race.test_checkout_races import buy, new_product
from tests.refunds import refund_whole
from tests.service.test_settlement import settle

pytestmark = pytest.mark.race


def distributor(deps: Deps, prefix: str) -> tuple[str, str]:
    user_id = login(deps, prefix)
    code = shops.open_shop(user_id, f"{prefix} shop", deps).invite_code
    assert code
    return user_id, code


def last_click(deps: Deps) -> Deps:
    rules = deps.settings.rules
    binding = rules.binding.model_copy(update={"duration": BindingDuration.LAST_CLICK})
    return Deps(settings=deps.settings.model_copy(update={"rules": rules.model_copy(update={"binding": binding})}))


@pytest.mark.parametrize("policy", ["permanent", "last_click"])
def test_three_accounts_binding_in_a_ring_at_once_never_make_a_loop(deps, policy):
    deps = last_click(deps) if policy == "last_click" else deps
    for _ in range(4):
        ring = [distributor(deps, f"ring{n}") for n in range(3)]
        for _, code in ring:  # each has a downline, so every binding walks its ancestors
            referrals.bind(login(deps, "fan"), code, deps)
        outcomes = race([lambda me=me, parent=ring[(n + 1) % 3]: referrals.bind(me[0], parent[1], deps)
                         for n, me in enumerate(ring)])
        refused = [o for o in outcomes if isinstance(o, str)]
        assert refused and set(refused) <= {"REFERRAL_CYCLE"}, outcomes
        parents = {user_id: deps.users.get(user_id).member.parent_id for user_id, _ in ring}
        assert_no_loop(parents)


def assert_no_loop(parents: dict[str, str | None]) -> None:
    for start in parents:
        seen, at = set(), start
        while at in parents and parents[at] is not None:
            assert at not in seen, f"loop through {at}: {parents}"
            seen.add(at)
            at = parents[at]  # type: ignore[assignment]


def id_number() -> str:
    first17 = f"110105{random.randrange(1950, 2000)}0{random.randrange(1, 10)}1{random.randrange(1, 10)}" \
              f"{random.randrange(1000):03d}"
    return first17 + check_char(first17)


def pay(deps: Deps, order: Order) -> dict[str, Any]:
    headers, body = deps.pay.build_payment_notification(order.order_id, deps.clock(),  # type: ignore[attr-defined]
                                                        amount_fen=order.amount_fen)
    assert payments.handle_notification(headers, body, deps).outcome == "paid"
    return {"headers": headers, "body": body}


def settled_commission(deps: Deps) -> tuple[str, str, str]:
    """A distributor (with a real name) whose buyer's completed order settled 1,000 fen into
    ``available``: (distributor, buyer, order_id)."""
    seller, code = distributor(deps, "seller")
    identity.verify_real_name(seller, "王五", id_number(), deps)
    buyer = login(deps, "buyer")
    referrals.bind(buyer, code, deps)
    order = buy(deps, buyer, new_product(deps, stock=1)).order
    pay(deps, order)
    orders.ship(order.order_id, "SF", "SF123456", deps)
    orders.confirm(order.order_id, Caller(buyer, "user"), deps)
    settle(deps.clock() + timedelta(days=3, hours=1), deps)
    assert deps.ledger.wallet(seller)["available"] == 1_000
    return seller, buyer, order.order_id


def test_a_clawback_racing_withdrawals_of_the_same_money_lets_it_leave_at_most_once_and_never_keeps_it(deps):
    outcomes_seen = set()
    for round_ in range(6):
        seller, _, order_id = settled_commission(deps)
        delay = 0.02 * round_  # later rounds hold the withdrawals back, so the refund wins some rounds

        def grab(k: int, s: str = seller, d: float = delay) -> Any:
            time.sleep(d)
            return withdrawals.request_withdrawal(s, 1_000, f"grab-{k}", deps)

        calls = [lambda o=order_id: refund_whole(o, deps).status.value]  # completed: an after-sales case's refund
        calls += [lambda k=k: grab(k) for k in range(3)]
        outcomes = race(calls)
        assert outcomes[0] == "refunded"
        won = [o for o in outcomes[1:] if isinstance(o, Withdrawal)]
        assert len(won) <= 1 and {o for o in outcomes[1:] if not isinstance(o, Withdrawal)} <= {"INSUFFICIENT_BALANCE"}
        wallet = deps.ledger.wallet(seller)
        assert settlement.wallet_differences(seller, deps) == {}  # the wallet is its ledger
        out = wallet["withdrawing"] + wallet["withdrawn"]
        assert out == 1_000 * len(won)
        assert wallet["available"] == -out  # whatever left is owed: credited 1,000, clawed back 1,000
        outcomes_seen.add(len(won))
        with pytest.raises(InsufficientBalance):  # and nothing more can leave
            withdrawals.request_withdrawal(seller, 100, "after", deps)
    print(f"withdrawals that got in before the clawback, per round: {sorted(outcomes_seen)}")


def test_payment_notification_replays_racing_the_refund_pay_once_and_refund_once(deps):
    seller, code = distributor(deps, "seller")
    buyer = login(deps, "buyer")
    referrals.bind(buyer, code, deps)
    product_id = new_product(deps, stock=1)
    order = buy(deps, buyer, product_id).order
    notification = pay(deps, order)
    replay = [lambda: payments.handle_notification(notification["headers"], notification["body"], Deps()).outcome
              for _ in range(5)]
    outcomes = race([lambda: orders.refund(order.order_id, Caller(buyer, "user"), "退", deps).status.value, *replay])
    assert outcomes[0] == "refunded" and set(outcomes[1:]) == {"already_paid"}, outcomes
    assert deps.orders.get(order.order_id).status.value == "refunded"
    assert deps.products.get(product_id).stock == 1  # returned once
    assert [e["kind"] for e in deps.ledger.entries(seller)] == ["accrual", "reversal"]
    assert deps.ledger.wallet(seller) == {"pending": 0, "frozen": 0, "available": 0, "withdrawing": 0, "withdrawn": 0}
    assert deps.users.get(buyer).member.paid_order_count == 1

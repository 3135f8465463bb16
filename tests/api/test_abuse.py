"""Business abuse through the API: what a user with several accounts and bad intentions tries.

- Self-referral: a second account bound in a loop (A under B, B under A), or a chain of alt
  accounts closed back onto its owner, is refused with REFERRAL_CYCLE, under every binding
  policy, and changes nothing; a chain of alts never pays anyone beyond level 2.
- Commission farming by buy-then-refund: the commission of a refunded order is reversed
  (before settlement) or clawed back (after it); it never reaches ``available`` for good, so no
  withdrawal can take it.
- Replayed and reordered WeChat Pay notifications: the same notification twice, a payment
  notification after a refund, a refund notification before the payment, a payment after the
  order was cancelled: each is acknowledged and changes nothing beyond the first effect.
- Withdrawal of clawed-back money: a refund after the commission was withdrawn leaves the wallet
  negative; nothing is withdrawable until future commission has covered it.

Every refusal is checked to change nothing (all tables read before and after).
"""
from __future__ import annotations

import uuid
from typing import Any

import pytest

from chalicelib.domain.binding import BindingDuration
from tests.api.test_authorization import snapshot
from tests.api.test_orders import order, product
from tests.api.test_wallet import KNOWN
from tests.refunds import refund_whole

SETTLED = "2026-11-12T16:10:00Z"  # orders completed at the clock's start are available from 16:00Z
SHIP = {"carrier": "SF", "tracking_no": "SF1234567"}


@pytest.fixture
def admin(api: Any) -> str:
    return api.login("admin")[0]


@pytest.fixture
def pid(api: Any, admin: str) -> str:
    """A product paying 3,000 fen at level 1 and 750 fen at level 2 (beauty, 20% / 5% of 15,000)."""
    return product(api, admin, stock=100)["product_id"]


def refused(api: Any, method: str, path: str, body: Any, token: str | None, status: int, code: str,
            headers: dict[str, str] | None = None) -> None:
    """The call is refused with ``status`` and ``code``, and no table changed."""
    before = snapshot()
    got, answer = api.call(method, path, body, token, headers=headers)
    assert (got, answer["error"]["code"]) == (status, code), answer
    assert snapshot() == before, f"{method} {path} was refused but changed something"


def bind(api: Any, token: str, code: str) -> tuple[int, Any]:
    return api.call("POST", "/v1/referrals/bind", {"invite_code": code}, token)


def wallet(api: Any, token: str) -> dict[str, int]:
    return api.call("GET", "/v1/me/wallet", token=token)[1]


def buy_and_pay(api: Any, token: str, product_id: str) -> tuple[str, dict[str, Any]]:
    """Place and pay an order; the order id and the payment notification WeChat sent."""
    placed = order(api, token, [{"product_id": product_id, "quantity": 1}])
    assert placed[0] == 201, placed
    paid = api.call("POST", f"/v1/dev/pay/{placed[1]['order_id']}")[1]
    assert paid["status"] == "paid", paid
    return placed[1]["order_id"], paid["notification"]


def complete(api: Any, admin: str, buyer: str, order_id: str) -> None:
    assert api.call("POST", f"/v1/admin/orders/{order_id}/ship", SHIP, admin)[0] == 200
    assert api.call("POST", f"/v1/orders/{order_id}/confirm", token=buyer)[1]["status"] == "completed"


def settle(api: Any, now: str = SETTLED) -> int:
    status, run = api.call("POST", "/v1/dev/jobs/settle_commissions", {"now": now})
    assert status == 200, run
    return int(run["settled"])


def refund(api: Any, token: str, order_id: str) -> None:
    """The buyer's refund: instant before shipment; after it, refused with AFTER_SALES_REQUIRED
    (nothing changed) and refunded whole through an after-sales case's money (services/refunds.py)."""
    before = api.call("GET", f"/v1/orders/{order_id}", token=token)[1]
    status, answer = api.call("POST", f"/v1/orders/{order_id}/refund", {"reason": "不要了"}, token)
    if before["status"] in ("shipped", "completed"):
        assert (status, answer["error"]["code"]) == (409, "AFTER_SALES_REQUIRED"), answer
        assert api.call("GET", f"/v1/orders/{order_id}", token=token)[1] == before
        from chalicelib.bootstrap import default_deps

        assert refund_whole(order_id, default_deps()).status.value == "refunded"
        return
    assert status == 200 and answer["status"] == "refunded", answer


def withdraw(api: Any, token: str, fen: int) -> tuple[int, Any]:
    return api.call("POST", "/v1/me/withdrawals", {"amount_fen": fen}, token,
                    headers={"Idempotency-Key": uuid.uuid4().hex})


def real_name(api: Any, token: str) -> None:
    assert api.call("POST", "/v1/me/real-name", {"name": "张三", "id_number": KNOWN}, token)[0] == 200


def notify(api: Any, notification: dict[str, Any]) -> int:
    return int(api.call("POST", "/v1/wechat/pay/notify", raw=notification["body"],
                        headers=notification["headers"])[0])


def commissions(api: Any, token: str, order_id: str) -> list[tuple[str, int]]:
    return [(c["user_id"], c["level"]) for c in api.call("GET", f"/v1/orders/{order_id}", token=token)[1]["commissions"]]


# ---------------------------------------------------------------------------------------------
# Self-referral through second accounts
# ---------------------------------------------------------------------------------------------


def with_binding(deps: Any, **changes: Any) -> None:
    rules = deps.settings.rules
    deps.settings = deps.settings.model_copy(update={"rules": rules.model_copy(
        update={"binding": rules.binding.model_copy(update=changes)})})


@pytest.mark.parametrize("duration", [BindingDuration.PERMANENT, BindingDuration.LAST_CLICK, BindingDuration.DAYS])
def test_two_accounts_binding_under_each_other_make_no_loop_under_any_policy(api, deps, duration):
    with_binding(deps, duration=duration, duration_days=30)
    a, _, a_code = api.distributor("a")
    b, b_id, b_code = api.distributor("b")
    refused(api, "POST", "/v1/referrals/bind", {"invite_code": a_code}, a, 422, "SELF_REFERRAL")
    assert bind(api, a, b_code)[1] == {"parent_id": b_id, "grandparent_id": None, "product_id": None}
    refused(api, "POST", "/v1/referrals/bind", {"invite_code": a_code}, b, 422, "REFERRAL_CYCLE")
    assert api.call("GET", "/v1/me", token=b)[1]["parent_id"] is None


def test_a_chain_of_alt_accounts_cannot_be_closed_onto_its_owner(api, deps):
    """A ← alt1 ← alt2 ← alt3 (each bound under the previous): A binding under any of them is a
    loop, however deep, under last-click rebinding too."""
    with_binding(deps, duration=BindingDuration.LAST_CLICK)
    owner, _, code = api.distributor("owner")
    chain = []
    for n in range(1, 4):
        token, alt_id, alt_code = api.distributor(f"alt{n}")
        assert bind(api, token, code)[0] == 200
        chain.append((token, alt_id, alt_code))
        code = alt_code
    for _, _, alt_code in chain:
        refused(api, "POST", "/v1/referrals/bind", {"invite_code": alt_code}, owner, 422, "REFERRAL_CYCLE")
    # alt1 rebinding under its own downline (last click) is a loop as well
    refused(api, "POST", "/v1/referrals/bind", {"invite_code": chain[2][2]}, chain[0][0], 422, "REFERRAL_CYCLE")
    assert api.call("GET", "/v1/me", token=owner)[1]["parent_id"] is None


def test_purchases_through_a_chain_of_alts_pay_two_levels_at_most_and_the_owner_earns_nothing_on_their_own(
        api, admin, pid):
    owner, _, code = api.distributor("owner")
    alts = []
    for n in range(1, 4):
        token, alt_id, alt_code = api.distributor(f"alt{n}")
        assert bind(api, token, code)[0] == 200
        alts.append((token, alt_id))
        code = alt_code
    (_, alt1_id), (_, alt2_id), (alt3, _) = alts
    own, _ = buy_and_pay(api, owner, pid)
    assert commissions(api, owner, own) == []  # unbound, and no commission on one's own purchase
    deep, _ = buy_and_pay(api, alt3, pid)
    assert sorted(commissions(api, alt3, deep)) == sorted([(alt2_id, 1), (alt1_id, 2)])  # never the owner (level 3)
    assert wallet(api, owner)["pending_fen"] == 0


# ---------------------------------------------------------------------------------------------
# Commission farming by buy-then-refund
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def farm(api: Any) -> dict[str, Any]:
    """A distributor with a real name and an alt account bound under them."""
    farmer, farmer_id, code = api.distributor("farmer")
    real_name(api, farmer)
    alt, _ = api.login("farmer-alt")
    assert bind(api, alt, code)[0] == 200
    return {"farmer": farmer, "farmer_id": farmer_id, "alt": alt}


def test_buy_then_refund_before_shipping_reverses_the_commission_and_nothing_becomes_withdrawable(
        api, admin, pid, farm):
    for _ in range(3):
        oid, _ = buy_and_pay(api, farm["alt"], pid)
        assert wallet(api, farm["farmer"])["pending_fen"] == 3_000
        refund(api, farm["alt"], oid)
    assert settle(api) == 0
    assert wallet(api, farm["farmer"]) == {"pending_fen": 0, "frozen_fen": 0, "available_fen": 0,
                                           "withdrawing_fen": 0, "withdrawn_fen": 0}
    reversed_ = api.call("GET", "/v1/me/commissions?status=reversed", token=farm["farmer"])[1]["items"]
    assert len(reversed_) == 3
    refused(api, "POST", "/v1/me/withdrawals", {"amount_fen": 3_000}, farm["farmer"], 409, "INSUFFICIENT_BALANCE",
            headers={"Idempotency-Key": "farm-1"})


def test_buy_confirm_then_refund_inside_the_hold_reverses_the_frozen_commission_before_it_settles(
        api, admin, pid, farm):
    oid, _ = buy_and_pay(api, farm["alt"], pid)
    complete(api, admin, farm["alt"], oid)
    assert wallet(api, farm["farmer"])["frozen_fen"] == 3_000
    assert settle(api, "2026-11-12T15:59:00Z") == 0  # the hold is not over
    refund(api, farm["alt"], oid)
    assert settle(api) == 0  # nothing left to settle when the hold ends
    assert wallet(api, farm["farmer"])["available_fen"] == 0
    refused(api, "POST", "/v1/me/withdrawals", {"amount_fen": 100}, farm["farmer"], 409, "INSUFFICIENT_BALANCE",
            headers={"Idempotency-Key": "farm-2"})


def test_a_refund_after_settlement_claws_the_commission_back_before_it_can_be_withdrawn(api, admin, pid, farm):
    oid, _ = buy_and_pay(api, farm["alt"], pid)
    complete(api, admin, farm["alt"], oid)
    assert settle(api) == 1 and wallet(api, farm["farmer"])["available_fen"] == 3_000
    refund(api, farm["alt"], oid)
    assert wallet(api, farm["farmer"])["available_fen"] == 0
    assert api.call("GET", "/v1/me/commissions?status=clawed_back", token=farm["farmer"])[1]["items"]
    refused(api, "POST", "/v1/me/withdrawals", {"amount_fen": 100}, farm["farmer"], 409, "INSUFFICIENT_BALANCE",
            headers={"Idempotency-Key": "farm-3"})


# ---------------------------------------------------------------------------------------------
# Withdrawal of clawed-back money
# ---------------------------------------------------------------------------------------------


def test_money_withdrawn_then_clawed_back_leaves_a_debt_netted_against_future_commission(api, admin, pid, farm):
    farmer = farm["farmer"]
    oid, _ = buy_and_pay(api, farm["alt"], pid)
    complete(api, admin, farm["alt"], oid)
    settle(api)
    status, w = withdraw(api, farmer, 3_000)
    assert status == 201, w
    assert api.call("POST", f"/v1/dev/transfers/{w['withdrawal_id']}", {"outcome": "success"})[0] == 200
    refund(api, farm["alt"], oid)  # after the money left: clawed back all the same
    assert wallet(api, farmer) == {"pending_fen": 0, "frozen_fen": 0, "available_fen": -3_000,
                                   "withdrawing_fen": 0, "withdrawn_fen": 3_000}
    refused(api, "POST", "/v1/me/withdrawals", {"amount_fen": 100}, farmer, 409, "INSUFFICIENT_BALANCE",
            headers={"Idempotency-Key": "debt-1"})

    # the next honest commission pays the debt first
    second, _ = buy_and_pay(api, farm["alt"], pid)
    complete(api, admin, farm["alt"], second)
    assert settle(api) == 1
    assert wallet(api, farmer)["available_fen"] == 0
    refused(api, "POST", "/v1/me/withdrawals", {"amount_fen": 100}, farmer, 409, "INSUFFICIENT_BALANCE",
            headers={"Idempotency-Key": "debt-2"})
    assert api.call("POST", "/v1/dev/jobs/reconcile_wallets", {"now": SETTLED})[1]["differences"] == 0


def test_a_clawback_while_a_withdrawal_is_in_flight_leaves_the_returned_money_netted(api, admin, pid, farm):
    """The refund lands while the transfer waits for the user's confirmation; the transfer then
    fails and the money comes back to a wallet that owes it: still nothing to withdraw."""
    farmer = farm["farmer"]
    oid, _ = buy_and_pay(api, farm["alt"], pid)
    complete(api, admin, farm["alt"], oid)
    settle(api)
    status, w = withdraw(api, farmer, 3_000)
    assert status == 201 and w["status"] == "wait_user_confirm", w
    refund(api, farm["alt"], oid)
    assert wallet(api, farmer)["available_fen"] == -3_000 and wallet(api, farmer)["withdrawing_fen"] == 3_000
    assert api.call("POST", f"/v1/dev/transfers/{w['withdrawal_id']}", {"outcome": "fail"})[0] == 200
    assert wallet(api, farmer) == {"pending_fen": 0, "frozen_fen": 0, "available_fen": 0, "withdrawing_fen": 0,
                                   "withdrawn_fen": 0}
    refused(api, "POST", "/v1/me/withdrawals", {"amount_fen": 100}, farmer, 409, "INSUFFICIENT_BALANCE",
            headers={"Idempotency-Key": "flight-1"})


# ---------------------------------------------------------------------------------------------
# Replayed and reordered notifications
# ---------------------------------------------------------------------------------------------


def test_the_same_payment_notification_twice_pays_once(api, pid, farm):
    _, notification = buy_and_pay(api, farm["alt"], pid)
    before = snapshot()
    assert notify(api, notification) == 200
    assert snapshot() == before
    assert wallet(api, farm["farmer"])["pending_fen"] == 3_000


def test_a_payment_notification_replayed_after_the_refund_does_not_pay_again(api, admin, pid, farm):
    oid, notification = buy_and_pay(api, farm["alt"], pid)
    refund(api, farm["alt"], oid)
    before = snapshot()
    assert notify(api, notification) == 200
    assert snapshot() == before
    assert api.call("GET", f"/v1/orders/{oid}", token=farm["alt"])[1]["status"] == "refunded"
    assert wallet(api, farm["farmer"])["pending_fen"] == 0


def test_refund_notifications_before_and_after_the_payment_change_nothing(api, deps, pid, farm):
    """Only a verified TRANSACTION.SUCCESS moves an order; a REFUND.* notification arriving
    first (the payment notification delayed), or again later, is acknowledged and ignored."""
    placed = order(api, farm["alt"], [{"product_id": pid, "quantity": 1}])[1]
    oid, now = placed["order_id"], deps.clock()
    pay_headers, pay_body = deps.pay.build_payment_notification(oid, now)
    deps.pay.refund(oid, f"{oid}R", placed["amount_fen"], placed["amount_fen"], "merchant platform")
    refund_note = dict(zip(("headers", "body"), deps.pay.build_refund_notification(oid, f"{oid}R", now), strict=True))
    refund_note["body"] = refund_note["body"].decode()
    before = snapshot()
    assert notify(api, refund_note) == 200
    assert snapshot() == before
    assert api.call("GET", f"/v1/orders/{oid}", token=farm["alt"])[1]["status"] == "pending_payment"

    assert notify(api, {"headers": pay_headers, "body": pay_body.decode()}) == 200
    assert api.call("GET", f"/v1/orders/{oid}", token=farm["alt"])[1]["status"] == "paid"
    after_payment = snapshot()
    assert notify(api, refund_note) == 200
    assert snapshot() == after_payment
    assert wallet(api, farm["farmer"])["pending_fen"] == 3_000


def test_a_payment_arriving_after_the_order_was_cancelled_is_refunded_and_pays_no_commission(
        api, clock, pid, farm):
    placed = order(api, farm["alt"], [{"product_id": pid, "quantity": 1}])[1]
    clock.advance(minutes=16)
    assert api.call("POST", "/v1/dev/jobs/cancel_unpaid", {})[1]["cancelled"] == 1
    before = snapshot()
    late = api.call("POST", f"/v1/dev/pay/{placed['order_id']}")[1]
    assert late["status"] == "refunded_late"
    assert snapshot() == before
    assert notify(api, late["notification"]) == 200  # and its replay
    assert snapshot() == before
    assert wallet(api, farm["farmer"])["pending_fen"] == 0


# ---------------------------------------------------------------------------------------------
# Schema-valid but hostile requests (found by schemathesis, tests/e2e/test_schemathesis.py)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("known", [True, False])
def test_an_order_naming_one_product_on_several_lines_is_422_and_reserves_nothing(api, pid, farm, known):
    """Was a 500: the checkout's BatchGetItem refused the duplicated product key."""
    product_id = pid if known else "p-no-such-product"
    lines = [{"product_id": product_id, "quantity": 1}] * 3
    refused(api, "POST", "/v1/orders", {"items": lines, "address": {"name": "张三", "phone": "13800000000",
                                                                     "detail": "上海"}},
            farm["alt"], 422, "INVALID_ORDER", headers={"Idempotency-Key": "dup-lines"})

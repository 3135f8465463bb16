"""Withdrawals through HTTP in simulator mode: earn, verify, withdraw, confirm, and every refusal
with nothing changed."""
from __future__ import annotations

import json

import pytest

from chalicelib.config import WithdrawalRules
from tests.api.test_orders import order, product
from tests.api.test_orders import shop as orders_shop
from tests.api.test_wallet import KNOWN

shop = pytest.fixture(orders_shop.__wrapped__)  # type: ignore[attr-defined]


@pytest.fixture
def admin(api):
    return api.login("admin")[0]


@pytest.fixture
def earner(api, admin, shop):
    """The level-1 distributor with 3,000 fen available (a settled commission) and a real name."""
    pid = product(api, admin, level2_rate_bp=0)["product_id"]
    oid = order(api, shop["buyer"], [{"product_id": pid, "quantity": 1}])[1]["order_id"]
    api.call("POST", f"/v1/dev/pay/{oid}")
    api.call("POST", f"/v1/admin/orders/{oid}/ship", {"carrier": "SF", "tracking_no": "SF1234567"}, admin)
    api.call("POST", f"/v1/orders/{oid}/confirm", token=shop["buyer"])
    api.call("POST", "/v1/dev/jobs/settle_commissions", {"now": "2026-11-12T16:10:00Z"})
    token = shop["level1_token"]
    assert api.call("POST", "/v1/me/real-name", {"name": "张三", "id_number": KNOWN}, token)[0] == 200
    assert wallet(api, token)["available_fen"] == 3_000
    return token


def wallet(api, token):
    return api.call("GET", "/v1/me/wallet", token=token)[1]


def withdraw(api, token, body, key="k-1"):
    headers = {"Idempotency-Key": key} if key else {}
    return api.call("POST", "/v1/me/withdrawals", body, token, headers=headers)


def test_withdraw_confirm_and_paid_through_the_api(api, earner):
    status, w = withdraw(api, earner, {"amount_fen": 2_000})
    assert status == 201 and w["status"] == "wait_user_confirm" and w["package_info"]
    assert w["mch_id"] and w["app_id"] and w["out_bill_no"] == w["withdrawal_id"]
    assert wallet(api, earner) == {"pending_fen": 0, "frozen_fen": 0, "available_fen": 1_000,
                                   "withdrawing_fen": 2_000, "withdrawn_fen": 0}
    assert withdraw(api, earner, {"amount_fen": 2_000}) == (201, w)  # the same key: the same answer
    assert api.call("GET", f"/v1/me/withdrawals/{w['withdrawal_id']}", token=earner)[1] == w

    status, played = api.call("POST", f"/v1/dev/transfers/{w['withdrawal_id']}", {"outcome": "success"})
    assert status == 200 and played["withdrawal"]["status"] == "paid" and played["withdrawal"]["package_info"] is None
    assert wallet(api, earner)["withdrawn_fen"] == 2_000 and wallet(api, earner)["withdrawing_fen"] == 0

    # WeChat repeats its notification: acknowledged, nothing moves twice
    notification = played["notification"]
    for _ in range(2):
        assert api.call("POST", "/v1/wechat/transfer/notify", raw=notification["body"],
                        headers=notification["headers"])[0] == 200
    tampered = notification["body"].replace('"id":"', '"id":"x')
    assert api.call("POST", "/v1/wechat/transfer/notify", raw=tampered, headers=notification["headers"])[0] == 401
    assert wallet(api, earner)["withdrawn_fen"] == 2_000
    [listed] = api.call("GET", "/v1/me/withdrawals", token=earner)[1]["items"]
    assert listed["status"] == "paid"
    status, reconciled = api.call("POST", "/v1/dev/jobs/reconcile_wallets", {})
    assert status == 200 and reconciled["differences"] == 0


@pytest.mark.parametrize("outcome", ["fail", "cancel"])
def test_a_failed_or_cancelled_transfer_returns_the_money(api, earner, outcome):
    w = withdraw(api, earner, {"amount_fen": 2_000})[1]
    played = api.call("POST", f"/v1/dev/transfers/{w['withdrawal_id']}", {"outcome": outcome})[1]
    assert played["withdrawal"]["status"] == "returned" and played["withdrawal"]["reason"]
    assert wallet(api, earner)["available_fen"] == 3_000


def test_every_refusal_through_the_api_changes_nothing(api, earner):
    before = wallet(api, earner)
    refusals = [
        ({"amount_fen": 2_000}, None, 400, "IDEMPOTENCY_KEY_REQUIRED"),
        ({"amount_fen": 2_000}, "bad key!", 400, "IDEMPOTENCY_KEY_REQUIRED"),
        ({"amount_fen": 99}, "k", 422, "BELOW_MINIMUM"),
        ({"amount_fen": 3_001}, "k", 409, "INSUFFICIENT_BALANCE"),
        ({"amount_fen": 0}, "k", 422, "VALIDATION_FAILED"),
        ({"amount_fen": -100}, "k", 422, "VALIDATION_FAILED"),
        ({"amount_fen": 1_000.5}, "k", 422, "VALIDATION_FAILED"),
        ({"amount_fen": "1000"}, "k", 422, "VALIDATION_FAILED"),
        ({"amount_fen": None}, "k", 422, "VALIDATION_FAILED"),
        ({"amount_fen": True}, "k", 422, "VALIDATION_FAILED"),
        ({"amount_fen": 1_000, "to": "me"}, "k", 422, "VALIDATION_FAILED"),
        ({}, "k", 422, "VALIDATION_FAILED"),
    ]
    for body, key, status, code in refusals:
        answer = withdraw(api, earner, body, key)
        assert (answer[0], answer[1]["error"]["code"]) == (status, code), body
    assert wallet(api, earner) == before
    assert api.call("GET", "/v1/me/withdrawals", token=earner)[1]["items"] == []

    stranger, _ = api.login("no-real-name")
    answer = withdraw(api, stranger, {"amount_fen": 1_000})
    assert (answer[0], answer[1]["error"]["code"]) == (403, "REAL_NAME_REQUIRED")

    for key in ("d1", "d2", "d3"):  # the daily count (3 by default)
        assert withdraw(api, earner, {"amount_fen": 100}, key)[0] == 201
    after_three = wallet(api, earner)
    answer = withdraw(api, earner, {"amount_fen": 100}, "d4")
    assert (answer[0], answer[1]["error"]["code"]) == (422, "DAILY_LIMIT_EXCEEDED")
    answer = withdraw(api, earner, {"amount_fen": 200}, "d1")
    assert (answer[0], answer[1]["error"]["code"]) == (409, "IDEMPOTENCY_KEY_REUSED")
    assert wallet(api, earner) == after_three


def test_the_refusal_order_through_the_api_one_adjacent_pair_at_a_time(api, earner):
    """docs/wallet.md "Refusal order": auth, the body, the key, then the service's own order
    (tests/service/test_withdrawals.py has each of its pairs); each answer is the earlier one."""
    stranger, _ = api.login("no-real-name")
    cases = [
        (None, {"amount_fen": 0}, None, 401, "UNAUTHENTICATED"),  # auth before the body
        (stranger, {"amount_fen": 0}, None, 422, "VALIDATION_FAILED"),  # the body before the key
        (stranger, {"amount_fen": 99}, None, 400, "IDEMPOTENCY_KEY_REQUIRED"),  # the key before the real name
        (stranger, {"amount_fen": 99}, "k", 403, "REAL_NAME_REQUIRED"),  # the real name before the minimum
        (earner, {"amount_fen": 99}, "k", 422, "BELOW_MINIMUM"),
        (earner, {"amount_fen": 999_999}, "k", 409, "INSUFFICIENT_BALANCE"),  # over the day's amount too
    ]
    for token, body, key, status, code in cases:
        headers = {"Idempotency-Key": key} if key else {}
        answer = api.call("POST", "/v1/me/withdrawals", body, token, headers=headers)
        assert (answer[0], answer[1]["error"]["code"]) == (status, code), (body, key)
    for key in ("d1", "d2", "d3"):  # the day's count (3) is used up; 2,700 fen left
        assert withdraw(api, earner, {"amount_fen": 100}, key)[0] == 201
    answer = withdraw(api, earner, {"amount_fen": 2_701}, "d4")
    assert (answer[0], answer[1]["error"]["code"]) == (409, "INSUFFICIENT_BALANCE")  # the balance before the count
    answer = withdraw(api, earner, {"amount_fen": 2_700}, "d4")
    assert (answer[0], answer[1]["error"]["code"], answer[1]["error"]["limit"]) == (422, "DAILY_LIMIT_EXCEEDED",
                                                                                    "daily_count")


def test_review_queue_approve_and_reject_through_the_api(api, admin, earner, deps):
    rules = deps.settings.rules.model_copy(update={"withdrawals": WithdrawalRules(review_above_fen=500)})
    deps.settings = deps.settings.model_copy(update={"rules": rules})
    first = withdraw(api, earner, {"amount_fen": 1_000}, "r1")[1]
    second = withdraw(api, earner, {"amount_fen": 1_500}, "r2")[1]
    assert first["status"] == second["status"] == "reviewing" and first["package_info"] is None
    assert api.call("GET", "/v1/admin/withdrawals", token=earner)[0] == 403
    queue = api.call("GET", "/v1/admin/withdrawals", token=admin)[1]["items"]
    assert [q["withdrawal_id"] for q in queue] == [first["withdrawal_id"], second["withdrawal_id"]]

    wid = first["withdrawal_id"]
    assert api.call("POST", f"/v1/admin/withdrawals/{wid}/approve", token=earner)[0] == 403
    status, approved = api.call("POST", f"/v1/admin/withdrawals/{wid}/approve", token=admin)
    assert status == 200 and approved["status"] == "wait_user_confirm" and approved["decided_by"]
    again = api.call("POST", f"/v1/admin/withdrawals/{wid}/approve", token=admin)
    assert (again[0], again[1]["error"]["code"]) == (409, "NOT_UNDER_REVIEW")

    rid = second["withdrawal_id"]
    status, rejected = api.call("POST", f"/v1/admin/withdrawals/{rid}/reject", {"reason": "资料不全"}, admin)
    assert status == 200 and rejected["status"] == "returned" and rejected["reason"] == "rejected: 资料不全"
    late = api.call("POST", f"/v1/admin/withdrawals/{rid}/approve", token=admin)
    assert (late[0], late[1]["error"]["code"]) == (409, "NOT_UNDER_REVIEW")
    missing = api.call("POST", "/v1/admin/withdrawals/wnope/reject", {}, admin)
    assert (missing[0], missing[1]["error"]["code"]) == (404, "WITHDRAWAL_NOT_FOUND")
    assert api.call("GET", "/v1/admin/withdrawals", token=admin)[1]["items"] == []
    assert wallet(api, earner)["available_fen"] == 2_000 and wallet(api, earner)["withdrawing_fen"] == 1_000
    not_started = api.call("POST", f"/v1/dev/transfers/{rid}", {"outcome": "success"})
    assert (not_started[0], not_started[1]["error"]["code"]) == (409, "NO_TRANSFER_YET")


def test_another_users_withdrawal_is_not_found(api, earner):
    w = withdraw(api, earner, {"amount_fen": 1_000})[1]
    other, _ = api.login("other")
    answer = api.call("GET", f"/v1/me/withdrawals/{w['withdrawal_id']}", token=other)
    assert (answer[0], answer[1]["error"]["code"]) == (404, "WITHDRAWAL_NOT_FOUND")
    assert api.call("GET", "/v1/me/withdrawals", token=other)[1]["items"] == []
    assert json.dumps(api.call("GET", "/v1/me/withdrawals", token=earner)[1]).count(w["withdrawal_id"]) == 2

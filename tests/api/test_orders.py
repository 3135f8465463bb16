"""The money path through HTTP: catalogue, checkout, WeChat Pay notifications, refunds."""
from __future__ import annotations

import json
import uuid

import pytest

from chalicelib.domain.refunds import RefundLine
from chalicelib.services.refunds import partial_refund

ADDRESS = {"name": "张三", "phone": "13800000000", "detail": "上海市徐汇区 1 号"}


@pytest.fixture
def admin(api):
    return api.login("admin")[0]


def product(api, admin, **fields):
    body = {"name": "精华", "category": "beauty", "cost_fen": 5_000, "price_fen": 15_000, "stock": 10, **fields}
    status, answer = api.call("POST", "/v1/admin/products", body, admin)
    assert status == 201, answer
    return answer


def order(api, token, items, key=None):
    return api.call("POST", "/v1/orders", {"items": items, "address": ADDRESS}, token,
                    headers={"Idempotency-Key": key or str(uuid.uuid4())})


@pytest.fixture
def shop(api, admin):
    """A distributor (level 2) → a distributor (level 1) → a buyer bound to the latter."""
    _, top, top_code = api.distributor("top")
    level1_token, level1, code = api.distributor("level1")
    api.call("POST", "/v1/referrals/bind", {"invite_code": top_code}, level1_token)
    buyer, buyer_id = api.login("buyer")
    api.call("POST", "/v1/referrals/bind", {"invite_code": code}, buyer)
    return {"top": top, "level1": level1, "level1_token": level1_token, "buyer": buyer, "buyer_id": buyer_id}


@pytest.mark.parametrize(("category", "cost", "price", "rate", "commission", "profit"), [
    ("beauty", 5_000, 15_000, 2_000, 3_000, 7_000),
    ("food", 2_000, 5_000, 1_600, 800, 2_200),
    ("appliance", 80_000, 150_000, 1_000, 15_000, 55_000),
])
def test_the_seed_table_through_the_api(api, admin, shop, category, cost, price, rate, commission, profit):
    created = product(api, admin, category=category, cost_fen=cost, price_fen=price, level1_rate_bp=rate,
                      level2_rate_bp=0)
    assert created["platform_profit_fen"] == profit
    listed = api.call("GET", f"/v1/products?category={category}", token=shop["level1_token"])[1]["items"]
    assert next(p for p in listed if p["product_id"] == created["product_id"])["commission_preview_fen"] == commission
    status, placed = order(api, shop["buyer"], [{"product_id": created["product_id"], "quantity": 1}])
    assert status == 201 and placed["amount_fen"] == price and placed["payment"]["signType"] == "RSA"
    assert api.call("POST", f"/v1/dev/pay/{placed['order_id']}")[1]["status"] == "paid"
    paid = api.call("GET", f"/v1/orders/{placed['order_id']}", token=shop["buyer"])[1]
    assert paid["status"] == "paid"
    assert paid["commissions"] == [{"user_id": shop["level1"], "level": 1, "amount_fen": commission}]
    assert price - cost - sum(c["amount_fen"] for c in paid["commissions"]) == profit  # conservation


def test_category_defaults_apply_and_level_two_is_paid(api, admin, shop):
    created = product(api, admin)  # beauty: 20% / 5%
    assert (created["level1_rate_bp"], created["level2_rate_bp"]) == (2_000, 500)
    placed = order(api, shop["buyer"], [{"product_id": created["product_id"], "quantity": 2}])[1]
    api.call("POST", f"/v1/dev/pay/{placed['order_id']}")
    paid = api.call("GET", f"/v1/orders/{placed['order_id']}", token=shop["buyer"])[1]
    assert {(c["user_id"], c["level"], c["amount_fen"]) for c in paid["commissions"]} == {
        (shop["level1"], 1, 6_000), (shop["top"], 2, 1_500)}
    wallet = api.call("GET", "/v1/me/wallet", token=shop["level1_token"])[1]
    assert wallet["pending_fen"] == 6_000 and wallet["available_fen"] == 0


def test_a_product_paying_more_than_its_margin_is_refused(api, admin):
    status, body = api.call("POST", "/v1/admin/products", {"name": "x", "category": "food", "cost_fen": 4_000,
                                                           "price_fen": 5_000, "stock": 1}, admin)
    assert status == 422 and body["error"]["code"] == "COMMISSION_EXCEEDS_MARGIN"


def test_a_replayed_notification_changes_nothing_and_is_acknowledged(api, admin, shop, deps):
    pid = product(api, admin)["product_id"]
    placed = order(api, shop["buyer"], [{"product_id": pid, "quantity": 1}])[1]
    first = api.call("POST", f"/v1/dev/pay/{placed['order_id']}")[1]
    note = first["notification"]
    wallet = api.call("GET", "/v1/me/wallet", token=shop["level1_token"])[1]
    for _ in range(3):
        status, _ = api.call("POST", "/v1/wechat/pay/notify", raw=note["body"], headers=note["headers"])
        assert status == 200
    assert api.call("GET", "/v1/me/wallet", token=shop["level1_token"])[1] == wallet


@pytest.mark.parametrize("tamper", ["body", "signature", "serial", "stale", "unsigned"])
def test_forged_tampered_stale_and_unsigned_notifications_are_401_and_change_nothing(api, admin, shop, deps, clock,
                                                                                    tamper):
    pid = product(api, admin)["product_id"]
    placed = order(api, shop["buyer"], [{"product_id": pid, "quantity": 1}])[1]
    headers, body = deps.pay.build_payment_notification(placed["order_id"], clock(), amount_fen=placed["amount_fen"])
    headers, text = dict(headers), body.decode()
    if tamper == "body":
        text = text.replace('"id":"', '"id":"x')
    elif tamper == "signature":
        headers["Wechatpay-Signature"] = headers["Wechatpay-Signature"][::-1]
    elif tamper == "serial":
        headers["Wechatpay-Serial"] = "PUB_KEY_ID_0000000000000000"
    elif tamper == "stale":
        clock.advance(minutes=6)
    else:
        headers = {"Content-Type": "application/json"}
    status, answer = api.call("POST", "/v1/wechat/pay/notify", raw=text, headers=headers)
    assert status == 401 and answer["error"]["code"] == "INVALID_SIGNATURE"
    assert api.call("GET", f"/v1/orders/{placed['order_id']}", token=shop["buyer"])[1]["status"] == "pending_payment"


def test_a_notification_whose_amount_differs_from_the_order_changes_nothing(api, admin, shop, deps, clock):
    pid = product(api, admin)["product_id"]
    placed = order(api, shop["buyer"], [{"product_id": pid, "quantity": 1}])[1]
    headers, body = deps.pay.build_payment_notification(placed["order_id"], clock(), amount_fen=1)
    status, answer = api.call("POST", "/v1/wechat/pay/notify", raw=body.decode(), headers=dict(headers))
    assert status == 422 and answer["error"]["code"] == "PAYMENT_MISMATCH"
    assert api.call("GET", f"/v1/orders/{placed['order_id']}", token=shop["buyer"])[1]["status"] == "pending_payment"


def test_the_same_idempotency_key_returns_the_first_order_and_another_body_is_409(api, admin, shop):
    pid = product(api, admin, stock=5)["product_id"]
    key = str(uuid.uuid4())
    first = order(api, shop["buyer"], [{"product_id": pid, "quantity": 1}], key)
    again = order(api, shop["buyer"], [{"product_id": pid, "quantity": 1}], key)
    assert first[0] == 201 and again[1]["order_id"] == first[1]["order_id"]
    status, body = order(api, shop["buyer"], [{"product_id": pid, "quantity": 2}], key)
    assert status == 409 and body["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert next(p for p in api.call("GET", "/v1/products?limit=100", token=shop["buyer"])[1]["items"]
                if p["product_id"] == pid)["stock"] == 4


@pytest.mark.parametrize("quantity", [0, -1, 1.5, "2", 10**9, None, True])
def test_bad_quantities_are_422_and_reserve_nothing(api, admin, shop, quantity):
    pid = product(api, admin, stock=5)["product_id"]
    status, body = order(api, shop["buyer"], [{"product_id": pid, "quantity": quantity}])
    assert status == 422 and body["error"]["code"] == "VALIDATION_FAILED"


def test_unknown_products_missing_keys_and_short_stock_are_refused(api, admin, shop):
    pid = product(api, admin, stock=1)["product_id"]
    assert order(api, shop["buyer"], [{"product_id": "nope", "quantity": 1}])[1]["error"]["code"] == "PRODUCT_NOT_FOUND"
    status, body = order(api, shop["buyer"], [{"product_id": pid, "quantity": 2}])
    assert status == 409 and body["error"]["code"] == "OUT_OF_STOCK" and body["error"]["line"] == 0
    status, body = api.call("POST", "/v1/orders", {"items": [{"product_id": pid, "quantity": 1}], "address": ADDRESS},
                            shop["buyer"])
    assert status == 400 and body["error"]["code"] == "IDEMPOTENCY_KEY_REQUIRED"


def test_ship_confirm_then_refund_reverses_the_frozen_commission(api, admin, shop):
    pid = product(api, admin, level2_rate_bp=0)["product_id"]
    placed = order(api, shop["buyer"], [{"product_id": pid, "quantity": 1}])[1]
    oid = placed["order_id"]
    api.call("POST", f"/v1/dev/pay/{oid}")
    assert api.call("POST", f"/v1/orders/{oid}/confirm", token=shop["buyer"])[1]["error"]["code"] == "WRONG_ORDER_STATUS"
    shipped = api.call("POST", f"/v1/admin/orders/{oid}/ship", {"carrier": "SF", "tracking_no": "SF1234567"}, admin)
    assert shipped[0] == 200 and shipped[1]["status"] == "shipped"
    assert api.call("POST", f"/v1/orders/{oid}/confirm", token=shop["buyer"])[1]["status"] == "completed"
    wallet = api.call("GET", "/v1/me/wallet", token=shop["level1_token"])[1]
    assert (wallet["pending_fen"], wallet["frozen_fen"]) == (0, 3_000)
    entries = api.call("GET", "/v1/me/commissions?status=frozen", token=shop["level1_token"])[1]["items"]
    assert entries[0]["available_at"] and entries[0]["amount_fen"] == 3_000
    before = api.call("GET", f"/v1/orders/{oid}", token=shop["buyer"])[1]
    refused = api.call("POST", f"/v1/orders/{oid}/refund", {"reason": "不想要了"}, shop["buyer"])
    assert (refused[0], refused[1]["error"]["code"]) == (409, "AFTER_SALES_REQUIRED")
    assert api.call("GET", f"/v1/orders/{oid}", token=shop["buyer"])[1] == before
    from chalicelib.bootstrap import default_deps

    # an after-sales case refunds its only unit, for less than it was paid: no commission kept on it
    partial_refund(oid, "case-1", [RefundLine(pid, 1)], 2_000, default_deps(), reason="坏了")
    shown = api.call("GET", f"/v1/orders/{oid}", token=shop["buyer"])[1]
    assert (shown["status"], shown["refunded_fen"], shown["items"][0]["refunded_quantity"]) == ("refunded", 2_000, 1)
    wallet = api.call("GET", "/v1/me/wallet", token=shop["level1_token"])[1]
    assert (wallet["pending_fen"], wallet["frozen_fen"]) == (0, 0)
    [reversed_] = api.call("GET", "/v1/me/commissions?status=reversed", token=shop["level1_token"])[1]["items"]
    assert (reversed_["amount_fen"], reversed_["reversed_fen"]) == (0, 3_000)


def test_refunding_a_paid_unshipped_order_returns_its_stock(api, admin, shop):
    pid = product(api, admin, stock=3)["product_id"]
    oid = order(api, shop["buyer"], [{"product_id": pid, "quantity": 2}])[1]["order_id"]
    api.call("POST", f"/v1/dev/pay/{oid}")
    assert api.call("POST", f"/v1/orders/{oid}/refund", {"reason": "x"}, shop["buyer"])[0] == 200
    assert api.call("POST", f"/v1/orders/{oid}/refund", {"reason": "x"}, shop["buyer"])[1]["error"]["code"] == \
        "WRONG_ORDER_STATUS"
    stock = next(p for p in api.call("GET", "/v1/products?limit=100", token=shop["buyer"])[1]["items"]
                 if p["product_id"] == pid)["stock"]
    assert stock == 3


def test_unpaid_orders_are_cancelled_after_the_deadline_once_and_stock_returns(api, admin, shop, clock):
    pid = product(api, admin, stock=4)["product_id"]
    oid = order(api, shop["buyer"], [{"product_id": pid, "quantity": 3}])[1]["order_id"]
    assert api.call("POST", "/v1/dev/jobs/cancel_unpaid", {})[1]["cancelled"] == 0
    clock.advance(minutes=16)
    assert api.call("POST", "/v1/dev/jobs/cancel_unpaid", {})[1]["cancelled"] == 1
    assert api.call("POST", "/v1/dev/jobs/cancel_unpaid", {})[1]["cancelled"] == 0
    assert api.call("GET", f"/v1/orders/{oid}", token=shop["buyer"])[1]["status"] == "cancelled"
    stock = next(p for p in api.call("GET", "/v1/products?limit=100", token=shop["buyer"])[1]["items"]
                 if p["product_id"] == pid)["stock"]
    assert stock == 4
    late = api.call("POST", f"/v1/dev/pay/{oid}")[1]
    assert late["status"] == "refunded_late"


def test_another_users_order_is_404(api, admin, shop):
    pid = product(api, admin)["product_id"]
    oid = order(api, shop["buyer"], [{"product_id": pid, "quantity": 1}])[1]["order_id"]
    other, _ = api.login("stranger")
    for method, path, body in [("GET", f"/v1/orders/{oid}", None), ("POST", f"/v1/orders/{oid}/refund", {"reason": "x"}),
                               ("POST", f"/v1/orders/{oid}/confirm", None)]:
        status, answer = api.call(method, path, body, other)
        assert status == 404 and answer["error"]["code"] == "ORDER_NOT_FOUND"
    assert api.call("GET", f"/v1/orders/{oid}", token=admin)[0] == 200
    assert json.dumps(api.call("GET", "/v1/me/orders", token=other)[1]["items"]) == "[]"


def test_product_copy_is_moderated_blocked_refused_and_held_unlisted_until_approved(api, admin, shop):
    status, body = api.call("POST", "/v1/admin/products", {"name": "躺赚面膜", "category": "beauty", "cost_fen": 1_000,
                                                           "price_fen": 5_000, "stock": 5}, admin)
    assert status == 422 and body["error"]["code"] == "CONTENT_BLOCKED"
    held = product(api, admin, name="全网最好的面膜")
    assert held["listed"] is False and held["review_id"]
    shown = {p["product_id"] for p in api.call("GET", "/v1/products?limit=100", token=shop["buyer"])[1]["items"]}
    assert held["product_id"] not in shown
    refused = order(api, shop["buyer"], [{"product_id": held["product_id"], "quantity": 1}])
    assert refused[1]["error"]["code"] == "PRODUCT_NOT_FOUND"
    assert api.call("POST", f"/v1/admin/reviews/{held['review_id']}/approve", {}, admin)[0] == 200
    shown = {p["product_id"] for p in api.call("GET", "/v1/products?category=beauty", token=shop["buyer"])[1]["items"]}
    assert held["product_id"] in shown
    assert order(api, shop["buyer"], [{"product_id": held["product_id"], "quantity": 1}])[0] == 201


def test_real_pay_keys_in_the_settings_are_honoured_so_an_outside_party_signs_notifications(api, admin, shop, deps,
                                                                                           clock):
    from chalicelib.wechat.pay_crypto import generate_rsa_key, public_key_of
    from chalicelib.wechat.pay_simulator import PaySimulator, simulator_config

    private, key_id, apiv3 = generate_rsa_key(), "PUB_KEY_ID_0114" + "7" * 24, "k" * 32
    real = {"wechat_pay_mch_id": "1900000109", "wechat_pay_apiv3_key": apiv3,
            "wechat_pay_platform_public_key": public_key_of(private), "wechat_pay_platform_key_id": key_id}
    ours_before = deps.pay
    deps.settings = deps.settings.model_copy(update=real)
    deps.__dict__.pop("pay", None)  # the client is rebuilt from the new settings
    pid = product(api, admin)["product_id"]
    placed = order(api, shop["buyer"], [{"product_id": pid, "quantity": 1}])[1]
    status, body = api.call("POST", f"/v1/dev/pay/{placed['order_id']}")
    assert status == 409 and body["error"]["code"] == "SIMULATOR_CANNOT_SIGN"
    forged_with_throwaway_key = ours_before.build_payment_notification(placed["order_id"], clock(),
                                                                       amount_fen=placed["amount_fen"])
    assert api.call("POST", "/v1/wechat/pay/notify", raw=forged_with_throwaway_key[1].decode(),
                    headers=dict(forged_with_throwaway_key[0]))[0] == 401
    outsider = PaySimulator(*simulator_config(deps.settings.wechat_app_id, mch_id="1900000109", apiv3_key=apiv3,
                                              platform_public_key_pem=public_key_of(private), platform_key_id=key_id,
                                              platform_private_key_pem=private))
    headers, raw = outsider.build_payment_notification(placed["order_id"], clock(), amount_fen=placed["amount_fen"])
    assert api.call("POST", "/v1/wechat/pay/notify", raw=raw.decode(), headers=dict(headers))[0] == 200
    assert api.call("GET", f"/v1/orders/{placed['order_id']}", token=shop["buyer"])[1]["status"] == "paid"

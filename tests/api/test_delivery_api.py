"""Carrier tracking through HTTP (docs/delivery.md): 快递100's push endpoint (a bad signature is
refused and changes nothing; a replay is counted once), the simulator's carrier, and the
tracking on the buyer's and the operator's order answers."""
from __future__ import annotations

import uuid
from urllib.parse import urlencode

import pytest

from chalicelib.domain.clock import business_date
from chalicelib.domain.tracking import push_sign
from chalicelib.store.order_items import OrderItem

ADDRESS = {"name": "张三", "phone": "13800001234", "detail": "上海市徐汇区 1 号"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def admin(api):
    return api.login("admin")[0]


@pytest.fixture
def shipped(api, admin):
    """A paid order shipped with 中通: its buyer's token and its id."""
    body = {"name": "精华", "category": "beauty", "cost_fen": 5_000, "price_fen": 15_000, "stock": 10}
    pid = api.call("POST", "/v1/admin/products", body, admin)[1]["product_id"]
    buyer, _ = api.login("buyer")
    status, placed = api.call("POST", "/v1/orders", {"items": [{"product_id": pid, "quantity": 1}],
                                                     "address": ADDRESS}, buyer,
                              headers={"Idempotency-Key": str(uuid.uuid4())})
    assert status == 201, placed
    order_id = placed["order_id"]
    api.call("POST", f"/v1/dev/pay/{order_id}")
    status, order = api.call("POST", f"/v1/admin/orders/{order_id}/ship", {"carrier": "中通", "tracking_no": "ZT1234567"},
                             admin)
    assert status == 200, order
    return buyer, order_id


def play(api, order_id: str, scenario: str) -> dict:
    status, body = api.call("POST", f"/v1/dev/tracking/order-{order_id}", {"scenario": scenario})
    assert status == 200, body
    return body


def post_push(api, subject: str, form: dict[str, str]) -> tuple[int, dict]:
    return api.call("POST", f"/v1/tracking/kuaidi100/{subject}", raw=urlencode(form), headers=FORM)


def state(order_id: str) -> tuple[str | None, str | None]:
    order, tracking = OrderItem.get(order_id), OrderItem.get(f"track#order-{order_id}")
    return tracking.track_json, str(order.delivered_at)


def test_the_buyer_sees_the_tracking_steps_and_the_delivery_on_the_order(api, shipped):
    buyer, order_id = shipped
    order = api.call("GET", f"/v1/orders/{order_id}", token=buyer)[1]
    assert order["tracking"]["state"] == "waiting" and order["tracking"]["subscription"] == "active"
    assert order["shipped_at"] and order["delivered_at"] is None
    assert play(api, order_id, "in_transit")["status"] == "applied"
    assert play(api, order_id, "delivered")["status"] == "applied"
    order = api.call("GET", f"/v1/orders/{order_id}", token=buyer)[1]
    tracking = order["tracking"]
    assert tracking["state"] == "delivered" and order["delivered_at"] == tracking["delivered_at"]
    assert [s["status"] for s in tracking["steps"]] == ["签收", "派件", "在途", "揽收"]
    assert tracking["steps"][0]["at"].endswith("Z") and tracking["carrier"] == "ZTO"
    mine = api.call("GET", "/v1/me/orders", token=buyer)[1]["items"]
    assert mine[0]["tracking"]["state"] == "delivered"


def test_the_admin_list_shows_each_orders_tracking(api, admin, shipped):
    _, order_id = shipped
    play(api, order_id, "delivered")
    items = api.call("GET", "/v1/admin/orders", token=admin)[1]["items"]
    row = next(i for i in items if i["order_id"] == order_id)
    assert row["tracking"]["state"] == "delivered" and row["delivered_at"]


def test_a_push_as_kuaidi100_sends_it_is_answered_as_kuaidi100_expects_and_a_replay_changes_nothing(
        api, shipped, deps):
    _, order_id = shipped
    pushed = play(api, order_id, "delivered")["callback"]
    assert pushed["url"].endswith(f"/v1/tracking/kuaidi100/order-{order_id}")
    before = state(order_id)
    status, body = post_push(api, f"order-{order_id}", pushed["form"])
    assert (status, body) == (200, {"result": True, "returnCode": "200", "message": "成功"})
    assert state(order_id) == before
    day = business_date(deps.clock())
    assert deps.analytics.day_counts([day])[day]["delivered"] == 1


@pytest.mark.parametrize("tamper", ["sign", "param", "subject"])
def test_a_push_with_a_bad_signature_is_401_and_changes_nothing(api, shipped, tamper):
    _, order_id = shipped
    tracking = OrderItem.get(f"track#order-{order_id}").track_json
    form = play(api, order_id, "in_transit")["callback"]["form"]  # applied; now forge the next push
    after_play = state(order_id)
    param = form["param"].replace("在途", "签收").replace('"state":"0"', '"state":"3"')
    forged = {"sign": {"param": param, "sign": push_sign(param, "not-this-parcels-salt")},
              "param": {"param": param, "sign": form["sign"]},
              "subject": form}[tamper]
    subject = f"order-{order_id}" if tamper != "subject" else "order-o20260101000000abcdef"
    status, body = post_push(api, subject, forged)
    assert (status, body["error"]["code"]) == (401, "INVALID_SIGNATURE")
    assert state(order_id) == after_play and after_play[0] != tracking


@pytest.mark.parametrize("raw", ["", "param=x", "sign=x", "param=a&param=b&sign=c", "%ZZ"])
def test_a_body_that_is_not_a_push_form_is_400_invalid_callback(api, shipped, raw):
    _, order_id = shipped
    before = state(order_id)
    status, body = api.call("POST", f"/v1/tracking/kuaidi100/order-{order_id}", raw=raw, headers=FORM)
    assert (status, body["error"]["code"]) == (400, "INVALID_CALLBACK")
    assert state(order_id) == before


def test_playing_a_parcel_nobody_tracks_is_404(api):
    status, body = api.call("POST", "/v1/dev/tracking/order-o1", {"scenario": "delivered"})
    assert (status, body["error"]["code"]) == (404, "TRACKING_NOT_FOUND")
    status, body = api.call("POST", "/v1/dev/tracking/order-o1", {"scenario": "lost"})
    assert (status, body["error"]["code"]) == (422, "VALIDATION_FAILED")

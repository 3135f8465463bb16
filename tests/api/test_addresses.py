"""Delivery addresses through HTTP (API.md v1.1 "Orders and fulfilment", docs/orders.md "Addresses"):
the object ``wx.chooseAddress`` answers, passed as it is, and the short form; one stored form."""
from __future__ import annotations

import json
import uuid

import pytest

from tests.api import test_groups

admin = pytest.fixture(test_groups.admin.__wrapped__)  # type: ignore[attr-defined]
product_id = pytest.fixture(test_groups.product_id.__wrapped__)  # type: ignore[attr-defined]

SHORT = {"name": "张三", "phone": "13800000000", "detail": "上海市徐汇区 1 号"}
# What wx.chooseAddress answers (the developer tools' sample, with the newer picker's keys and a
# key WeChat might add one day): passed on exactly as the mini-program received it.
WECHAT = {
    "errMsg": "chooseAddress:ok",
    "userName": "张三",
    "nationalCode": "510000",
    "telNumber": "020-81167888",
    "postalCode": "510000",
    "provinceName": "广东省",
    "cityName": "广州市",
    "countyName": "海珠区",
    "streetName": "",
    "detailInfo": "新港中路397号",
    "detailInfoNew": "新港中路397号",
    "someFutureKey": {"nested": [1, 2]},
}
WECHAT_STORED = {"name": "张三", "phone": "020-81167888", "province": "广东省", "city": "广州市", "county": "海珠区",
                 "detail": "新港中路397号", "postal_code": "510000", "national_code": "510000"}
ADDRESS_KEYS = {"name", "phone", "detail", "province", "city", "county", "street", "postal_code", "national_code"}




def post(api, path, body, token, key=None):
    return api.call("POST", path, body, token, headers={"Idempotency-Key": key or str(uuid.uuid4())})


def place(api, token, product_id, address, key=None):
    return post(api, "/v1/orders", {"items": [{"product_id": product_id, "quantity": 1}], "address": address}, token,
                key)


def stored(order_id):
    from chalicelib.store.orders import OrderItem

    return json.loads(OrderItem.get(order_id).address_json)


def stock(api, token, product_id):
    listed = api.call("GET", "/v1/products?category=food", token=token)[1]["items"]
    return next(p for p in listed if p["product_id"] == product_id)["stock"]


def test_the_object_wx_choose_address_answers_is_accepted_as_it_is_and_stored_in_one_form(api, admin, product_id):
    buyer, _ = api.login("buyer")
    status, placed = place(api, buyer, product_id, WECHAT)
    assert status == 201, placed
    assert stored(placed["order_id"]) == WECHAT_STORED  # errMsg, blank keys and unknown keys are not kept
    for token in (buyer, admin):  # the buyer, and the operator who ships it, read the same shape
        answer = api.call("GET", f"/v1/orders/{placed['order_id']}", token=token)[1]
        assert answer["address"] == {**dict.fromkeys(ADDRESS_KEYS), **WECHAT_STORED}


def test_the_short_form_stays_valid_and_is_stored_exactly_as_before(api, admin, product_id):
    buyer, _ = api.login("buyer")
    status, placed = place(api, buyer, product_id, SHORT)
    assert status == 201, placed
    assert stored(placed["order_id"]) == SHORT
    answer = api.call("GET", f"/v1/orders/{placed['order_id']}", token=admin)[1]
    assert answer["address"] == {**dict.fromkeys(ADDRESS_KEYS), **SHORT}
    mine = api.call("GET", "/v1/me/orders", token=buyer)[1]["items"]
    assert [o["address"]["detail"] for o in mine] == [SHORT["detail"]]


def test_newer_and_older_pickers_and_blank_optional_parts(api, product_id):
    buyer, _ = api.login("buyer")
    newer = {**WECHAT, "streetName": "赤岗街道", "detailInfo": "", "detailInfoNew": "新港中路397号 ", "postalCode": "",
             "countyName": ""}
    status, placed = place(api, buyer, product_id, newer)
    assert status == 201, placed
    assert stored(placed["order_id"]) == {"name": "张三", "phone": "020-81167888", "province": "广东省",
                                          "city": "广州市", "street": "赤岗街道", "detail": "新港中路397号",
                                          "national_code": "510000"}
    older = {k: WECHAT[k] for k in ("errMsg", "userName", "telNumber", "provinceName", "cityName", "countyName",
                                    "detailInfo")}  # base library 1.1: no postal or national code
    status, placed = place(api, buyer, product_id, older)
    assert status == 201, placed
    assert set(stored(placed["order_id"])) == {"name", "phone", "province", "city", "county", "detail"}


BAD = {
    "mixed: a short key in the WeChat object": ({**WECHAT, "name": "李四"}, "address.short.userName"),
    "mixed: a WeChat key in the short form": ({**SHORT, "provinceName": "广东省"}, "address.short.provinceName"),
    "short form with an unknown key": ({**SHORT, "postalCode": "200000"}, "address.short.postalCode"),
    "short form missing phone": ({"name": "张三", "detail": "x"}, "address.short.phone"),
    "no userName": ({k: v for k, v in WECHAT.items() if k != "userName"}, "address.wechat.userName"),
    "no cityName": ({k: v for k, v in WECHAT.items() if k != "cityName"}, "address.wechat.cityName"),
    "blank provinceName": ({**WECHAT, "provinceName": "  "}, "address.wechat.provinceName"),
    "no detail at all": ({**WECHAT, "detailInfo": " ", "detailInfoNew": ""}, "address.wechat"),
    "telNumber as a number": ({**WECHAT, "telNumber": 13800000000}, "address.wechat.telNumber"),
    "telNumber with letters": ({**WECHAT, "telNumber": "call me"}, "address.wechat.telNumber"),
    "detailInfo too long": ({**WECHAT, "detailInfo": "路" * 201}, "address.wechat.detailInfo"),
    "userName too long": ({**WECHAT, "userName": "名" * 41}, "address.wechat.userName"),
    "postalCode not a code": ({**WECHAT, "postalCode": "<script>"}, "address.wechat.postalCode"),
    "errMsg too long": ({**WECHAT, "errMsg": "x" * 201}, "address.wechat.errMsg"),
    "not an object": ("广东省广州市", "address.short"),
    "null": (None, "address.short"),
    "empty object": ({}, "address.short.name"),
}


@pytest.mark.parametrize(("address", "field"), BAD.values(), ids=BAD.keys())
def test_a_bad_address_is_422_with_the_field_and_changes_nothing(api, product_id, address, field):
    buyer, _ = api.login("buyer")
    status, answer = place(api, buyer, product_id, address)
    assert (status, answer["error"]["code"]) == (422, "VALIDATION_FAILED")
    assert field in [f["field"] for f in answer["error"]["fields"]], answer
    assert stock(api, buyer, product_id) == 10
    assert api.call("GET", "/v1/me/orders", token=buyer)[1]["items"] == []


def test_a_retry_replays_even_if_wechat_noise_differs_but_another_address_is_another_body(api, product_id):
    buyer, _ = api.login("buyer")
    first = place(api, buyer, product_id, WECHAT, key="k-addr")
    again = place(api, buyer, product_id, {**WECHAT, "errMsg": "chooseAddress:ok ", "anotherNewKey": 1}, key="k-addr")
    assert first[0] == again[0] == 201 and again[1]["order_id"] == first[1]["order_id"]
    status, answer = place(api, buyer, product_id, {**WECHAT, "detailInfo": "新港中路398号"}, key="k-addr")
    assert (status, answer["error"]["code"]) == (409, "IDEMPOTENCY_KEY_REUSED")
    assert stock(api, buyer, product_id) == 9


def test_group_buy_opening_and_joining_take_either_form(api, product_id):
    leader, _ = api.login("leader")
    status, opened = post(api, "/v1/groups", {"product_id": product_id, "address": WECHAT}, leader)
    assert status == 201, opened
    assert stored(opened["order_id"]) == WECHAT_STORED
    member, _ = api.login("member")
    status, joined = post(api, f"/v1/groups/{opened['group_id']}/join", {"address": SHORT}, member)
    assert status == 201, joined
    assert stored(joined["order_id"]) == SHORT
    late, _ = api.login("late")
    status, joined = post(api, f"/v1/groups/{opened['group_id']}/join", {}, late)
    assert status == 201, joined
    assert api.call("GET", f"/v1/orders/{joined['order_id']}", token=late)[1]["address"] is None


@pytest.mark.parametrize(("address", "field"), [BAD["mixed: a short key in the WeChat object"], BAD["no detail at all"],
                                            BAD["short form with an unknown key"]])
def test_group_buy_refuses_a_bad_address_and_changes_nothing(api, product_id, address, field):
    leader, _ = api.login("leader")
    status, answer = post(api, "/v1/groups", {"product_id": product_id, "address": address}, leader)
    assert (status, answer["error"]["code"]) == (422, "VALIDATION_FAILED")
    assert field in [f["field"] for f in answer["error"]["fields"]], answer
    opened = post(api, "/v1/groups", {"product_id": product_id}, leader)[1]
    status, answer = post(api, f"/v1/groups/{opened['group_id']}/join", {"address": address}, api.login("b")[0])
    assert (status, answer["error"]["code"]) == (422, "VALIDATION_FAILED")
    assert stock(api, leader, product_id) == 9  # the one seat opened without an address


def test_the_openapi_document_describes_both_forms_and_the_answer(api):
    schemas = api.call("GET", "/v1/openapi.json")[1]["components"]["schemas"]
    refs = [alt["$ref"].rsplit("/", 1)[1] for alt in schemas["OrderBody"]["properties"]["address"]["oneOf"]]
    assert refs == ["ShortAddressIn", "WechatAddressIn"]
    assert set(schemas["WechatAddressIn"]["required"]) == {"userName", "telNumber", "provinceName", "cityName"}
    assert schemas["ShortAddressIn"]["additionalProperties"] is False
    assert "additionalProperties" not in schemas["WechatAddressIn"]  # later WeChat keys are accepted
    assert set(schemas["AddressOut"]["properties"]) == ADDRESS_KEYS
    assert "address" in schemas["OrderOut"]["properties"]

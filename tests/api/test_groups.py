"""Group-buy through HTTP (API.md "Group-buy"): shapes, every error code, bad input, the job."""
from __future__ import annotations

import uuid

import pytest

ADDRESS = {"name": "张三", "phone": "13800000000", "detail": "上海市徐汇区 1 号"}


@pytest.fixture
def admin(api):
    return api.login("admin")[0]


@pytest.fixture
def product_id(api, admin):
    body = {"name": "坚果", "category": "food", "cost_fen": 2_000, "price_fen": 5_000, "stock": 10,
            "group_buy": {"size": 3, "discount_bp": 3_000, "ttl_hours": 24}}
    status, answer = api.call("POST", "/v1/admin/products", body, admin)
    assert status == 201 and answer["group_price_fen"] == 3_500, answer
    return answer["product_id"]


def post(api, path, body, token, key=None):
    return api.call("POST", path, body, token, headers={"Idempotency-Key": key or str(uuid.uuid4())})


def open_group(api, token, product_id):
    status, body = post(api, "/v1/groups", {"product_id": product_id, "address": ADDRESS}, token)
    assert status == 201, body
    return body


def test_three_members_pay_and_the_group_completes_a_fourth_is_refused(api, product_id):
    leader, leader_id = api.login("leader")
    opened = open_group(api, leader, product_id)
    assert set(opened) >= {"group_id", "order_id", "payment", "expires_at"}
    assert opened["payment"]["signType"] == "RSA" and opened["expires_at"].endswith("Z")
    gid = opened["group_id"]
    status, view = api.call("GET", f"/v1/groups/{gid}", token=leader)
    assert status == 200 and (view["status"], view["size"], view["expires_at"]) == ("open", 3, opened["expires_at"])
    assert view["members"] == [{"user_id": leader_id, "leader": True, "paid": False}]
    orders = [opened["order_id"]]
    for name in ("a", "b"):
        status, joined = post(api, f"/v1/groups/{gid}/join", {}, api.login(name)[0])
        assert status == 201 and set(joined) >= {"order_id", "payment"} and joined["amount_fen"] == 3_500
        orders.append(joined["order_id"])
    for order_id in orders:
        assert api.call("POST", f"/v1/dev/pay/{order_id}")[1]["status"] == "paid"
    view = api.call("GET", f"/v1/groups/{gid}", token=leader)[1]
    assert view["status"] == "complete" and len(view["members"]) == 3 and all(m["paid"] for m in view["members"])
    status, refused = post(api, f"/v1/groups/{gid}/join", {}, api.login("d")[0])
    assert status == 409 and refused["error"]["code"] == "GROUP_CLOSED"
    assert api.call("GET", f"/v1/orders/{orders[1]}", token=leader)[0] == 404  # not the leader's order


def test_every_join_error_has_its_code(api, product_id):
    leader, _ = api.login("leader")
    gid = open_group(api, leader, product_id)["group_id"]
    a, b, c = (api.login(n)[0] for n in ("a", "b", "c"))
    assert post(api, f"/v1/groups/{gid}/join", {}, a)[0] == 201
    for token in (a, leader):
        status, body = post(api, f"/v1/groups/{gid}/join", {}, token)
        assert (status, body["error"]["code"]) == (409, "ALREADY_MEMBER")
    assert post(api, f"/v1/groups/{gid}/join", {}, b)[0] == 201
    status, body = post(api, f"/v1/groups/{gid}/join", {}, c)
    assert (status, body["error"]["code"]) == (409, "GROUP_FULL")
    for method, path in (("POST", "/v1/groups/nosuch/join"), ("GET", "/v1/groups/nosuch")):
        status, body = api.call(method, path, {} if method == "POST" else None, c,
                                headers={"Idempotency-Key": "k-404"})
        assert (status, body["error"]["code"]) == (404, "GROUP_NOT_FOUND")


def test_opening_refuses_bad_input_and_changes_nothing(api, admin, product_id):
    leader, _ = api.login("leader")
    status, plain = api.call("POST", "/v1/admin/products", {"name": "茶", "category": "food", "cost_fen": 2_000,
                                                            "price_fen": 5_000, "stock": 5}, admin)
    assert status == 201
    cases = [
        ({"product_id": "nosuch"}, 422, "PRODUCT_NOT_FOUND"),
        ({"product_id": plain["product_id"]}, 422, "NOT_A_GROUP_PRODUCT"),
        ({"product_id": 5}, 422, "VALIDATION_FAILED"),
        ({}, 422, "VALIDATION_FAILED"),
        ({"product_id": product_id, "extra": 1}, 422, "VALIDATION_FAILED"),
        ({"product_id": product_id, "address": {"name": "x"}}, 422, "VALIDATION_FAILED"),
    ]
    for body, want_status, want_code in cases:
        status, answer = post(api, "/v1/groups", body, leader)
        assert (status, answer["error"]["code"]) == (want_status, want_code), body
    status, answer = api.call("POST", "/v1/groups", {"product_id": product_id}, leader)
    assert (status, answer["error"]["code"]) == (400, "IDEMPOTENCY_KEY_REQUIRED")
    status, answer = api.call("POST", "/v1/groups", {"product_id": product_id},
                              headers={"Idempotency-Key": "k"})
    assert status == 401
    status, answer = api.call("POST", "/v1/groups", raw="{not json", token=leader, headers={"Idempotency-Key": "k"})
    assert (status, answer["error"]["code"]) == (400, "MALFORMED_JSON")
    listed = api.call("GET", "/v1/products?category=food", token=leader)[1]["items"]
    assert next(p for p in listed if p["product_id"] == product_id)["stock"] == 10


def test_the_same_key_replays_the_first_answer_and_another_body_is_refused(api, product_id):
    leader, _ = api.login("leader")
    first = post(api, "/v1/groups", {"product_id": product_id}, leader, key="k-open")
    again = post(api, "/v1/groups", {"product_id": product_id}, leader, key="k-open")
    assert first[0] == again[0] == 201
    assert (again[1]["group_id"], again[1]["order_id"]) == (first[1]["group_id"], first[1]["order_id"])
    status, body = post(api, "/v1/groups", {"product_id": product_id, "address": ADDRESS}, leader, key="k-open")
    assert (status, body["error"]["code"]) == (409, "IDEMPOTENCY_KEY_REUSED")
    a, _ = api.login("a")
    gid = first[1]["group_id"]
    joined = post(api, f"/v1/groups/{gid}/join", {}, a, key="k-join")
    assert post(api, f"/v1/groups/{gid}/join", {}, a, key="k-join")[1]["order_id"] == joined[1]["order_id"]


def test_the_expiry_job_fails_the_group_and_refunds_its_paid_members(api, admin, product_id, clock):
    leader, _ = api.login("leader")
    opened = open_group(api, leader, product_id)
    gid = opened["group_id"]
    joined = post(api, f"/v1/groups/{gid}/join", {}, api.login("a")[0])[1]
    for order_id in (opened["order_id"], joined["order_id"]):
        api.call("POST", f"/v1/dev/pay/{order_id}")
    status, ship = api.call("POST", f"/v1/admin/orders/{opened['order_id']}/ship",
                            {"carrier": "SF", "tracking_no": "SF123456"}, admin)
    assert (status, ship["error"]["code"]) == (409, "GROUP_NOT_COMPLETE")
    clock.advance(hours=25)
    status, summary = api.call("POST", "/v1/dev/jobs/expire_groups", {"now": clock().isoformat()})
    assert status == 200 and (summary["failed"], summary["refunded"]) == (1, 2)
    assert api.call("POST", "/v1/dev/jobs/expire_groups", {})[1]["refunded"] == 0
    assert api.call("GET", f"/v1/groups/{gid}", token=leader)[1]["status"] == "failed"
    assert api.call("GET", f"/v1/orders/{opened['order_id']}", token=leader)[1]["status"] == "refunded"

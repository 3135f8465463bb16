"""The catalogue's HTTP contract (API.md v1.1 "Catalogue"): SKUs on create, checkout and group
open; the product page; the admin list; PATCH listed, stock_delta, images, detail, skus. Every
refusal answers its code and changes no table."""
from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.api.test_authorization import snapshot
from tests.api.test_orders import ADDRESS, order
from tests.images import uploaded

SHIRT = {"name": "衬衫", "category": "apparel", "cost_fen": 3_000, "price_fen": 10_000, "stock": 4,
         "group_buy": {"size": 2, "discount_bp": 2_000, "ttl_hours": 24},
         "skus": [{"specs": {"颜色": "红", "尺码": "M"}},
                  {"specs": {"颜色": "红", "尺码": "L"}, "price_fen": 12_000, "cost_fen": 4_000, "stock": 2}]}


@pytest.fixture
def admin(api):
    return api.login("admin")[0]


@pytest.fixture
def shirt(api, admin) -> dict[str, Any]:
    status, answer = api.call("POST", "/v1/admin/products", SHIRT, admin)
    assert status == 201, answer
    return answer


def refused(api, method: str, path: str, body: Any, token: str, status: int, code: str,
            headers: dict[str, str] | None = None) -> dict[str, Any]:
    before = snapshot()
    got, answer = api.call(method, path, body, token, headers=headers)
    assert (got, answer["error"]["code"]) == (status, code), answer
    assert snapshot() == before, f"{method} {path} changed something"
    return answer["error"]


def test_a_product_is_created_with_skus_defaulting_to_its_fields(shirt):
    medium, large = shirt["skus"]
    assert (medium["price_fen"], medium["cost_fen"], medium["stock"]) == (10_000, 3_000, 4)
    assert (large["price_fen"], large["group_price_fen"], large["stock"]) == (12_000, 9_600, 2)
    assert shirt["stock"] == 6 and medium["sku_id"] != large["sku_id"]
    assert (shirt["images"], shirt["detail"], shirt["listed"]) == ([], "", True)


@pytest.mark.parametrize(("change", "code"), [
    ({"skus": [{"specs": {"颜色": "蓝"}, "sku_id": "s1"}]}, "VALIDATION_FAILED"),  # the server assigns ids
    ({"skus": []}, "VALIDATION_FAILED"),
    ({"skus": [{"specs": {}}]}, "VALIDATION_FAILED"),
    ({"skus": [{"specs": {"a": "1", "b": "2", "c": "3", "d": "4", "e": "5"}}]}, "VALIDATION_FAILED"),
    ({"skus": [{"specs": {"颜色": "蓝"}, "price_fen": 10_000, "cost_fen": 9_500}]}, "COMMISSION_EXCEEDS_MARGIN"),
    ({"skus": [{"specs": {"颜色": "蓝"}}, {"specs": {"颜色": "蓝"}}]}, "INVALID_SKUS"),
    ({"stock_cells": 4}, "INVALID_SKUS"),
    ({"images": ["http://img.example.com/a.jpg"]}, "IMAGE_NOT_OURS"),
    ({"detail": "x" * 10_001}, "VALIDATION_FAILED"),
    ({"detail": "躺赚攻略"}, "CONTENT_BLOCKED"),
])
def test_a_new_product_with_bad_skus_images_or_detail_is_refused_and_nothing_is_written(api, admin, change, code):
    refused(api, "POST", "/v1/admin/products", {**SHIRT, **change}, admin, 422, code)


def test_an_order_names_its_sku_and_shows_it(api, shirt):
    buyer = api.login("buyer")[0]
    large = shirt["skus"][1]
    status, placed = order(api, buyer, [{"product_id": shirt["product_id"], "sku_id": large["sku_id"], "quantity": 2}])
    assert status == 201 and placed["amount_fen"] == 24_000
    line, = api.call("GET", f"/v1/orders/{placed['order_id']}", token=buyer)[1]["items"]
    assert (line["sku_id"], line["specs"], line["unit_price_fen"]) == (large["sku_id"], {"颜色": "红", "尺码": "L"}, 12_000)
    page = api.call("GET", f"/v1/products/{shirt['product_id']}", token=buyer)[1]
    assert [s["stock"] for s in page["skus"]] == [4, 0] and page["stock"] == 4


def test_an_order_line_without_its_sku_or_with_a_wrong_one_or_beyond_its_stock_is_refused(api, shirt):
    buyer = api.login("buyer")[0]
    plain = api.call("POST", "/v1/admin/products", {"name": "茶", "category": "food", "cost_fen": 1_000,
                                                    "price_fen": 5_000, "stock": 5}, api.login("admin")[0])[1]
    medium = shirt["skus"][0]
    pid = shirt["product_id"]
    for items, status, code in (
            ([{"product_id": pid, "quantity": 1}], 422, "SKU_REQUIRED"),
            ([{"product_id": pid, "sku_id": "snope", "quantity": 1}], 422, "SKU_NOT_FOUND"),
            ([{"product_id": plain["product_id"], "sku_id": medium["sku_id"], "quantity": 1}], 422, "SKU_NOT_FOUND"),
            ([{"product_id": pid, "sku_id": medium["sku_id"], "quantity": 5}], 409, "OUT_OF_STOCK"),
            ([{"product_id": pid, "sku_id": "bad#id", "quantity": 1}], 422, "VALIDATION_FAILED"),
            ([{"product_id": pid, "sku_id": medium["sku_id"], "quantity": 1}] * 2, 422, "INVALID_ORDER")):
        error = refused(api, "POST", "/v1/orders", {"items": items, "address": ADDRESS}, buyer, status, code,
                        headers={"Idempotency-Key": str(uuid.uuid4())})
        assert code in ("VALIDATION_FAILED", "INVALID_ORDER") or error["product_id"] in (pid, plain["product_id"])


def test_a_group_is_opened_on_a_sku_and_refused_without_one(api, shirt):
    leader = api.login("leader")[0]
    medium = shirt["skus"][0]
    body = {"product_id": shirt["product_id"], "address": ADDRESS}
    refused(api, "POST", "/v1/groups", body, leader, 422, "SKU_REQUIRED", headers={"Idempotency-Key": "k1"})
    refused(api, "POST", "/v1/groups", {**body, "sku_id": "snope"}, leader, 422, "SKU_NOT_FOUND",
            headers={"Idempotency-Key": "k2"})
    status, opened = api.call("POST", "/v1/groups", {**body, "sku_id": medium["sku_id"]}, leader,
                              headers={"Idempotency-Key": "k3"})
    assert status == 201 and opened["amount_fen"] == 8_000
    group = api.call("GET", f"/v1/groups/{opened['group_id']}", token=leader)[1]
    assert (group["sku_id"], group["specs"], group["group_price_fen"]) == (medium["sku_id"], medium["specs"], 8_000)


def test_the_product_page_shows_a_listed_product_and_404s_otherwise(api, admin, shirt, deps):
    buyer = api.login("buyer")[0]
    pid = shirt["product_id"]
    image = uploaded(deps)
    api.call("PATCH", f"/v1/admin/products/{pid}", {"images": [image], "detail": "<p>纯棉</p>"}, admin)
    status, page = api.call("GET", f"/v1/products/{pid}", token=buyer)
    assert status == 200 and page["promotions"] == [] and page["images"] == [image]
    assert page["detail"] == "<p>纯棉</p>" and "cost_fen" not in page["skus"][0]
    assert {k: page[k] for k in ("name", "category", "price_fen", "stock")} == {
        "name": "衬衫", "category": "apparel", "price_fen": 10_000, "stock": 6}
    api.call("PATCH", f"/v1/admin/products/{pid}", {"listed": False}, admin)
    refused(api, "GET", f"/v1/products/{pid}", None, buyer, 404, "PRODUCT_NOT_FOUND")
    refused(api, "GET", "/v1/products/pnope", None, buyer, 404, "PRODUCT_NOT_FOUND")


def test_the_admin_list_shows_every_product_with_cost_stock_and_skus_paginated(api, admin, shirt):
    other = api.call("POST", "/v1/admin/products", {"name": "茶叶", "category": "food", "cost_fen": 1_000,
                                                    "price_fen": 5_000, "stock": 5}, admin)[1]
    api.call("PATCH", f"/v1/admin/products/{other['product_id']}", {"listed": False}, admin)
    first = api.call("GET", "/v1/admin/products?limit=1", token=admin)[1]
    second = api.call("GET", f"/v1/admin/products?limit=1&next={first['next']}", token=admin)[1]
    items = first["items"] + second["items"]
    assert sorted(p["product_id"] for p in items) == sorted([shirt["product_id"], other["product_id"]])
    shown = next(p for p in items if p["product_id"] == shirt["product_id"])
    assert (shown["cost_fen"], shown["stock"], shown["skus"][1]["cost_fen"], shown["detail"]) == (3_000, 6, 4_000, None)
    unlisted = api.call("GET", "/v1/admin/products?listed=false", token=admin)[1]["items"]
    assert [p["product_id"] for p in unlisted] == [other["product_id"]]
    assert [p["product_id"] for p in api.call("GET", "/v1/admin/products?q=衬", token=admin)[1]["items"]] == [
        shirt["product_id"]]
    refused(api, "GET", "/v1/admin/products?next=garbage", None, admin, 400, "INVALID_CURSOR")
    refused(api, "GET", "/v1/admin/products?listed=maybe", None, admin, 422, "VALIDATION_FAILED")
    refused(api, "GET", "/v1/admin/products", None, api.login("buyer")[0], 403, "FORBIDDEN")


def test_patch_stock_delta_restocks_and_never_goes_below_zero(api, admin, shirt):
    pid, medium = shirt["product_id"], shirt["skus"][0]
    path = f"/v1/admin/products/{pid}"
    status, answer = api.call("PATCH", path, {"stock_delta": 5, "sku_id": medium["sku_id"]}, admin)
    assert status == 200 and answer["skus"][0]["stock"] == 9 and answer["stock"] == 11
    refused(api, "PATCH", path, {"stock_delta": -10, "sku_id": medium["sku_id"]}, admin, 409, "OUT_OF_STOCK")
    refused(api, "PATCH", path, {"stock_delta": 1}, admin, 422, "SKU_REQUIRED")
    refused(api, "PATCH", path, {"stock_delta": 1, "sku_id": "snope"}, admin, 422, "SKU_NOT_FOUND")
    refused(api, "PATCH", path, {"stock_delta": 1.5, "sku_id": medium["sku_id"]}, admin, 422, "VALIDATION_FAILED")
    refused(api, "PATCH", path, {"stock": 3}, admin, 422, "VALIDATION_FAILED")  # an absolute stock is never set
    refused(api, "PATCH", "/v1/admin/products/pnope", {"stock_delta": 1}, admin, 404, "NOT_FOUND")


def test_patch_listed_images_detail_and_skus(api, admin, shirt, deps):
    pid = shirt["product_id"]
    path = f"/v1/admin/products/{pid}"
    medium, large = shirt["skus"]
    image = uploaded(deps)
    status, answer = api.call("PATCH", path, {"listed": False, "images": [image], "detail": "<b>新款</b>"}, admin)
    assert status == 200 and (answer["listed"], answer["images"], answer["detail"]) == (False, [image], "<b>新款</b>")
    skus = [{"sku_id": large["sku_id"], "price_fen": 13_000}, {"specs": {"颜色": "黑", "尺码": "XL"}, "stock": 3}]
    status, answer = api.call("PATCH", path, {"skus": skus}, admin)
    assert status == 200 and [(s["price_fen"], s["stock"]) for s in answer["skus"]] == [(13_000, 2), (10_000, 3)]
    for body, code in (({"images": [image] * 10}, "INVALID_IMAGES"),
                       ({"images": ["https://x.com/a.jpg"]}, "IMAGE_NOT_OURS"),
                       ({"images": [image.replace(".png", ".jpg")]}, "IMAGE_NOT_UPLOADED"),
                       ({"skus": [{"sku_id": medium["sku_id"]}]}, "SKU_NOT_FOUND"),  # dropped above
                       ({"skus": [{"price_fen": 100}]}, "INVALID_SKUS"),  # a new SKU without specs
                       ({"skus": [{"sku_id": large["sku_id"], "cost_fen": 12_900}]}, "COMMISSION_EXCEEDS_MARGIN"),
                       ({"listed": None}, "VALIDATION_FAILED"),
                       ({"detail": "月入百万"}, "CONTENT_BLOCKED")):
        refused(api, "PATCH", path, body, admin, 422, code)


def test_the_new_routes_are_declared_in_the_openapi_document(api):
    doc = api.call("GET", "/v1/openapi.json")[1]
    assert "SKU_REQUIRED" in doc["paths"]["/v1/orders"]["post"]["x-error-codes"]
    assert "PRODUCT_NOT_FOUND" in doc["paths"]["/v1/products/{product_id}"]["get"]["x-error-codes"]
    assert {"get", "post"} <= set(doc["paths"]["/v1/admin/products"])
    assert "OUT_OF_STOCK" in doc["paths"]["/v1/admin/products/{product_id}"]["patch"]["x-error-codes"]

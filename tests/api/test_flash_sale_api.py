"""The flash-sale setting through HTTP: ``stock_cells`` on the admin's product create and edit,
an addition to API.md (optional, 1 by default), published in /v1/openapi.json."""
from __future__ import annotations

import uuid

import pytest

from tests.api.test_orders import ADDRESS, product


@pytest.fixture
def admin(api):
    return api.login("admin")[0]


def test_a_product_split_over_cells_answers_its_whole_stock_and_sells_it(api, admin):
    created = product(api, admin, stock=9, stock_cells=8)
    assert (created["stock"], created["stock_cells"]) == (9, 8)
    buyer, _ = api.login("buyer")
    for _ in range(2):
        status, placed = api.call("POST", "/v1/orders", {"items": [{"product_id": created["product_id"], "quantity": 3}],
                                                          "address": ADDRESS}, buyer,
                                  headers={"Idempotency-Key": str(uuid.uuid4())})
        assert status == 201, placed
    listed = api.call("GET", "/v1/products", token=buyer)[1]["items"]
    assert next(p for p in listed if p["product_id"] == created["product_id"])["stock"] == 3
    status, edited = api.call("PATCH", f"/v1/admin/products/{created['product_id']}", {"stock_cells": 2}, admin)
    assert status == 200 and (edited["stock"], edited["stock_cells"]) == (3, 2)
    status, refused = api.call("POST", "/v1/orders", {"items": [{"product_id": created["product_id"], "quantity": 4}],
                                                       "address": ADDRESS}, buyer,
                               headers={"Idempotency-Key": str(uuid.uuid4())})
    assert status == 409 and refused["error"]["code"] == "OUT_OF_STOCK"


def test_a_product_created_without_the_setting_is_not_split(api, admin):
    assert product(api, admin)["stock_cells"] == 1


@pytest.mark.parametrize("cells", [0, -1, 33, 1_000, "8", 2.5, None])
def test_cells_outside_one_to_thirty_two_are_refused_on_create_and_edit(api, admin, cells):
    body = {"name": "精华", "category": "beauty", "cost_fen": 5_000, "price_fen": 15_000, "stock": 10,
            "stock_cells": cells}
    status, answer = api.call("POST", "/v1/admin/products", body, admin)
    assert status == 422 and answer["error"]["code"] == "VALIDATION_FAILED", answer
    created = product(api, admin)
    status, answer = api.call("PATCH", f"/v1/admin/products/{created['product_id']}", {"stock_cells": cells}, admin)
    assert status == 422 and answer["error"]["code"] == "VALIDATION_FAILED", answer
    assert api.call("GET", "/v1/products", token=admin)[1]["items"][0]["stock"] == 10


def test_the_setting_is_in_the_openapi_document(api):
    schemas = api.call("GET", "/v1/openapi.json")[1]["components"]["schemas"]
    for name in ("ProductBody", "ProductPatch", "AdminProductOut"):
        field = schemas[name]["properties"]["stock_cells"]
        text = str(field)
        assert "Flash sale" in text, (name, field)
    created = schemas["ProductBody"]["properties"]["stock_cells"]
    assert (created["minimum"], created["maximum"], created["default"]) == (1, 32, 1)
    assert "stock_cells" not in schemas["ProductBody"]["required"]

"""The console's pages over HTTP: refusals render with their status and change nothing; the
upload signing answers JSON to the page's script."""
from __future__ import annotations

import json
from typing import Any

import pytest

from tests.api.console_client import ConsoleClient, text
from tests.api.test_authorization import snapshot
from tests.api.test_orders import product


@pytest.fixture
def browser(client: Any) -> ConsoleClient:
    b = ConsoleClient(client)
    b.sign_in()
    return b


def test_a_bad_filter_is_422_with_the_fields_problem(browser: ConsoleClient) -> None:
    response = browser.get("/console/orders?status=lost&from=2026-13-01")
    assert response.status_code == 422 and "VALIDATION_FAILED" in text(response)


def test_an_unknown_order_or_product_is_404(browser: ConsoleClient) -> None:
    assert browser.get("/console/orders/o-nobody").status_code == 404
    assert browser.get("/console/products/p-nobody").status_code == 404


def test_an_upload_of_a_type_we_do_not_take_is_refused_as_json_and_signs_nothing(browser: ConsoleClient) -> None:
    token = browser.csrf()
    before = snapshot()
    response = browser.post("/console/uploads", {"content_type": "image/gif", "size_bytes": "100"},
                            headers={"X-CSRF-Token": token})
    assert response.status_code == 422 and response.headers["Content-Type"] == "application/json"
    assert json.loads(text(response))["error"]["code"] == "UNSUPPORTED_IMAGE_TYPE"
    assert snapshot() == before


def test_an_upload_is_signed_for_the_script_with_its_audit_entry(browser: ConsoleClient) -> None:
    response = browser.post("/console/uploads", {"content_type": "image/png", "size_bytes": "2048"},
                            headers={"X-CSRF-Token": browser.csrf()})
    answer = json.loads(text(response))
    assert response.status_code == 201 and set(answer) == {"upload", "image_url"}
    assert set(answer["upload"]) == {"url", "fields"} and answer["upload"]["fields"]["Content-Type"] == "image/png"


def test_an_image_that_is_not_ours_is_refused_on_the_products_page_and_changes_nothing(api: Any,
                                                                                     browser: ConsoleClient) -> None:
    admin, _ = api.login("admin")
    pid = product(api, admin)["product_id"]
    before = snapshot()
    response = browser.post(f"/console/products/{pid}/images", {"csrf_token": browser.csrf(),
                                                                "add": "https://evil.example/x.png"})
    assert response.status_code == 422 and "IMAGE_NOT_OURS" in text(response)
    assert snapshot() == before


def test_a_restock_below_zero_is_409_and_changes_nothing(api: Any, browser: ConsoleClient) -> None:
    admin, _ = api.login("admin")
    pid = product(api, admin, stock=2)["product_id"]
    before = snapshot()
    response = browser.post(f"/console/products/{pid}/restock", {"csrf_token": browser.csrf(), "stock_delta": "-3"})
    assert response.status_code == 409 and "OUT_OF_STOCK" in text(response)
    assert snapshot() == before


def test_the_order_list_filters_as_the_api_does(api: Any, browser: ConsoleClient) -> None:
    from tests.api.test_orders import order

    admin, _ = api.login("admin")
    buyer, _ = api.login("buyer")
    pid = product(api, admin)["product_id"]
    paid = order(api, buyer, [{"product_id": pid, "quantity": 1}])[1]["order_id"]
    unpaid = order(api, buyer, [{"product_id": pid, "quantity": 1}])[1]["order_id"]
    api.call("POST", f"/v1/dev/pay/{paid}")
    page = text(browser.get("/console/orders?status=paid"))
    assert paid in page and unpaid not in page
    everything = text(browser.get("/console/orders"))
    assert paid in everything and unpaid in everything
    assert paid not in text(browser.get("/console/orders?shipping_report=failed"))


def test_a_purchase_limit_set_and_lifted_on_the_products_page_shows_on_the_product_page(
        api: Any, browser: ConsoleClient) -> None:
    admin, _ = api.login("admin")
    pid = product(api, admin)["product_id"]
    page = browser.get(f"/console/products/{pid}")
    assert 'name="limit_per_user"' in text(page)

    def edit(limit: str) -> Any:
        return browser.post(f"/console/products/{pid}", {"csrf_token": browser.csrf(), "limit_per_user": limit})

    assert edit("2").status_code == 303
    assert api.call("GET", f"/v1/products/{pid}", token=admin)[1]["limit_per_user"] == 2
    before = snapshot()
    refused = edit("0")
    assert refused.status_code == 422 and "VALIDATION_FAILED" in text(refused)
    assert snapshot() == before
    assert edit("").status_code == 303
    assert api.call("GET", f"/v1/products/{pid}", token=admin)[1]["limit_per_user"] is None

"""Every console page of this lane at 1280 px and on a tablet (768 px): it renders without a
console error, axe finds no serious or critical violation, and nothing but a table's own
scroller is wider than the screen. Screenshots in test-artifacts/console/."""
from __future__ import annotations

import os
from typing import Any

import pytest

from tests.api.conftest import Api
from tests.api.test_orders import order, product
from tests.browser.chromium import unavailable
from tests.browser.console import DESKTOP, TABLET, console_browser, console_server

reason = unavailable()
if reason and os.environ.get("CI"):
    raise RuntimeError(f"browser tests cannot run in CI: {reason}")
pytestmark = pytest.mark.skipif(reason is not None, reason=reason or "")


@pytest.mark.parametrize(("device", "label"), [(DESKTOP, "1280"), (TABLET, "768")])
def test_every_page_renders_cleanly_at_1280_px_and_on_a_tablet(client: Any, device: dict[str, Any],
                                                               label: str) -> None:
    api = Api(client)
    admin, _ = api.login("admin")
    buyer, _ = api.login("buyer")
    pid = product(api, admin, name="补水面膜 Hydrating face mask", skus=[{"specs": {"容量": "50ml"}},
                                                                     {"specs": {"容量": "100ml"}, "price_fen": 19_900}])
    oid = order(api, buyer, [{"product_id": pid["product_id"], "sku_id": pid["skus"][0]["sku_id"], "quantity": 2}])
    api.call("POST", f"/v1/dev/pay/{oid[1]['order_id']}")
    pages = {"orders": "/console/orders", "order": f"/console/orders/{oid[1]['order_id']}",
             "shipments": "/console/shipments", "products": "/console/products",
             "product-new": "/console/products/new", "product": f"/console/products/{pid['product_id']}"}
    problems: dict[str, Any] = {}
    with console_server(client) as base, console_browser(base, device) as b:
        b.open("/console/login")
        problems["login"] = b.serious_violations()
        b.shot(f"login-{label}.png")
        b.sign_in()
        for name, path in pages.items():
            b.open(path)
            wide = b.page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
            problems[name] = b.serious_violations() + (["wider than the screen"] if wide else [])
            b.shot(f"{name}-{label}.png")
        errors = b.errors()
    assert {k: v for k, v in problems.items() if v} == {}
    assert errors == []

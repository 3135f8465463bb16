"""The console's orders in headless Chromium: ship many by CSV (good and bad lines: a preview that
changes nothing, then per-line results), and ship one from the order's page."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.api.conftest import Api
from tests.api.test_orders import order, product
from tests.browser.chromium import unavailable
from tests.browser.console import console_browser, console_server

reason = unavailable()
if reason and os.environ.get("CI"):
    raise RuntimeError(f"browser tests cannot run in CI: {reason}")
pytestmark = pytest.mark.skipif(reason is not None, reason=reason or "")


def paid_orders(client: Any, n: int) -> list[str]:
    api = Api(client)
    admin, _ = api.login("admin")
    buyer, _ = api.login("buyer")
    pid = product(api, admin)["product_id"]
    ids = []
    for _ in range(n):
        oid = order(api, buyer, [{"product_id": pid, "quantity": 1}])[1]["order_id"]
        assert api.call("POST", f"/v1/dev/pay/{oid}")[1]["status"] == "paid"
        ids.append(oid)
    return ids


def test_ship_by_csv_previews_every_line_then_ships_the_good_ones(client: Any, tmp_path: Path) -> None:
    a, b, c = paid_orders(client, 3)
    csv = tmp_path / "发货.csv"
    csv.write_text("\ufeff订单号,快递公司,运单号\n"
                   f"{a},顺丰,SF1000000001\n"
                   f"{b},ZTO,ZT2000000002\n"
                   f"{c},飞鸽快递,FG3000000003\n"        # unknown carrier
                   "o-nobody,SF,SF4000000004\n"           # no such order
                   f"{a},SF,SF5000000005\n"               # the same order again
                   "only,two\n", encoding="utf-8")         # not three fields
    with console_server(client) as base, console_browser(base) as b_:
        b_.sign_in()
        b_.open("/console/shipments")
        b_.page.set_input_files("#csv-file", str(csv))
        with b_.page.expect_navigation():
            b_.page.click("button[type=submit]:has-text('预览')")
        preview = b_.page.locator("#preview tbody tr").all_inner_texts()
        shippable = b_.page.locator("#shippable").inner_text()
        violations = b_.serious_violations()
        b_.shot("shipments-preview.png")
        other_tab = b_.context.new_page()
        other_tab.goto(f"{base}/console/orders/{a}")
        status_after_preview = other_tab.locator("#order-status").inner_text()
        other_tab.close()
        with b_.page.expect_navigation():
            b_.page.click("button[type=submit]:has-text('确认发货')")
        results = b_.page.locator("#results tbody tr").all_inner_texts()
        shipped = b_.page.locator("#shipped").inner_text()
        violations += b_.serious_violations()
        b_.shot("shipments-results.png")
        b_.open(f"/console/orders/{a}")
        status_a = b_.page.locator("#order-status").inner_text()
        errors = b_.errors()

    assert shippable == "2" and status_after_preview == "待发货"  # the preview changed nothing
    assert ["INVALID_CARRIER" in preview[2], "ORDER_NOT_FOUND" in preview[3], "DUPLICATE_LINE" in preview[4],
            "MALFORMED_LINE" in preview[5]] == [True] * 4
    assert shipped == "2" and status_a == "已发货"
    assert "已发货" in results[0] and "已发货" in results[1]
    assert ["INVALID_CARRIER" in results[2], "ORDER_NOT_FOUND" in results[3], "DUPLICATE_LINE" in results[4],
            "MALFORMED_LINE" in results[5]] == [True] * 4
    assert violations == [] and errors == []


def test_an_order_is_shipped_from_its_page(client: Any) -> None:
    (oid,) = paid_orders(client, 1)
    with console_server(client) as base, console_browser(base) as b:
        b.sign_in()
        b.open("/console/orders?status=paid")
        with b.page.expect_navigation():
            b.page.click(f"a:has-text('{oid}')")
        b.page.select_option("#ship-carrier", "YTO")
        b.page.fill("#ship-no", "YT9000000001")
        with b.page.expect_navigation():
            b.page.click("button[type=submit]:has-text('发货')")
        status = b.page.locator("#order-status").inner_text()
        violations = b.serious_violations()
        b.shot("order-shipped.png")
        assert status == "已发货" and violations == [] and b.errors() == []

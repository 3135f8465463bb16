"""A product image uploaded from the console in headless Chromium, on the stack ``make dev``
starts (DynamoDB Local, the S3 stand-in that checks the presigned POST as S3 does, the API):
the console signs the upload, the browser sends the file to S3 (CORS), the product shows the
image from its URL; taking it off leaves none. Nothing is logged as an error, the CSP included."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import requests

from scripts.dev import open_stack
from scripts.procs import free_port
from tests.browser.chromium import unavailable
from tests.browser.console import console_browser
from tests.images import png

reason = unavailable()
if reason and os.environ.get("CI"):
    raise RuntimeError(f"browser tests cannot run in CI: {reason}")
pytestmark = pytest.mark.skipif(reason is not None, reason=reason or "")


def test_an_image_is_uploaded_from_the_products_page_and_shown(tmp_path: Path) -> None:
    image = tmp_path / "面膜.png"
    image.write_bytes(png(64, 64))
    with open_stack(free_port(), None, 120.0, log_path=tmp_path / "stack.log", env={"FENXIAO_MODE": "simulator"},
                    s3_port=free_port(), s3_path=tmp_path / "s3") as stack:
        token = requests.post(stack.url + "/v1/auth/login", json={"code": "dev:admin"}, timeout=30).json()["token"]
        made = requests.post(stack.url + "/v1/admin/products", headers={"Authorization": f"Bearer {token}"}, json={
            "name": "面膜", "category": "beauty", "cost_fen": 1_000, "price_fen": 5_000, "stock": 3}, timeout=30)
        product_id = made.json()["product_id"]
        with console_browser(stack.url, also=(stack.s3_endpoint,)) as b:
            b.sign_in(next_path=f"/console/products/{product_id}")
            with b.page.expect_navigation(timeout=30_000):
                b.page.set_input_files("#image-file", str(image))
            b.page.wait_for_load_state("networkidle")
            shown = b.page.eval_on_selector_all("#images img", "els => els.map(e => [e.src, e.naturalWidth])")
            done = b.page.locator(".notice").inner_text()
            violations = b.serious_violations()
            b.shot("product-image.png")
            with b.page.expect_navigation():
                b.page.click("#images button:has-text('删除')")
            left = b.page.locator("#images img").count()
            errors = b.errors()
        stored = requests.get(shown[0][0], timeout=10) if shown else None

    assert len(shown) == 1 and shown[0][1] == 64 and done == "图片已更新。"
    assert stored is not None and stored.content == image.read_bytes()
    assert left == 0
    assert violations == [] and errors == []

"""A cursor taken from one list and sent to another is bad input (400), never a 5xx.
moto accepts such start keys silently; DynamoDB (Local) refuses them, so this runs here."""
from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.api.conftest import Api


@pytest.fixture
def api(local_env: Any) -> Iterator[Api]:
    from chalice.test import Client

    import app
    from chalicelib.bootstrap import Deps, set_default_deps
    from chalicelib.store.tables import ensure_tables

    ensure_tables()
    set_default_deps(Deps())
    with Client(app.app, stage_name="test") as client:
        yield Api(client)
    set_default_deps(None)


def cursor(key: dict[str, str]) -> str:
    raw = json.dumps({name: {"S": value} for name, value in key.items()}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize("path", ["/v1/me/team", "/v1/products", "/v1/products?category=food", "/v1/me/orders",
                                  "/v1/me/commissions", "/v1/materials", "/v1/admin/reviews"])
def test_a_cursor_of_another_list_is_400_invalid_cursor(api, path):
    token, _ = api.login("admin")
    api.call("POST", "/v1/me/distributor", {"shop_name": f"shop {uuid.uuid4().hex[:6]}"}, token)
    foreign = cursor({"pk": "material#x", "sk": "material", "week": "2026-W48", "published_key": "x", "odd": "y"})
    separator = "&" if "?" in path else "?"
    status, body = api.call("GET", f"{path}{separator}next={foreign}", token=token)
    assert status == 400 and body["error"]["code"] == "INVALID_CURSOR", body

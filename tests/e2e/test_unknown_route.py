"""End to end: the local stack answers a path no route has as the deployed API does
(infra/gateway.py): 404 with our NOT_FOUND body, not chalice local's 403 "Missing
Authentication Token" or "Authorization header requires 'Credential' parameter..."."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from infra.gateway import UNKNOWN_ROUTE_BODY
from scripts.dev import run_stack
from scripts.procs import free_port
from tests.e2e.test_local_stack import READY_TIMEOUT, SIMULATOR, Client, stack_log  # noqa: F401 (fixture)

pytestmark = pytest.mark.e2e


def raw(url: str, method: str, headers: dict[str, str], data: bytes | None = None) -> tuple[int, str, bytes]:
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type", ""), exc.read()


def test_an_unknown_path_is_our_404_with_or_without_a_token(tmp_path: Path, stack_log: Path) -> None:  # noqa: F811
    with run_stack(free_port(), None, READY_TIMEOUT, log_path=stack_log, env=SIMULATOR) as url:
        api = Client(url)
        token, _ = api.login("dev:alice")
        for method, path, headers, data in [
            ("GET", "/v1/no-such-thing", {}, None),
            ("GET", "/v1/no-such-thing", {"Authorization": f"Bearer {token}"}, None),  # the reported 403
            ("POST", "/v1/orders/o1/no-such-step", {"Authorization": f"Bearer {token}",
                                                   "Content-Type": "application/json"}, b"{}"),
            ("GET", "/", {}, None),
        ]:
            status, content_type, body = raw(url + path, method, headers, data)
            assert (status, content_type) == (404, "application/json"), (method, path, body)
            assert json.loads(body) == UNKNOWN_ROUTE_BODY
        # known routes are untouched: found, and a method a path lacks is the app's 405 (deployed,
        # API Gateway answers that one as an unknown route: 404, docs/deploy.md)
        assert api.call("GET", "/v1/me", token=token)[0] == 200
        status, body = api.call("DELETE", "/v1/me", token=token)
        assert (status, body["error"]["code"]) == (405, "METHOD_NOT_ALLOWED")

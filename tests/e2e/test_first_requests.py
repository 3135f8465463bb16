"""End to end: a fresh ``chalice local`` answers thirty different first requests at once without a 5xx.

``import app`` loads no service, store or schema module (DESIGN.md "Cold start"): each route
imports what it needs on its first request. Thirty first requests of different routes, fired
together at a server that has answered nothing yet, import their modules on thirty threads at
once; none may find a half-initialised module (an ImportError or AttributeError is a 500).

The stack is started piece by piece rather than through ``run_stack``: its readiness probe,
``GET /v1/openapi.json``, would load every schema module before the test's requests. Here the
server counts as ready when its port accepts connections (``chalice local`` imports the app
before it listens), so the requests below are the first it serves.
"""
from __future__ import annotations

import contextlib
import http.client
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import jwt
import pytest

from scripts import dynamodb_local
from scripts.dev import run_setup, stack_env, start_api
from scripts.procs import free_port, log_tail, stop_process_group

pytestmark = pytest.mark.e2e

READY_TIMEOUT = 120.0
SECRET = "first-requests-secret-0123456789abcdef"
ADMIN_OPENID = "dev:admin"  # seeded by chalicelib.services.demo
KEY = {"Idempotency-Key": "first-requests-1"}
TODAY = "2026-12-06"
ROUNDS = int(os.environ.get("FIRST_REQUEST_ROUNDS", "1"))  # each on a fresh server process

# (method, path, body, headers): thirty-odd routes of every area, so that different modules load.
FIRST_REQUESTS: list[tuple[str, str, Any, dict[str, str]]] = [
    ("POST", "/v1/auth/login", {"code": "dev:first-requests"}, {}),
    ("GET", "/v1/me", None, {}),
    ("POST", "/v1/me/distributor", {"shop_name": "Another shop"}, {}),
    ("POST", "/v1/referrals/bind", {"invite_code": "HQ888888"}, {}),
    ("GET", "/v1/me/team", None, {}),
    ("GET", "/v1/products", None, {}),
    ("POST", "/v1/admin/products", {}, {}),
    ("POST", "/v1/orders", {"items": [{"product_id": "no-such-product", "quantity": 1}]}, KEY),
    ("GET", "/v1/orders/no-such-order", None, {}),
    ("GET", "/v1/me/orders", None, {}),
    ("GET", "/v1/me/commissions", None, {}),
    ("GET", "/v1/me/wallet", None, {}),
    ("POST", "/v1/groups", {"product_id": "no-such-product"}, KEY),
    ("GET", "/v1/groups/no-such-group", None, {}),
    ("POST", "/v1/wechat/pay/notify", {"id": "forged"}, {}),
    ("POST", "/v1/dev/pay/no-such-order", None, {}),
    ("POST", "/v1/moderation/check", {"text": "hello"}, {}),
    ("GET", "/v1/materials", None, {}),
    ("GET", "/v1/admin/reviews", None, {}),
    ("GET", "/v1/admin/lexicon", None, {}),
    ("POST", "/v1/admin/users/no-such-user/promoter", None, {}),
    ("POST", "/v1/dev/jobs/expire_groups", {}, {}),
    ("POST", "/v1/me/real-name", {"name": "张三", "id_number": "1"}, {}),
    ("GET", "/v1/me/withdrawals", None, {}),
    ("GET", "/v1/me/withdrawals/no-such-withdrawal", None, {}),
    ("GET", "/v1/admin/withdrawals", None, {}),
    ("POST", "/v1/wechat/transfer/notify", {"id": "forged"}, {}),
    ("POST", "/v1/events", {"events": []}, {}),
    ("GET", f"/v1/admin/metrics?from={TODAY}&to={TODAY}", None, {}),
    ("GET", "/v1/experiments/home_layout/variant", None, {}),
    ("GET", "/v1/admin/experiments", None, {}),
    ("GET", "/v1/products/no-such-product/recommendations", None, {}),
    ("GET", "/v1/me/recommendations", None, {}),
    ("GET", "/v1/admin/dashboard", None, {}),
    ("POST", "/v1/admin/dashboard/links", {"days": 7}, {}),
    ("GET", "/v1/dashboard?ticket=forged&days=7", None, {}),
    ("GET", "/v1/openapi.json", None, {}),
]


def admin_token() -> str:
    """A session token of the seeded admin, signed with the stack's key, so that no login request
    runs (and loads modules) before the ones under test."""
    from chalicelib.store.users import user_id_for

    now = int(time.time())
    claims = {"sub": user_id_for(ADMIN_OPENID), "role": "admin", "iss": "fenxiao", "iat": now - 5, "exp": now + 3600}
    return jwt.encode(claims, SECRET, algorithm="HS256")


def wait_listening(port: int, api: Any, log: Path, timeout: float = READY_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if api.poll() is not None:
            raise AssertionError(f"chalice local exited with {api.returncode}\n{log_tail(log)}")
        with socket.socket() as sock:
            sock.settimeout(1)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError(f"chalice local did not listen within {timeout:.0f} s\n{log_tail(log)}")


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[tuple[dict[str, str], Path]]:
    """DynamoDB Local (in memory) with the tables and demo data: the environment of the API and
    its log file."""
    log = tmp_path / "stack.log"
    db = dynamodb_local.start(ready_timeout=READY_TIMEOUT)
    try:
        env = stack_env(db.endpoint, overrides={"FENXIAO_MODE": "simulator", "JWT_SECRET": SECRET})
        with log.open("ab") as out:
            run_setup(env, log=out, log_path=log)
        yield env, log
    finally:
        db.stop()
        print(log_tail(log, lines=120))


@contextlib.contextmanager
def fresh_api(env: dict[str, str], log: Path) -> Iterator[int]:
    """A ``chalice local`` that has served no request yet; its port."""
    port = free_port()
    with log.open("ab", buffering=0) as out:
        api = start_api(port, env, log=out)
        try:
            wait_listening(port, api, log)
            yield port
        finally:
            stop_process_group(api)


def send(conn: http.client.HTTPConnection, token: str, request: tuple[str, str, Any, dict[str, str]],
         start: threading.Barrier) -> tuple[int, str]:
    method, path, body, headers = request
    data = None if body is None else json.dumps(body).encode()
    all_headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}", **headers}
    start.wait()
    conn.request(method, path, body=data, headers=all_headers)
    response = conn.getresponse()
    text = response.read()[:300].decode(errors="replace")
    conn.close()
    return response.status, text


def fire_first_requests(port: int, token: str) -> dict[str, tuple[int, str]]:
    """Every request of FIRST_REQUESTS at once; each one's status and the start of its body."""
    start = threading.Barrier(len(FIRST_REQUESTS))
    # Connected one by one first (the server's listen backlog is 5), then sent together.
    connections = []
    for _ in FIRST_REQUESTS:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        conn.connect()
        connections.append(conn)
    with ThreadPoolExecutor(len(FIRST_REQUESTS)) as pool:
        answers = list(pool.map(lambda c, r: send(c, token, r, start), connections, FIRST_REQUESTS))
    return {f"{m} {p}": answer for (m, p, _, _), answer in zip(FIRST_REQUESTS, answers, strict=True)}


def test_thirty_different_first_requests_at_once_get_no_5xx(stack: tuple[dict[str, str], Path]) -> None:
    env, log = stack
    token = admin_token()
    assert len({path.split("?")[0] for _, path, _, _ in FIRST_REQUESTS}) >= 30
    failed = []
    for _ in range(ROUNDS):
        with fresh_api(env, log) as port:
            answers = fire_first_requests(port, token)
        assert answers["GET /v1/me"][0] == 200, answers["GET /v1/me"]  # the token opens the routes
        failed += [f"{request}: {status} {text}" for request, (status, text) in answers.items() if status >= 500]
    assert not failed, "\n".join(failed)

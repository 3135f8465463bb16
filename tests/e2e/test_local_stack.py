"""End to end: the local stack (DynamoDB Local + ``chalice local``) spoken to over HTTP.

Starts everything ``make dev`` starts, on a free port with a throw-away data directory, through
``scripts/dev.run_stack``, and talks to it with the standard library only.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scripts.dev import run_stack
from scripts.dynamodb_local import fallback_reason
from scripts.procs import free_port, log_tail

pytestmark = pytest.mark.e2e

READY_TIMEOUT = 120.0
SIMULATOR = {"FENXIAO_MODE": "simulator"}


class Client:
    """A tiny JSON-over-HTTP client for the API under test."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    def call(
        self, method: str, path: str, body: Any = None, token: str | None = None
    ) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if data is not None else {}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(
            self.base_url + path, data=data, method=method, headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")

    def login(self, code: str) -> tuple[str, str]:
        """Log in with a simulator code; return (token, user_id)."""
        status, answer = self.call("POST", "/v1/auth/login", {"code": code})
        assert status == 200, answer
        token = answer["token"]
        status, me = self.call("GET", "/v1/me", token=token)
        assert status == 200, me
        return token, me["user_id"]


@pytest.fixture
def stack_log(tmp_path: Path) -> Iterator[Path]:
    """The stack's log file; its tail is printed at teardown (shown when the test failed)."""
    path = tmp_path / "stack.log"
    yield path
    print(log_tail(path, lines=80))


def bind_bob_to_alice(api: Client) -> tuple[str, str]:
    """Alice opens a shop, Bob binds with her invite code; return (alice_id, bob_id)."""
    alice, alice_id = api.login("dev:alice")
    bob, bob_id = api.login("dev:bob")
    assert alice_id != bob_id

    status, shop = api.call("POST", "/v1/me/distributor", {"shop_name": "Alice 小店"}, alice)
    assert status == 201, shop
    status, bound = api.call(
        "POST", "/v1/referrals/bind", {"invite_code": shop["invite_code"]}, bob
    )
    assert status == 200, bound
    assert bound["parent_id"] == alice_id
    return alice_id, bob_id


def team_of(api: Client, code: str) -> dict[str, Any]:
    token, _ = api.login(code)
    status, team = api.call("GET", "/v1/me/team", token=token)
    assert status == 200, team
    assert isinstance(team, dict)
    return team


def test_a_user_opens_a_shop_and_another_binds_to_it_over_http(
    tmp_path: Path, stack_log: Path
) -> None:
    with run_stack(
        free_port(), tmp_path / "db", READY_TIMEOUT, log_path=stack_log, env=SIMULATOR
    ) as url:
        api = Client(url)
        bind_bob_to_alice(api)

        assert team_of(api, "dev:alice")["direct_count"] == 1


def test_restarting_the_stack_on_the_same_data_directory_keeps_the_team(
    tmp_path: Path, stack_log: Path
) -> None:
    reason = fallback_reason()
    if reason:
        pytest.skip(f"only DynamoDB Local keeps data across restarts ({reason}; moto is in memory)")
    db_dir = tmp_path / "db"
    with run_stack(free_port(), db_dir, READY_TIMEOUT, log_path=stack_log, env=SIMULATOR) as url:
        alice_id, bob_id = bind_bob_to_alice(Client(url))

    with run_stack(free_port(), db_dir, READY_TIMEOUT, log_path=stack_log, env=SIMULATOR) as url:
        api = Client(url)
        _, alice_again = api.login("dev:alice")
        team = team_of(api, "dev:alice")

    assert alice_again == alice_id
    assert team["direct_count"] == 1
    assert [member["user_id"] for member in team["direct"]] == [bob_id]


def test_an_order_paid_before_a_restart_is_refunded_after_it(tmp_path: Path, stack_log: Path) -> None:
    """The WeChat Pay simulator's payments are kept with the data (issue 13): a refund after
    ``make dev`` restarts no longer fails with RESOURCE_NOT_EXISTS."""
    reason = fallback_reason()
    if reason:
        pytest.skip(f"only DynamoDB Local keeps data across restarts ({reason}; moto is in memory)")
    db_dir = tmp_path / "db"
    with run_stack(free_port(), db_dir, READY_TIMEOUT, log_path=stack_log, env=SIMULATOR) as url:
        api = Client(url)
        token, _ = api.login("dev:restart-buyer")
        status, listed = api.call("GET", "/v1/products", token=token)
        assert status == 200 and listed["items"], listed
        body = {"items": [{"product_id": listed["items"][0]["product_id"], "quantity": 1}],
                "address": {"name": "张三", "phone": "13800000000", "detail": "上海市徐汇区 1 号"}}
        request = urllib.request.Request(url + "/v1/orders", data=json.dumps(body).encode(), method="POST", headers={
            "Content-Type": "application/json", "Authorization": f"Bearer {token}", "Idempotency-Key": "restart-1"})
        with urllib.request.urlopen(request, timeout=30) as response:
            order_id = json.loads(response.read())["order_id"]
        status, paid = api.call("POST", f"/v1/dev/pay/{order_id}")
        assert status == 200 and paid["status"] == "paid", paid

    with run_stack(free_port(), db_dir, READY_TIMEOUT, log_path=stack_log, env=SIMULATOR) as url:
        api = Client(url)
        token, _ = api.login("dev:restart-buyer")
        status, refunded = api.call("POST", f"/v1/orders/{order_id}/refund", {"reason": "不想要了"}, token)

    assert status == 200, refunded
    assert refunded["status"] == "refunded"

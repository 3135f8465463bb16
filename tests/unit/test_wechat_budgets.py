"""Every WeChat client gives up on a hung peer within its time budget (docs/ops.md "Time budgets"):
the caller gets Unavailable (503 TRY_AGAIN, retry the same request), never a request held until
API Gateway's 29 s run out. The peer accepts the connection and never answers."""
from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.domain.errors import Kind, Unavailable
from chalicelib.wechat.http import HttpBudget, configured_budget
from chalicelib.wechat.login import RealLogin
from chalicelib.wechat.pay import RealPayClient
from chalicelib.wechat.pay_simulator import simulator_config
from chalicelib.wechat.security import CHECK_CALLS, MAX_CONTENT_CHARS, RealContentSecurity
from chalicelib.wechat.transfer import RealTransferClient, TransferScene
from tests.unit.loopback import Answer, answering, serve_on_loopback, silent_peer

BUDGET = HttpBudget(connect_seconds=0.2, read_seconds=0.4)
SLACK = 3.0  # seconds a loaded 2-core machine may add; a client that hangs would take 29 s and more


def login(base: str) -> None:
    RealLogin("wx-app", "secret", api_base=base, budget=BUDGET).exchange("code-1")


def pay(base: str) -> None:
    config = replace(simulator_config("wx-app")[0], api_base=base)
    RealPayClient(config, budget=BUDGET).prepay("T100001", "d", 100, "o-a", datetime.now(UTC) + timedelta(minutes=15))


def transfer(base: str) -> None:
    config = replace(simulator_config("wx-app")[0], api_base=base)
    RealTransferClient(config, TransferScene(), budget=BUDGET).create_bill("w0001", "o-a", 100, "commission", "张三")


def security(base: str) -> None:
    RealContentSecurity("wx-app", "secret", api_base=base, budget=BUDGET).check("hello", "o-a", 2)


@pytest.mark.parametrize("call", [login, pay, transfer, security], ids=lambda c: c.__name__)
def test_a_hung_wechat_makes_the_call_unavailable_within_its_budget_and_sends_it_once(call: Callable[[str], None]):
    with silent_peer() as peer:
        started = time.monotonic()
        with pytest.raises(Unavailable) as raised:
            call(peer.base)
        elapsed = time.monotonic() - started
    assert (raised.value.code, raised.value.kind) == ("TRY_AGAIN", Kind.UNAVAILABLE)
    assert elapsed < 2 * BUDGET.connect_seconds + BUDGET.read_seconds + SLACK
    assert len(peer.connections) == 1  # the request left once: never sent again after it may have arrived


def test_the_clients_budget_comes_from_the_settings(monkeypatch):
    from chalicelib import config

    settings = config.settings_from_env({"WECHAT_CONNECT_TIMEOUT_SECONDS": "0.7", "WECHAT_READ_TIMEOUT_SECONDS": "2.5"})
    monkeypatch.setattr(config, "get_settings", lambda: settings)
    assert configured_budget() == HttpBudget(0.7, 2.5)
    timeout = configured_budget().timeout()
    assert (timeout.connect_timeout, timeout.read_timeout) == (0.7, 2.5)


def test_a_long_text_on_a_slow_wechat_stops_at_the_checks_budget_not_after_every_piece():
    asked: list[str] = []

    def slow(method: str, path: str, headers: Any, raw: bytes) -> Answer:
        asked.append(path)
        time.sleep(0.3)  # within each call's read budget, but ten pieces would outlast the check's
        if path.startswith("/cgi-bin/stable_token"):
            return 200, json.dumps({"access_token": "t", "expires_in": 7200}).encode(), {}
        return 200, json.dumps({"errcode": 0, "result": {"suggest": "pass", "label": 100}}).encode(), {}

    with serve_on_loopback(answering(slow)) as base:
        client = RealContentSecurity("wx-app", "secret", api_base=base, budget=BUDGET)
        with pytest.raises(Unavailable):
            client.check("好" * (10 * MAX_CONTENT_CHARS), "o-a", 2)
    assert len(asked) < 11  # the token and some pieces, not all ten
    assert CHECK_CALLS * BUDGET.call_seconds() < 11 * 0.3

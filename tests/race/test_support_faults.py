"""A fault at every DynamoDB call of taking a customer-service push, on DynamoDB Local
(tests/faults.py). WeChat sends a push again when it got no ``success`` within 5 s, so the
recovery is that retry: the tables must then equal a fault-free run's, item by item (the message
once, the conversation's counters once, the marker)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.bootstrap import Deps
from chalicelib.services import auth, support
from chalicelib.wechat.message_push import seal_push
from tests.faults import Case, restore, run_with_faults

pytestmark = pytest.mark.race

NOW = datetime(2026, 11, 10, 4, 0, tzinfo=UTC)


@pytest.fixture
def deps(private_tables: None) -> Deps:
    restore({})
    return Deps(clock=lambda: NOW)


def sealed(deps: Deps, msg_id: int, text: str, at: datetime) -> tuple[dict[str, str], bytes]:
    message = {"ToUserName": "gh_1", "FromUserName": "dev:buyer", "CreateTime": int(at.timestamp()),
               "MsgType": "text", "Content": text, "MsgId": msg_id}
    return seal_push(support.push_keys(deps), message, int(at.timestamp()), nonce="n0nce")


def setup(deps: Deps) -> tuple[dict[str, str], bytes]:
    auth.login("dev:buyer", deps)
    assert support.receive_push(*sealed(deps, 1, "在吗", NOW - timedelta(minutes=5)), deps) == "taken"
    return sealed(deps, 2, "我的快递到哪了", NOW)


def take(deps: Deps, push: tuple[dict[str, str], bytes]) -> Any:
    return support.receive_push(*push, deps)


def test_a_fault_at_any_call_of_a_push_then_wechats_retry_takes_the_message_once(deps, faults):
    calls, endings = run_with_faults(Case(setup, take, take), deps, faults)
    assert endings["taken"] >= 1 and sum(endings.values()) > endings["taken"]  # some plans failed the act
    assert "TransactWriteItems" in calls
    thread = support.conversation(auth.login("dev:buyer", deps).user.user_id, 20, None, deps)
    assert [m.text for m in thread.messages] == ["我的快递到哪了", "在吗"]
    assert thread.conversation.unread == 2

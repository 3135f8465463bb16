"""Customer service against DynamoDB Local: WeChat's retries racing each other, a user's messages
arriving at once, replies racing a user's new message (docs/customer-service.md)."""
from __future__ import annotations

import secrets
import uuid
from collections import Counter
from typing import Any

import pytest

from chalicelib.bootstrap import Deps
from chalicelib.domain.support import Status, WindowKind
from chalicelib.services import support
from chalicelib.store.users import user_id_for
from chalicelib.wechat.message_push import seal_push
from tests.race.concurrency import race

pytestmark = pytest.mark.race


def sealed(deps: Deps, openid: str, text: str) -> tuple[dict[str, str], bytes]:
    now = int(deps.clock().timestamp())
    message = {"ToUserName": "gh_1", "FromUserName": openid, "CreateTime": now, "MsgType": "text", "Content": text,
               "MsgId": secrets.randbits(63)}
    return seal_push(support.push_keys(deps), message, now)


def writes(deps: Deps, openid: str, text: str) -> str:
    deps.customer_service.user_acted(openid, WindowKind.MESSAGE, deps.clock())  # type: ignore[attr-defined]
    return support.receive_push(*sealed(deps, openid, text), deps)


def test_five_deliveries_of_one_push_at_once_land_one_message(deps):
    openid = f"o-{uuid.uuid4().hex[:8]}"
    query, body = sealed(deps, openid, "在吗")
    outcomes = race([lambda: support.receive_push(query, body, deps) for _ in range(5)])
    assert Counter(outcomes) == {"taken": 1, "duplicate": 4}
    thread = support.conversation(user_id_for(openid), 20, None, deps)
    assert [m.text for m in thread.messages] == ["在吗"]
    assert (thread.conversation.unread, thread.conversation.status) == (1, Status.WAITING)


def test_eight_messages_of_one_user_at_once_are_all_kept_and_counted(deps):
    openid = f"o-{uuid.uuid4().hex[:8]}"
    pushes = [sealed(deps, openid, f"消息{i}") for i in range(8)]
    outcomes = race([lambda p=p: support.receive_push(*p, deps) for p in pushes])
    assert outcomes == ["taken"] * 8
    thread = support.conversation(user_id_for(openid), 20, None, deps)
    assert sorted(m.text for m in thread.messages) == sorted(f"消息{i}" for i in range(8))
    assert thread.conversation.unread == 8


def test_a_reply_racing_the_users_next_message_never_drops_it_from_the_queue(deps):
    admin = f"u-admin-{uuid.uuid4().hex[:6]}"
    for round_ in range(6):
        openid = f"o-{uuid.uuid4().hex[:8]}"
        writes(deps, openid, "第一条")
        user_id = user_id_for(openid)
        outcomes: list[Any] = race([lambda u=user_id: support.reply(u, "您好", admin, deps),
                                    lambda o=openid: writes(deps, o, "第二条")])
        assert outcomes[1] == "taken", (round_, outcomes)
        conversation = support.conversation(user_id, 20, None, deps).conversation
        messages = support.conversation(user_id, 20, None, deps).messages
        second = next(m for m in messages if m.text == "第二条")
        reply = next(m for m in messages if m.text == "您好")
        # the reply answered the user's newest message only if it was recorded after it
        if conversation.status is Status.ANSWERED:
            assert conversation.last_user_at == second.at and reply.at >= second.at
        else:
            assert conversation.status is Status.WAITING and conversation.unread >= 1


def test_three_operators_replying_at_once_each_send_once_and_record_once(deps):
    openid = f"o-{uuid.uuid4().hex[:8]}"
    writes(deps, openid, "有人吗")
    user_id = user_id_for(openid)
    outcomes = race([lambda i=i: support.reply(user_id, f"回复{i}", f"u-admin{i}", deps) for i in range(3)])
    assert all(not isinstance(o, str) for o in outcomes), outcomes
    thread = support.conversation(user_id, 20, None, deps)
    assert sorted(m.text for m in thread.messages if m.actor_id) == ["回复0", "回复1", "回复2"]
    assert thread.conversation.replies == 3
    assert sorted(b["text"]["content"] for b in deps.customer_service.sent(openid)) == [  # type: ignore[attr-defined]
        "回复0", "回复1", "回复2"]

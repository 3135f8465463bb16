"""Customer service (客服): WeChat's pushes into the inbox, the operator's queue and replies
(docs/customer-service.md). The console's inbox page and the API call these functions.

* ``verify_url`` / ``receive_push``: the message endpoint (``/v1/wechat/message``);
* ``queue`` / ``conversations``: the inbox, waiting first by tier then by wait, or everything by
  last activity;
* ``conversation``: one thread with its messages and links to the user's orders and after-sales
  cases;
* ``reply`` / ``close``: the operator's answers, each with its audit entry in the same
  transaction as the conversation's change.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from chalicelib.domain.after_sales import Case
from chalicelib.domain.audit import Action, audit
from chalicelib.domain.errors import TextTooLong, Unavailable, ValidationFailed
from chalicelib.domain.orders import Order
from chalicelib.domain.support import (
    MAX_REPLY_CHARS,
    Conversation,
    ConversationNotFound,
    Message,
    Sender,
    after_close,
    after_reply,
    after_user,
    check_reply,
    read_push,
)
from chalicelib.domain.tiers import Tier
from chalicelib.domain.users import User
from chalicelib.services.retry import Reads, run_until_committed
from chalicelib.store.users import user_id_for
from chalicelib.wechat.message_push import PushKeys, aes_key_of, open_push
from chalicelib.wechat.message_push import verify_url as _verify_url

if TYPE_CHECKING:
    from chalicelib.bootstrap import Deps

LINKED = 10  # the user's newest orders, and newest after-sales cases, shown beside the conversation


def push_keys(deps: Deps) -> PushKeys:
    """The Token and EncodingAESKey of the message push; Unavailable (503) when live mode has
    none configured (WeChat then retries, and the operator sees the alarm on 5xx)."""
    s = deps.settings
    if not s.wechat_message_token:
        raise Unavailable("the message push is not configured: set WECHAT_MESSAGE_TOKEN (docs/customer-service.md)")
    if s.wechat_message_aes_key:
        try:
            aes_key_of(s.wechat_message_aes_key)
        except ValueError as exc:
            raise Unavailable(f"WECHAT_MESSAGE_AES_KEY is malformed: {exc}") from exc
    return PushKeys(s.wechat_message_token, s.wechat_message_aes_key or None, s.wechat_app_id)


def verify_url(query: dict[str, str], deps: Deps) -> str:
    """WeChat's URL check: the ``echostr`` to answer; INVALID_SIGNATURE otherwise."""
    return _verify_url(push_keys(deps), query)


def receive_push(query: dict[str, str], body: bytes, deps: Deps) -> str:
    """Take one push: verified (and decrypted) first, then the user's message lands in their
    conversation once. Returns ``taken``, ``duplicate`` (a retry or replay of one taken) or
    ``ignored`` (an event the inbox does not keep)."""
    fields = open_push(push_keys(deps), query, body)
    now = deps.clock()
    inbound = read_push(fields, now)
    if inbound is None:
        return "ignored"
    user_id = user_id_for(inbound.openid)

    def step() -> str:
        before = deps.support.conversation(user_id)
        user = deps.users.get(user_id, consistent=False)
        after = after_user(before or Conversation(user_id, inbound.openid), inbound, user.tier if user else Tier.REGULAR)
        message = Message(user_id, "w" + hashlib.sha256(inbound.dedupe.encode()).hexdigest()[:16], Sender.USER,
                          inbound.kind, inbound.text, inbound.at, media=inbound.media or None) \
            if inbound.is_message else None
        taken = deps.support.record_inbound(before, after, message, inbound.dedupe, now)
        return "taken" if taken else "duplicate"

    return run_until_committed(step, what="this conversation")



def simulate_user_message(openid: str, kind: str, text: str, deps: Deps, push_format: str = "json",
                          encrypted: bool = True) -> tuple[str, dict[str, str], bytes]:
    """Simulator mode: play the user writing (``kind`` text, image or enter) as WeChat would: the
    simulator opens WeChat's reply window, then the push is signed (and encrypted) and taken by
    ``receive_push`` like a real one. The dev route and the demo mall share this one path.
    Returns the status and the push as delivered (query, body)."""
    from chalicelib.domain.support import WindowKind
    from chalicelib.wechat.message_push import seal_push

    now = deps.clock()
    message: dict[str, object] = {"ToUserName": "gh_simulator", "FromUserName": openid,
                                  "CreateTime": int(now.timestamp())}
    if kind == "enter":
        message |= {"MsgType": "event", "Event": "user_enter_tempsession", "SessionFrom": "dev"}
    elif kind == "image":
        message |= {"MsgType": "image", "PicUrl": "https://example.invalid/sim.jpg", "MediaId": "sim-media",
                    "MsgId": secrets.randbits(63)}
    else:
        message |= {"MsgType": "text", "Content": text or "你好", "MsgId": secrets.randbits(63)}
    deps.customer_service.user_acted(  # type: ignore[attr-defined]
        openid, WindowKind.SESSION if kind == "enter" else WindowKind.MESSAGE, now)
    query, body = seal_push(push_keys(deps), message, int(now.timestamp()), push_format, encrypted)
    return receive_push(query, body, deps), query, body

# The inbox ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class InboxRow:
    conversation: Conversation
    user: User | None


def queue(limit: int, cursor: str | None, deps: Deps) -> tuple[list[InboxRow], str | None]:
    """Waiting conversations: senior and partner distributors first, then the longest waiting."""
    conversations, next_cursor = deps.support.waiting(limit, cursor)
    return _rows(conversations, deps), next_cursor


def conversations(limit: int, cursor: str | None, deps: Deps) -> tuple[list[InboxRow], str | None]:
    """Every conversation, the latest activity first (answered and closed ones too)."""
    found, next_cursor = deps.support.recent(limit, cursor)
    return _rows(found, deps), next_cursor


def _rows(found: list[Conversation], deps: Deps) -> list[InboxRow]:
    users = deps.users.get_many([c.user_id for c in found]) if found else {}
    return [InboxRow(c, users.get(c.user_id)) for c in found]


@dataclass(frozen=True)
class Thread:
    conversation: Conversation
    user: User | None
    messages: list[Message]
    next_cursor: str | None
    orders: list[Order] = field(default_factory=list)
    cases: list[Case] = field(default_factory=list)


def conversation(user_id: str, limit: int, cursor: str | None, deps: Deps) -> Thread:
    """One conversation: its messages newest first (paged), the user's newest orders and
    after-sales cases; CONVERSATION_NOT_FOUND when the user never wrote."""
    from chalicelib.services import after_sales

    found = deps.support.conversation(user_id)
    if found is None:
        raise ConversationNotFound("this user has no customer-service conversation")
    messages, next_cursor = deps.support.messages(user_id, limit, cursor)
    orders, _ = deps.orders.by_buyer(user_id, LINKED, None)
    cases, _ = after_sales.my_cases(user_id, LINKED, None, deps)
    return Thread(found, deps.users.get(user_id, consistent=False), messages, next_cursor, orders, cases)


# The operator's answers ----------------------------------------------------------------------

def reply(user_id: str, text: str, actor_id: str, deps: Deps) -> Message:
    """Send the operator's text to the user through WeChat, then record it (the message, the
    conversation answered, the audit entry) in one transaction. Refused before anything is sent:
    CONVERSATION_NOT_FOUND, REPLY_WINDOW_CLOSED, REPLY_LIMIT_REACHED (our reading of WeChat's
    window), TEXT_TOO_LONG; WeChat's own refusal of the send is answered the same way and records
    nothing. A send WeChat took is recorded even if the conversation moved meanwhile (a user's
    new message): the record step re-reads and runs again."""
    text = _reply_text(text)
    now = deps.clock()
    before = _existing(user_id, deps)
    check_reply(before, now)
    deps.customer_service.send_text(before.openid, text, now)
    message = Message(user_id, "r" + secrets.token_hex(8), Sender.OPERATOR, "text", text, now, actor_id=actor_id)
    reads = Reads(before, lambda: _existing(user_id, deps))  # the first attempt commits on the check's read

    def record() -> Message:
        current = reads()
        after = after_reply(current, now, text, before.last_user_at)
        entry = audit(actor_id, Action.SUPPORT_REPLY, f"user#{user_id}", now, _state(current),
                      {**_state(after), "message_id": message.message_id, "text": text})
        deps.support.record_operator(current, after, message, entry)
        return message

    return run_until_committed(record, what="this conversation")


def close(user_id: str, reason: str, actor_id: str, deps: Deps) -> Conversation:
    """Take a waiting conversation out of the queue without a reply (spam, a window gone by);
    CONVERSATION_CLOSED when it is not waiting. The user's next message brings it back."""
    now = deps.clock()

    def step() -> Conversation:
        before = _existing(user_id, deps)
        after = after_close(before)
        entry = audit(actor_id, Action.SUPPORT_CLOSE, f"user#{user_id}", now, _state(before), _state(after), reason)
        deps.support.record_operator(before, after, None, entry)
        return after

    return run_until_committed(step, what="this conversation")


def _existing(user_id: str, deps: Deps) -> Conversation:
    found = deps.support.conversation(user_id)
    if found is None:
        raise ConversationNotFound("this user has no customer-service conversation")
    return found


def _reply_text(text: str) -> str:
    text = text.strip()
    if not text:
        raise ValidationFailed("a reply needs text", field="text")
    if len(text) > MAX_REPLY_CHARS:
        raise TextTooLong(f"a reply has at most {MAX_REPLY_CHARS} characters", limit=MAX_REPLY_CHARS)
    return text


def _state(c: Conversation) -> dict[str, object]:
    return {"status": c.status.value, "unread": c.unread, "replies_in_window": c.replies}


def window_now(c: Conversation, now: datetime) -> tuple[datetime | None, int]:
    """When the reply window closes and how many messages it has left (the reply box's hint)."""
    from chalicelib.domain.support import replies_left, window_closes

    return window_closes(c), replies_left(c, now)

"""Customer service (客服): the inbox's conversations, the order of its queue and WeChat's reply
window, as pure rules (docs/customer-service.md).

A **conversation** is one user's thread with the operator. A user's message makes it
``waiting`` (it joins the queue); the operator's reply makes it ``answered``; the operator may
``close`` it without a reply (spam, or a window gone). ``unread`` counts the user's messages since
the operator last replied or closed.

**The queue's order** (their tier's right, the seed's 专属客服): senior and partner distributors
first, then the longest waiting: the sort key is ``<priority>#<waiting since>#<user id>``, read
ascending. The priority is the user's tier when their first unanswered message arrived, and is
read again at each message (a distributor promoted meanwhile moves up at their next message).

**WeChat's reply window** (``customerServiceMessage.send``, 发送客服消息): a user's message lets
the mini-program send **5** messages within **48 hours**; the user entering the conversation
(event ``user_enter_tempsession``) lets it send **2** within **1 minute**. WeChat refuses the
rest with errcode 45015 (out of time) or 45047 (out of count). We refuse them first, with
``409 REPLY_WINDOW_CLOSED`` / ``409 REPLY_LIMIT_REACHED``; a newer user action opens a new
window, and an entering never shortens an open 48-hour window.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from chalicelib.domain.errors import Kind, error
from chalicelib.domain.tiers import Tier

ConversationNotFound = error("CONVERSATION_NOT_FOUND", Kind.NOT_FOUND, "No customer-service conversation with this user.")
ReplyWindowClosed = error("REPLY_WINDOW_CLOSED", Kind.CONFLICT,
                          "WeChat's reply window is closed: 48 h after the user's last message (1 min after "
                          "they entered the conversation); the user must write again.")
ReplyLimitReached = error("REPLY_LIMIT_REACHED", Kind.CONFLICT,
                          "The window's messages are used up (5 after a user's message, 2 after entering); "
                          "the user must write again.")
AlreadyClosed = error("CONVERSATION_CLOSED", Kind.CONFLICT, "The conversation is not waiting for an answer.")

MAX_REPLY_CHARS = 1_000  # our limit: WeChat takes more, a customer-service answer needs less
MAX_STORED_CHARS = 2_000  # a user's text kept in the inbox (WeChat's text messages are shorter)
PREVIEW_CHARS = 60
PRIORITY_TIERS = frozenset({Tier.SENIOR, Tier.PARTNER})


class Status(StrEnum):
    WAITING = "waiting"  # the user wrote since the last answer: in the queue
    ANSWERED = "answered"
    CLOSED = "closed"  # set aside by the operator without a reply


class Sender(StrEnum):
    USER = "user"
    OPERATOR = "operator"


class WindowKind(StrEnum):
    MESSAGE = "message"  # opened by a user's message
    SESSION = "session"  # opened by the user entering the conversation


@dataclass(frozen=True)
class ReplyWindow:
    lasts: timedelta
    messages: int


WINDOWS = {WindowKind.MESSAGE: ReplyWindow(timedelta(hours=48), 5),
           WindowKind.SESSION: ReplyWindow(timedelta(minutes=1), 2)}


@dataclass(frozen=True)
class Inbound:
    """One push, read: a user's message or their entering the conversation."""

    openid: str
    at: datetime
    kind: str  # text, image, miniprogrampage, enter (user_enter_tempsession)
    text: str
    dedupe: str  # MsgId, or sender#CreateTime for an event (WeChat's advice)
    media: dict[str, str]

    @property
    def is_message(self) -> bool:
        return self.kind != "enter"


@dataclass(frozen=True)
class Conversation:
    user_id: str
    openid: str
    status: Status = Status.ANSWERED
    priority: int = 1
    unread: int = 0
    waiting_since: datetime | None = None
    last_at: datetime | None = None
    last_user_at: datetime | None = None
    preview: str = ""
    window_kind: WindowKind | None = None
    window_at: datetime | None = None
    replies: int = 0  # messages sent in the current window
    version: int = 0  # the store's optimistic condition

    def queue_key(self) -> str | None:
        """The queue's sort key while waiting; None otherwise (the index is sparse)."""
        if self.status is not Status.WAITING or self.waiting_since is None:
            return None
        return f"{self.priority}#{stamp(self.waiting_since)}#{self.user_id}"


@dataclass(frozen=True)
class Message:
    user_id: str
    message_id: str
    sender: Sender
    kind: str
    text: str
    at: datetime
    actor_id: str | None = None  # the operator who replied
    media: dict[str, str] | None = None


def stamp(at: datetime) -> str:
    """A time in sort keys: UTC to the microsecond, fixed width, so keys sort as times do."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def priority_of(tier: Tier) -> int:
    """0 (first) for senior and partner distributors, 1 for everyone else."""
    return 0 if tier in PRIORITY_TIERS else 1


def read_push(fields: dict[str, Any], at: datetime) -> Inbound | None:
    """What a push says, or None for one the inbox ignores (another event). ``at`` is WeChat's
    ``CreateTime`` when it is a number, else the time we received it."""
    openid, kind = fields.get("FromUserName"), fields.get("MsgType")
    if not isinstance(openid, str) or not openid or not isinstance(kind, str):
        return None
    created = fields.get("CreateTime")
    when = datetime.fromtimestamp(int(str(created)), at.tzinfo) if _integer(created) else at
    if kind == "event":
        if fields.get("Event") != "user_enter_tempsession":
            return None
        return Inbound(openid, when, "enter", "", f"{openid}#{created}#enter", {})
    msg_id = fields.get("MsgId")
    dedupe = str(msg_id) if _integer(msg_id) else f"{openid}#{created}#{kind}"
    if kind == "text":
        return Inbound(openid, when, "text", str(fields.get("Content", ""))[:MAX_STORED_CHARS], dedupe, {})
    if kind == "image":
        return Inbound(openid, when, "image", "[图片]", dedupe, _strings(fields, "PicUrl", "MediaId"))
    if kind == "miniprogrampage":
        return Inbound(openid, when, "miniprogrampage", str(fields.get("Title", ""))[:MAX_STORED_CHARS], dedupe,
                       _strings(fields, "AppId", "PagePath", "ThumbUrl", "ThumbMediaId"))
    return Inbound(openid, when, kind[:32], f"[{kind[:32]}]", dedupe, {})


def _integer(value: Any) -> bool:
    return isinstance(value, int) or (isinstance(value, str) and value.isdigit() and len(value) < 21)


def _strings(fields: dict[str, Any], *names: str) -> dict[str, str]:
    return {name: str(fields[name])[:1_000] for name in names if isinstance(fields.get(name), str | int)}


def after_user(conv: Conversation, inbound: Inbound, tier: Tier) -> Conversation:
    """The conversation once a user's message (or entering) has arrived."""
    window_kind, window_at, replies = conv.window_kind, conv.window_at, conv.replies
    if inbound.is_message:
        window_kind, window_at, replies = WindowKind.MESSAGE, inbound.at, 0
    elif not _window_open(conv, inbound.at) or conv.window_kind is WindowKind.SESSION:
        window_kind, window_at, replies = WindowKind.SESSION, inbound.at, 0
    if not inbound.is_message:
        return replace(conv, window_kind=window_kind, window_at=window_at, replies=replies,
                       last_at=max(conv.last_at or inbound.at, inbound.at))
    waiting = conv.status is Status.WAITING
    return replace(conv, status=Status.WAITING, priority=priority_of(tier) if not waiting else min(
        conv.priority, priority_of(tier)), unread=conv.unread + 1,
        waiting_since=conv.waiting_since if waiting and conv.waiting_since else inbound.at,
        last_at=max(conv.last_at or inbound.at, inbound.at), last_user_at=inbound.at,
        preview=inbound.text[:PREVIEW_CHARS], window_kind=window_kind, window_at=window_at, replies=replies)


def _window_open(conv: Conversation, now: datetime) -> bool:
    if conv.window_kind is None or conv.window_at is None:
        return False
    window = WINDOWS[conv.window_kind]
    return now <= conv.window_at + window.lasts and conv.replies < window.messages


def check_reply(conv: Conversation, now: datetime) -> None:
    """Refuse a reply WeChat would refuse: no window or a window past its time
    (REPLY_WINDOW_CLOSED), or its messages used up (REPLY_LIMIT_REACHED)."""
    if conv.window_kind is None or conv.window_at is None:
        raise ReplyWindowClosed("the user has not written: WeChat lets us answer only after they do")
    window = WINDOWS[conv.window_kind]
    closes = conv.window_at + window.lasts
    if now > closes:
        raise ReplyWindowClosed(f"the reply window closed at {closes.isoformat()}", closed_at=closes.isoformat())
    if conv.replies >= window.messages:
        raise ReplyLimitReached(f"{window.messages} messages were sent in this window", limit=window.messages)


def after_reply(conv: Conversation, at: datetime, preview: str, seen_user_at: datetime | None) -> Conversation:
    """The conversation once a reply was sent at ``at``, decided before the user's message of
    ``seen_user_at``. When the user wrote again meanwhile (their newer message opened a new
    window, and waits), the reply is only recorded: it answers the older message."""
    if conv.last_user_at != seen_user_at:
        return replace(conv, last_at=max(conv.last_at or at, at))
    return replace(conv, status=Status.ANSWERED, unread=0, waiting_since=None, last_at=at,
                   preview=preview[:PREVIEW_CHARS], replies=conv.replies + 1)


def after_close(conv: Conversation) -> Conversation:
    if conv.status is not Status.WAITING:
        raise AlreadyClosed(f"the conversation is {conv.status.value}")
    return replace(conv, status=Status.CLOSED, unread=0, waiting_since=None)


def window_closes(conv: Conversation) -> datetime | None:
    """When the current window closes (shown beside the reply box); None without one."""
    if conv.window_kind is None or conv.window_at is None:
        return None
    return conv.window_at + WINDOWS[conv.window_kind].lasts


def replies_left(conv: Conversation, now: datetime) -> int:
    if conv.window_kind is None or conv.window_at is None or now > conv.window_at + WINDOWS[conv.window_kind].lasts:
        return 0
    return max(0, WINDOWS[conv.window_kind].messages - conv.replies)

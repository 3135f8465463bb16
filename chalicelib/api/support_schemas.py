"""Request and answer models of customer service (docs/customer-service.md): WeChat's message
push, the operator's inbox, the simulator's user. Names are unique across schema modules."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, StringConstraints

from chalicelib.api.schemas import AnswerModel, PageQuery, QueryModel, RequestModel
from chalicelib.domain.after_sales import Case
from chalicelib.domain.clock import iso
from chalicelib.domain.orders import Order
from chalicelib.domain.support import Conversation, Message
from chalicelib.domain.users import User

NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Sig = Annotated[str, StringConstraints(max_length=128)]


def _at(at: datetime | None) -> str | None:
    return iso(at) if at else None


# WeChat's push ------------------------------------------------------------------------------
class PushCheckQuery(QueryModel):
    """WeChat's URL verification (其余参数 WeChat may add are ignored)."""

    model_config = ConfigDict(extra="ignore", defer_build=True)
    signature: Sig
    timestamp: Sig
    nonce: Sig
    echostr: Annotated[str, StringConstraints(max_length=256)]


class PushQuery(QueryModel):
    model_config = ConfigDict(extra="ignore", defer_build=True)
    signature: Sig
    timestamp: Sig
    nonce: Sig
    openid: Sig | None = None
    encrypt_type: Literal["aes", "raw"] | None = Field(default=None, description="aes: secure or compatible mode")
    msg_signature: Sig | None = Field(default=None, description="sha1 of sorted token, timestamp, nonce, Encrypt")


# The inbox ----------------------------------------------------------------------------------
class InboxQuery(PageQuery):
    status: Literal["waiting", "all"] = Field(
        default="waiting", description="waiting: the queue (senior and partner distributors first, then the longest "
                                       "waiting); all: every conversation, latest activity first")


class ConversationOut(AnswerModel):
    user_id: str
    nickname: str
    tier: str
    priority: bool = Field(description="served first: a senior or partner distributor (their tier's right)")
    status: str = Field(description="waiting, answered or closed")
    unread: int = Field(description="the user's messages since the operator last replied or closed")
    waiting_since: str | None
    last_at: str | None
    preview: str
    window_closes_at: str | None = Field(description="WeChat's reply window closes then (48 h after a message)")
    replies_left: int = Field(description="messages WeChat still takes in this window (5 after a message)")

    @classmethod
    def of(cls, c: Conversation, user: User | None, now: datetime) -> ConversationOut:
        from chalicelib.domain.support import replies_left, window_closes

        return cls(user_id=c.user_id, nickname=user.nickname if user else "", tier=user.tier.value if user else "regular",
                   priority=c.priority == 0, status=c.status.value, unread=c.unread, waiting_since=_at(c.waiting_since),
                   last_at=_at(c.last_at), preview=c.preview, window_closes_at=_at(window_closes(c)),
                   replies_left=replies_left(c, now))


class InboxAnswer(AnswerModel):
    items: list[ConversationOut]
    next: str | None


class MessageOut(AnswerModel):
    message_id: str
    sender: str = Field(description="user or operator")
    kind: str = Field(description="text, image, miniprogrampage, ...")
    text: str
    at: str
    actor_id: str | None = Field(description="the operator who replied")
    media: dict[str, str] | None = Field(description="an image's PicUrl/MediaId, a card's PagePath, ...")

    @classmethod
    def of(cls, m: Message) -> MessageOut:
        return cls(message_id=m.message_id, sender=m.sender.value, kind=m.kind, text=m.text, at=iso(m.at),
                   actor_id=m.actor_id, media=m.media)


class LinkedOrderOut(AnswerModel):
    order_id: str
    status: str
    amount_fen: int
    created_at: str
    href: str = Field(description="the admin API's order list filtered to this buyer")

    @classmethod
    def of(cls, o: Order) -> LinkedOrderOut:
        return cls(order_id=o.order_id, status=o.status.value, amount_fen=o.amount_fen, created_at=iso(o.created_at),
                   href=f"/v1/admin/orders?buyer_id={o.buyer_id}")


class LinkedCaseOut(AnswerModel):
    case_id: str
    order_id: str
    kind: str = Field(description="refund_only or return_refund")
    status: str
    refund_fen: int = Field(description="the approved amount once approved, else what the lines were paid")
    created_at: str
    href: str = Field(description="the case in the API (GET /v1/after-sales/{case_id})")

    @classmethod
    def of(cls, c: Case) -> LinkedCaseOut:
        return cls(case_id=c.case_id, order_id=c.order_id, kind=c.kind.value, status=c.status.value,
                   refund_fen=c.refund_fen if c.refund_fen is not None else c.lines_paid_fen,
                   created_at=iso(c.created_at), href=f"/v1/after-sales/{c.case_id}")


class ThreadAnswer(AnswerModel):
    conversation: ConversationOut
    messages: list[MessageOut] = Field(description="newest first; page back with next")
    next: str | None
    orders: list[LinkedOrderOut] = Field(description="the user's newest orders (at most 10)")
    after_sales: list[LinkedCaseOut] = Field(description="the user's newest after-sales cases (at most 10)")


class ThreadQuery(PageQuery):
    pass


class ReplyBody(RequestModel):
    text: NonEmpty = Field(description="at most 1,000 characters (TEXT_TOO_LONG)")


class CloseBody(RequestModel):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


# The simulator's user -------------------------------------------------------------------------
class DevMessageBody(RequestModel):
    openid: Annotated[str, StringConstraints(min_length=1, max_length=64)] = Field(
        description="the user's openid: dev:<name> for a user of POST /v1/auth/login with dev:<name>")
    kind: Literal["text", "image", "enter"] = "text"
    text: Annotated[str, StringConstraints(max_length=2_000)] = ""
    format: Literal["json", "xml"] = "json"
    encrypted: bool = Field(default=True, description="secure mode (安全模式): AES-256-CBC with msg_signature")


class DevMessageAnswer(AnswerModel):
    status: str = Field(description="taken, duplicate or ignored")
    push: dict[str, Any] = Field(description="the push as delivered: query and body, to replay or tamper with")

"""Subscribe messages (订阅消息): what a message says, who may receive it and its life.

A user grants a **one-time** subscription per template in the mini-program
(``wx.requestSubscribeMessage``: each ``accept`` allows WeChat to deliver one message of that
template); the backend counts the accepts it is told of (``consent``) and spends one per message
it queues, so a consent is spent once. Four causes send a message, each **once** (the message's
key is its cause): a commission credited to the available balance, an order shipped, a
withdrawal paid, an after-sales case decided.

A message's ``data`` follows WeChat's template keys (``thing1``, ``amount2``…): the operator maps
each key of the template chosen in the mini-program's console to one of our values
(``FIELDS``); a key's type prefix decides the format and limits WeChat enforces (``fit``).

Pure: the store keeps consents and messages, the service decides with these functions, the
WeChat client sends ``Message.data``. docs/subscribe-messages.md.
"""
from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from chalicelib.domain.clock import SHANGHAI
from chalicelib.domain.errors import Kind, error

UnknownTemplate = error("UNKNOWN_TEMPLATE", Kind.INVALID,
                        "A template id that is not one of the subscribe-message templates in the settings.")


class MessageKind(StrEnum):
    COMMISSION_CREDITED = "commission_credited"  # 佣金到账: a commission became available (settlement)
    ORDER_SHIPPED = "order_shipped"  # 发货通知: to the buyer
    WITHDRAWAL_PAID = "withdrawal_paid"  # 提现到账
    AFTER_SALES_DECIDED = "after_sales_decided"  # 售后结果: approved or rejected


class Choice(StrEnum):
    """The user's answer per template id, as ``wx.requestSubscribeMessage`` reports it."""

    ACCEPT = "accept"
    REJECT = "reject"
    BAN = "ban"  # the template was banned by WeChat
    FILTER = "filter"  # filtered (a template title repeated in one request)


class MessageState(StrEnum):
    PENDING = "pending"  # queued, not yet taken by WeChat: the job tries again
    SENT = "sent"
    REFUSED = "refused"  # 43101: the user's subscription is gone at WeChat (final)
    FAILED = "failed"  # WeChat refused the body (template, page, data) or MAX_ATTEMPTS failed: alarmed


class Verdict(StrEnum):
    SENT = "sent"
    RETRY = "retry"  # busy or unreachable
    USER_REFUSED = "user_refused"  # 43101
    REFUSED = "refused"  # the same body would be refused again


# WeChat's template value types (订阅消息参数值内容限制) and the values each of ours may fill.
TYPES = ("thing", "number", "letter", "symbol", "character_string", "time", "date", "amount", "phone_number",
         "car_number", "name", "phrase")
KEY = re.compile(r"^(" + "|".join(sorted(TYPES, key=len, reverse=True)) + r")(\d{1,2})$")
VALUE_TYPES: dict[str, frozenset[str]] = {
    "amount": frozenset({"amount", "thing"}),
    "order_id": frozenset({"character_string", "thing"}),
    "withdrawal_id": frozenset({"character_string", "thing"}),
    "case_id": frozenset({"character_string", "thing"}),
    "tracking_no": frozenset({"character_string", "thing"}),
    "at": frozenset({"time", "date"}),
    "level": frozenset({"phrase", "thing"}),
    "result": frozenset({"phrase", "thing"}),
    "carrier": frozenset({"thing"}),
    "items": frozenset({"thing"}),
    "reason": frozenset({"thing"}),
}
FIELDS: dict[MessageKind, frozenset[str]] = {
    MessageKind.COMMISSION_CREDITED: frozenset({"amount", "order_id", "level", "at"}),
    MessageKind.ORDER_SHIPPED: frozenset({"order_id", "carrier", "tracking_no", "items", "at"}),
    MessageKind.WITHDRAWAL_PAID: frozenset({"amount", "withdrawal_id", "at"}),
    MessageKind.AFTER_SALES_DECIDED: frozenset({"case_id", "order_id", "result", "amount", "reason", "at"}),
}
LIMITS = {"thing": 20, "number": 32, "letter": 32, "symbol": 5, "character_string": 32, "phone_number": 17,
          "car_number": 8, "name": 10, "phrase": 5}

MAX_ATTEMPTS = 6
LEASE = timedelta(minutes=2)  # a claimed attempt: the job leaves the message this long to its sender
LONGEST_PAUSE = timedelta(hours=1)


@dataclass(frozen=True)
class Template:
    """A kind's template as the settings give it: ``template_id`` ("" = not configured: the kind
    sends nothing), the page a tap opens (``{value}`` placeholders), WeChat key → our value."""

    template_id: str
    page: str
    fields: Mapping[str, str]


def key_type(key: str) -> str | None:
    match = KEY.match(key)
    return match.group(1) if match else None


def template_problems(kind: MessageKind, template: Template) -> list[str]:
    """Why a kind's template cannot work (empty: it can): keys WeChat would not have, values the
    kind does not carry or a key's type cannot show, page placeholders it does not know."""
    problems = []
    for key, value in template.fields.items():
        kind_of_key = key_type(key)
        if kind_of_key is None:
            problems.append(f"{key}: not a WeChat template key (thing1, amount2, time3…)")
        elif value not in FIELDS[kind]:
            problems.append(f"{key}: {value!r} is not a value of {kind.value} ({', '.join(sorted(FIELDS[kind]))})")
        elif kind_of_key not in VALUE_TYPES[value]:
            problems.append(f"{key}: a {kind_of_key} cannot show {value} (use {', '.join(sorted(VALUE_TYPES[value]))})")
    for _, name, _, _ in string.Formatter().parse(template.page):
        if name is not None and name not in FIELDS[kind]:
            problems.append(f"page: {{{name}}} is not a value of {kind.value}")
    if template.template_id and not template.fields:
        problems.append("a template needs at least one field")
    return problems


def fit(key: str, text: str) -> str:
    """A value as WeChat takes it under ``key``'s type: cut to the type's length (a ``thing``
    keeps its first 19 characters and an ellipsis)."""
    kind = key_type(key) or "thing"
    limit = LIMITS.get(kind)
    if limit is None or len(text) <= limit:
        return text
    return text[:limit - 1] + "…" if kind == "thing" else text[:limit]


def yuan(fen: int) -> str:
    """An amount as WeChat's ``amount`` shows it: ``12.34元``."""
    return f"{fen // 100}.{fen % 100:02d}元"


def moment(at: datetime) -> str:
    """A time as WeChat's ``time``/``date`` take it, in Shanghai: ``2026年12月06日 20:15``."""
    return at.astimezone(SHANGHAI).strftime("%Y年%m月%d日 %H:%M")


@dataclass(frozen=True)
class Notice:
    """A cause of a message: its kind, the user it goes to, the cause's id (the message's key:
    the same cause twice is one message) and the values a template may show."""

    kind: MessageKind
    user_id: str
    cause: str
    values: Mapping[str, str]

    @property
    def key(self) -> str:
        return f"{self.kind.value}#{self.cause}"


def render(template: Template, values: Mapping[str, str]) -> tuple[dict[str, dict[str, str]], str]:
    """WeChat's ``data`` and the ``page`` of a notice's message."""
    data = {key: {"value": fit(key, values.get(name, "") or "-")} for key, name in template.fields.items()}
    page = template.page.format_map({name: values.get(name, "") for name in values}) if template.page else ""
    return data, page


@dataclass(frozen=True)
class Message:
    """One queued message (its key: ``<kind>#<cause>``)."""

    user_id: str
    kind: MessageKind
    cause: str
    openid: str
    template_id: str
    page: str
    data: Mapping[str, Mapping[str, str]]
    created_at: datetime
    state: MessageState = MessageState.PENDING
    attempts: int = 0
    due_at: datetime | None = None
    sent_at: datetime | None = None
    last_error: str | None = None

    @property
    def key(self) -> str:
        return f"{self.kind.value}#{self.cause}"


def claimed(message: Message, now: datetime) -> Message:
    """The message taken for one more attempt: counted, and out of the job's reach for LEASE."""
    return replace(message, attempts=message.attempts + 1, due_at=now + LEASE)


def after_attempt(message: Message, verdict: Verdict, said: str | None, now: datetime) -> Message:
    """The message after an attempt (counted already by ``claimed``): sent; refused by the user
    (43101) or by WeChat (final); else pending again after a pause doubling from LEASE up to
    LONGEST_PAUSE, until the MAX_ATTEMPTS-th failure gives up."""
    if verdict is Verdict.SENT:
        return replace(message, state=MessageState.SENT, sent_at=now, due_at=None, last_error=None)
    if verdict is Verdict.USER_REFUSED:
        return replace(message, state=MessageState.REFUSED, due_at=None, last_error=said)
    if verdict is Verdict.REFUSED or message.attempts >= MAX_ATTEMPTS:
        return replace(message, state=MessageState.FAILED, due_at=None, last_error=said)
    pause = min(LEASE * 2 ** (message.attempts - 1), LONGEST_PAUSE)
    return replace(message, due_at=now + pause, last_error=said)

"""Subscribe messages' consents and messages, in customer service's table (``SupportItem``).

Items (``pk``, ``sk``), one user's partition ``s#<user id>``:
* ``("s#<user>", "t#<template id>")``: the one-time consents the user granted that template and
  not yet spent (``credits``), with their ``openid`` and the template's ``kind``;
* ``("s#<user>", "m#<kind>#<cause>")``: a message, put once per cause (absent), with its
  ``state``, ``attempts`` and ``due_at``; while pending it carries ``outbox_shard`` (the user's
  shard of 16) / ``outbox_key`` (``<due>#<user>#<key>``), the sparse GSI ``outbox`` the job reads.

Access patterns: record accepts → UpdateItem ADD per template (≤ 3 per request:
``wx.requestSubscribeMessage`` asks at most 3); a user's consents → Query ``t#``; queue a message
→ TransactWriteItems (consent ``credits > 0`` ADD −1, message absent): a consent spent once, a
cause queued once; claim an attempt / record its outcome → UpdateItem conditioned on
``attempts`` as read; messages due → Query per shard of ``outbox`` ``outbox_key <= <now>~``.
Keys: per user, and a 16-shard index written once per message (no partition per order of the
whole mall: docs/capacity.md).
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from chalicelib.domain.clock import iso
from chalicelib.domain.shards import shard_of
from chalicelib.domain.subscriptions import Message, MessageKind, MessageState
from chalicelib.store.base import condition_failed, paginate, transaction_failure
from chalicelib.store.support import SupportItem

CONSENT, MESSAGE = "t#", "m#"


def user_pk(user_id: str) -> str:
    return f"s#{user_id}"


@dataclass(frozen=True)
class Consent:
    template_id: str
    kind: MessageKind
    credits: int
    openid: str


def _consent(item: SupportItem) -> Consent:
    return Consent(item.sk[len(CONSENT):], MessageKind(item.kind or ""), int(item.credits or 0), item.openid or "")


def _message(item: SupportItem) -> Message:
    return Message(user_id=item.user_id or "", kind=MessageKind(item.kind or ""), cause=item.cause or "",
                   openid=item.openid or "", template_id=item.template_id or "", page=item.page or "",
                   data=json.loads(item.data or "{}"), created_at=item.at, state=MessageState(item.state or ""),
                   attempts=int(item.attempts or 0), due_at=item.due_at, sent_at=item.sent_at,
                   last_error=item.last_error)


def _outbox(message: Message) -> tuple[str | None, str | None]:
    if message.state is not MessageState.PENDING or message.due_at is None:
        return None, None
    return shard_of(message.user_id), f"{iso(message.due_at)}#{message.user_id}#{message.key}"


class SubscriptionStore:
    def grant(self, user_id: str, openid: str, accepted: Mapping[str, MessageKind], now: datetime) -> None:
        """One consent more per accepted template (an ADD each: a count, never a read)."""
        for template_id, kind in accepted.items():
            SupportItem(user_pk(user_id), CONSENT + template_id).update(actions=[
                SupportItem.credits.add(1), SupportItem.openid.set(openid), SupportItem.kind.set(kind.value),
                SupportItem.at.set(now)])

    def consents(self, user_id: str) -> list[Consent]:
        return [_consent(i) for i in SupportItem.query(user_pk(user_id), SupportItem.sk.startswith(CONSENT),
                                                       consistent_read=True)]

    def consent(self, user_id: str, template_id: str) -> Consent | None:
        try:
            return _consent(SupportItem.get(user_pk(user_id), CONSENT + template_id))
        except SupportItem.DoesNotExist:
            return None

    def enqueue(self, message: Message) -> bool:
        """Queue a message (claimed for its first attempt) and spend one consent of its template, in
        one transaction; False when either is refused: its cause was queued already, or no consent
        is left (nothing changed)."""
        shard, key = _outbox(message)
        item = SupportItem(user_pk(message.user_id), MESSAGE + message.key, user_id=message.user_id,
                           kind=message.kind.value, cause=message.cause, openid=message.openid,
                           template_id=message.template_id, page=message.page,
                           data=json.dumps(message.data, ensure_ascii=False), at=message.created_at,
                           state=message.state.value, attempts=message.attempts, due_at=message.due_at,
                           outbox_shard=shard, outbox_key=key)
        consent = SupportItem(user_pk(message.user_id), CONSENT + message.template_id)
        try:
            with TransactWrite(connection=SupportItem._get_connection().connection) as tx:
                tx.update(consent, actions=[SupportItem.credits.add(-1)], condition=SupportItem.credits > 0)
                tx.save(item, condition=SupportItem.pk.does_not_exist())
        except TransactWriteError as exc:
            failure = transaction_failure(exc, tx)
            if failure.conflict:
                raise failure from exc
            return False
        return True

    def get(self, user_id: str, key: str) -> Message | None:
        try:
            return _message(SupportItem.get(user_pk(user_id), MESSAGE + key, consistent_read=True))
        except SupportItem.DoesNotExist:
            return None

    def messages(self, user_id: str) -> list[Message]:
        return [_message(i) for i in SupportItem.query(user_pk(user_id), SupportItem.sk.startswith(MESSAGE),
                                                       consistent_read=True)]

    def record(self, after: Message, attempts_read: int) -> bool:
        """Store the message as ``after`` (a claim, or an attempt's outcome), conditioned on the
        attempts read: False when another sender moved it first (nothing changed)."""
        shard, key = _outbox(after)
        actions: list[Action] = [SupportItem.state.set(after.state.value), SupportItem.attempts.set(after.attempts),
                   SupportItem.last_error.set(after.last_error) if after.last_error else SupportItem.last_error.remove(),
                   SupportItem.due_at.set(after.due_at) if after.due_at else SupportItem.due_at.remove(),
                   SupportItem.outbox_shard.set(shard) if shard else SupportItem.outbox_shard.remove(),
                   SupportItem.outbox_key.set(key) if key else SupportItem.outbox_key.remove()]
        if after.sent_at:
            actions.append(SupportItem.sent_at.set(after.sent_at))
        try:
            SupportItem(user_pk(after.user_id), MESSAGE + after.key).update(
                actions=actions, condition=(SupportItem.attempts == attempts_read)
                & (SupportItem.state == MessageState.PENDING.value))
        except UpdateError as exc:
            if condition_failed(exc):
                return False
            raise
        return True

    def due(self, shard: str, now: datetime, cursor: str | None, limit: int) -> tuple[list[Message], str | None]:
        """Pending messages of a shard due by ``now``, the earliest first."""
        return paginate(SupportItem.outbox, shard, cursor, _message,
                        range_key_condition=SupportItem.outbox_key <= f"{iso(now)}~", limit=limit)

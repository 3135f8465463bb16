"""Customer service's table (setting ``support_table``, env ``SUPPORT_TABLE``): the inbox.

Items (``pk``, ``sk``):
* ``("c#<user id>", "conv")``: a conversation (``domain.support.Conversation``), with
  ``version`` as its optimistic condition; while waiting it carries ``queue_shard`` /
  ``queue_key`` (sparse GSI ``queue``), always ``recent_shard`` / ``recent_key`` (GSI ``recent``);
* ``("c#<user id>", "m#<at>#<message id>")``: a message of it, the user's or the operator's;
* ``("wx#<MsgId or sender#CreateTime>", "seen")``: a push already taken (TTL 3 days: WeChat
  retries within seconds), put in the same transaction as the message it brought;
* ``("s#<user id>", "t#<template id>")`` and ``("s#<user id>", "m#<kind>#<cause>")``: a user's
  subscribe-message consents and messages (``store/subscriptions.py``; GSI ``outbox``).

Access patterns: a push → GetItem (conversation) + TransactWriteItems (marker absent, message,
conversation `version =` as read); a reply or a close → TransactWriteItems (message, conversation
`version =` as read, audit entry); the queue → Query per shard of ``queue`` (16, ascending from
the cursor) merged, a page's worth each; every conversation by last activity → the same over
``recent``, descending; a conversation's messages → Query ``c#<user>`` ``begins_with m#``,
newest first, paginated.

Keys: a conversation and its messages are one user's partition (that user's own rate); the two
indexes are 16 shards each (``domain.shards``), so no partition takes a write per message from
the whole mall (docs/capacity.md).
"""
from __future__ import annotations

import base64
import binascii
import heapq
import json
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import TransactWriteError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.transactions import TransactWrite

from chalicelib.config import get_settings
from chalicelib.domain.audit import AuditEntry
from chalicelib.domain.shards import SHARDS, shard_of
from chalicelib.domain.support import Conversation, Message, Sender, Status, WindowKind, stamp
from chalicelib.store.audit import entry_put
from chalicelib.store.base import BaseMeta, InvalidCursor, StoreModel, paginate, transaction_failure

CONV, SEEN = "conv", "seen"
SEEN_FOR = timedelta(days=3)


class QueueIndex(GlobalSecondaryIndex["SupportItem"]):
    """Waiting conversations (sparse), by priority then waiting since."""

    class Meta:
        index_name = "queue"
        projection = AllProjection()

    queue_shard = UnicodeAttribute(hash_key=True)
    queue_key = UnicodeAttribute(range_key=True)


class RecentIndex(GlobalSecondaryIndex["SupportItem"]):
    """Every conversation by its last activity."""

    class Meta:
        index_name = "recent"
        projection = AllProjection()

    recent_shard = UnicodeAttribute(hash_key=True)
    recent_key = UnicodeAttribute(range_key=True)


class OutboxIndex(GlobalSecondaryIndex["SupportItem"]):
    """Subscribe messages not yet final (sparse), 16 shards, by when they are due
    (``store/subscriptions.py``)."""

    class Meta:
        index_name = "outbox"
        projection = AllProjection()

    outbox_shard = UnicodeAttribute(hash_key=True)
    outbox_key = UnicodeAttribute(range_key=True)


class SupportItem(StoreModel):
    class Meta(BaseMeta):
        table_name = get_settings().support_table

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    # conversation
    user_id = UnicodeAttribute(null=True)
    openid = UnicodeAttribute(null=True)
    status = UnicodeAttribute(null=True)
    priority = NumberAttribute(null=True)
    unread = NumberAttribute(null=True)
    waiting_since = UTCDateTimeAttribute(null=True)
    last_at = UTCDateTimeAttribute(null=True)
    last_user_at = UTCDateTimeAttribute(null=True)
    preview = UnicodeAttribute(null=True)
    window_kind = UnicodeAttribute(null=True)
    window_at = UTCDateTimeAttribute(null=True)
    replies = NumberAttribute(null=True)
    version = NumberAttribute(null=True)
    queue_shard = UnicodeAttribute(null=True)
    queue_key = UnicodeAttribute(null=True)
    recent_shard = UnicodeAttribute(null=True)
    recent_key = UnicodeAttribute(null=True)
    # message
    message_id = UnicodeAttribute(null=True)
    sender = UnicodeAttribute(null=True)
    kind = UnicodeAttribute(null=True)
    text = UnicodeAttribute(null=True)
    at = UTCDateTimeAttribute(null=True)
    actor_id = UnicodeAttribute(null=True)
    media = UnicodeAttribute(null=True)  # JSON
    # push marker
    expires_at = TTLAttribute(null=True)
    # subscribe messages (store/subscriptions.py): a consent's count, a message's life
    credits = NumberAttribute(null=True)
    cause = UnicodeAttribute(null=True)
    template_id = UnicodeAttribute(null=True)
    page = UnicodeAttribute(null=True)
    data = UnicodeAttribute(null=True)  # JSON: WeChat's template data
    state = UnicodeAttribute(null=True)
    attempts = NumberAttribute(null=True)
    due_at = UTCDateTimeAttribute(null=True)
    sent_at = UTCDateTimeAttribute(null=True)
    last_error = UnicodeAttribute(null=True)
    outbox_shard = UnicodeAttribute(null=True)
    outbox_key = UnicodeAttribute(null=True)

    queue = QueueIndex()
    recent = RecentIndex()
    outbox = OutboxIndex()


def conv_pk(user_id: str) -> str:
    return f"c#{user_id}"


def _conversation_item(c: Conversation) -> SupportItem:
    shard = shard_of(c.user_id)
    queue_key = c.queue_key()
    return SupportItem(conv_pk(c.user_id), CONV, user_id=c.user_id, openid=c.openid, status=c.status.value,
                       priority=c.priority, unread=c.unread, waiting_since=c.waiting_since, last_at=c.last_at,
                       last_user_at=c.last_user_at, preview=c.preview,
                       window_kind=c.window_kind.value if c.window_kind else None, window_at=c.window_at,
                       replies=c.replies, version=c.version,
                       queue_shard=f"q#{shard}" if queue_key else None, queue_key=queue_key,
                       recent_shard=f"r#{shard}", recent_key=f"{stamp(c.last_at or c.window_at or _epoch())}#{c.user_id}")


def _epoch() -> datetime:
    return datetime.fromisoformat("1970-01-01T00:00:00+00:00")


def to_conversation(item: SupportItem) -> Conversation:
    return Conversation(user_id=item.user_id or "", openid=item.openid or "", status=Status(item.status),
                        priority=int(item.priority or 0), unread=int(item.unread or 0),
                        waiting_since=item.waiting_since, last_at=item.last_at, last_user_at=item.last_user_at,
                        preview=item.preview or "", window_kind=WindowKind(item.window_kind) if item.window_kind else None,
                        window_at=item.window_at, replies=int(item.replies or 0), version=int(item.version or 0))


def _message_item(m: Message) -> SupportItem:
    return SupportItem(conv_pk(m.user_id), f"m#{stamp(m.at)}#{m.message_id}", message_id=m.message_id,
                       sender=m.sender.value, kind=m.kind, text=m.text, at=m.at, actor_id=m.actor_id,
                       media=json.dumps(m.media, ensure_ascii=False) if m.media else None)


def to_message(item: SupportItem) -> Message:
    return Message(user_id=item.pk.removeprefix("c#"), message_id=item.message_id or "", sender=Sender(item.sender),
                   kind=item.kind or "text", text=item.text or "", at=item.at or _epoch(), actor_id=item.actor_id,
                   media=json.loads(item.media) if item.media else None)


class SupportStore:
    """Repository of the inbox: conversations, their messages, the pushes taken."""

    def conversation(self, user_id: str) -> Conversation | None:
        try:
            return to_conversation(SupportItem.get(conv_pk(user_id), CONV, consistent_read=True))
        except SupportItem.DoesNotExist:
            return None

    def record_inbound(self, before: Conversation | None, after: Conversation, message: Message | None,
                       dedupe: str, now: datetime) -> bool:
        """Take a push once: its marker (absent), its message, the conversation as decided from
        ``before``. False when the push was taken already (a WeChat retry, a replay); raises
        ConcurrentUpdate when the conversation changed since it was read."""
        marker = SupportItem(f"wx#{dedupe}"[:1024], SEEN, expires_at=now + SEEN_FOR)
        tx = TransactWrite(connection=SupportItem._get_connection().connection)
        try:
            with tx:
                tx.save(marker, condition=SupportItem.pk.does_not_exist())
                if message is not None:
                    tx.save(_message_item(message), condition=SupportItem.pk.does_not_exist())
                self._put_conversation(tx, before, after)
        except TransactWriteError as exc:
            failure = transaction_failure(exc, tx)
            if failure.refused(SupportItem.Meta.table_name, pk=marker.pk, sk=SEEN):
                return False
            raise failure from exc
        return True

    def record_operator(self, before: Conversation, after: Conversation, message: Message | None,
                        entry: AuditEntry) -> None:
        """An operator's reply (its message) or close, with its audit entry, in one transaction
        conditioned on the conversation as read (ConcurrentUpdate otherwise)."""
        tx = TransactWrite(connection=SupportItem._get_connection().connection)
        try:
            with tx:
                if message is not None:
                    tx.save(_message_item(message), condition=SupportItem.pk.does_not_exist())
                self._put_conversation(tx, before, after)
                entry_put(tx, entry)
        except TransactWriteError as exc:
            raise transaction_failure(exc, tx) from exc

    @staticmethod
    def _put_conversation(tx: TransactWrite, before: Conversation | None, after: Conversation) -> None:
        condition = SupportItem.pk.does_not_exist() if before is None else SupportItem.version == before.version
        tx.save(_conversation_item(replace(after, version=(before.version if before else 0) + 1)), condition=condition)

    def messages(self, user_id: str, limit: int, cursor: str | None) -> tuple[list[Message], str | None]:
        """A conversation's messages, newest first."""
        return paginate(SupportItem, conv_pk(user_id), cursor, to_message, range_key_condition=SupportItem.sk.startswith("m#"),
                        scan_index_forward=False, limit=limit)

    def waiting(self, limit: int, cursor: str | None) -> tuple[list[Conversation], str | None]:
        """The queue: waiting conversations, priority first, then the longest waiting."""
        return self._merged("queue", limit, cursor)

    def recent(self, limit: int, cursor: str | None) -> tuple[list[Conversation], str | None]:
        """Every conversation, the latest activity first."""
        return self._merged("recent", limit, cursor)

    def _merged(self, index: str, limit: int, cursor: str | None) -> tuple[list[Conversation], str | None]:
        """One Query per shard from the cursor's key (each at most ``limit + 1``), merged in the
        index's order: a page is the first ``limit`` of them, the cursor its last key."""
        after = _decode(index, cursor)
        ascending = index == "queue"
        source, key_attr = (SupportItem.queue, SupportItem.queue_key) if ascending else (SupportItem.recent,
                                                                                          SupportItem.recent_key)
        prefix = "q#" if ascending else "r#"
        condition = None if after is None else (key_attr > after if ascending else key_attr < after)
        found: list[SupportItem] = []
        for shard in SHARDS:
            found += source.query(prefix + shard, condition, scan_index_forward=ascending, limit=limit + 1)

        def key(item: SupportItem) -> str:
            return (item.queue_key if ascending else item.recent_key) or ""

        merged = heapq.nsmallest(limit + 1, found, key=key) if ascending else heapq.nlargest(limit + 1, found, key=key)
        page = merged[:limit]
        more = len(merged) > limit
        return [to_conversation(item) for item in page], (_encode(index, key(page[-1])) if more and page else None)


def _encode(index: str, key: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"i": index, "k": key}).encode()).decode().rstrip("=")


def _decode(index: str, cursor: str | None) -> str | None:
    if not cursor:
        return None
    try:
        value: Any = json.loads(base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()))
    except (ValueError, binascii.Error) as exc:
        raise InvalidCursor("the cursor is not one we issued") from exc
    if not isinstance(value, dict) or value.get("i") != index or not isinstance(value.get("k"), str):
        raise InvalidCursor("the cursor does not belong to this list")
    return str(value["k"])

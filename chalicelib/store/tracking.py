"""Tracked parcels (docs/delivery.md): one item per parcel in the orders table,
``"track#<subject>"`` (``order-<order id>`` or ``return-<case id>``), the record as JSON
(``track_json``: carrier, number, state, the steps kept, the subscription), its ``track_version``
(every write is conditioned on the version read: two writers never both apply a report) and,
while the tracking job has something to do for it, its place in the sparse ``tracking_due``
index (``"track#<shard>"`` by ``"<due>#<subject>"``, 16 partitions).

A report that delivers an order (or sends it back) writes the order in the same transaction:
``delivered_at`` (or ``returned_at``) once, and its automatic confirmation moved, conditioned on
the status read, so a refund or a confirmation committed meanwhile makes the step read again.

Round trips: a push is one GetItem of the tracking (and one of the order when it may change the
order) and one write (UpdateItem, or TransactWriteItems with the order).
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pynamodb.exceptions import PutError, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from chalicelib.domain.clock import business_date, iso, parse_iso
from chalicelib.domain.errors import ConcurrentUpdate
from chalicelib.domain.orders import OrderStatus, due_partition
from chalicelib.domain.tracking import Step, Sub, Tracking, TrackState, subject_shard
from chalicelib.store.base import cause_code, transaction_failure
from chalicelib.store.order_items import OrderItem, due_page

PREFIX = "track#"


def tracking_key(subject: str) -> str:
    return PREFIX + subject


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _at(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _record(t: Tracking) -> str:
    return json.dumps({
        "carrier": t.carrier, "company": t.company, "tracking_no": t.tracking_no, "started_at": iso(t.started_at),
        "phone": t.phone, "state": t.state.value,
        "steps": [[s.at.isoformat(), s.context, s.status] for s in t.steps],
        "delivered_at": _time(t.delivered_at), "returned_at": _time(t.returned_at), "sub": t.sub.value,
        "attempts": t.attempts, "last_error": t.last_error, "news_at": _time(t.news_at), "due_at": _time(t.due_at),
    }, ensure_ascii=False, separators=(",", ":"))


def to_tracking(item: OrderItem) -> Tracking:
    r = json.loads(item.track_json or "{}")
    return Tracking(
        subject=item.order_id.removeprefix(PREFIX), carrier=r["carrier"], company=r["company"],
        tracking_no=r["tracking_no"], started_at=parse_iso(r["started_at"]), phone=r.get("phone"),
        state=TrackState(r["state"]), steps=tuple(Step(datetime.fromisoformat(a), c, s) for a, c, s in r["steps"]),
        delivered_at=_at(r.get("delivered_at")), returned_at=_at(r.get("returned_at")), sub=Sub(r["sub"]),
        attempts=int(r.get("attempts") or 0), last_error=r.get("last_error"), news_at=_at(r.get("news_at")),
        due_at=_at(r.get("due_at")), version=int(item.track_version or 0))


def _actions(t: Tracking, version: int) -> list[Any]:
    actions: list[Any] = [OrderItem.track_json.set(_record(t)), OrderItem.track_version.set(version)]
    if t.due_at is None:
        return [*actions, OrderItem.track_key.remove(), OrderItem.track_due_key.remove()]
    return [*actions, OrderItem.track_key.set(f"{PREFIX}{subject_shard(t.subject)}"),
            OrderItem.track_due_key.set(f"{iso(t.due_at)}#{t.subject}")]


@dataclass(frozen=True)
class OrderEffect:
    """What a report does to the order it tracks, conditioned on the order's status as read."""

    order_id: str
    status: OrderStatus
    delivered_at: datetime | None = None  # delivered: recorded once
    returned_at: datetime | None = None  # back at the sender: recorded once
    confirm_due: datetime | None = None  # a shipped order's automatic confirmation moved here
    stop_confirm: bool = False  # a shipped order's automatic confirmation withdrawn (the parcel came back)


def _order_update(tx: TransactWrite, effect: OrderEffect) -> None:
    actions: list[Any] = []
    condition = OrderItem.status == effect.status.value
    if effect.delivered_at:
        actions.append(OrderItem.delivered_at.set(effect.delivered_at))
        condition &= OrderItem.delivered_at.does_not_exist()
    if effect.returned_at:
        actions.append(OrderItem.returned_at.set(effect.returned_at))
        condition &= OrderItem.returned_at.does_not_exist()
    if effect.confirm_due:
        actions += [OrderItem.confirm_day.set(due_partition(business_date(effect.confirm_due), effect.order_id)),
                    OrderItem.confirm_due_key.set(f"{iso(effect.confirm_due)}#{effect.order_id}")]
    elif effect.stop_confirm:
        actions += [OrderItem.confirm_day.remove(), OrderItem.confirm_due_key.remove()]
    tx.update(OrderItem(effect.order_id), actions=actions, condition=condition)


class TrackingStore:
    """Repository of tracked parcels."""

    def get(self, subject: str) -> Tracking | None:
        try:
            item = OrderItem.get(tracking_key(subject), consistent_read=True)
        except OrderItem.DoesNotExist:
            return None
        return to_tracking(item) if item.track_json else None

    def get_many(self, subjects: Sequence[str]) -> dict[str, Tracking]:
        """The tracking of each subject that has one: one BatchGetItem per 100."""
        keys = list(dict.fromkeys(tracking_key(s) for s in subjects))
        found = [to_tracking(item) for item in OrderItem.batch_get(keys) if item.track_json]
        return {t.subject: t for t in found}

    def start_in(self, tx: TransactWrite, tracking: Tracking) -> None:
        """Add the new tracking's put to another aggregate's transaction (the ship): it commits
        with it, or not at all."""
        tx.save(self._item(tracking), condition=OrderItem.order_id.does_not_exist())

    def start(self, tracking: Tracking) -> bool:
        """Put a new tracking alone (a return's); False when the subject is tracked already."""
        try:
            self._item(tracking).save(condition=OrderItem.order_id.does_not_exist())
        except PutError as exc:
            if cause_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def _item(self, tracking: Tracking) -> OrderItem:
        item = OrderItem(tracking_key(tracking.subject))
        item.track_json, item.track_version = _record(tracking), 1
        if tracking.due_at is not None:
            item.track_key = f"{PREFIX}{subject_shard(tracking.subject)}"
            item.track_due_key = f"{iso(tracking.due_at)}#{tracking.subject}"
        return item

    def save(self, after: Tracking, effect: OrderEffect | None = None) -> None:
        """Write the tracking as ``after`` (``after.version``: the version read), with the order's
        change when there is one, in one write. ConcurrentUpdate when another writer wrote the
        tracking (or the order's status changed) since the read: read again."""
        condition = OrderItem.track_version == after.version
        if effect is None:
            try:
                OrderItem(tracking_key(after.subject)).update(actions=_actions(after, after.version + 1),
                                                              condition=condition)
            except UpdateError as exc:
                if cause_code(exc) == "ConditionalCheckFailedException":
                    raise ConcurrentUpdate("the tracking changed meanwhile") from exc
                raise
            return
        try:
            with TransactWrite(connection=OrderItem._get_connection().connection) as tx:
                tx.update(OrderItem(tracking_key(after.subject)), actions=_actions(after, after.version + 1),
                          condition=condition)
                _order_update(tx, effect)
        except TransactWriteError as exc:
            raise transaction_failure(exc) from exc

    def due(self, shard: str, now: datetime, cursor: str | None, limit: int) -> tuple[list[str], str | None]:
        """A page of one shard's parcels due by ``now``: their subjects and the next page's cursor."""
        keys, after = due_page(OrderItem.tracking_due, OrderItem.track_due_key, f"{PREFIX}{shard}", now,
                               cursor, limit)
        return [k.removeprefix(PREFIX) for k in keys], after

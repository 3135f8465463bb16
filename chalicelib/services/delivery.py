"""Carrier tracking (docs/delivery.md): each shipped order, and each after-sales return, is
watched through 快递100. The ship transaction writes the order's tracking (subscription
pending); after the commit the subscription is made once, and the ``track_parcels`` job makes
the ones that failed and asks 快递100's real-time query about parcels without news (the poll
fallback). 快递100's signed pushes (and the polls' answers) merge into the tracking; the first
delivery records the order's ``delivered_at``, moves its automatic confirmation to
``orders.auto_confirm_days`` after it and counts on-time delivery; a parcel back at its sender
withdraws the automatic confirmation.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

from chalicelib.domain.errors import ConcurrentUpdate, Unavailable
from chalicelib.domain.fulfilment import delivery_id
from chalicelib.domain.invariants import present
from chalicelib.domain.orders import Order, OrderNotFound, OrderStatus
from chalicelib.domain.shards import SHARDS
from chalicelib.domain.slices import Progress
from chalicelib.domain.tracking import (
    SUBJECT,
    InvalidCallback,
    Report,
    Sub,
    Tracking,
    TrackingMismatch,
    TrackingNotFound,
    after_quiet_poll,
    after_subscribe,
    apply_report,
    company_of,
    confirm_due,
    order_subject,
    push_signed,
    return_subject,
    salt_for,
    start,
    subject_order,
)
from chalicelib.services import facts
from chalicelib.services.retry import run_until_committed

if TYPE_CHECKING:
    from chalicelib.bootstrap import Deps
    from chalicelib.carriers.kuaidi100 import Parcel
    from chalicelib.services.due import Deadline
    from chalicelib.store.tracking import OrderEffect


# --- starting ------------------------------------------------------------------------------

def order_tracking(order: Order, carrier: str, tracking_no: str, now: datetime, deps: Deps) -> Tracking | None:
    """The tracking a ship writes in its transaction (None: nothing to track: no tracking
    service configured, or a carrier 快递100 is not asked about). ``carrier``: the delivery id."""
    company = company_of(carrier)
    if deps.tracker is None or company is None:
        return None
    return start(order_subject(order.order_id), carrier, company, tracking_no, now, (order.address or {}).get("phone"))


def track_return(case_id: str, carrier: str, tracking_no: str, deps: Deps, phone: str | None = None) -> Tracking | None:
    """Watch an after-sales return parcel (the buyer's return shipment): its tracking written and
    subscribed once (the job retries a failed subscription); the same call again answers the
    tracking as it is. ``carrier`` a name or WeChat delivery id (INVALID_CARRIER otherwise).
    None when nothing can track it (no tracking service, or a carrier 快递100 is not asked about)."""
    carrier_id = delivery_id(carrier)
    company = company_of(carrier_id)
    if deps.tracker is None or company is None:
        return None
    subject = return_subject(case_id)
    if not deps.tracking.start(start(subject, carrier_id, company, tracking_no, deps.clock(), phone)):
        return deps.tracking.get(subject)
    return subscribe(subject, deps)


def return_tracking(case_id: str, deps: Deps) -> Tracking | None:
    """An after-sales return's tracking (None: not tracked)."""
    return deps.tracking.get(return_subject(case_id))


def order_trackings(orders: list[Order], deps: Deps) -> dict[str, Tracking]:
    """The tracking of each shipped order that has one, by order id: one BatchGetItem."""
    shipped = [o.order_id for o in orders if o.shipped_at is not None]
    if not shipped:
        return {}
    found = deps.tracking.get_many([order_subject(i) for i in shipped])
    return {present(subject_order(s), "an order's tracking subject"): t for s, t in found.items()}


# --- subscribing ---------------------------------------------------------------------------

def _parcel(tracking: Tracking) -> Parcel:
    from chalicelib.carriers.kuaidi100 import Parcel

    return Parcel(tracking.company, tracking.tracking_no, tracking.phone)


def subscribe(subject: str, deps: Deps) -> Tracking | None:
    """One attempt at subscribing a pending tracking with 快递100 (the ship's own after its commit,
    or the job's); the tracking as it is afterwards. Never raises for 快递100's sake: a failure is
    recorded and retried by the job."""
    from chalicelib.carriers.kuaidi100 import callback_url

    tracking = deps.tracking.get(subject)
    if tracking is None or tracking.sub is not Sub.PENDING or deps.tracker is None:
        return tracking
    try:
        accepted, said = deps.tracker.subscribe(_parcel(tracking), callback_url(deps.settings.kuaidi100_callback_base,
                                                                                 subject),
                                                salt_for(subject, deps.tracking_salt_key()))
    except Unavailable as exc:
        accepted, said = None, exc.message
    after = after_subscribe(tracking, accepted, said, deps.clock())
    try:
        deps.tracking.save(after)
    except ConcurrentUpdate:  # another attempt (or a push) wrote first: theirs stands
        return deps.tracking.get(subject)
    _observe_subscription(after)
    return after


def _observe_subscription(after: Tracking) -> None:
    from chalicelib.observability import logger, metrics

    if after.sub is Sub.FAILED:
        metrics().add_metric(name="tracking_subscribe_failed", unit="Count", value=1)
        logger().error("carrier tracking subscription given up: the poll fallback reads the parcel",
                       extra={"subject": after.subject, "attempts": after.attempts, "kuaidi100": after.last_error})
    elif after.sub is Sub.PENDING:
        logger().warning("carrier tracking subscription deferred",
                         extra={"subject": after.subject, "attempts": after.attempts, "kuaidi100": after.last_error})


# --- reports: pushes and polls ---------------------------------------------------------------

def handle_push(subject: str, body: bytes, deps: Deps) -> str:
    """A 快递100 push to our callback URL: verified (MD5 of param and the parcel's salt) before
    anything is read or written, then applied (``apply``). INVALID_SIGNATURE: refused, nothing
    changed; INVALID_CALLBACK: not a push form."""
    from chalicelib.carriers.kuaidi100 import read_push
    from chalicelib.wechat.pay_crypto import InvalidSignature

    try:
        form = parse_qs(body.decode(), keep_blank_values=True, strict_parsing=True, max_num_fields=10)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidCallback("the body is not a form (param=…&sign=…)") from exc
    params, signs = form.get("param", []), form.get("sign", [])
    if len(params) != 1 or len(signs) != 1:
        raise InvalidCallback("a push is one param and one sign")
    if not SUBJECT.match(subject) or not push_signed(params[0], signs[0], salt_for(subject, deps.tracking_salt_key())):
        raise InvalidSignature("the push's sign is not MD5(param + this parcel's salt)")
    return apply(subject, read_push(params[0]), deps)


def apply(subject: str, report: Report, deps: Deps) -> str:
    """Merge a carrier's report into a parcel's tracking: ``applied`` or ``unchanged`` (a report
    seen before). The first delivery (or return to the sender) of an order changes the order in
    the same write; the delivery is counted in the day's metrics once."""

    def step() -> tuple[str, Order | None, Tracking]:
        tracking = deps.tracking.get(subject)
        if tracking is None:
            raise TrackingNotFound("no parcel is tracked under this id", subject=subject)
        if report.tracking_no.upper() != tracking.tracking_no.upper():
            raise TrackingMismatch("the report is of another parcel", tracking_no=report.tracking_no[:40])
        # 快递100 corrects a wrong carrier code itself (autoCheck=1, comNew): its reports then name
        # the right one, which the poll fallback uses from then on
        corrected = replace(tracking, company=report.company) if report.company else tracking
        after, delivered, returned = apply_report(corrected, report, deps.clock())
        order_id = subject_order(subject)
        if after == tracking:
            return "unchanged", _order(order_id, deps) if order_id and tracking.delivered_at else None, tracking
        order = _order(order_id, deps) if order_id and (delivered or returned) else None
        deps.tracking.save(after, _effect(order, after, delivered, returned, deps) if order else None)
        return "applied", order, after

    outcome, order, tracking = run_until_committed(step, what="this parcel's tracking")
    if order is not None and tracking.delivered_at is not None:  # delivered now, or a replay: counted once
        facts.order_delivered(deps, order.order_id, order.paid_at, tracking.delivered_at,
                              deps.rules_at(order.rules_version).delivery.on_time_hours)
    return outcome


def _order(order_id: str, deps: Deps) -> Order:
    order = deps.orders.get(order_id)
    if order is None:
        raise OrderNotFound("the tracked order is gone", order_id=order_id)
    return order


def _effect(order: Order, after: Tracking, delivered: bool, returned: bool, deps: Deps) -> OrderEffect:
    """What the first delivery (or return to the sender) does to the order: recorded once; a
    shipped order's automatic confirmation moved to ``auto_confirm_days`` after the delivery, or
    withdrawn when the parcel came back (the buyer never had it)."""
    from chalicelib.store.tracking import OrderEffect

    shipped = order.status is OrderStatus.SHIPPED
    if delivered and order.delivered_at is None:
        days = deps.rules_at(order.rules_version).orders.auto_confirm_days
        delivered_at = present(after.delivered_at, "a delivered parcel's time")
        return OrderEffect(order.order_id, order.status, delivered_at=delivered_at,
                           confirm_due=confirm_due(delivered_at, days) if shipped else None)
    if returned and order.returned_at is None:
        return OrderEffect(order.order_id, order.status, returned_at=after.returned_at, stop_confirm=shipped)
    return OrderEffect(order.order_id, order.status)


def look_after(subject: str, now: datetime, deps: Deps) -> str:
    """The tracking job's work on one due parcel: a pending subscription tried again
    (``subscribed``, ``retry``, ``failed``), or 快递100's real-time query asked about a parcel
    without news (``applied``, ``quiet``); ``skipped`` when not due (any more)."""
    tracking = deps.tracking.get(subject)
    if tracking is None or tracking.due_at is None or tracking.due_at > now or deps.tracker is None:
        return "skipped"
    if tracking.sub is Sub.PENDING:
        after = subscribe(subject, deps)
        return {Sub.ACTIVE: "subscribed", Sub.FAILED: "failed"}.get(after.sub, "retry") if after else "skipped"
    try:
        report, _ = deps.tracker.query(_parcel(tracking))
    except Unavailable:
        report = None
    if report is not None and apply(subject, report, deps) == "applied":
        return "applied"
    try:
        deps.tracking.save(after_quiet_poll(present(deps.tracking.get(subject), "a tracked parcel"), now))
    except ConcurrentUpdate:
        return "skipped"  # a push meanwhile: it set the next look itself
    return "quiet"


PAGE = 25


def track_parts(now: datetime, deps: Deps) -> list[str]:
    """Job ``track_parcels`` (every 30 minutes): a part per shard of the ``tracking_due`` index."""
    return list(SHARDS)


def track_part(part: str, cursor: str | None, now: datetime, deps: Deps, deadline: Deadline) -> Progress:
    """Job ``track_parcels``, one slice of a shard: each parcel due by ``now`` looked after once
    (``look_after``); run twice, a parcel is written once per look (conditioned on its version)."""
    counts = dict.fromkeys(("subscribed", "retry", "failed", "applied", "quiet", "skipped"), 0)
    while True:
        subjects, cursor = deps.tracking.due(part, now, cursor, PAGE)
        for subject in subjects:
            counts[look_after(subject, now, deps)] += 1
        if cursor is None or deadline.expired():
            return Progress(counts, cursor)

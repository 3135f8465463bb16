"""After-sales cases: the buyer opens, ships back or withdraws a case; the operator approves,
rejects or receives (docs/after-sales.md).

Every move is one conditional transaction on the case's status as read (and, for a move that
closes the case, on the order's open case being this one), retried through
``run_until_committed``: racing clicks and retries move a case once. A decision that moves money
(approving a refund only; receiving the returned goods) is two steps: the decision commits first
with its audit entry (from then on nothing but the refund can follow), then the refund: WeChat
Pay under the case's own refund number (a retry never refunds twice) and one transaction with
the order's money and the case's ``refunded`` (``services/case_refunds.py``). A retry of the same
decision finishes a refund whose second step did not happen.
"""
from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from chalicelib.domain import after_sales as rules
from chalicelib.domain.after_sales import Case, CaseKind, CaseStatus
from chalicelib.domain.audit import Action, audit
from chalicelib.domain.invariants import present
from chalicelib.domain.media import AFTER_SALES_PHOTO
from chalicelib.domain.orders import OrderNotFound
from chalicelib.domain.refunds import RefundLine
from chalicelib.domain.shards import SHARDS
from chalicelib.services.retry import run_until_committed
from chalicelib.store.base import InvalidCursor

if TYPE_CHECKING:
    from chalicelib.bootstrap import Deps
    from chalicelib.domain.tracking import Tracking
    from chalicelib.services.sessions import Caller

SYSTEM_ACTOR = "system"


@dataclass(frozen=True)
class Opening:
    """What a buyer asks for."""

    kind: CaseKind
    lines: Sequence[RefundLine]
    reason: str
    photos: Sequence[str] = ()


def open_case(order_id: str, caller: Caller, asked: Opening, deps: Deps) -> Case:
    """Open a case on the caller's shipped or completed order, within the window, for lines of the
    order up to what was bought and not yet refunded, with photos that are our uploads. One open
    case per order: the order item is conditioned on none being open and on the cases read."""
    from chalicelib.services.uploads import check_images

    rules.check_photos(asked.photos)
    photos = tuple(check_images(list(asked.photos), deps, AFTER_SALES_PHOTO)) if asked.photos else ()

    def step() -> Case:
        found = deps.after_sales.order_cases(order_id)
        if found is None or found[0].buyer_id != caller.user_id:
            raise OrderNotFound("no such order")
        order, cases = found
        rules.check_order(order.status)
        if cases.open_case_id is not None:
            raise rules.CaseOpen("the order has an after-sales case open", case_id=cases.open_case_id)
        now = deps.clock()
        window = deps.rules_at(order.rules_version).after_sales.window_days
        rules.check_window(rules.receipt_at(order.completed_at, order.delivered_at), window, now)
        lines = rules.case_lines(order, asked.lines)
        case = Case(rules.new_case_id(now), order_id, caller.user_id, asked.kind, CaseStatus.REQUESTED, lines,
                    asked.reason, now, photos)
        deps.after_sales.create(case, cases.count)
        return case

    return run_until_committed(step, what="this order's after-sales")


def get_case(case_id: str, caller: Caller, deps: Deps) -> Case:
    """A case, for its buyer or an admin; anyone else is told it does not exist."""
    case = deps.after_sales.get(case_id)
    if case is None or (case.buyer_id != caller.user_id and not caller.is_admin):
        raise rules.CaseNotFound("no such after-sales case")
    return case


def my_cases(buyer_id: str, limit: int, cursor: str | None, deps: Deps) -> tuple[list[Case], str | None]:
    """The buyer's cases, newest first."""
    return deps.after_sales.of_buyer(buyer_id, limit, cursor)


def cases_of_order(order_id: str, deps: Deps) -> list[Case]:
    """Every case of an order, oldest first (for the operator and customer service);
    ORDER_NOT_FOUND when there is no such order."""
    if deps.orders.get(order_id) is None:
        raise OrderNotFound("no such order")
    return deps.after_sales.of_order(order_id)


def queue(status: CaseStatus | None, limit: int, cursor: str | None, deps: Deps,
          oldest: bool = False) -> tuple[list[Case], str | None]:
    """The operator's queue, newest first (``oldest``: the longest waiting first, the console's
    other order): the cases of ``status``, or of every open status (None): one Query per status and
    shard (16 a status, ≤ 64 a page), merged by creation."""
    beyond = _decode(cursor)
    statuses = (status,) if status is not None else rules.OPEN
    found: list[Case] = []
    for s in statuses:
        for shard in SHARDS:
            found += deps.after_sales.queue_page(s, shard, beyond, limit, oldest=oldest)
    found.sort(key=_created_key, reverse=not oldest)
    page = found[:limit]
    return page, (_encode(_created_key(page[-1])) if len(found) > limit else None)


def _created_key(case: Case) -> str:
    from chalicelib.domain.clock import iso

    return f"{iso(case.created_at)}#{case.case_id}"


def _encode(key: str) -> str:
    return base64.urlsafe_b64encode(key.encode()).decode().rstrip("=")


def _decode(cursor: str | None) -> str | None:
    if not cursor:
        return None
    try:
        key = base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()).decode()
    except (ValueError, binascii.Error) as exc:
        raise InvalidCursor("the cursor is not one we issued") from exc
    if "#" not in key or not key.isprintable() or len(key) > 100:
        raise InvalidCursor("the cursor is not one we issued")
    return key


def read_case(case_id: str, deps: Deps) -> Case:
    case = deps.after_sales.get(case_id)
    if case is None:
        raise rules.CaseNotFound("no such after-sales case")
    return case


def _buyers(case_id: str, caller: Caller, deps: Deps) -> Case:
    case = read_case(case_id, deps)
    if case.buyer_id != caller.user_id:
        raise rules.CaseNotFound("no such after-sales case")
    return case


def cancel(case_id: str, caller: Caller, deps: Deps) -> Case:
    """The buyer withdraws a case not yet decided: cancelled, and the order's open case released.
    Withdrawing it again answers it as it is."""
    from chalicelib.store.after_sales import cancel_actions

    def step() -> Case:
        case = _buyers(case_id, caller, deps)
        if case.status is CaseStatus.CANCELLED:
            return case
        rules.check_transition(case.status, CaseStatus.CANCELLED)
        deps.after_sales.move(case, CaseStatus.CANCELLED, cancel_actions(deps.clock()), deps.clock())
        return read_case(case_id, deps)

    return run_until_committed(step, what="this after-sales case")


def ship_return(case_id: str, caller: Caller, carrier: str, tracking_no: str, deps: Deps) -> Case:
    """The buyer's return shipment of an approved return: ``returning`` with its carrier (stored as
    its WeChat delivery id, INVALID_CARRIER otherwise) and tracking number; then, after the
    commit, its carrier tracking (``delivery.track_return``: subscribed once, retried by the
    ``track_parcels`` job). The same shipment again answers the case as it is (and tracks it, if
    the first request ended before); another one, once returning: WRONG_CASE_STATUS."""
    from chalicelib.domain.fulfilment import check_tracking_no, delivery_id
    from chalicelib.store.after_sales import return_actions

    wechat_id = delivery_id(carrier)
    check_tracking_no(tracking_no)

    def step() -> Case:
        case = _buyers(case_id, caller, deps)
        if case.status is CaseStatus.RETURNING and (case.return_carrier, case.return_tracking_no) == (
                wechat_id, tracking_no):
            return case
        rules.check_transition(case.status, CaseStatus.RETURNING)
        now = deps.clock()
        deps.after_sales.move(case, CaseStatus.RETURNING, return_actions(now, wechat_id, tracking_no), now)
        return read_case(case_id, deps)

    case = run_until_committed(step, what="this after-sales case")
    track_return(case, deps)
    return case


def track_return(case: Case, deps: Deps) -> None:
    """The return parcel's tracking (idempotent). SF (顺丰) answers 快递100 only with a phone of
    the sender or receiver: the buyer's, from the order's address."""
    from chalicelib.services import delivery

    carrier, tracking_no = present(case.return_carrier, "a return's carrier"), present(
        case.return_tracking_no, "a return's tracking number")
    phone = None
    if carrier == "SF":
        order = deps.orders.get(case.order_id)
        phone = (order.address or {}).get("phone") if order else None
    delivery.track_return(case.case_id, carrier, tracking_no, deps, phone=phone)


def return_tracking(case: Case, deps: Deps) -> Tracking | None:
    """A returning case's carrier tracking (None: no return shipped, or not tracked)."""
    from chalicelib.services import delivery

    return delivery.return_tracking(case.case_id, deps) if case.return_tracking_no else None


def reject(case_id: str, reason: str, deps: Deps, actor_id: str = SYSTEM_ACTOR) -> Case:
    """The operator refuses a case not refunded (requested, or a return that did not come back as
    agreed) with a reason: rejected, the order's open case released, the audit entry in the same
    transaction. A case whose refund is under way cannot be rejected (WRONG_CASE_STATUS)."""
    from chalicelib.domain.notices import after_sales_decided
    from chalicelib.services.subscriptions import notify
    from chalicelib.store.after_sales import reject_actions

    def step() -> Case:
        case = read_case(case_id, deps)
        if case.refund_under_way:
            raise rules.WrongCaseStatus("its refund is under way", status=case.status.value)
        rules.check_transition(case.status, CaseStatus.REJECTED)
        now = deps.clock()
        entry = audit(actor_id, Action.CASE_REJECT, f"case#{case_id}", now, before={"status": case.status.value},
                      after={"status": CaseStatus.REJECTED.value}, reason=reason)
        deps.after_sales.move(case, CaseStatus.REJECTED, reject_actions(now, actor_id, reason), now, entry)
        return read_case(case_id, deps)

    case = run_until_committed(step, what="this after-sales case")
    notify(after_sales_decided(case), deps)  # the buyer's 售后结果, once per case
    return case

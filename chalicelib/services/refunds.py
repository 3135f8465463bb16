"""The money of an after-sales case: a partial refund of a shipped or completed order
(docs/after-sales.md "The money"). The cases lane calls ``partial_refund`` with its own change
of the case, so the case's move and the money are one transaction.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from chalicelib.domain.clock import business_month
from chalicelib.domain.invariants import holds, present
from chalicelib.domain.orders import Order, OrderNotFound, OrderStatus, RefundRecord
from chalicelib.domain.payouts import team_sharers
from chalicelib.domain.refunds import (
    REFUND_NO,
    RefundLine,
    applied,
    fully_refunded,
    kept_commission,
    plan_record,
    share_uplift,
    with_refund,
)
from chalicelib.services import leaderboards
from chalicelib.services.retry import Reads, run_until_committed

if TYPE_CHECKING:
    from chalicelib.bootstrap import Deps
    from chalicelib.store.order_items import OrderPart, TxPart


@dataclass(frozen=True)
class RefundDone:
    """The order after the refund; ``replayed``: the refund number was applied before, and this
    call wrote nothing (neither the caller's parts)."""

    order: Order
    replayed: bool = False


def partial_refund(order_id: str, refund_no: str, lines: Sequence[RefundLine], amount_fen: int, deps: Deps, *,
                   reason: str, restock: Sequence[RefundLine] = (), order_part: OrderPart | None = None,
                   extra: TxPart | None = None, check: Callable[[], None] | None = None) -> RefundDone:
    """Refund ``amount_fen`` for units of an order's lines: WeChat Pay's refund under
    ``refund_no`` (its ``out_refund_no``: the same number again is the same refund), then one
    conditional transaction moving the order, stock, commissions, team figures and counters
    (``OrderStore.refund_part``) with the caller's ``order_part`` and ``extra``. ``check`` runs
    before every attempt: the caller's way to stop when its own state moved.

    Round trips: the order (1), WeChat Pay (1, none for 0 fen), one BatchGetItem of commissions
    and bonuses, level 1 (1) and the transaction (and the order read back with an ``order_part``);
    a lost race reads the order again. A replay the order recorded: the order (1), nothing else."""
    from chalicelib.domain.refunds import RefundExceedsPaid
    from chalicelib.services.orders import RefundFailed

    holds(REFUND_NO.fullmatch(refund_no) is not None, "a refund number is a WeChat out_refund_no")
    if check:
        check()
    order = _order(order_id, deps)
    if applied(order, refund_no):
        return RefundDone(order, replayed=True)
    plan_record(order, refund_no, lines, amount_fen, restock, deps.clock())  # refuses before any money moves
    if amount_fen:
        outcome = deps.pay.refund(order.order_id, refund_no, amount_fen, order.amount_fen, reason)
        if outcome.status not in ("SUCCESS", "PROCESSING"):
            raise RefundFailed("WeChat Pay did not accept the refund; nothing changed", wechat_status=outcome.status)
    # the order read serves the first commit: conditioned on its status and refund count, so a
    # change since (a racing click, completion, another refund) makes the step read again
    read = Reads(order, lambda: _order(order_id, deps))

    def step() -> RefundDone:
        if check and read.calls:
            check()
        current = read()
        if applied(current, refund_no):
            return RefundDone(current, replayed=True)
        try:
            record = plan_record(current, refund_no, lines, amount_fen, restock, deps.clock())
        except RefundExceedsPaid as exc:  # WeChat took it: only a different refund racing this one gets here
            raise RefundExceedsPaid("another refund of this order took what this one was checked against",
                                    **exc.details) from exc
        committed = _commit(current, record, order_part, extra, deps)
        return RefundDone(_order(order_id, deps) if order_part else committed)  # the caller's part changed it too

    return run_until_committed(step, what="this order")


def _commit(order: Order, record: RefundRecord, order_part: OrderPart | None, extra: TxPart | None,
            deps: Deps) -> Order:
    """Decide what each commission keeps (the accrual on the units still paid, its uplift recorded)
    and commit the refund in one transaction; the order as committed."""
    after = with_refund(order, record)
    candidates = _uplifts(order, deps)
    kept = [replace(share, amount_fen=kept_commission(after, share, candidates),
                    uplift_bp=share_uplift(order.lines, share, candidates)) for share in order.commissions]
    paid_month = business_month(present(order.paid_at, "a refundable order's payment time"))
    commissions, bonuses = deps.ledger.refund_reads(order.order_id, [(s.user_id, s.level) for s in order.commissions],
                                                    team_sharers(order.upline), paid_month)
    statuses = {(c.user_id, c.level): c.status for c in commissions}
    level1 = deps.users.get(order.upline.level1) if order.upline.level1 else None
    fully = fully_refunded(after)
    deps.orders.refund_part(order, record, kept, fully, statuses, record.at,
                            level1.sales.month if level1 else None, paid_month, bonuses, order_part, extra,
                            rewards=leaderboards.refund_rewards(order, paid_month, deps))
    if fully:
        return replace(after, commissions=kept, status=OrderStatus.REFUNDED, refunded_at=record.at)
    return replace(after, commissions=kept)


def _uplifts(order: Order, deps: Deps) -> tuple[int, ...]:
    """The uplifts a share accrued before shares recorded theirs could have had: 0 and each
    tier's, under the order's rules."""
    rules = deps.rules_at(order.rules_version).tier_rules()
    return tuple(dict.fromkeys([0, *(r.uplift_bp for r in rules.rules)]))


def _order(order_id: str, deps: Deps) -> Order:
    order = deps.orders.get(order_id)
    if order is None:
        raise OrderNotFound("no such order")
    return order

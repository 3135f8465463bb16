"""The operator's decisions that move money: approve (a refund only is refunded at once; a return
then refund waits for the goods) and receive the returned goods (docs/after-sales.md "The money").

Claim before money: the decision commits first, with its audit entry, conditioned on the status
read (approve: ``requested`` → ``approved``; receive: ``received_at`` set on an awaiting or
returning case). From then on no other move can overtake the refund (the buyer's cancel and the
operator's reject are conditioned on no refund under way), so a refund WeChat made is always
committable. Then the refund (``services/refunds.partial_refund``): WeChat Pay under the case's
own refund number, and one transaction with the order's money, the order's open case released
and the case ``refunded``. A retry of the same decision (a second click, the operator again after
a failure, racing clicks) finishes a refund under way: WeChat answers the same refund, and the
order records the numbers it applied, so nothing is refunded twice.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from chalicelib.domain import after_sales as rules
from chalicelib.domain.after_sales import Case, CaseKind, CaseStatus
from chalicelib.domain.audit import Action, audit
from chalicelib.domain.errors import DomainError
from chalicelib.domain.invariants import holds, present
from chalicelib.domain.shards import SHARDS
from chalicelib.domain.slices import Progress
from chalicelib.services.after_sales import SYSTEM_ACTOR, read_case
from chalicelib.services.retry import run_until_committed
from chalicelib.store import after_sales as store

if TYPE_CHECKING:
    from chalicelib.bootstrap import Deps
    from chalicelib.services.due import Deadline

DECIDED = (CaseStatus.APPROVED, CaseStatus.AWAITING_RETURN, CaseStatus.RETURNING, CaseStatus.REFUNDED)


def approve(case_id: str, refund_fen: int | None, deps: Deps, actor_id: str = SYSTEM_ACTOR) -> Case:
    """Approve a requested case with ``refund_fen`` (default: what its lines were paid; at most
    that, REFUND_EXCEEDS_PAID): refund only → refunded through WeChat Pay; return then refund →
    awaiting_return. The same approval again (no amount, or the same) answers the case as it is,
    finishing its refund if that was interrupted; another amount once decided: WRONG_CASE_STATUS.
    Its buyer's subscribe message (售后结果) is queued once, after the commit."""
    from chalicelib.domain.notices import after_sales_decided
    from chalicelib.services.subscriptions import notify

    def decide() -> Case:
        case = read_case(case_id, deps)
        if case.status in DECIDED and case.decided_at is not None and refund_fen in (None, case.refund_fen):
            return case  # a repeat
        rules.check_transition(case.status, rules.approval_target(case.kind))
        order = present(deps.orders.get(case.order_id), "a case's order")
        refund = rules.approved_refund(case, order, refund_fen)
        target = rules.approval_target(case.kind)
        now = deps.clock()
        entry = audit(actor_id, Action.CASE_APPROVE, f"case#{case_id}", now, before={"status": case.status.value},
                      after={"status": target.value, "refund_fen": refund})
        if case.kind is CaseKind.REFUND_ONLY:
            deps.after_sales.start_refund(case, target, store.decision_actions(now, actor_id, refund), entry)
        else:
            deps.after_sales.move(case, target, store.decision_actions(now, actor_id, refund), now, entry)
        return read_case(case_id, deps)

    case = run_until_committed(decide, what="this after-sales case")
    notify(after_sales_decided(case), deps)  # the buyer's 售后结果, once per case
    return finish_refund(case, deps) if case.status is CaseStatus.APPROVED else case


def receive(case_id: str, deps: Deps, actor_id: str = SYSTEM_ACTOR) -> Case:
    """The returned goods arrived (an approved return, shipped back or not yet reported): refunded
    through WeChat Pay the approved amount, the units back in stock for products whose
    ``resell_returns`` is set (decided once, at receipt). Again: answered as it is, finishing its
    refund if that was interrupted. A refund-only case has nothing to receive (WRONG_CASE_STATUS)."""

    def decide() -> Case:
        case = read_case(case_id, deps)
        if case.status is CaseStatus.REFUNDED or case.received_at is not None:
            return case  # a repeat
        if case.kind is not CaseKind.RETURN_REFUND:
            raise rules.WrongCaseStatus("a refund-only case has no goods to receive", status=case.status.value)
        rules.check_transition(case.status, CaseStatus.REFUNDED)
        products = {pid: deps.products.get(pid) for pid in dict.fromkeys(line.product_id for line in case.lines)}
        restock = tuple(line for line in case.lines
                        if (p := products[line.product_id]) is not None and p.resell_returns)
        now = deps.clock()
        entry = audit(actor_id, Action.CASE_RECEIVE, f"case#{case_id}", now, before={"status": case.status.value},
                      after={"received": True, "restocked": [[x.product_id, x.sku_id, x.quantity] for x in restock]})
        deps.after_sales.start_refund(case, case.status, store.receive_actions(now, restock), entry)
        return read_case(case_id, deps)

    case = run_until_committed(decide, what="this after-sales case")
    return case if case.status is CaseStatus.REFUNDED else finish_refund(case, deps)


def finish_refund(case: Case, deps: Deps) -> Case:
    """The refund of a case whose refund is under way: WeChat Pay under the case's refund number,
    then the order's money, the order's open case released and the case refunded, in one
    transaction (``partial_refund``); a refund applied already (``replayed``) wrote it all then."""
    from chalicelib.services.refunds import partial_refund

    holds(case.refund_under_way and case.refund_fen is not None, "a case whose refund is under way has its amount")

    def still_under_way() -> None:
        current = read_case(case.case_id, deps)
        if current.status is not CaseStatus.REFUNDED and not current.refund_under_way:
            raise rules.WrongCaseStatus("the case's refund is no longer under way", status=current.status.value)

    now = deps.clock()
    partial_refund(case.order_id, case.refund_no, case.refund_lines, case.refund_fen or 0, deps,
                   reason=case.reason[:80], restock=case.restock_lines,
                   order_part=store.release_part(case.case_id),
                   extra=store.refunded_part(case, now), check=still_under_way)
    return read_case(case.case_id, deps)


REFUND_PAGE = 25
# A refund whose decision is this recent may still be finishing in its own request: the job leaves
# it for its next run (finishing it at once would be as safe, only a WeChat call more).
GRACE = timedelta(minutes=5)


def refund_parts(now: datetime, deps: Deps) -> list[str]:
    """Job ``finish_case_refunds`` (every 10 minutes): a part per shard of the ``refunding`` index."""
    return list(SHARDS)


def refund_part(part: str, cursor: str | None, now: datetime, deps: Deps, deadline: Deadline) -> Progress:
    """Job ``finish_case_refunds``, one slice of a shard: each case whose refund is under way
    since before ``now − GRACE`` is refunded (``finish_refund``: WeChat under the case's number,
    then the money). A refund WeChat refuses or a database that is busy is left for the next run."""
    holds(part in SHARDS, f"a case refund part is a shard ({part!r})")
    counts = {"refunded": 0, "later": 0, "failed": 0}
    while True:
        ids, cursor = deps.after_sales.refunding_page(part, cursor, REFUND_PAGE)
        for case_id in ids:
            counts[_finish_one(case_id, now, deps)] += 1
        if cursor is None or deadline.expired():
            return Progress(counts, cursor)


def _finish_one(case_id: str, now: datetime, deps: Deps) -> str:
    from chalicelib.services.orders import log_skip

    case = read_case(case_id, deps)
    if not case.refund_under_way:
        return "later"  # refunded meanwhile (the index lags the table)
    decided = case.received_at or case.decided_at
    if decided is not None and decided > now - GRACE:
        return "later"
    try:
        finish_refund(case, deps)
    except DomainError as exc:
        log_skip("finish_case_refund", case.order_id, exc)
        return "failed"
    return "refunded"

"""Withdrawals (DOMAIN.md §6, §7; docs/wallet.md): request, review, payout by WeChat Pay's
merchant transfer, and the transfer's end by notification or polling.

Money leaves ``available`` in the request's transaction. The transfer is then created at WeChat
with the withdrawal's own bill number (its id), so every retry — the request's, the operator's
approval, the polling job's — names the same bill and can never pay twice. A transfer that
fails or is cancelled, and a rejected request, return the money with a ledger entry.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from chalicelib.domain.audit import Action, audit
from chalicelib.domain.clock import business_date
from chalicelib.domain.distributors import AccountFrozen
from chalicelib.domain.errors import DomainError, Unavailable
from chalicelib.domain.invariants import holds
from chalicelib.domain.orders import IdempotencyKeyReused
from chalicelib.domain.shards import SHARDS
from chalicelib.domain.slices import Progress
from chalicelib.domain.withdrawals import (
    NotUnderReview,
    Withdrawal,
    WithdrawalLimits,
    WithdrawalNotFound,
    WithdrawalStatus,
    check_request,
    daily_limit_exceeded,
    daily_limit_reached,
    insufficient_balance,
    needs_review,
    withdrawal_id_for,
)
from chalicelib.services.retry import run_until_committed

if TYPE_CHECKING:
    from chalicelib.bootstrap import Deps
    from chalicelib.domain.users import User
    from chalicelib.jobs.engine import Deadline
    from chalicelib.store.withdrawals import RequestReads
    from chalicelib.wechat.transfer_results import TransferBill

REMARK = "佣金提现 commission withdrawal"
# WeChat refusals worth another try later (the bill was not created): the merchant's balance is
# short, the call rate too high, or WeChat had a moment; anything else returns the money.
RETRY_LATER = frozenset({"NOT_ENOUGH", "FREQUENCY_LIMITED", "FREQUENCY_LIMIT_EXCEED", "SYSTEM_ERROR"})
POLL_PAGE = 25  # in-flight withdrawals per Query page of the polling job


def request_withdrawal(user_id: str, amount_fen: int, idempotency_key: str, deps: Deps) -> Withdrawal:
    """Take ``amount_fen`` out of ``available`` and start its payout (or queue it for review).
    The same key again answers the same withdrawal; with another amount it is refused."""
    limits = deps.rules.withdrawals.limits()
    withdrawal_id = withdrawal_id_for(user_id, idempotency_key)

    def step() -> tuple[Withdrawal, bool, User | None]:
        now = deps.clock()
        day = business_date(now).isoformat()
        user = deps.users.get(user_id)
        if user is not None and user.frozen:  # before any other check, the replay included
            raise AccountFrozen("the operator froze this account: no withdrawal while frozen")
        reads = deps.withdrawals.reads(user_id, withdrawal_id, day)
        if reads.existing is not None:
            return _replayed(reads.existing, amount_fen), False, None
        _check(amount_fen, bool(user and user.real_name_verified), reads, limits)
        status = WithdrawalStatus.REVIEWING if needs_review(amount_fen, limits) else WithdrawalStatus.TRANSFERRING
        withdrawal = Withdrawal(withdrawal_id=withdrawal_id, user_id=user_id, amount_fen=amount_fen, status=status,
                                requested_at=now, out_bill_no=withdrawal_id)
        deps.withdrawals.request(withdrawal, limits, day)
        return withdrawal, True, user

    withdrawal, requested, user = run_until_committed(step, what="this wallet")
    if requested:
        _count("withdrawals_requested", deps)
        if withdrawal.status is WithdrawalStatus.TRANSFERRING:
            return submit(withdrawal, deps, payee=user)
    return withdrawal


def _check(amount_fen: int, real_name_verified: bool, reads: RequestReads, limits: WithdrawalLimits) -> None:
    """The domain's refusals, in order (docs/wallet.md "Refusal order"), on what was read: real
    name, minimum, then the balance before the daily limits (money that is not there is the first
    reason, whatever the day's counters say); the store's transaction refuses in the same order."""
    check_request(amount_fen, real_name_verified, limits)
    if reads.available_fen < amount_fen:
        raise insufficient_balance(reads.available_fen)
    exceeded = daily_limit_reached(reads.count_today, reads.amount_today_fen, amount_fen, limits)
    if exceeded is not None:
        raise daily_limit_exceeded(limits, exceeded)


def _replayed(existing: Withdrawal, amount_fen: int) -> Withdrawal:
    if existing.amount_fen != amount_fen:
        raise IdempotencyKeyReused("this Idempotency-Key was used for another amount")
    return existing


def submit(withdrawal: Withdrawal, deps: Deps, payee: User | None = None) -> Withdrawal:
    """Create (or find again) the withdrawal's transfer bill at WeChat and record what WeChat
    says. WeChat unreachable or busy leaves it ``transferring`` for the polling job."""
    from chalicelib.wechat.transfer import TransferRejected

    user = payee or deps.users.get(withdrawal.user_id)
    if user is None:  # cannot happen for a user with a wallet; never pay an unknown payee
        return _finish(withdrawal, WithdrawalStatus.RETURNED, deps, reason="USER_NOT_FOUND")
    if not user.real_name:  # cannot happen after the request's real-name check; never pay without the name
        return _finish(withdrawal, WithdrawalStatus.RETURNED, deps, reason="REAL_NAME_MISSING")
    try:
        # every bill carries the verified name (DOMAIN.md §9): WeChat compares it with the account's
        # real name and fails the bill (NAME_NOT_CORRECT) on a mismatch, which returns the money
        bill = deps.transfers.create_bill(withdrawal.out_bill_no, user.openid, withdrawal.amount_fen, REMARK,
                                          user.real_name)
    except Unavailable:
        _log("transfer not created; the polling job retries", withdrawal)
        return withdrawal
    except TransferRejected as refused:
        code = str(refused.details.get("wechat_code", "REFUSED"))
        if code in RETRY_LATER:
            _log("transfer refused for now; the polling job retries", withdrawal, wechat_code=code)
            return withdrawal
        return _after_refusal(withdrawal, code, deps)
    return apply_bill(withdrawal, bill, deps)


def _after_refusal(withdrawal: Withdrawal, code: str, deps: Deps) -> Withdrawal:
    """WeChat refused to create the bill. A bill with this number may exist all the same (an
    earlier attempt whose answer was lost, e.g. INVALID_REQUEST "单号已存在"): ask first, and
    return the money only when WeChat has no bill, or a failed one."""
    try:
        bill = deps.transfers.query_bill(withdrawal.out_bill_no)
    except Unavailable:
        _log("transfer refused and not verifiable now; the polling job retries", withdrawal, wechat_code=code)
        return withdrawal
    if bill is not None:
        return apply_bill(withdrawal, bill, deps)
    return _finish(withdrawal, WithdrawalStatus.RETURNED, deps, reason=code)


def apply_bill(withdrawal: Withdrawal, bill: TransferBill, deps: Deps) -> Withdrawal:
    """Bring a withdrawal to what WeChat says of its bill (idempotent: a final state is recorded
    once; anything already final stays as it is)."""
    from chalicelib.wechat.transfer_results import TransferState

    if withdrawal.status.final or withdrawal.status is WithdrawalStatus.REVIEWING:
        return withdrawal
    if bill.state is TransferState.SUCCESS:
        return _finish(withdrawal, WithdrawalStatus.PAID, deps, transfer_bill_no=bill.transfer_bill_no)
    if bill.state in (TransferState.FAIL, TransferState.CANCELLED):
        return _finish(withdrawal, WithdrawalStatus.RETURNED, deps, reason=bill.fail_reason or bill.state.value,
                       transfer_bill_no=bill.transfer_bill_no)
    status = WithdrawalStatus.WAIT_USER_CONFIRM if bill.state is TransferState.WAIT_USER_CONFIRM \
        else WithdrawalStatus.TRANSFERRING
    if deps.withdrawals.progress(withdrawal.withdrawal_id, status, bill.transfer_bill_no, bill.package_info):
        return replace(withdrawal, status=status, transfer_bill_no=bill.transfer_bill_no or withdrawal.transfer_bill_no,
                       package_info=bill.package_info or withdrawal.package_info)
    return _current(withdrawal.withdrawal_id, deps)


def _finish(withdrawal: Withdrawal, outcome: WithdrawalStatus, deps: Deps, *, reason: str | None = None,
            transfer_bill_no: str | None = None, decided_by: str | None = None) -> Withdrawal:
    now = deps.clock()
    if deps.withdrawals.finish(withdrawal, outcome, now, reason=reason, transfer_bill_no=transfer_bill_no,
                               decided_by=decided_by):
        _count("withdrawals_paid" if outcome is WithdrawalStatus.PAID else "withdrawals_returned", deps)
        if outcome is WithdrawalStatus.PAID:
            from chalicelib.domain.notices import withdrawal_paid
            from chalicelib.services import facts
            from chalicelib.services.subscriptions import notify

            facts.withdrawal_paid(deps, withdrawal.withdrawal_id, withdrawal.user_id, withdrawal.amount_fen, now)
            notify(withdrawal_paid(withdrawal, now), deps)  # 提现到账, once
        return replace(withdrawal, status=outcome, reason=reason, finished_at=now, package_info=None,
                       transfer_bill_no=transfer_bill_no or withdrawal.transfer_bill_no,
                       decided_by=decided_by or withdrawal.decided_by)
    return _current(withdrawal.withdrawal_id, deps)


def _current(withdrawal_id: str, deps: Deps) -> Withdrawal:
    found = deps.withdrawals.get(withdrawal_id)
    if found is None:
        raise WithdrawalNotFound("no such withdrawal")
    return found


# The operator ------------------------------------------------------------------------------

def approve(withdrawal_id: str, admin_id: str, deps: Deps) -> Withdrawal:
    """reviewing → transferring, then pay out at once; audited ``withdrawal.approve`` in the
    same transaction. A frozen user's withdrawal is not paid out (403 ACCOUNT_FROZEN; the
    operator rejects it or unfreezes first)."""
    withdrawal = _current(withdrawal_id, deps)
    user = deps.users.get(withdrawal.user_id)
    if user is not None and user.frozen:
        raise AccountFrozen("the operator froze this account: unfreeze it or reject the withdrawal")
    entry = audit(admin_id, Action.WITHDRAWAL_APPROVE, f"withdrawal#{withdrawal_id}", deps.clock(),
                  {"status": withdrawal.status.value}, {"status": WithdrawalStatus.TRANSFERRING.value})
    if not deps.withdrawals.approve(withdrawal, admin_id, entry):
        raise NotUnderReview("the withdrawal was decided already", status=_current(withdrawal_id, deps).status.value)
    return submit(replace(withdrawal, status=WithdrawalStatus.TRANSFERRING, decided_by=admin_id), deps)


def reject(withdrawal_id: str, admin_id: str, reason: str, deps: Deps) -> Withdrawal:
    """reviewing → returned: the money goes back to ``available`` with a ledger entry."""
    withdrawal = _current(withdrawal_id, deps)
    if withdrawal.status is not WithdrawalStatus.REVIEWING:
        raise NotUnderReview("the withdrawal was decided already", status=withdrawal.status.value)
    now = deps.clock()
    entry = audit(admin_id, Action.WITHDRAWAL_REJECT, f"withdrawal#{withdrawal_id}", now,
                  {"status": withdrawal.status.value}, {"status": WithdrawalStatus.RETURNED.value}, reason)
    if not deps.withdrawals.finish(withdrawal, WithdrawalStatus.RETURNED, now, reason=f"rejected: {reason}",
                                   decided_by=admin_id, entry=entry):
        raise NotUnderReview("the withdrawal was decided already", status=_current(withdrawal_id, deps).status.value)
    _count("withdrawals_returned", deps)
    return _current(withdrawal_id, deps)


def review_queue(limit: int, cursor: str | None, deps: Deps) -> tuple[list[Withdrawal], str | None]:
    return deps.withdrawals.reviewing(limit, cursor)


# The distributor ---------------------------------------------------------------------------

def mine(user_id: str, limit: int, cursor: str | None, deps: Deps) -> tuple[list[Withdrawal], str | None]:
    return deps.withdrawals.of_user(user_id, limit, cursor)


def one_of_mine(withdrawal_id: str, user_id: str, deps: Deps) -> Withdrawal:
    """A user sees only their own withdrawals (someone else's id is not found)."""
    withdrawal = deps.withdrawals.get(withdrawal_id)
    if withdrawal is None or withdrawal.user_id != user_id:
        raise WithdrawalNotFound("no such withdrawal")
    return withdrawal


# WeChat's side: notifications and polling --------------------------------------------------

def handle_transfer_notification(headers: Mapping[str, str], raw_body: bytes, deps: Deps) -> Withdrawal | None:
    """Verify a transfer notification (as Pay notifications are verified) and apply its state;
    a bill we do not know is logged and acknowledged (None)."""
    from chalicelib.wechat.transfer import verify_transfer_notification

    bill = verify_transfer_notification(headers, raw_body, deps.clock(), deps.pay.config)
    withdrawal = deps.withdrawals.get(bill.out_bill_no)
    if withdrawal is None:
        from chalicelib.observability import logger

        logger().error("transfer notification for an unknown bill", extra={"out_bill_no": bill.out_bill_no})
        return None
    if bill.amount_fen is not None and bill.amount_fen != withdrawal.amount_fen:
        from chalicelib.services.payments import AmountMismatch

        raise AmountMismatch("the notification does not match the withdrawal", withdrawal_id=withdrawal.withdrawal_id)
    return apply_bill(withdrawal, bill, deps)


def transfer_parts(now: datetime, deps: Deps) -> list[str]:
    """The parts of a polling run: the shards of the in-flight withdrawals (``open_withdrawals``)."""
    return list(SHARDS)


def poll_part(part: str, cursor: str | None, now: datetime, deps: Deps, deadline: Deadline) -> Progress:
    """One slice of a shard's in-flight withdrawals: ask WeChat for each bill and apply it; a bill
    WeChat does not know (the request's create call never arrived) is created again with the same
    number. A withdrawal costs up to three WeChat calls, each bounded by the WeChat time budget,
    so the deadline is looked at after every withdrawal and the cursor handed back resumes right
    after the last one done. Run again, a slice only asks WeChat again: every end is recorded once."""
    holds(part in SHARDS, f"a polling part is a shard ({part!r})")
    counts = {"checked": 0, "paid": 0, "returned": 0, "waiting": 0, "unreachable": 0}
    while True:
        page, cursor = deps.withdrawals.in_flight(part, POLL_PAGE, cursor)
        for position, withdrawal in enumerate(page):
            counts["checked"] += 1
            counts[_poll(withdrawal, deps)] += 1
            if deadline.expired() and position < len(page) - 1:
                return Progress(counts, deps.withdrawals.in_flight_after(withdrawal))
        if cursor is None or deadline.expired():
            return Progress(counts, cursor)


def _poll(withdrawal: Withdrawal, deps: Deps) -> str:
    """What became of one in-flight withdrawal: ``paid``, ``returned``, ``waiting`` or ``unreachable``."""
    try:
        bill = deps.transfers.query_bill(withdrawal.out_bill_no)
        after = submit(withdrawal, deps) if bill is None else apply_bill(withdrawal, bill, deps)
    except DomainError:  # WeChat unreachable or refusing for now: next run
        return "unreachable"
    return {WithdrawalStatus.PAID: "paid", WithdrawalStatus.RETURNED: "returned"}.get(after.status, "waiting")


def _count(name: str, deps: Deps) -> None:
    from chalicelib.observability import metrics

    metrics().add_metric(name=name, unit="Count", value=1)


def _log(message: str, withdrawal: Withdrawal, **extra: Any) -> None:
    from chalicelib.observability import logger

    logger().warning(message, extra={"withdrawal_id": withdrawal.withdrawal_id, **extra})


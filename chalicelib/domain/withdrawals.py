"""Withdrawals: the only way money leaves a distributor's wallet (DOMAIN.md §6, §7).

A withdrawal moves its amount ``available → withdrawing`` when it is requested, then either
``withdrawing → withdrawn`` when WeChat Pay's merchant transfer succeeds, or
``withdrawing → available`` when the transfer fails, is cancelled, or the operator rejects it.
Each move is a ledger entry written with the balance change (store/withdrawals.py).

Its life::

    reviewing ──approve──▶ transferring ──▶ wait_user_confirm ──▶ paid
        │                       │  ▲                │
        └──reject──▶ returned ◀─┴──┴────────────────┘ (FAIL / CANCELLED)

Small amounts skip ``reviewing``. ``transferring`` covers a bill not yet accepted (WeChat
unreachable: the polling job creates it again with the same bill number) and a bill WeChat is
processing; ``wait_user_confirm`` a bill the user must confirm in the mini-program
(``wx.requestMerchantTransfer`` with ``package_info``).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from chalicelib.domain.errors import DomainError, Kind, error

RealNameRequired = error("REAL_NAME_REQUIRED", Kind.FORBIDDEN, "Verify your real name before withdrawing.")
BelowMinimum = error("BELOW_MINIMUM", Kind.INVALID, "The amount is below the minimum withdrawal.")
DailyLimitExceeded = error("DAILY_LIMIT_EXCEEDED", Kind.INVALID,
                           "Today's number of withdrawals or withdrawn amount would exceed the daily limit.")
InsufficientBalance = error("INSUFFICIENT_BALANCE", Kind.CONFLICT, "The available balance is smaller than the amount.")
WithdrawalNotFound = error("WITHDRAWAL_NOT_FOUND", Kind.NOT_FOUND, "No such withdrawal.")
NotUnderReview = error("NOT_UNDER_REVIEW", Kind.CONFLICT, "The withdrawal is not waiting for review (decided already).")


class WithdrawalStatus(StrEnum):
    REVIEWING = "reviewing"  # above the review threshold: waits for the operator
    TRANSFERRING = "transferring"  # a bill is (being) created at WeChat Pay
    WAIT_USER_CONFIRM = "wait_user_confirm"  # the user confirms the transfer in the mini-program
    PAID = "paid"  # withdrawn: the money is in the user's WeChat balance
    RETURNED = "returned"  # failed, cancelled or rejected: the money is back in ``available``

    @property
    def in_flight(self) -> bool:
        """Waiting for WeChat Pay: the polling job looks after it."""
        return self in (WithdrawalStatus.TRANSFERRING, WithdrawalStatus.WAIT_USER_CONFIRM)

    @property
    def final(self) -> bool:
        return self in (WithdrawalStatus.PAID, WithdrawalStatus.RETURNED)


@dataclass(frozen=True)
class WithdrawalLimits:
    """The operator's withdrawal rules (``FENXIAO_RULES.withdrawals``), in fen."""

    minimum_fen: int
    daily_count: int
    daily_amount_fen: int
    review_above_fen: int  # amounts above this wait for the operator's approval


@dataclass(frozen=True)
class Withdrawal:
    withdrawal_id: str
    user_id: str
    amount_fen: int
    status: WithdrawalStatus
    requested_at: datetime
    out_bill_no: str  # WeChat's merchant bill number: one per withdrawal, never a new one on retry
    transfer_bill_no: str | None = None
    package_info: str | None = None  # for wx.requestMerchantTransfer while wait_user_confirm
    reason: str | None = None  # why it was returned
    decided_by: str | None = None  # the admin who approved or rejected it
    finished_at: datetime | None = None


def withdrawal_id_for(user_id: str, idempotency_key: str) -> str:
    """The withdrawal a (user, Idempotency-Key) pair names: a retry finds the same withdrawal, and
    its id is also its bill number at WeChat (letters and digits, ≤ 32 characters)."""
    return "w" + hashlib.sha256(f"{user_id}\n{idempotency_key}".encode()).hexdigest()[:30]


def check_request(amount_fen: int, real_name_verified: bool, limits: WithdrawalLimits) -> None:
    """The refusals that need no balance: real name first (DOMAIN.md §6), then the minimum."""
    if not real_name_verified:
        raise RealNameRequired("verify your real name (POST /v1/me/real-name) before withdrawing")
    if amount_fen < limits.minimum_fen:
        raise BelowMinimum(f"the minimum withdrawal is {limits.minimum_fen} fen", minimum_fen=limits.minimum_fen)


def daily_limit_reached(count_today: int, amount_today_fen: int, amount_fen: int,
                        limits: WithdrawalLimits) -> str | None:
    """Which daily limit one more withdrawal of ``amount_fen`` would pass: ``"daily_count"``
    (checked first), ``"daily_amount"``, or None when it fits both. Every request of the day
    counts, including those returned later (a rejected request does not give the quota back:
    that would let a user probe the limits for free)."""
    if count_today + 1 > limits.daily_count:
        return "daily_count"
    if amount_today_fen + amount_fen > limits.daily_amount_fen:
        return "daily_amount"
    return None


def daily_limit_exceeded(limits: WithdrawalLimits, limit: str | None = None) -> DomainError:
    """The refusal of a request beyond today's limits, naming the ``limit`` passed when it is known
    (found on reading; the transaction's refusal of a concurrent request does not say which)."""
    details: dict[str, object] = {"daily_count": limits.daily_count, "daily_amount_fen": limits.daily_amount_fen}
    if limit is not None:
        details["limit"] = limit
    return DailyLimitExceeded(f"at most {limits.daily_count} withdrawals and {limits.daily_amount_fen} fen a day",
                              **details)


def insufficient_balance(available_fen: int | None = None) -> DomainError:
    """The refusal of a request larger than ``available`` (its balance when it was read)."""
    details = {} if available_fen is None else {"available_fen": available_fen}
    return InsufficientBalance("the available balance is smaller than the amount", **details)


def needs_review(amount_fen: int, limits: WithdrawalLimits) -> bool:
    return amount_fen > limits.review_above_fen


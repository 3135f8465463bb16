"""Withdrawals in the ledger table: the request, its transfer's progress and its end, each a
conditional write; every balance change with the entry that explains it (store/ledger.py).

Items: ``wd#<withdrawal_id>`` / ``withdrawal`` (the withdrawal; indexes ``withdrawals_of_user``
and, while not final, ``open_withdrawals``: ``reviewing``, or ``in_flight#<shard>`` of its user's
shard, so that the requests of the whole mall never write one partition and the polling job
takes one part per shard); ``<user>`` / ``wdday#<day>`` (the day's count and
amount); ``<user>`` / ``entry#withdrawal#<id>#0#<kind>`` (the entries: ``withdrawal``
available→withdrawing, ``withdrawal_paid`` withdrawing→withdrawn, ``withdrawal_return``
withdrawing→available).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.transactions import TransactWrite

from chalicelib.domain.audit import AuditEntry
from chalicelib.domain.clock import iso
from chalicelib.domain.distributors import AccountFrozen
from chalicelib.domain.invariants import holds, present
from chalicelib.domain.shards import shard_of
from chalicelib.domain.withdrawals import (
    Withdrawal,
    WithdrawalLimits,
    WithdrawalStatus,
    daily_limit_exceeded,
    insufficient_balance,
)
from chalicelib.store.audit import entry_put
from chalicelib.store.base import condition_failed, encode_cursor, paginate, transaction_failure
from chalicelib.store.ledger import WALLET, LedgerItem, entry_key, touch
from chalicelib.store.users import PROFILE, UserItem

ITEM = "withdrawal"
REVIEWING, IN_FLIGHT = "reviewing", "in_flight"


def withdrawal_pk(withdrawal_id: str) -> str:
    return f"wd#{withdrawal_id}"


def day_key(day: str) -> str:
    return f"wdday#{day}"


def withdrawal_entry_key(withdrawal_id: str, kind: str) -> str:
    return entry_key(f"withdrawal#{withdrawal_id}", 0, kind)


def in_flight(shard: str) -> str:
    """The ``open_withdrawals`` partition of one shard's withdrawals waiting for WeChat Pay."""
    return f"{IN_FLIGHT}#{shard}"


def _open_marker(status: WithdrawalStatus, user_id: str) -> str | None:
    if status is WithdrawalStatus.REVIEWING:
        return REVIEWING
    return in_flight(shard_of(user_id)) if status.in_flight else None


def _wd_key(w: Withdrawal) -> str:
    """Its sort key in ``withdrawals_of_user`` and ``open_withdrawals``: requested time, then id."""
    return f"{iso(w.requested_at)}#{w.withdrawal_id}"


def to_withdrawal(item: LedgerItem) -> Withdrawal:
    return Withdrawal(withdrawal_id=item.pk.removeprefix("wd#"), user_id=present(item.wd_user, "a withdrawal's user"),
                      amount_fen=int(item.amount_fen or 0), status=WithdrawalStatus(item.status),
                      requested_at=present(item.at, "a withdrawal's request time"), out_bill_no=item.pk.removeprefix("wd#"),
                      transfer_bill_no=item.transfer_bill_no, package_info=item.package_info, reason=item.reason,
                      decided_by=item.decided_by, finished_at=item.finished_at)


@dataclass(frozen=True)
class RequestReads:
    """What a withdrawal request decides on, read in one BatchGetItem."""

    existing: Withdrawal | None
    available_fen: int
    count_today: int
    amount_today_fen: int


def _status_in(statuses: Iterable[WithdrawalStatus]) -> Condition:
    condition: Condition | None = None
    for status in statuses:
        clause = LedgerItem.status == status.value
        condition = clause if condition is None else condition | clause
    return present(condition, "a condition on at least one status")


class WithdrawalStore:
    def reads(self, user_id: str, withdrawal_id: str, day: str) -> RequestReads:
        keys = [(withdrawal_pk(withdrawal_id), ITEM), (user_id, WALLET), (user_id, day_key(day))]
        found = {(i.pk, i.sk): i for i in LedgerItem.batch_get(keys, consistent_read=True)}
        existing = found.get(keys[0])
        wallet = found.get(keys[1])
        today = found.get(keys[2])
        return RequestReads(existing=to_withdrawal(existing) if existing else None,
                            available_fen=int(wallet.available_fen or 0) if wallet else 0,
                            count_today=int(today.wd_count or 0) if today else 0,
                            amount_today_fen=int(today.amount_fen or 0) if today else 0)

    def get(self, withdrawal_id: str) -> Withdrawal | None:
        try:
            return to_withdrawal(LedgerItem.get(withdrawal_pk(withdrawal_id), ITEM, consistent_read=True))
        except LedgerItem.DoesNotExist:
            return None

    def of_user(self, user_id: str, limit: int, cursor: str | None) -> tuple[list[Withdrawal], str | None]:
        return paginate(LedgerItem.withdrawals_of_user, user_id, cursor, to_withdrawal, limit=limit,
                        scan_index_forward=False)

    def reviewing(self, limit: int, cursor: str | None) -> tuple[list[Withdrawal], str | None]:
        """The review queue, oldest first (eventually consistent)."""
        return paginate(LedgerItem.open_withdrawals, REVIEWING, cursor, to_withdrawal, limit=limit)

    def in_flight(self, shard: str, limit: int, cursor: str | None) -> tuple[list[Withdrawal], str | None]:
        """One page of the shard's withdrawals waiting for WeChat Pay, oldest first (eventually
        consistent), and the cursor of the next page."""
        return paginate(LedgerItem.open_withdrawals, in_flight(shard), cursor, to_withdrawal, limit=limit)

    @staticmethod
    def in_flight_after(w: Withdrawal) -> str:
        """The cursor that resumes ``in_flight`` of ``w``'s shard right after ``w`` (its key in the
        index, as DynamoDB's own LastEvaluatedKey names it): a worker that stops mid-page."""
        return present(encode_cursor({
            "pk": {"S": withdrawal_pk(w.withdrawal_id)}, "sk": {"S": ITEM},
            "wd_open": {"S": in_flight(shard_of(w.user_id))}, "wd_key": {"S": _wd_key(w)}}), "a cursor")

    def request(self, w: Withdrawal, limits: WithdrawalLimits, day: str) -> None:
        """The request, at once: the withdrawal (absent before), ``available → withdrawing`` (only
        when ``available`` covers it), its entry, and the day's count and amount (only within
        the limits), conditioned on the user not frozen. Raises ACCOUNT_FROZEN when a freeze
        refused it, else INSUFFICIENT_BALANCE when the balance did (as the service checks), else
        DAILY_LIMIT_EXCEEDED when the day's counters did; TransactionFailed (read again) on a
        conflict, or when the withdrawal was requested meanwhile (then the caller's read answers
        the replay)."""
        now, fen = w.requested_at, w.amount_fen
        marker = _open_marker(w.status, w.user_id)
        item = LedgerItem(withdrawal_pk(w.withdrawal_id), ITEM, wd_user=w.user_id, wd_key=_wd_key(w),
                          wd_open=marker, amount_fen=fen, status=w.status.value, at=now)
        within = ((LedgerItem.wd_count.does_not_exist() | (LedgerItem.wd_count <= limits.daily_count - 1))
                  & (LedgerItem.amount_fen.does_not_exist()
                     | (LedgerItem.amount_fen <= limits.daily_amount_fen - fen)))
        tx = TransactWrite(connection=LedgerItem._get_connection().connection)
        try:
            with tx:
                tx.condition_check(UserItem, w.user_id, PROFILE, condition=UserItem.frozen_at.does_not_exist())
                tx.save(item, condition=LedgerItem.pk.does_not_exist())
                tx.save(_entry(w, "withdrawal", "available>withdrawing", now), condition=LedgerItem.sk.does_not_exist())
                tx.update(LedgerItem(w.user_id, WALLET), actions=[
                    LedgerItem.available_fen.add(-fen), LedgerItem.withdrawing_fen.add(fen), touch(w.user_id, now)],
                    condition=LedgerItem.available_fen >= fen)
                tx.update(LedgerItem(w.user_id, day_key(day)), actions=[
                    LedgerItem.wd_count.add(1), LedgerItem.amount_fen.add(fen)], condition=within)
        except TransactWriteError as exc:
            failure = transaction_failure(exc, tx)
            ledger = LedgerItem.Meta.table_name
            # refused in the order the service checks: the freeze, the balance, the day's limits
            if failure.refused(UserItem.Meta.table_name, pk=w.user_id, sk=PROFILE):
                raise AccountFrozen("the operator froze this account") from exc
            if failure.conflict or failure.refused(ledger, pk=withdrawal_pk(w.withdrawal_id)) \
                    or failure.refused(ledger, pk=w.user_id, sk=withdrawal_entry_key(w.withdrawal_id, "withdrawal")):
                raise failure from exc
            if failure.refused(ledger, pk=w.user_id, sk=WALLET):
                raise insufficient_balance() from exc
            raise daily_limit_exceeded(limits) from exc

    def approve(self, w: Withdrawal, admin_id: str, entry: AuditEntry) -> bool:
        """reviewing → transferring (listed in flight in its user's shard) with the audit entry,
        at once, conditioned on the user not frozen (ACCOUNT_FROZEN); False when it was not
        under review."""
        tx = TransactWrite(connection=LedgerItem._get_connection().connection)
        try:
            with tx:
                tx.condition_check(UserItem, w.user_id, PROFILE, condition=UserItem.frozen_at.does_not_exist())
                tx.update(LedgerItem(withdrawal_pk(w.withdrawal_id), ITEM),
                          actions=[LedgerItem.status.set(WithdrawalStatus.TRANSFERRING.value),
                                   LedgerItem.wd_open.set(in_flight(shard_of(w.user_id))),
                                   LedgerItem.decided_by.set(admin_id)],
                          condition=LedgerItem.status == WithdrawalStatus.REVIEWING.value)
                entry_put(tx, entry)
        except TransactWriteError as exc:
            failure = transaction_failure(exc, tx)
            if failure.refused(UserItem.Meta.table_name, pk=w.user_id, sk=PROFILE):
                raise AccountFrozen("the operator froze this account") from exc
            if failure.refused(LedgerItem.Meta.table_name, pk=withdrawal_pk(w.withdrawal_id), sk=ITEM):
                return False
            raise failure from exc
        return True

    def progress(self, withdrawal_id: str, status: WithdrawalStatus, transfer_bill_no: str | None,
                 package_info: str | None) -> bool:
        """Record a transfer still in flight (its bill number, the package the user confirms
        with); False when the withdrawal is no longer in flight."""
        holds(status.in_flight, "progress is recorded for an in-flight status")
        actions: list[Any] = [LedgerItem.status.set(status.value)]
        if transfer_bill_no:
            actions.append(LedgerItem.transfer_bill_no.set(transfer_bill_no))
        if package_info:
            actions.append(LedgerItem.package_info.set(package_info))
        try:
            LedgerItem(withdrawal_pk(withdrawal_id), ITEM).update(
                actions=actions, condition=_status_in(s for s in WithdrawalStatus if s.in_flight))
        except UpdateError as exc:
            if condition_failed(exc):
                return False
            raise
        return True

    def finish(self, w: Withdrawal, outcome: WithdrawalStatus, now: datetime, *, reason: str | None = None,
               transfer_bill_no: str | None = None, decided_by: str | None = None,
               entry: AuditEntry | None = None) -> bool:
        """The end, once: ``paid`` (withdrawing → withdrawn) or ``returned`` (withdrawing →
        available) from an in-flight status, or ``returned`` from ``reviewing`` (rejected); the
        withdrawal, the wallet and the entry at once (with ``entry``: the operator's rejection's
        audit entry). False when it ended before."""
        holds(outcome.final, "a withdrawal ends in a final status")
        expected = [WithdrawalStatus.REVIEWING] if w.status is WithdrawalStatus.REVIEWING \
            else [s for s in WithdrawalStatus if s.in_flight]
        kind, target = ("withdrawal_paid", "withdrawn") if outcome is WithdrawalStatus.PAID \
            else ("withdrawal_return", "available")
        actions: list[Any] = [LedgerItem.status.set(outcome.value), LedgerItem.wd_open.remove(),
                              LedgerItem.finished_at.set(now), LedgerItem.package_info.remove()]
        if reason:
            actions.append(LedgerItem.reason.set(reason))
        if transfer_bill_no:
            actions.append(LedgerItem.transfer_bill_no.set(transfer_bill_no))
        if decided_by:
            actions.append(LedgerItem.decided_by.set(decided_by))
        tx = TransactWrite(connection=LedgerItem._get_connection().connection)
        try:
            with tx:
                tx.save(_entry(w, kind, f"withdrawing>{target}", now), condition=LedgerItem.sk.does_not_exist())
                tx.update(LedgerItem(withdrawal_pk(w.withdrawal_id), ITEM), actions=actions,
                          condition=_status_in(expected))
                tx.update(LedgerItem(w.user_id, WALLET), actions=[
                    LedgerItem.withdrawing_fen.add(-w.amount_fen), getattr(LedgerItem, f"{target}_fen").add(w.amount_fen),
                    touch(w.user_id, now)])
                if entry is not None:
                    entry_put(tx, entry)
        except TransactWriteError as exc:
            failure = transaction_failure(exc, tx)
            ledger = LedgerItem.Meta.table_name
            if failure.refused(ledger, pk=w.user_id, sk=withdrawal_entry_key(w.withdrawal_id, kind)) \
                    or failure.refused(ledger, pk=withdrawal_pk(w.withdrawal_id), sk=ITEM):
                return False
            raise failure from exc
        return True


def _entry(w: Withdrawal, kind: str, movement: str, now: datetime) -> LedgerItem:
    return LedgerItem(w.user_id, withdrawal_entry_key(w.withdrawal_id, kind), order_id=f"withdrawal#{w.withdrawal_id}",
                      level=0, amount_fen=w.amount_fen, kind=kind, at=now, status=movement)


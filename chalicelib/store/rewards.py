"""Rewards paid into wallets: invitation-milestone cash and the partners' monthly team bonus.

Each payment is one transaction: the wallet's ``available`` balance, the ledger entry explaining
it (its key derived from the reward, put only if absent) and a mark on the item that earned it
(``credited_at`` on the milestone, ``paid_at`` on the month's team sales, set only if absent).
However often a job runs, each reward is paid once.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.store.base import TransactionFailed, transaction_failure
from chalicelib.store.ledger import WALLET, LedgerItem, team_sales_key, touch
from chalicelib.store.users import UserItem

JOB_MARK = "job#team_bonus"


def milestone_sk(invitees: int) -> str:
    return f"milestone#{invitees:04d}"


def milestone_entry_key(invitees: int) -> str:
    return f"entry#milestone#{invitees:04d}#0#reward"


def team_bonus_entry_key(month: str) -> str:
    return f"entry#teambonus#{month}#0#team_bonus"


@dataclass(frozen=True)
class UncreditedCash:
    invitees: int
    cash_fen: int


def _already_done(exc: TransactionFailed) -> bool:
    return not exc.conflict


class RewardStore:
    def uncredited_cash(self, user_id: str) -> list[UncreditedCash]:
        """Cash milestones recorded but not yet credited (read consistently)."""
        return [UncreditedCash(int(i.sk.split("#")[1]), int(i.cash_fen or 0))
                for i in UserItem.query(user_id, UserItem.sk.startswith("milestone#"), consistent_read=True)
                if (i.cash_fen or 0) > 0 and i.credited_at is None]

    def credit_milestone(self, user_id: str, invitees: int, cash_fen: int, now: datetime) -> bool:
        """Credit a cash milestone once; False when it was credited before."""
        try:
            with TransactWrite(connection=LedgerItem._get_connection().connection) as tx:
                tx.update(UserItem(user_id, milestone_sk(invitees)), actions=[UserItem.credited_at.set(now)],
                          condition=UserItem.pk.exists() & UserItem.credited_at.does_not_exist())
                tx.save(LedgerItem(user_id, milestone_entry_key(invitees), amount_fen=cash_fen, kind="reward",
                                   at=now, status="->available"),
                        condition=LedgerItem.sk.does_not_exist())
                tx.update(LedgerItem(user_id, WALLET), actions=[LedgerItem.available_fen.add(cash_fen), touch(now)])
        except TransactWriteError as exc:
            failure = transaction_failure(exc)
            if _already_done(failure):
                return False
            raise failure from exc
        return True

    def team_sales(self, user_id: str, month: str) -> tuple[int, bool]:
        """(team sales of ``month`` in fen, whether its bonus was paid)."""
        try:
            item = LedgerItem.get(user_id, team_sales_key(month), consistent_read=True)
        except LedgerItem.DoesNotExist:
            return 0, False
        return int(item.amount_fen or 0), item.paid_at is not None

    def pay_team_bonus(self, user_id: str, month: str, bonus_fen: int, now: datetime) -> bool:
        """Pay a month's team bonus once; False when it was paid before."""
        try:
            with TransactWrite(connection=LedgerItem._get_connection().connection) as tx:
                tx.save(LedgerItem(user_id, team_bonus_entry_key(month), amount_fen=bonus_fen, kind="team_bonus",
                                   at=now, status="->available"),
                        condition=LedgerItem.sk.does_not_exist())
                tx.update(LedgerItem(user_id, team_sales_key(month)),
                          actions=[LedgerItem.paid_at.set(now), LedgerItem.bonus_fen.set(bonus_fen)],
                          condition=LedgerItem.paid_at.does_not_exist())
                tx.update(LedgerItem(user_id, WALLET), actions=[LedgerItem.available_fen.add(bonus_fen), touch(now)])
        except TransactWriteError as exc:
            failure = transaction_failure(exc)
            if _already_done(failure):
                return False
            raise failure from exc
        return True

    def month_done(self, month: str) -> bool:
        try:
            LedgerItem.get(JOB_MARK, f"month#{month}", consistent_read=True)
        except LedgerItem.DoesNotExist:
            return False
        return True

    def mark_month_done(self, month: str, now: datetime) -> None:
        LedgerItem(JOB_MARK, f"month#{month}", at=now).save()

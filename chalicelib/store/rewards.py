"""Rewards paid into wallets: invitation-milestone cash and the partners' monthly team bonus.

Each payment is one transaction: the wallet, the ledger entry explaining it (its key derived from
the reward, put only if absent) and a mark on the item that earned it (``credited_at`` on the
milestone, ``paid_at`` on the month's team sales, set only if absent). However often a job runs,
each reward is paid once.

The team bonus is money like a commission (docs/wallet.md "Team bonus"): its own item
``teambonus#<YYYY-MM>`` (``amount_fen`` = what is left of it, ``status`` pending → available,
``rate_bp`` it was accrued with) accrues into ``pending`` and is listed in ``settle_queue`` until
settlement moves it to ``available`` (store/ledger.py); a refund of one of the month's orders
takes the order's share back (store/orders.py). The partners of a month are recorded by the tier
evaluation as it goes (``partners#<YYYY-MM>``/``<user>``), so a partner downgraded at month end
is still paid for the month they held the tier in.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.store.base import TransactionFailed, transaction_failure
from chalicelib.store.ledger import (
    WALLET,
    CommissionStatus,
    LedgerItem,
    settle_keys,
    team_bonus_key,
    team_sales_key,
    touch,
)
from chalicelib.store.users import UserItem

JOB_MARK = "job#team_bonus"


def milestone_sk(invitees: int) -> str:
    return f"milestone#{invitees:04d}"


def milestone_entry_key(invitees: int) -> str:
    return f"entry#milestone#{invitees:04d}#0#reward"


def team_bonus_entry_key(month: str) -> str:
    return f"entry#teambonus#{month}#0#team_bonus"


def partner_roll(month: str) -> str:
    """The partition listing the distributors who held the partner tier during ``month``."""
    return f"partners#{month}"


@dataclass(frozen=True)
class UncreditedCash:
    invitees: int
    cash_fen: int


@dataclass(frozen=True)
class TeamSales:
    """A partner's team sales of a month and whether its bonus has accrued."""

    sales_fen: int
    accrued: bool


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
                tx.update(LedgerItem(user_id, WALLET), actions=[LedgerItem.available_fen.add(cash_fen), touch(user_id, now)])
        except TransactWriteError as exc:
            failure = transaction_failure(exc)
            if _already_done(failure):
                return False
            raise failure from exc
        return True

    # Team bonus ------------------------------------------------------------------------------

    def record_partner(self, user_id: str, month: str, now: datetime) -> None:
        """Record that ``user_id`` held the partner tier during ``month`` (idempotent: a put of
        the same key)."""
        LedgerItem(partner_roll(month), user_id, at=now).save()

    def partners_of(self, month: str) -> Iterator[str]:
        """Who the tier evaluation recorded as partners during ``month`` (read consistently)."""
        for item in LedgerItem.query(partner_roll(month), consistent_read=True, attributes_to_get=["sk"]):
            yield item.sk

    def team_sales(self, user_id: str, month: str) -> TeamSales:
        """A month's team sales in fen, and whether its bonus has accrued (read consistently)."""
        try:
            item = LedgerItem.get(user_id, team_sales_key(month), consistent_read=True)
        except LedgerItem.DoesNotExist:
            return TeamSales(0, False)
        return TeamSales(int(item.amount_fen or 0), item.paid_at is not None)

    def accrue_team_bonus(self, user_id: str, month: str, sales_fen: int, bonus_fen: int, rate_bp: int,
                          available_at: datetime, now: datetime) -> None:
        """Accrue a month's team bonus into ``pending``, once, on the team sales the caller read:
        the team-sales item gets ``paid_at`` and ``bonus_fen`` (condition: not accrued and the
        sales still ``sales_fen``, so a refund committed meanwhile is seen, never lost), the
        bonus item is created pending and listed in ``settle_queue`` for ``available_at``, the
        ``team_bonus`` entry (``->pending``) is put only if absent, and ``pending`` += bonus.
        Raises TransactionFailed when anything changed meanwhile (accrued by another run, a
        refund): the caller reads again."""
        bonus = LedgerItem(user_id, team_bonus_key(month), amount_fen=bonus_fen, status=CommissionStatus.PENDING.value,
                           at=now, available_at=available_at, bonus_fen=bonus_fen, rate_bp=rate_bp)
        bonus.settle_shard, bonus.settle_key = settle_keys(user_id, f"teambonus#{month}", 0, available_at)
        try:
            with TransactWrite(connection=LedgerItem._get_connection().connection) as tx:
                tx.update(LedgerItem(user_id, team_sales_key(month)),
                          actions=[LedgerItem.paid_at.set(now), LedgerItem.bonus_fen.set(bonus_fen)],
                          condition=LedgerItem.paid_at.does_not_exist() & (LedgerItem.amount_fen == sales_fen))
                tx.save(bonus, condition=LedgerItem.sk.does_not_exist())
                tx.save(LedgerItem(user_id, team_bonus_entry_key(month), amount_fen=bonus_fen, kind="team_bonus",
                                   at=now, status="->pending"),
                        condition=LedgerItem.sk.does_not_exist())
                tx.update(LedgerItem(user_id, WALLET), actions=[LedgerItem.pending_fen.add(bonus_fen), touch(user_id, now)])
        except TransactWriteError as exc:
            raise transaction_failure(exc) from exc

    def month_done(self, month: str) -> bool:
        try:
            LedgerItem.get(JOB_MARK, f"month#{month}", consistent_read=True)
        except LedgerItem.DoesNotExist:
            return False
        return True

    def mark_month_done(self, month: str, now: datetime) -> None:
        LedgerItem(JOB_MARK, f"month#{month}", at=now).save()


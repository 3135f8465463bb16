"""Rewards paid into wallets: invitation-milestone cash and the partners' monthly team bonus.

Each payment is one transaction: the wallet, the ledger entry explaining it (its key derived from
the reward, put only if absent) and a mark on the item that earned it (the milestone itself, put
only if absent with ``credited_at``, in the transaction that counts the invitee reaching it;
``paid_at`` on the month's team sales, set only if absent). However often anything runs, each
reward is paid once.

The team bonus is money like a commission (docs/wallet.md "Team bonus"): its own item
``teambonus#<YYYY-MM>`` (``amount_fen`` = what is left of it, ``status`` pending → available,
``rate_bp`` it was accrued with) accrues into ``pending`` and is listed in ``settle_queue`` until
settlement moves it to ``available`` (store/ledger.py); a refund of one of the month's orders
takes the order's share back (store/orders.py). The partners of a month are recorded in the
transaction that stores each tier decision (``partners#<YYYY-MM>#<shard>``/``<user>``,
store/users.py), so a partner downgraded at month end is still paid for the month they held the
tier in. The job's marks (``job#team_bonus``): ``shard#<YYYY-MM>#<shard>`` when a shard's partners
all accrued, ``month#<YYYY-MM>`` when the month's did.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.domain.invitations import Qualification
from chalicelib.store.base import paginate, transaction_failure
from chalicelib.store.ledger import (
    WALLET,
    CommissionStatus,
    LedgerItem,
    partner_roll,
    settle_keys,
    team_bonus_key,
    team_sales_key,
    touch,
)
from chalicelib.store.users import PROFILE, UserItem, counter_is

JOB_MARK = "job#team_bonus"


def milestone_sk(invitees: int) -> str:
    return f"milestone#{invitees:04d}"


def milestone_entry_key(invitees: int) -> str:
    return f"entry#milestone#{invitees:04d}#0#reward"


def team_bonus_entry_key(month: str) -> str:
    return f"entry#teambonus#{month}#0#team_bonus"


@dataclass(frozen=True)
class TeamSales:
    """A partner's team sales of a month and whether its bonus has accrued."""

    sales_fen: int
    accrued: bool


def count_invitee(tx: TransactWrite, inviter_id: str, qualification: Qualification, now: datetime) -> int:
    """In the transaction that qualifies an invitee (the order's completion): the inviter's
    ``qualified_invitees`` + 1, conditioned as the domain decided (exactly the count read when a
    milestone is reached, else below the next one), each milestone reached recorded (put only if
    absent) and, for a cash milestone, its reward entry (put only if absent) with ``credited_at``
    on the milestone; a gift-pack milestone is recorded ``pending`` (its order is created after
    the commit: services/gifts.py). Returns the cash to add to the inviter's ``available`` in the same
    transaction (the caller writes each wallet once)."""
    condition = UserItem.created_at.exists()
    if qualification.record:
        condition &= counter_is(UserItem.qualified_invitees, qualification.before)
    elif qualification.below is not None:
        condition &= UserItem.qualified_invitees.does_not_exist() | (UserItem.qualified_invitees < qualification.below)
    tx.update(UserItem(inviter_id, PROFILE), actions=[UserItem.qualified_invitees.add(1)], condition=condition)
    for milestone in qualification.record:
        tx.save(UserItem(inviter_id, milestone_sk(milestone.invitees), reward=milestone.reward,
                         cash_fen=milestone.cash_fen, reached_at=now,
                         credited_at=now if milestone.cash_fen else None,
                         fulfilment="pending" if milestone.reward == "gift_pack" else None),
                condition=UserItem.pk.does_not_exist())
        if milestone.cash_fen:
            tx.save(LedgerItem(inviter_id, milestone_entry_key(milestone.invitees), amount_fen=milestone.cash_fen,
                               kind="reward", at=now, status="->available"),
                    condition=LedgerItem.sk.does_not_exist())
    return qualification.cash_fen


class RewardStore:
    # Team bonus ------------------------------------------------------------------------------

    def partners_page(self, month: str, shard: str, cursor: str | None, limit: int) -> tuple[list[str], str | None]:
        """A page of one shard of the partners of ``month`` (read consistently) and the cursor
        of the next page."""
        return paginate(LedgerItem, partner_roll(month, shard), cursor, lambda item: item.sk,
                        consistent_read=True, limit=limit, attributes_to_get=["pk", "sk"])

    def team_sales_of(self, user_ids: list[str], month: str) -> dict[str, TeamSales]:
        """The team sales of ``month`` of several users in one consistent BatchGetItem (a user
        without any has none: 0, not accrued)."""
        keys = [(user_id, team_sales_key(month)) for user_id in dict.fromkeys(user_ids)]
        found = {item.pk: _team_sales(item) for item in LedgerItem.batch_get(keys, consistent_read=True)} if keys else {}
        return {user_id: found.get(user_id, TeamSales(0, False)) for user_id in user_ids}

    def team_sales(self, user_id: str, month: str) -> TeamSales:
        """A month's team sales in fen, and whether its bonus has accrued (read consistently)."""
        try:
            item = LedgerItem.get(user_id, team_sales_key(month), consistent_read=True)
        except LedgerItem.DoesNotExist:
            return TeamSales(0, False)
        return _team_sales(item)

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

    def shards_done(self, month: str) -> set[str]:
        """The shards of ``month`` whose partners all accrued (marks written as each part ends
        with none deferred), in one Query of the job's partition."""
        return {item.sk.removeprefix(f"shard#{month}#")
                for item in LedgerItem.query(JOB_MARK, LedgerItem.sk.startswith(f"shard#{month}#"),
                                             consistent_read=True, attributes_to_get=["pk", "sk"])}

    def mark_shard_done(self, month: str, shard: str, now: datetime) -> None:
        LedgerItem(JOB_MARK, f"shard#{month}#{shard}", at=now).save()


def _team_sales(item: LedgerItem) -> TeamSales:
    return TeamSales(int(item.amount_fen or 0), item.paid_at is not None)


"""The distributors' money: wallets, commission entries and the movements between balances.

Items (``pk`` = user id, ``sk``):
* ``"wallet"``: balances ``pending`` (order not completed), ``frozen`` (completed, waiting T+N),
  ``available``, ``withdrawing``, ``withdrawn``, in fen;
* ``"commission#<order_id>#<level>"``: one commission with its status;
* ``"entry#<order_id>#<level>#<kind>"``: a ledger entry, one per movement; its key is derived
  from what caused it, so writing it twice is impossible (the put is conditional); rewards use
  ``entry#milestone#<NNNN>#0#reward`` and ``entry#teambonus#<YYYY-MM>#0#team_bonus``;
* ``"teamsales#<YYYY-MM>"``: the month's team sales (``amount_fen``, moved by payments and
  refunds) and, once the team bonus has accrued, ``paid_at`` and ``bonus_fen`` (as accrued);
* ``"teambonus#<YYYY-MM>"``: a partner's team bonus of a month, money like a commission:
  ``amount_fen`` (what is left of it after refunds), ``status`` pending → available, ``rate_bp``
  it accrued with, ``available_at``; ``settle_shard``/``settle_key`` while pending (store/rewards.py);
* ``"board#<board>#<YYYY-MM>"`` (``board_value``, index ``boards``) and
  ``"leaderboard#<board>#<YYYY-MM>"`` (a reward, money like the team bonus): the monthly
  leaderboards (store/leaderboards.py);
* ``pk`` = ``"partners#<YYYY-MM>#<shard>"``, ``sk`` = user id: the distributors who held the
  partner tier during the month, 16 partitions by the user's shard (recorded in the transaction
  that stores each tier decision; read shard by shard by the team-bonus job);
* ``"wdday#<YYYY-MM-DD>"``: the user's withdrawals of a Shanghai day (``wd_count``, ``amount_fen``),
  checked against the daily limits inside the withdrawal's transaction.

Withdrawals are items of their own (``pk`` = ``"wd#<withdrawal_id>"``, ``sk`` = ``"withdrawal"``),
so that the operator and WeChat's notifications find them by id alone (store/withdrawals.py).

Balances change only inside transactions together with the entry that explains them
(``store/orders.py`` composes them; settlement is composed here).

Sparse indexes find the jobs' work without scanning. Each is written per order or per movement,
so its partition key carries the user's shard (``domain/shards.py``: 16, by the user id's last hex
digit): no partition takes a write per order from the whole mall.
* ``settle_queue``: frozen commissions carry ``settle_shard`` (their user's shard) and
  ``settle_key`` (``<available_at>#<user>#<order>#<level>``) from completion until settled,
  reversed or clawed back, and so does a pending team bonus (``…#<user>#teambonus#<month>#0``)
  from its accrual until settled. "Everything due by now" is one Query per shard with
  ``settle_key <= now``: however late the job runs, nothing due is left behind;
* ``touched``: every movement sets the wallet's ``touched_day`` to ``<day>#<shard>`` of the day it
  happened (keys only: the index is written once per wallet per day, not per movement);
  reconciliation queries the shards of yesterday and today.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import TransactWriteError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, IncludeProjection, KeysOnlyProjection
from pynamodb.transactions import TransactWrite

from chalicelib.config import get_settings
from chalicelib.domain.clock import business_date, iso
from chalicelib.domain.invariants import holds
from chalicelib.domain.ledger_lines import public_kind
from chalicelib.domain.shards import shard_of
from chalicelib.domain.wallet import CommissionsChanged
from chalicelib.store.base import BaseMeta, StoreModel, TransactionFailed, paginate, transaction_failure

WALLET = "wallet"
TEAM_BONUS = "teambonus#"
REWARD = "leaderboard#"  # a leaderboard reward: ``leaderboard#<board>#<month>`` (store/leaderboards.py)
BUCKETS = ("pending", "frozen", "available", "withdrawing", "withdrawn")


class CommissionStatus(StrEnum):
    PENDING = "pending"  # the order is not completed yet
    FROZEN = "frozen"  # completed; waits for the hold (T+3)
    AVAILABLE = "available"  # settled: withdrawable
    REVERSED = "reversed"  # refunded before settlement
    CLAWED_BACK = "clawed_back"  # refunded after settlement: taken back from the balance


class SettleQueue(GlobalSecondaryIndex["LedgerItem"]):
    """Sparse: only frozen commissions and pending team bonuses carry ``settle_shard``. (It
    replaced ``settle_due``, keyed by the day: every completion of the mall wrote that day's
    partition, and a job looking back a fixed number of days never saw anything older.)"""

    class Meta:
        index_name = "settle_queue"
        projection = IncludeProjection(["order_id", "level", "amount_fen"])

    settle_shard = UnicodeAttribute(hash_key=True)
    settle_key = UnicodeAttribute(range_key=True)


class Touched(GlobalSecondaryIndex["LedgerItem"]):
    """Sparse: only wallets carry ``touched_day`` (``<day>#<shard>``: the Shanghai day of their
    last movement and their user's shard)."""

    class Meta:
        index_name = "touched"
        projection = KeysOnlyProjection()

    touched_day = UnicodeAttribute(hash_key=True)
    pk = UnicodeAttribute(range_key=True)


class WithdrawalsOfUser(GlobalSecondaryIndex["LedgerItem"]):
    """A user's withdrawals, newest last (``wd_key`` = ``<requested_at>#<withdrawal_id>``)."""

    class Meta:
        index_name = "withdrawals_of_user"
        projection = AllProjection()

    wd_user = UnicodeAttribute(hash_key=True)
    wd_key = UnicodeAttribute(range_key=True)


class OpenWithdrawals(GlobalSecondaryIndex["LedgerItem"]):
    """Sparse: withdrawals not yet final carry ``wd_open`` = ``reviewing`` (the operator's review
    queue: one ordered list, written only by withdrawals over the review threshold and the
    operator's decisions) or ``in_flight#<shard>`` (waiting for WeChat Pay: the polling job's
    work, one part per shard; store/withdrawals.py)."""

    class Meta:
        index_name = "open_withdrawals"
        projection = AllProjection()

    wd_open = UnicodeAttribute(hash_key=True)
    wd_key = UnicodeAttribute(range_key=True)


class Lines(GlobalSecondaryIndex["LedgerItem"]):
    """Sparse: a user's ledger entries, newest last (``line_key`` = ``<at, to the µs>#<sk>``: the
    entries of one transaction share their time and sort by key), with what a
    ledger line shows (``GET /v1/me/ledger``, store/ledger_lines.py). Only entries carry
    ``line_key`` (set by ``LedgerItem.serialize``), one index write per entry put, in the
    user's own partition."""

    class Meta:
        index_name = "lines"
        projection = IncludeProjection(["kind", "line_kind", "amount_fen", "at", "status", "order_id"])

    pk = UnicodeAttribute(hash_key=True)
    line_key = UnicodeAttribute(range_key=True)
class Boards(GlobalSecondaryIndex["LedgerItem"]):
    """Sparse, keys only: the monthly leaderboards' values (store/leaderboards.py), partitioned by
    ``<board>#<month>#<shard>`` (16 a board and month) and sorted by the value itself (a number,
    so the payment's ``ADD`` moves it without a read)."""

    class Meta:
        index_name = "boards"
        projection = KeysOnlyProjection()

    board_part = UnicodeAttribute(hash_key=True)
    board_value = NumberAttribute(range_key=True)


class LedgerItem(StoreModel):
    class Meta(BaseMeta):
        table_name = get_settings().ledger_table

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    # wallet
    pending_fen = NumberAttribute(null=True)
    frozen_fen = NumberAttribute(null=True)
    available_fen = NumberAttribute(null=True)
    withdrawing_fen = NumberAttribute(null=True)
    withdrawn_fen = NumberAttribute(null=True)
    # commission and entry
    order_id = UnicodeAttribute(null=True)
    level = NumberAttribute(null=True)
    amount_fen = NumberAttribute(null=True)
    reversed_fen = NumberAttribute(null=True)  # a commission's part taken back by refunds (amount_fen: kept)
    status = UnicodeAttribute(null=True)
    kind = UnicodeAttribute(null=True)
    at = UTCDateTimeAttribute(null=True)
    available_at = UTCDateTimeAttribute(null=True)
    settle_shard = UnicodeAttribute(null=True)
    settle_key = UnicodeAttribute(null=True)
    touched_day = UnicodeAttribute(null=True)
    # team sales of a month (``amount_fen``), and its team bonus once paid
    paid_at = UTCDateTimeAttribute(null=True)
    bonus_fen = NumberAttribute(null=True)
    rate_bp = NumberAttribute(null=True)  # a team bonus's rate, for the refunds after its accrual
    # a withdrawal (``status``, ``amount_fen``, ``at`` = requested) and a day's withdrawal count
    wd_user = UnicodeAttribute(null=True)
    wd_key = UnicodeAttribute(null=True)
    wd_open = UnicodeAttribute(null=True)
    wd_count = NumberAttribute(null=True)
    transfer_bill_no = UnicodeAttribute(null=True)
    package_info = UnicodeAttribute(null=True)
    reason = UnicodeAttribute(null=True)
    decided_by = UnicodeAttribute(null=True)
    finished_at = UTCDateTimeAttribute(null=True)
    # an entry: its place in the user's ledger (index lines) and the kind a distributor sees
    line_key = UnicodeAttribute(null=True)
    line_kind = UnicodeAttribute(null=True)
    # leaderboards (store/leaderboards.py): a board's value of a month, a month's standing, a reward
    board_part = UnicodeAttribute(null=True)
    board_value = NumberAttribute(null=True)
    standing_json = UnicodeAttribute(null=True)
    rank = NumberAttribute(null=True)
    reward_fen = NumberAttribute(null=True)  # a reward as decided (amount_fen: what is left of it)
    close_value = NumberAttribute(null=True)  # the value it was ranked on at the close
    lost_value = NumberAttribute(null=True)  # what refunds after the close took from that value
    clawback = BooleanAttribute(null=True)  # the rule it was paid under

    settle_queue = SettleQueue()
    touched = Touched()
    withdrawals_of_user = WithdrawalsOfUser()
    open_withdrawals = OpenWithdrawals()
    lines = Lines()

    def serialize(self, null_check: bool = True) -> dict[str, dict[str, Any]]:
        """Every put of a ledger entry (``entry#…`` with its time) lists it in ``lines``: the
        writers of entries (orders, rewards, withdrawals, settlement, leaderboards) need not know
        the index, and no entry put can miss it. Entries are only ever put, never updated."""
        if self.sk and self.sk.startswith("entry#") and self.at is not None and self.kind:
            self.line_key = f"{self.at.astimezone(UTC).isoformat(timespec='microseconds')}#{self.sk}"
            self.line_kind = public_kind(self.kind)
        return super().serialize(null_check=null_check)
    boards = Boards()


def commission_key(order_id: str, level: int) -> str:
    return f"commission#{order_id}#{level}"


def entry_key(order_id: str, level: int, kind: str) -> str:
    return f"entry#{order_id}#{level}#{kind}"


def team_sales_key(month: str) -> str:
    """A user's team sales of a month: paid minus refunded value of orders whose level 1 or 2 they are."""
    return f"teamsales#{month}"


def team_bonus_key(month: str) -> str:
    """A partner's team bonus of a month (money like a commission: pending → available)."""
    return f"{TEAM_BONUS}{month}"


def partner_roll(month: str, shard: str) -> str:
    """The partition listing the distributors of one shard who held the partner tier during
    ``month`` (``domain/shards.py``: 16 partitions, one team-bonus part each)."""
    return f"partners#{month}#{shard}"


def settle_keys(user_id: str, order_id: str, level: int, available_at: datetime) -> tuple[str, str]:
    """``settle_shard`` and ``settle_key`` of a frozen commission (or a pending team bonus): the
    key sorts by ``available_at``, so a shard's due entries are a prefix of its partition."""
    return shard_of(user_id), f"{iso(available_at)}#{user_id}#{order_id}#{level}"


def due_by(now: datetime) -> str:
    """The greatest ``settle_key`` due at ``now`` (``#~`` sorts after any ``#<user>…`` suffix)."""
    return f"{iso(now)}#~"


def settle_index(user_id: str, order_id: str, level: int, available_at: datetime) -> list[Any]:
    """The update actions that list a frozen commission in ``settle_queue``."""
    shard, key = settle_keys(user_id, order_id, level, available_at)
    return [LedgerItem.settle_shard.set(shard), LedgerItem.settle_key.set(key)]


def unlist_settlement() -> list[Any]:
    """The update actions that take a commission out of ``settle_queue`` (settled, reversed, clawed back)."""
    return [LedgerItem.settle_shard.remove(), LedgerItem.settle_key.remove()]


def touched_on(day: str, shard: str) -> str:
    """The ``touched`` partition of a day's wallets of one shard."""
    return f"{day}#{shard}"


def touch(user_id: str, now: datetime) -> Any:
    """The update action of ``user_id``'s wallet that lists it in ``touched`` for the day of ``now``."""
    return LedgerItem.touched_day.set(touched_on(business_date(now).isoformat(), shard_of(user_id)))


def bucket_attr(bucket: str) -> NumberAttribute:
    attr = getattr(LedgerItem, f"{bucket}_fen")
    holds(isinstance(attr, NumberAttribute), f"{bucket} is a balance")
    return attr


@dataclass(frozen=True)
class Commission:
    """A commission as its distributor sees it: ``amount_fen`` what they keep, ``reversed_fen``
    what refunds took back (reversed or clawed back)."""

    user_id: str
    order_id: str
    level: int
    amount_fen: int
    status: CommissionStatus
    accrued_at: datetime | None
    available_at: datetime | None
    reversed_fen: int = 0


@dataclass(frozen=True)
class TeamBonus:
    """A partner's team bonus of a month as last read: what is left of it, where it is, and the
    rate it accrued with (a refund takes its share back at that rate)."""

    user_id: str
    month: str
    status: CommissionStatus
    amount_fen: int
    rate_bp: int


def to_commission(item: LedgerItem) -> Commission:
    """A commission reversed or clawed back whole (the instant refund) keeps its accrued amount in
    ``amount_fen`` and no ``reversed_fen``: it kept nothing. A partial refund moves the difference
    from ``amount_fen`` to ``reversed_fen``."""
    status = CommissionStatus(item.status)
    amount, taken = int(item.amount_fen or 0), int(item.reversed_fen or 0)
    if item.reversed_fen is None and status in (CommissionStatus.REVERSED, CommissionStatus.CLAWED_BACK):
        amount, taken = 0, amount
    return Commission(item.pk, item.order_id or "", int(item.level or 0), amount, status, item.at,
                      item.available_at, taken)


class LedgerStore:
    def wallet(self, user_id: str) -> dict[str, int]:
        try:
            item = LedgerItem.get(user_id, WALLET, consistent_read=True)
        except LedgerItem.DoesNotExist:
            return {bucket: 0 for bucket in BUCKETS}
        return {bucket: int(getattr(item, f"{bucket}_fen") or 0) for bucket in BUCKETS}

    def wallets(self, user_ids: list[str]) -> dict[str, dict[str, int]]:
        """The balances of many wallets (at most 100) in one consistent BatchGetItem; a user
        without a wallet has every balance 0."""
        holds(len(user_ids) <= 100, "one BatchGetItem reads at most 100 wallets")
        found = {user_id: {bucket: 0 for bucket in BUCKETS} for user_id in user_ids}
        for item in LedgerItem.batch_get([(u, WALLET) for u in user_ids], consistent_read=True) if user_ids else []:
            found[item.pk] = {bucket: int(getattr(item, f"{bucket}_fen") or 0) for bucket in BUCKETS}
        return found

    def commissions_of_order(self, order_id: str, payees: list[tuple[str, int]]) -> list[Commission]:
        keys = [(user_id, commission_key(order_id, level)) for user_id, level in payees]
        return [to_commission(i) for i in LedgerItem.batch_get(keys, consistent_read=True)] if keys else []

    def refund_reads(self, order_id: str, payees: list[tuple[str, int]], sharers: list[str], month: str
                     ) -> tuple[list[Commission], dict[str, TeamBonus]]:
        """What a refund decides on, in one BatchGetItem (consistent): the order's commissions, and
        the team bonuses of the month it was paid in accrued to its ``sharers`` (by user)."""
        keys = [(user_id, commission_key(order_id, level)) for user_id, level in payees]
        keys += [(user_id, team_bonus_key(month)) for user_id in dict.fromkeys(sharers)]
        commissions, bonuses = [], {}
        for item in LedgerItem.batch_get(keys, consistent_read=True) if keys else []:
            if item.sk.startswith(TEAM_BONUS):
                bonuses[item.pk] = TeamBonus(item.pk, month, CommissionStatus(item.status), int(item.amount_fen or 0),
                                             int(item.rate_bp or 0))
            else:
                commissions.append(to_commission(item))
        return commissions, bonuses

    def commissions(self, user_id: str, status: CommissionStatus | None, limit: int,
                    cursor: str | None) -> tuple[list[Commission], str | None]:
        return paginate(LedgerItem, user_id, cursor, to_commission,
                        range_key_condition=LedgerItem.sk.startswith("commission#"),
                        filter_condition=(LedgerItem.status == status.value) if status else None,
                        limit=limit, scan_index_forward=False)

    def entries(self, user_id: str) -> list[dict[str, object]]:
        return [{"sk": i.sk, "kind": i.kind, "amount_fen": int(i.amount_fen or 0), "order_id": i.order_id}
                for i in LedgerItem.query(user_id, LedgerItem.sk.startswith("entry#"))]


# Settlement and reconciliation ---------------------------------------------------------------

TRANSACTION_ITEMS = 100  # DynamoDB's limit of items per TransactWriteItems
DUE_PAGE = 100  # due commissions per Query page: 2–4 transactions between two looks at the deadline
TOUCHED_PAGE = 100  # wallets per page of ``touched``: each is then read with all its entries


@dataclass(frozen=True)
class DueCommission:
    """A frozen commission listed in ``settle_due``, or (``bonus_month`` set) a partner's pending
    team bonus of that month, or (``reward`` set: its key) a pending leaderboard reward."""

    user_id: str
    order_id: str
    level: int
    amount_fen: int
    bonus_month: str | None = None
    reward: str | None = None

    @property
    def key(self) -> str:
        """The item that settles: the commission, the team bonus or the reward."""
        if self.reward:
            return self.reward
        return team_bonus_key(self.bonus_month) if self.bonus_month else commission_key(self.order_id, self.level)

    @property
    def settlement_entry(self) -> str:
        if self.reward:
            return f"entry#{self.reward}#0#settlement"
        if self.bonus_month:
            return f"entry#teambonus#{self.bonus_month}#0#settlement"
        return entry_key(self.order_id, self.level, "settlement")

    @property
    def source(self) -> CommissionStatus:
        """Where its money waits: a commission in ``frozen``, a team bonus or reward in ``pending``."""
        return CommissionStatus.PENDING if self.bonus_month or self.reward else CommissionStatus.FROZEN


def _due(item: LedgerItem) -> DueCommission:
    month = item.sk.removeprefix(TEAM_BONUS) if item.sk.startswith(TEAM_BONUS) else None
    reward = item.sk if item.sk.startswith(REWARD) else None
    return DueCommission(item.pk, item.order_id or "", int(item.level or 0), int(item.amount_fen or 0), month, reward)


def items_for(batch: list[DueCommission]) -> int:
    """Items a settlement transaction of ``batch`` writes: commission and entry each, one wallet per
    user, and the day's settled-commission counter."""
    return 2 * len(batch) + len({c.user_id for c in batch}) + 1


def _settlement_refused(failure: TransactionFailed, c: DueCommission) -> bool:
    """Whether the commission (no longer frozen) or team bonus (no longer pending, or its amount
    changed by a refund) or its settlement entry (present) refused."""
    table = LedgerItem.Meta.table_name
    return failure.refused(table, pk=c.user_id, sk=c.key) or failure.refused(table, pk=c.user_id, sk=c.settlement_entry)


class SettlementStore:
    """The settlement transaction and the reads of the settlement and reconciliation jobs."""

    def due(self, shard: str, now: datetime, cursor: str | None = None,
            limit: int = DUE_PAGE) -> tuple[list[DueCommission], str | None]:
        """One page of the shard's frozen commissions (and pending team bonuses) whose
        ``available_at`` has come, oldest first, from ``cursor``; and the cursor of the next page
        (None: none left). Eventually consistent: one settled a moment ago may still be listed
        (its transaction then refuses it)."""
        return paginate(LedgerItem.settle_queue, shard, cursor, _due, limit=limit,
                        range_key_condition=LedgerItem.settle_key <= due_by(now))

    def settle(self, batch: list[DueCommission], now: datetime) -> None:
        """Frozen → available for every commission of ``batch``, at once: each commission
        (conditioned on frozen) with its ``settlement`` entry (conditioned on absent), and each
        user's wallet once with the batch's sum, and the commissions' sum on the day's
        ``commission_settled_fen`` counter (analytics; counted here because a settled commission
        leaves the job's index, so no later run could count it). A team bonus in the batch moves
        pending → available the same way, conditioned on pending and on the amount listed (a
        refund lowered it since: refused; it stays listed and the next run settles what is left).
        Raises CommissionsChanged naming the commissions (or bonuses) no longer frozen (pending)
        or already settled, TransactionFailed on a bare conflict."""
        from chalicelib.store.analytics import count_in

        holds(items_for(batch) <= TRANSACTION_ITEMS, "a settlement batch fits one transaction")
        per_user: dict[str, dict[CommissionStatus, int]] = {}
        try:
            with TransactWrite(connection=LedgerItem._get_connection().connection) as tx:
                for c in batch:
                    # and the amount listed: a refund since it was listed changed what there is to
                    # move (a partial refund lowers a frozen commission, or a team bonus)
                    condition = (LedgerItem.status == c.source.value) & (LedgerItem.amount_fen == c.amount_fen)
                    tx.update(LedgerItem(c.user_id, c.key),
                              actions=[LedgerItem.status.set(CommissionStatus.AVAILABLE.value), *unlist_settlement()],
                              condition=condition)
                    tx.save(LedgerItem(c.user_id, c.settlement_entry, order_id=c.order_id or None, level=c.level,
                                       amount_fen=c.amount_fen, kind="settlement", at=now,
                                       status=f"{c.source.value}>available"),
                            condition=LedgerItem.sk.does_not_exist())
                    sums = per_user.setdefault(c.user_id, {})
                    sums[c.source] = sums.get(c.source, 0) + c.amount_fen
                for user_id, sums in per_user.items():
                    moves = [bucket_attr(source.value).add(-fen) for source, fen in sums.items()]
                    tx.update(LedgerItem(user_id, WALLET), actions=[
                        *moves, LedgerItem.available_fen.add(sum(sums.values())), touch(user_id, now)])
                commissions = sum(c.amount_fen for c in batch if not (c.bonus_month or c.reward))
                count_in(tx, business_date(now), {"commission_settled_fen": commissions})
        except TransactWriteError as exc:
            failure = transaction_failure(exc, tx)
            refused = frozenset(i for i, c in enumerate(batch) if _settlement_refused(failure, c))
            if refused:
                raise CommissionsChanged(refused) from exc
            raise failure from exc

    def touched_wallets(self, day: str, shard: str, cursor: str | None = None,
                        limit: int = TOUCHED_PAGE) -> tuple[list[str], str | None]:
        """One page of the users of ``shard`` whose wallets last moved on ``day``, and the cursor
        of the next page."""
        return paginate(LedgerItem.touched, touched_on(day, shard), cursor, lambda item: str(item.pk), limit=limit)

    def entry_movements(self, user_id: str) -> Iterator[tuple[str, int]]:
        """Every ledger entry of a user as (``"source>target"``, fen), read consistently."""
        for item in LedgerItem.query(user_id, LedgerItem.sk.startswith("entry#"), consistent_read=True,
                                     attributes_to_get=["sk", "status", "amount_fen"]):
            yield item.status or "->-", int(item.amount_fen or 0)

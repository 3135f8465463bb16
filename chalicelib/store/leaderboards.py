"""The monthly leaderboards' items, in the ledger table (their rewards are money: docs/leaderboards.md).

Items:
* ``pk`` = user, ``sk`` = ``board#<board>#<YYYY-MM>``: the user's value on a board of a month
  (``board_value``, moved by ``ADD`` in the payment's and the refund's transactions), listed in
  the keys-only index ``boards`` under ``board_part`` = ``<board>#<month>#<shard>`` (16 a board
  and month, by the user's shard) sorted by the value: a board's head is 16 Queries merged, a
  rank is 16 counted Queries above one's value; nothing is scanned and no partition takes a
  write per order from the whole mall;
* ``pk`` = ``lbclose#<board>#<YYYY-MM>``, ``sk`` = ``standing``: the awards decided at the
  month's close (``standing_json``), put once (conditioned absent: two runs decide one standing);
* ``pk`` = user, ``sk`` = ``leaderboard#<board>#<YYYY-MM>``: a reward paid (money like the team
  bonus: ``amount_fen`` what is left, ``reward_fen`` as decided, ``close_value`` ranked on,
  ``lost_value`` taken by refunds after the close, ``clawback`` the rule it was paid under,
  ``status`` pending → available, listed in ``settle_queue`` while pending), or ``forfeited``
  (its distributor frozen at payment), with its ledger entries
  ``entry#leaderboard#<board>#<YYYY-MM>#0#leaderboard_reward`` (``->pending``), ``…#0#settlement``
  (``pending>available``) and per refund after the close ``…#0#leaderboard_reversal#<order>[#<refund>]``
  (``pending>-``) or ``…#0#leaderboard_clawback#<order>[#<refund>]`` (``available>-``);
* ``pk`` = ``job#leaderboards``, ``sk`` = ``board#<board>#<YYYY-MM>`` / ``month#<YYYY-MM>``:
  the close job's marks.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pynamodb.exceptions import PutError, TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.domain.leaderboards import Award, Board, Row, counted_boards, kept_fen, part_key, threshold
from chalicelib.domain.orders import Order
from chalicelib.domain.shards import SHARDS, shard_of
from chalicelib.store.base import cause_code, transaction_failure
from chalicelib.store.ledger import (
    REWARD,
    WALLET,
    CommissionStatus,
    LedgerItem,
    settle_keys,
    touch,
    unlist_settlement,
)
from chalicelib.store.order_items import OrderItem
from chalicelib.store.users import PROFILE, UserItem

JOB_MARK = "job#leaderboards"
FORFEITED = "forfeited"  # the distributor was frozen when the reward was paid: the platform keeps it
REVERSED = CommissionStatus.REVERSED.value  # refunds after the close took all of it before it was paid


def board_sk(board: Board, month: str) -> str:
    return f"board#{board.value}#{month}"


def reward_sk(board: Board, month: str) -> str:
    return f"{REWARD}{board.value}#{month}"


def reward_entry(board: Board, month: str, kind: str = "leaderboard_reward") -> str:
    """A reward's ledger entries (/work/briefs/centre-interface.md): the credit, its settlement
    (``…#0#settlement``, store/ledger.py) and each take-back (``…#0#<kind>#<order>[#<refund>]``)."""
    return f"entry#{reward_sk(board, month)}#0#{kind}"


@dataclass(frozen=True)
class Reward:
    """A reward as last read."""

    user_id: str
    board: Board
    month: str
    status: str
    amount_fen: int
    reward_fen: int
    close_value: int
    lost_value: int
    clawback: bool
    rank: int


# A refund's read of level 1's rewards of the paid month, by board (None: none paid); the refund
# passes None instead when it comes in the paid month itself (no reward can exist yet).
type BoardRewards = dict[Board, Reward | None]


def _reward(item: LedgerItem) -> Reward:
    board, month = item.sk.removeprefix(REWARD).split("#")
    return Reward(item.pk, Board(board), month, item.status or "", int(item.amount_fen or 0),
                  int(item.reward_fen or 0), int(item.close_value or 0), int(item.lost_value or 0),
                  bool(item.clawback), int(item.rank or 0))


# In the order's transactions (store/orders.py) ---------------------------------------------------

def on_payment(tx: TransactWrite, order: Order, month: str, buyer_paid_orders: int) -> list[Any]:
    """The payment's part: level 1's ``sales`` of ``month`` + the amount and, for the buyer's first
    paid order (the buyer's count as the payment reads and conditions it) brought by someone
    else, ``new_customers`` + 1. Returns the order item's actions (``new_customer``, so its
    refund knows to take the customer back)."""
    level1 = order.upline.level1
    if not level1 or order.amount_fen <= 0:
        return []
    _add(tx, level1, Board.SALES, month, order.amount_fen)
    if buyer_paid_orders == 0 and level1 != order.buyer_id:
        _add(tx, level1, Board.NEW_CUSTOMERS, month, 1)
        return [OrderItem.new_customer.set(True)]
    return []


def on_refund(tx: TransactWrite, order: Order, paid_month: str, refunded_fen: int, fully: bool,
              rewards: BoardRewards | None, now: datetime, wallets: dict[str, dict[str, int]],
              tag: str = "") -> None:
    """A refund's part: the paid month's boards of level 1 lose the refunded amount (and the
    customer, once the order is wholly refunded). With ``rewards`` (the refund comes after that
    month: the rewards of level 1 as read, by board), a reward paid under clawback loses its
    refunded share (``domain.kept_fen``: reversed from pending, clawed back from available, into
    ``wallets``), conditioned on its status and ``lost_value`` as read; a board without a reward
    read is conditioned on none having been paid since (the payment reads the board's value)."""
    level1 = order.upline.level1
    for board in counted_boards(order):
        lost = refunded_fen if board is Board.SALES else (1 if fully else 0)
        if lost == 0:
            continue
        _add(tx, level1 or "", board, paid_month, -lost)
        if rewards is None:
            continue
        reward = rewards.get(board)
        if reward is None:
            tx.condition_check(LedgerItem, level1, reward_sk(board, paid_month), condition=LedgerItem.sk.does_not_exist())
        elif reward.clawback and reward.status in (CommissionStatus.PENDING.value, CommissionStatus.AVAILABLE.value):
            _take_back(tx, reward, order.order_id, lost, now, wallets, tag)


def _add(tx: TransactWrite, user_id: str, board: Board, month: str, value: int) -> None:
    tx.update(LedgerItem(user_id, board_sk(board, month)),
              actions=[LedgerItem.board_value.add(value),
                       LedgerItem.board_part.set(part_key(board, month, shard_of(user_id)))])


def _take_back(tx: TransactWrite, reward: Reward, order_id: str, lost: int, now: datetime,
               wallets: dict[str, dict[str, int]], tag: str) -> None:
    lost_after = reward.lost_value + lost
    fen = reward.amount_fen - kept_fen(reward.reward_fen, reward.close_value, lost_after, True)
    condition = (LedgerItem.status == reward.status) & (
        LedgerItem.lost_value.does_not_exist() | (LedgerItem.lost_value == reward.lost_value))
    actions: list[Any] = [LedgerItem.lost_value.set(lost_after), LedgerItem.amount_fen.add(-fen)]
    if fen == reward.amount_fen and reward.status == CommissionStatus.PENDING.value:  # nothing left to settle
        actions += [LedgerItem.status.set(REVERSED), *unlist_settlement()]
    tx.update(LedgerItem(reward.user_id, reward_sk(reward.board, reward.month)), actions=actions, condition=condition)
    if fen <= 0:
        return
    clawback = reward.status == CommissionStatus.AVAILABLE.value
    kind = "leaderboard_clawback" if clawback else "leaderboard_reversal"
    tx.save(LedgerItem(reward.user_id, f"{reward_entry(reward.board, reward.month, kind)}#{order_id}{tag}",
                       order_id=order_id, level=0, amount_fen=fen, kind=kind, at=now, status=f"{reward.status}>-"),
            condition=LedgerItem.sk.does_not_exist())
    balances = wallets.setdefault(reward.user_id, {})
    balances[reward.status] = balances.get(reward.status, 0) - fen


class LeaderboardStore:
    """The boards' reads and the close job's writes."""

    # Reading a board ----------------------------------------------------------------------------

    def head(self, board: Board, month: str, top: int) -> list[Row]:
        """Every row that ranks in the first ``top`` of a board: each shard's ``top`` highest
        values (one Query each, descending), and where a full shard ends exactly on the merged
        ``top``-th value, the rest of its rows tied at that value (one more Query, rare)."""
        pages = {shard: self._shard_head(board, month, shard, top) for shard in SHARDS}
        rows = [row for page in pages.values() for row in page]
        edge = threshold(rows, top)
        for shard, page in pages.items():
            if edge is not None and len(page) == top and page[-1].value == edge:
                seen = {row.user_id for row in page}
                rows += [row for row in self._tied(board, month, shard, edge) if row.user_id not in seen]
        return rows

    def _shard_head(self, board: Board, month: str, shard: str, top: int) -> list[Row]:
        items = LedgerItem.boards.query(part_key(board, month, shard), LedgerItem.board_value > 0,
                                        scan_index_forward=False, limit=top, page_size=top)
        return [Row(item.pk, int(item.board_value or 0)) for item in items]

    def _tied(self, board: Board, month: str, shard: str, value: int) -> list[Row]:
        items = LedgerItem.boards.query(part_key(board, month, shard), LedgerItem.board_value == value)
        return [Row(item.pk, value) for item in items]

    def value(self, user_id: str, board: Board, month: str) -> int:
        """A user's value on a board (0 without one): one GetItem."""
        try:
            item = LedgerItem.get(user_id, board_sk(board, month), attributes_to_get=["board_value"])
        except LedgerItem.DoesNotExist:
            return 0
        return int(item.board_value or 0)

    def above(self, board: Board, month: str, value: int) -> int:
        """How many users have a higher value on a board: one counted Query per shard (DynamoDB
        counts the index's keys above ``value`` in the partition; it pages past 1 MB, ~10,000 keys)."""
        return sum(LedgerItem.boards.count(part_key(board, month, shard), LedgerItem.board_value > value)
                   for shard in SHARDS)

    # The month's close ---------------------------------------------------------------------------

    def standing(self, board: Board, month: str) -> list[Award] | None:
        """The awards decided at the close of a board's month, None before (one consistent GetItem)."""
        try:
            item = LedgerItem.get(f"lbclose#{board.value}#{month}", "standing", consistent_read=True)
        except LedgerItem.DoesNotExist:
            return None
        return [Award(**award) for award in json.loads(item.standing_json or "[]")]

    def decide(self, board: Board, month: str, awards: list[Award], now: datetime) -> bool:
        """Put the standing once: False when another run decided it first (read theirs)."""
        item = LedgerItem(f"lbclose#{board.value}#{month}", "standing", at=now,
                          standing_json=json.dumps([a.__dict__ for a in awards]))
        try:
            item.save(condition=LedgerItem.pk.does_not_exist())
        except PutError as exc:
            if cause_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def payment_reads(self, user_id: str, board: Board, month: str) -> tuple[Reward | None, int | None]:
        """The reward (None: not paid yet) and the board's value now (None: no item) of an award, in
        one consistent BatchGetItem."""
        reward, value = None, None
        for item in LedgerItem.batch_get([(user_id, reward_sk(board, month)), (user_id, board_sk(board, month))],
                                         consistent_read=True):
            if item.sk.startswith(REWARD):
                reward = _reward(item)
            else:
                value = int(item.board_value or 0)
        return reward, value

    def rewards(self, user_id: str, boards: list[Board], month: str) -> dict[Board, Reward | None]:
        """A user's rewards of a month on ``boards`` (None where none), in one consistent BatchGetItem."""
        found: dict[Board, Reward | None] = {board: None for board in boards}
        keys = [(user_id, reward_sk(board, month)) for board in boards]
        for item in LedgerItem.batch_get(keys, consistent_read=True) if keys else []:
            reward = _reward(item)
            found[reward.board] = reward
        return found

    def rewards_of(self, board: Board, month: str, user_ids: list[str]) -> dict[str, Reward]:
        """The rewards of a board's month of several users (one BatchGetItem, by 100)."""
        keys = [(user_id, reward_sk(board, month)) for user_id in dict.fromkeys(user_ids)]
        return {item.pk: _reward(item) for item in LedgerItem.batch_get(keys, consistent_read=True)} if keys else {}

    def pay(self, award: Award, board: Board, month: str, value_read: int | None, kept: int, clawback: bool,
            available_at: datetime, now: datetime) -> None:
        """Pay an award once: the reward item (conditioned absent) with what it keeps (``kept``:
        the reward less the share of refunds since the close, when ``clawback``), its entry
        (``->pending``) and ``pending`` += kept, listed in ``settle_queue`` for ``available_at``;
        conditioned on the board's value as read (a refund committed meanwhile: read again) and
        on the distributor not frozen (a freeze racing it: read again). All of it taken back
        already (``kept`` 0): the reward is recorded reversed, nothing moves.
        TransactionFailed when anything changed: the caller reads again."""
        user_id = award.user_id
        item = LedgerItem(user_id, reward_sk(board, month), amount_fen=kept, reward_fen=award.reward_fen,
                          rank=award.rank, close_value=award.value, lost_value=max(award.value - (value_read or 0), 0),
                          clawback=clawback, at=now,
                          status=CommissionStatus.PENDING.value if kept > 0 else REVERSED)
        if kept > 0:
            item.available_at = available_at
            item.settle_shard, item.settle_key = settle_keys(user_id, reward_sk(board, month),
                                                             0, available_at)
        value_is = LedgerItem.sk.does_not_exist() if value_read is None else LedgerItem.board_value == value_read
        try:
            with TransactWrite(connection=LedgerItem._get_connection().connection) as tx:
                tx.save(item, condition=LedgerItem.sk.does_not_exist())
                tx.condition_check(LedgerItem, user_id, board_sk(board, month), condition=value_is)
                tx.condition_check(UserItem, user_id, PROFILE, condition=UserItem.frozen_at.does_not_exist())
                if kept > 0:
                    tx.save(LedgerItem(user_id, reward_entry(board, month), amount_fen=kept, kind="leaderboard_reward",
                                       at=now, status="->pending"),
                            condition=LedgerItem.sk.does_not_exist())
                    tx.update(LedgerItem(user_id, WALLET), actions=[LedgerItem.pending_fen.add(kept), touch(user_id, now)])
        except TransactWriteError as exc:
            raise transaction_failure(exc) from exc

    def forfeit(self, award: Award, board: Board, month: str, now: datetime) -> None:
        """Record an award forfeited (its distributor frozen at payment, conditioned so), once."""
        try:
            with TransactWrite(connection=LedgerItem._get_connection().connection) as tx:
                tx.save(LedgerItem(award.user_id, reward_sk(board, month), amount_fen=0, reward_fen=award.reward_fen,
                                   rank=award.rank, close_value=award.value, status=FORFEITED, at=now),
                        condition=LedgerItem.sk.does_not_exist())
                tx.condition_check(UserItem, award.user_id, PROFILE, condition=UserItem.frozen_at.exists())
        except TransactWriteError as exc:
            raise transaction_failure(exc) from exc

    # The job's marks ----------------------------------------------------------------------------

    def done(self, sk: str) -> bool:
        try:
            LedgerItem.get(JOB_MARK, sk, consistent_read=True)
        except LedgerItem.DoesNotExist:
            return False
        return True

    def mark_done(self, sk: str, now: datetime) -> None:
        LedgerItem(JOB_MARK, sk, at=now).save()

"""Monthly leaderboards (月度榜单, DOMAIN.md §9): who counts on which board, how a board ranks,
what its reward keeps after refunds. Pure: the store keeps the values, the services read them.

Two boards, each a Shanghai calendar month:

* ``sales``: the paid, unrefunded value of the orders of the month whose **level-1 distributor**
  is the one ranked (the same figure as the tier's month sales: a self-purchase through one's own
  shop counts, as it does for the tier);
* ``new_customers``: buyers whose **first paid order** (of a price above zero) the distributor
  brought as its level 1, while that order is not wholly refunded. Heads recruited never count
  (DOMAIN.md §1: paying per head is what the anti-pyramid rule describes); one's own purchase
  is not a customer brought.

Ranking is "competition" ranking: equal values share a rank and the next rank skips (1, 2, 2, 4);
a value of 0 is not ranked. A rank's reward goes to every distributor holding it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from chalicelib.domain.errors import Kind, error
from chalicelib.domain.invariants import holds
from chalicelib.domain.orders import Order

BoardNotFound = error("LEADERBOARD_NOT_FOUND", Kind.NOT_FOUND, "No leaderboard has this name (sales, new_customers).")
MonthOutOfRange = error("MONTH_OUT_OF_RANGE", Kind.INVALID,
                        "The month is in the future, or older than the months a distributor may read.")

MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


class Board(StrEnum):
    SALES = "sales"
    NEW_CUSTOMERS = "new_customers"


def board_named(name: str) -> Board:
    try:
        return Board(name)
    except ValueError:
        raise BoardNotFound(f"no leaderboard named {name!r}", board=name) from None


def months_between(earlier: str, later: str) -> int:
    """How many months ``later`` is after ``earlier`` (both ``YYYY-MM``; negative if before)."""
    (y1, m1), (y2, m2) = ((int(p) for p in m.split("-")) for m in (earlier, later))
    return (y2 - y1) * 12 + (m2 - m1)


def check_month(month: str, current: str, history: int | None) -> str:
    """A month a caller may read: not after ``current``; with ``history`` (a distributor), at most
    that many months before it. ``None``: any past month (the operator)."""
    holds(bool(MONTH.match(month)), "the month is YYYY-MM (the schema checks it)")
    back = months_between(month, current)
    if back < 0 or (history is not None and back > history):
        raise MonthOutOfRange("the board of this month cannot be read", month=month, current=current,
                              **({"history_months": history} if history is not None else {}))
    return month


def counted_boards(order: Order) -> list[Board]:
    """The boards a paid order counts on for its level 1, in the month it was paid in."""
    if not order.upline.level1 or order.amount_fen <= 0:
        return []
    return [Board.SALES, Board.NEW_CUSTOMERS] if order.new_customer else [Board.SALES]


def part_key(board: Board, month: str, shard: str) -> str:
    """A partition of a board's sorted index: one per board, month and user shard (16), so no
    partition takes a write per order from the whole mall."""
    return f"{board.value}#{month}#{shard}"


@dataclass(frozen=True)
class Row:
    user_id: str
    value: int


@dataclass(frozen=True)
class Ranked:
    rank: int
    user_id: str
    value: int


def rank_rows(rows: list[Row], top: int) -> list[Ranked]:
    """The rows ranked (value descending, ties by user id for a stable order), those with a rank
    ≤ ``top``. ``rows`` must hold every row whose value is above the ``top``-th's (the merged
    heads of the shards do)."""
    ordered = sorted((r for r in rows if r.value > 0), key=lambda r: (-r.value, r.user_id))
    ranked: list[Ranked] = []
    for index, row in enumerate(ordered):
        rank = ranked[-1].rank if ranked and ranked[-1].value == row.value else index + 1
        if rank > top:
            break
        ranked.append(Ranked(rank, row.user_id, row.value))
    return ranked


def threshold(rows: list[Row], top: int) -> int | None:
    """The ``top``-th highest value among ``rows`` (None when fewer rows rank): a shard whose
    page was full may hold more rows tied at exactly this value."""
    values = sorted((r.value for r in rows if r.value > 0), reverse=True)
    return values[top - 1] if len(values) >= top else None


@dataclass(frozen=True)
class Award:
    """A rank's reward as decided at the month's close: to whom, the value ranked, the fen."""

    rank: int
    user_id: str
    value: int
    reward_fen: int


def awards(ranked: list[Ranked], rewards_fen: tuple[int, ...]) -> list[Award]:
    """The rewards of a closed board: rank r earns ``rewards_fen[r-1]`` (nothing past the list or
    at 0), to each distributor holding it."""
    return [Award(r.rank, r.user_id, r.value, rewards_fen[r.rank - 1])
            for r in ranked if r.rank <= len(rewards_fen) and rewards_fen[r.rank - 1] > 0]


def kept_fen(reward_fen: int, close_value: int, lost_value: int, clawback: bool) -> int:
    """What a reward keeps once refunds after the close took ``lost_value`` of the ``close_value``
    it was ranked on: all of it without clawback; else the reward less its refunded share,
    the share floored to the fen (like a commission's reversal), never below 0. Cumulative, so
    successive refunds never take more than one refund of their sum would."""
    if not clawback or close_value <= 0:
        return reward_fen
    lost = min(max(lost_value, 0), close_value)
    return reward_fen - reward_fen * lost // close_value


def mask_nickname(nickname: str) -> str:
    """A distributor's name as other distributors see it on a board: the first character and
    ``**`` (张**, A**); an empty one is ``**``."""
    return f"{nickname[:1]}**"

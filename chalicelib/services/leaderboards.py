"""Monthly leaderboards (docs/leaderboards.md): reading a board, and the month's close that pays
the rewards once (the ``leaderboard_rewards`` job, daily at 00:50 Shanghai).

The values are kept by the order's own transactions (store/leaderboards.py ``on_payment`` and
``on_refund``); a read merges the 16 shards of the board's sorted index and never scans.

The close, per board of a month that ended: the **standing** (who ranked where, the reward of
each rank from the rules in force) is decided once, put only if absent, so runs racing each other
decide one; then each award is paid in its own transaction, put only if absent (a second run, a
late one, a concurrent one finds it paid). A board is marked done when every award is paid (or
forfeited), the month when both boards are: later runs plan nothing (two GetItems).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from chalicelib.domain.clock import business_month, previous_month
from chalicelib.domain.errors import Unavailable
from chalicelib.domain.invariants import holds, present
from chalicelib.domain.leaderboards import (
    MONTH,
    Award,
    Board,
    Ranked,
    awards,
    board_named,
    check_month,
    counted_boards,
    kept_fen,
    mask_nickname,
    rank_rows,
)
from chalicelib.domain.orders import Order
from chalicelib.domain.slices import Progress
from chalicelib.services.retry import run_until_committed

if TYPE_CHECKING:
    from chalicelib.bootstrap import Deps
    from chalicelib.jobs.engine import Deadline
    from chalicelib.store.leaderboards import BoardRewards, Reward

ATTEMPTS = 5
LOOKBACK_MONTHS = 2  # a run pays the month that ended and, if a run missed it, the one before


@dataclass(frozen=True)
class Standing:
    """A board as read: its month, the ranked rows (rank ≤ the rules' ``top``) with each one's
    nickname, and the caller's own rank (None: not ranked) and value."""

    month: str
    rows: list[tuple[Ranked, str]]
    me: tuple[int | None, int] | None


def read_board(name: str, month: str | None, caller_id: str, deps: Deps) -> Standing:
    """A board as a distributor sees it: the current month by default, or one of the
    ``history_months`` before; the others' nicknames masked, the caller's own rank."""
    board, rules = board_named(name), deps.rules.leaderboards
    current = business_month(deps.clock())
    month = check_month(month or current, current, rules.history_months)
    rows = _head(board, month, rules.top, deps)
    ranked = {r.user_id: r for r, _ in rows}
    value = max(deps.leaderboards.value(caller_id, board, month), 0)
    if value == 0:
        rank = None
    elif caller_id in ranked:
        rank = ranked[caller_id].rank
    else:
        rank = deps.leaderboards.above(board, month, value) + 1
    shown = [(r, name if r.user_id == caller_id else mask_nickname(name)) for r, name in rows]
    return Standing(month, shown, (rank, value))


@dataclass(frozen=True)
class AdminBoard:
    """A board as the operator sees it: the ranking with user ids and full nicknames, and once the
    month has closed its awards with each reward's state."""

    month: str
    rows: list[tuple[Ranked, str]]
    awards: list[tuple[Award, Reward | None]] | None


def admin_board(name: str, month: str | None, deps: Deps) -> AdminBoard:
    """Any month up to the current one: the live ranking (for a closed month: as refunds since
    left it) and the standing decided at its close, with each award's reward as paid."""
    board, rules = board_named(name), deps.rules.leaderboards
    current = business_month(deps.clock())
    month = check_month(month or current, current, None)
    rows = _head(board, month, rules.top, deps)
    standing = deps.leaderboards.standing(board, month)
    decided = None
    if standing is not None:
        paid = deps.leaderboards.rewards_of(board, month, [a.user_id for a in standing])
        decided = [(award, paid.get(award.user_id)) for award in standing]
    return AdminBoard(month, rows, decided)


def _head(board: Board, month: str, top: int, deps: Deps) -> list[tuple[Ranked, str]]:
    """The ranked rows with their nicknames (the rows' users in one BatchGetItem)."""
    ranked = rank_rows(deps.leaderboards.head(board, month, top), top)
    users = deps.users.get_many([r.user_id for r in ranked]) if ranked else {}
    return [(r, users[r.user_id].nickname if r.user_id in users else "") for r in ranked]


def refund_rewards(order: Order, paid_month: str, deps: Deps) -> BoardRewards | None:
    """What a refund of ``order`` reads for the leaderboards: level 1's rewards of the paid month
    on the boards the order counted on (one BatchGetItem), once that month has ended; None in the
    paid month itself (no reward exists before the close) or when it counted on none."""
    boards = counted_boards(order)
    if not boards or paid_month >= business_month(deps.clock()):
        return None
    return deps.leaderboards.rewards(present(order.upline.level1, "a counted order's level 1"), boards, paid_month)


# The month's close (the ``leaderboard_rewards`` job) ---------------------------------------------

def close_parts(now: datetime, deps: Deps) -> list[str]:
    """The boards still to close of the month that ended (and the one before it): ``<board>#<month>``
    for each board without its done mark, none for a month marked done."""
    parts, month = [], business_month(now)
    for _ in range(LOOKBACK_MONTHS):
        month = previous_month(month)
        if deps.leaderboards.done(f"month#{month}"):
            continue
        parts += [f"{board.value}#{month}" for board in Board if not deps.leaderboards.done(_board_mark(board, month))]
    return parts


def close_part(part: str, cursor: str | None, now: datetime, deps: Deps, deadline: Deadline) -> Progress:
    """One board of a month: its standing decided once, each award paid once (a board has at most
    the rules' ``top`` awards plus ties: one slice). Marked done when none was deferred."""
    board, month = _parse(part)
    standing = deps.leaderboards.standing(board, month)
    if standing is None:
        standing = decide(board, month, now, deps)
    counts: Counter[str] = Counter()
    for award in standing:
        outcome, fen = pay(award, board, month, now, deps)
        counts[outcome] += 1
        counts["paid_fen"] += fen
    if not counts["deferred"]:
        deps.leaderboards.mark_done(_board_mark(board, month), now)
    return Progress(dict(counts))


def decide(board: Board, month: str, now: datetime, deps: Deps) -> list[Award]:
    """The awards of a board's month from its ranking now and the rules' rewards, put once; the
    standing another run put first when it did."""
    rewards = deps.rules.leaderboards.rewards_of(board.value)
    rows = deps.leaderboards.head(board, month, len(rewards)) if rewards else []
    decided = awards(rank_rows(rows, len(rewards)), rewards)
    if deps.leaderboards.decide(board, month, decided, now):
        return decided
    return present(deps.leaderboards.standing(board, month), "the standing another run decided")


def pay(award: Award, board: Board, month: str, now: datetime, deps: Deps) -> tuple[str, int]:
    """One award, once: (``paid`` | ``already_paid`` | ``forfeited`` | ``deferred``, fen paid).
    Read, decide, commit: the reward and the board's value now (refunds since the close take
    their share under clawback), the distributor's freeze (a frozen one forfeits it)."""
    rules = deps.rules.leaderboards
    available_at = now + timedelta(days=rules.hold_days)

    def step() -> tuple[str, int]:
        reward, value = deps.leaderboards.payment_reads(award.user_id, board, month)
        if reward is not None:
            return "already_paid", 0
        user = deps.users.get(award.user_id)
        if user is not None and user.frozen:
            deps.leaderboards.forfeit(award, board, month, now)
            return "forfeited", 0
        lost = max(award.value - (value or 0), 0)
        kept = kept_fen(award.reward_fen, award.value, lost, rules.clawback)
        deps.leaderboards.pay(award, board, month, value, kept, rules.clawback, available_at, now)
        return "paid", kept

    try:
        return run_until_committed(step, attempts=ATTEMPTS, what="this reward")
    except Unavailable:  # too busy now: the board is not marked done, so the next run pays it
        return "deferred", 0


def finish_close(now: datetime, deps: Deps, counts: dict[str, int]) -> dict[str, Any]:
    """After every part of a run: a month whose boards are all done is marked done."""
    month, closed = business_month(now), []
    for _ in range(LOOKBACK_MONTHS):
        month = previous_month(month)
        if deps.leaderboards.done(f"month#{month}"):
            continue
        if all(deps.leaderboards.done(_board_mark(board, month)) for board in Board):
            deps.leaderboards.mark_done(f"month#{month}", now)
            closed.append(month)
    return {"closed": closed, **{key: counts.get(key, 0) for key in ("paid", "paid_fen", "already_paid",
                                                                     "forfeited", "deferred")}}


def _board_mark(board: Board, month: str) -> str:
    return f"board#{board.value}#{month}"


def _parse(part: str) -> tuple[Board, str]:
    """A part's board and month; ValueError if it is not one this job planned."""
    name, _, month = part.partition("#")
    holds(name in {b.value for b in Board} and bool(MONTH.match(month)), f"a leaderboard part ({part!r})")
    return Board(name), month

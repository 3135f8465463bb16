"""The distributor's ledger as they read it (佣金明细): every money line, with the balances after it.

Every movement of a wallet is a ledger entry whose ``status`` is ``"<from>><to>"`` over the
wallet's buckets (``-`` = outside the wallet), written in the transaction that moves the money
(store/ledger.py). So the balances after any line are the wallet's balances now minus the
movements of every newer line: a page read newest first needs the wallet once (the first page)
and then only the balances after its own last line, which the next page's cursor carries.

Stored kinds are the writers' words; a distributor sees a few stable ones (API.md "The
distributor's centre"): ``public_kind`` is the one mapping, also stored on each entry
(``line_kind``) so that ``?kind=`` is a filter of the same Query. Balances are a property of the
whole sequence: a list filtered by kind shows none.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

BUCKETS = ("pending", "frozen", "available", "withdrawing", "withdrawn")

# Stored kind → the kind a distributor sees; kinds not listed (and not ending in one of the
# suffixes below) are shown as stored.
_RENAMED = {"accrual": "commission", "reward": "invitation_reward"}
_SUFFIXES = ("clawback", "reversal")
PUBLIC_KINDS = ("commission", "completion", "settlement", "reversal", "clawback", "team_bonus",
                "invitation_reward", "leaderboard_reward", "withdrawal", "withdrawal_paid", "withdrawal_return")


def public_kind(stored: str) -> str:
    """What a stored entry kind is called in the ledger: ``accrual`` → ``commission``, the
    milestone's ``reward`` → ``invitation_reward``, any ``…_clawback`` / ``…_reversal``
    (team bonus, leaderboard) → ``clawback`` / ``reversal``."""
    if stored in _RENAMED:
        return _RENAMED[stored]
    for suffix in _SUFFIXES:
        if stored.endswith(f"_{suffix}"):
            return suffix
    return stored


def public_note(sk: str) -> str | None:
    """A short note naming what a line is about when its key says it and no order does:
    ``team_bonus 2026-11``, ``milestone 10``, ``leaderboard sales 2026-11``."""
    parts = sk.split("#")
    if len(parts) < 3:
        return None
    cause = parts[1]
    if cause == "teambonus":
        return f"team_bonus {parts[2]}"
    if cause == "milestone":
        return f"milestone {int(parts[2])}" if parts[2].isdigit() else None
    if cause == "leaderboard" and len(parts) >= 4:
        return f"leaderboard {parts[2]} {parts[3]}"
    return None


def movement(status: str | None) -> tuple[str | None, str | None]:
    """The buckets an entry's ``status`` (``"<from>><to>"``) moves money from and to (None:
    outside the wallet). A status of neither shape moves nothing."""
    source, sep, target = (status or "").partition(">")
    if not sep:
        return None, None
    return (source if source in BUCKETS else None), (target if target in BUCKETS else None)


def before(balances: dict[str, int], status: str | None, amount_fen: int) -> dict[str, int]:
    """The balances before a line, from those after it: its movement undone."""
    source, target = movement(status)
    earlier = dict(balances)
    if source:
        earlier[source] = earlier.get(source, 0) + amount_fen
    if target:
        earlier[target] = earlier.get(target, 0) - amount_fen
    return earlier


@dataclass(frozen=True)
class LedgerEntry:
    """An entry as stored: its key (``sk``), stored kind, size, time, movement and order."""

    sk: str
    kind: str
    amount_fen: int
    at: datetime
    status: str | None
    order_id: str | None


@dataclass(frozen=True)
class LedgerLine:
    """A line as shown: the entry with its public kind and note, and the balances after it (None
    in a list filtered by kind)."""

    entry: LedgerEntry
    kind: str
    note: str | None
    balances: dict[str, int] | None


def lines(entries: list[LedgerEntry], balances_after_first: dict[str, int] | None
          ) -> tuple[list[LedgerLine], dict[str, int] | None]:
    """``entries`` newest first, each with the balances after it, starting from the balances
    after the first (None: no balances). Returns the lines and the balances before the last
    entry (= after the next page's first)."""
    shown, balances = [], balances_after_first
    for entry in entries:
        shown.append(LedgerLine(entry, public_kind(entry.kind), public_note(entry.sk), balances))
        if balances is not None:
            balances = before(balances, entry.status, entry.amount_fen)
    return shown, balances


def mask_nickname(nickname: str | None) -> str:
    """A buyer's nickname as a distributor sees it: the first character and ``**`` (张** / A**)."""
    name = (nickname or "").strip()
    return f"{name[0]}**" if name else "**"

"""The invitation ladder (DOMAIN.md §1, §4): 10 invitees → a gift pack, 50 → cash back.

An invitee counts only once they have made a paid, unrefunded purchase: paying per head merely
recruited is what the anti-pyramid regulation forbids; paying for customers brought is not.

A milestone is recorded in the transaction that counts the invitee reaching it (the order's
completion, ``on_qualification``), with its cash when it has some: never by a later sweep.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Milestone:
    invitees: int
    reward: str  # "gift_pack" (a physical pack to fulfil) or "cash" (credited by the wallet)
    cash_fen: int = 0

    def __post_init__(self) -> None:
        if self.invitees < 1 or self.reward not in ("gift_pack", "cash") or self.cash_fen < 0:
            raise ValueError(f"invalid milestone {self}")
        if (self.reward == "cash") != (self.cash_fen > 0):
            raise ValueError("a cash milestone has a positive amount, a gift pack none")


@dataclass(frozen=True)
class InvitationLadder:
    milestones: tuple[Milestone, ...]

    def __post_init__(self) -> None:
        counts = [m.invitees for m in self.milestones]
        if counts != sorted(set(counts)):
            raise ValueError("milestones are listed in increasing order of invitees, once each")

    def reached(self, qualified_invitees: int) -> list[Milestone]:
        return [m for m in self.milestones if qualified_invitees >= m.invitees]


@dataclass(frozen=True)
class Qualification:
    """What counting one more qualified invitee does: the milestones to record now (reached by
    the new count and not recorded yet) and, when there are none, the bound the count must stay
    below for that to hold (the counting transaction's condition; None: no milestone is left)."""

    before: int
    record: tuple[Milestone, ...]
    below: int | None

    @property
    def cash_fen(self) -> int:
        return sum(m.cash_fen for m in self.record)


def on_qualification(ladder: InvitationLadder, before: int, recorded: set[int]) -> Qualification:
    """Counting an invitee for a distributor who had ``before`` qualified invitees and has the
    milestones of ``recorded`` (by invitee count) recorded already. A milestone the ladder gained
    below a count already passed is recorded with the next invitee counted."""
    after = before + 1
    record = tuple(m for m in ladder.reached(after) if m.invitees not in recorded)
    if record:
        return Qualification(before, record, None)
    ahead = [m.invitees for m in ladder.milestones if m.invitees > after and m.invitees not in recorded]
    return Qualification(before, (), min(ahead) - 1 if ahead else None)

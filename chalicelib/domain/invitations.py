"""The invitation ladder (DOMAIN.md §1, §4): 10 invitees → a gift pack, 50 → cash back.

An invitee counts only once they have made a paid, unrefunded purchase: paying per head merely
recruited is what the anti-pyramid regulation forbids; paying for customers brought is not.
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

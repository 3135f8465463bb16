"""A user of the mall as the services see them (the store maps items to this)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from chalicelib.domain.binding import Member
from chalicelib.domain.clock import previous_month
from chalicelib.domain.tiers import Tier, TierStats


@dataclass(frozen=True)
class Shop:
    name: str
    opened_at: datetime


@dataclass(frozen=True)
class MonthSales:
    """Referred sales of the current and the previous month (paid minus refunded, in fen)."""

    month: str | None = None  # YYYY-MM (Asia/Shanghai) the ``fen`` figure belongs to
    fen: int = 0
    previous_fen: int = 0  # of the month before ``month``

    def of(self, month: str) -> int:
        if self.month == month:
            return self.fen
        if self.month is not None and previous_month(self.month) == month:
            return self.previous_fen
        return 0


@dataclass(frozen=True)
class User:
    user_id: str
    openid: str
    nickname: str
    created_at: datetime
    member: Member = field(default_factory=lambda: Member(""))
    bound_at: datetime | None = None
    invite_code: str | None = None
    shop: Shop | None = None
    tier: Tier = Tier.REGULAR
    tier_month: str | None = None
    sales: MonthSales = MonthSales()
    qualified_invitees: int = 0
    qualified_at: datetime | None = None  # first completed order: counted for their inviter
    real_name_verified: bool = False
    real_name: str | None = field(default=None, repr=False)  # only for the transfer's encrypted user_name
    manual_tier: Tier | None = None  # set by the operator: no automatic move until lifted (docs/referrals.md)
    frozen_at: datetime | None = None  # frozen by the operator: no new commission, no withdrawal (docs/wallet.md)

    @property
    def frozen(self) -> bool:
        return self.frozen_at is not None

    def tier_stats(self, month: str) -> TierStats:
        return TierStats(self.member.direct_count, self.member.team_count, self.sales.of(month))

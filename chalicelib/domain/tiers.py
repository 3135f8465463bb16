"""Distributor tiers: regular, senior, partner (DOMAIN.md §1), as configurable rules.

Upgrades apply as soon as this month's figures meet a rule: in the transaction that moves the
figure (a payment, a binding), never later. Downgrades follow an explicit policy: ``never`` keeps
a tier once reached; ``month_end`` (default) re-decides the tier at the month change from the
month that just ended, so a distributor keeps a tier for the rest of the month in which they
earned it and the whole following month. The month change only ever downgrades or keeps
(``month_change``): a tier above the one held comes from this month's figures alone.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from itertools import pairwise


class Tier(StrEnum):
    REGULAR = "regular"
    SENIOR = "senior"
    PARTNER = "partner"

    @property
    def rank(self) -> int:
        return list(Tier).index(self)


@dataclass(frozen=True)
class TierStats:
    direct_count: int
    team_count: int
    month_sales_fen: int


@dataclass(frozen=True)
class Threshold:
    """One rule of an upgrade guard (``TierRules.upgrade_guard``): a distributor whose tier is
    in ``held`` needs no upgrade to ``tier``; anyone else stays short of it while one of their
    figures is below its bound (None: that figure cannot keep them short: the rule asks nothing
    of it beyond what the delta brings)."""

    tier: Tier
    held: tuple[Tier, ...]
    direct_below: int | None
    team_below: int | None
    sales_below: int | None


def _positive(bound: int) -> int | None:
    """A bound a figure (never negative) can be below: figures are counts and paid sums."""
    return bound if bound > 0 else None


@dataclass(frozen=True)
class TierRule:
    tier: Tier
    min_direct: int = 0
    min_team: int = 0
    min_month_sales_fen: int = 0
    uplift_bp: int = 0  # percentage points added to a product's level-1 rate, in basis points

    def needs(self, stats: TierStats) -> dict[str, int]:
        """What is still missing to meet this rule (empty when met)."""
        gaps = {
            "direct_count": self.min_direct - stats.direct_count,
            "team_count": self.min_team - stats.team_count,
            "month_sales_fen": self.min_month_sales_fen - stats.month_sales_fen,
        }
        return {name: gap for name, gap in gaps.items() if gap > 0}


@dataclass(frozen=True)
class TierRules:
    rules: tuple[TierRule, ...]
    downgrade: str = "month_end"

    def __post_init__(self) -> None:
        tiers = [r.tier for r in self.rules]
        if Tier.REGULAR in tiers or len(set(tiers)) != len(tiers):
            raise ValueError("tier rules name senior and/or partner, once each")
        ordered = sorted(self.rules, key=lambda r: r.tier.rank)
        for lower, higher in pairwise(ordered):
            if higher.uplift_bp < lower.uplift_bp:
                raise ValueError("a higher tier cannot earn a smaller uplift")
        object.__setattr__(self, "rules", tuple(ordered))
        if self.downgrade not in ("never", "month_end"):
            raise ValueError("downgrade is 'never' or 'month_end'")

    def qualified(self, stats: TierStats) -> Tier:
        """The highest tier whose rule ``stats`` meet."""
        best = Tier.REGULAR
        for rule in self.rules:
            if not rule.needs(stats):
                best = rule.tier
        return best

    def next_tier(self, current: Tier, stats: TierStats) -> tuple[Tier, dict[str, int]] | None:
        """The next tier above ``current`` and what is missing for it; None at the top."""
        for rule in self.rules:
            if rule.tier.rank > current.rank:
                return rule.tier, rule.needs(stats)
        return None

    def uplift_bp(self, tier: Tier) -> int:
        return next((r.uplift_bp for r in self.rules if r.tier is tier), 0)

    def month_change(self, current: Tier, this_month: TierStats, last_month: TierStats) -> Tier:
        """The tier a distributor holds in a new month: ``evaluate`` with last month's figures,
        never above ``current`` (figures that grew after the month closed, the direct and team
        counts, are not last month's; an upgrade is this month's figures' to make)."""
        return min(current, self.evaluate(current, this_month, last_month), key=lambda t: t.rank)

    def upgrade_guard(self, delta: TierStats) -> tuple[Threshold, ...]:
        """When adding ``delta`` to a distributor's figures of the month upgrades nobody, whatever
        their tier and figures: for each rule, the distributor holds its tier (or a higher one)
        already, or one of their figures, before the delta, is below the rule's threshold minus
        the delta (so it still misses it after). A transaction that moves the figures without a
        tier decision is conditioned on this, so concurrent moves never skip an upgrade (the
        one whose condition fails reads and decides) and never wait for each other otherwise."""
        return tuple(Threshold(
            rule.tier, tuple(t for t in Tier if t.rank >= rule.tier.rank),
            _positive(rule.min_direct - delta.direct_count), _positive(rule.min_team - delta.team_count),
            _positive(rule.min_month_sales_fen - delta.month_sales_fen)) for rule in self.rules)

    def upgrade(self, current: Tier, after: TierStats) -> Tier | None:
        """The tier this month's figures ``after`` an event lift a distributor holding
        ``current`` to, or None when they lift them nowhere (no downgrade within a month)."""
        reached = self.qualified(after)
        return reached if reached.rank > current.rank else None

    def evaluate(self, current: Tier, this_month: TierStats, last_month: TierStats | None) -> Tier:
        """The tier after an evaluation. ``last_month`` is given only at the first evaluation of a
        new month; under the ``month_end`` policy the tier is then re-decided from it."""
        reached = self.qualified(this_month)
        if last_month is not None and self.downgrade == "month_end":
            return max(self.qualified(last_month), reached, key=lambda t: t.rank)
        return max(current, reached, key=lambda t: t.rank)

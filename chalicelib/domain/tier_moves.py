"""What a change of a distributor's figures does to their tier (DOMAIN.md §1), decided where the
figures move: a payment (this month's sales), a binding (the direct and team counts), the month
change (last month's figures). Pure: the store turns a move into conditions and writes.

A move is either
* ``TierGuard``: no tier decision is due; the transaction is conditioned on the rules' upgrade
  guard (``TierRules.upgrade_guard``), which holds whatever the distributor's tier and figures
  are, so it needs no read of them and concurrent moves do not wait for each other; or
* ``TierChange``: a tier decided on the figures as read (``user``), stored with the month it was
  decided in, conditioned on every figure it read (a concurrent move makes it read again), with
  the months it shows the distributor held the partner tier in (the team bonus's roll,
  ``payouts.partner_months``), recorded in the same transaction.

``tier_month`` is the month of the last stored decision. A distributor above the base tier
whose ``tier_month`` is an earlier month awaits the month change (the ``evaluate_tiers`` job,
or an upgrade, which decides the month change with it); a base-tier distributor never does
(their tier does not depend on last month), so nothing is written for them at a month change.

A **manual tier** (``User.manual_tier``, set by the operator) stands until the operator lifts
it: no figure moves it (``on_figures`` answers ``ManualHold``, a condition that the manual tier
is still the one read), the month change keeps it (stored for the new month, so a manual
partner is on each month's roll), and it is the tier in force. A guard (the user not read)
holds for a user with a manual tier whatever their figures.
"""
from __future__ import annotations

from dataclasses import dataclass

from chalicelib.domain.clock import previous_month
from chalicelib.domain.errors import ConcurrentUpdate
from chalicelib.domain.payouts import partner_months
from chalicelib.domain.tiers import Threshold, Tier, TierRules, TierStats
from chalicelib.domain.users import User


@dataclass(frozen=True)
class TierGuard:
    """No decision: the figures move under the upgrade guard of ``month``."""

    user_id: str
    month: str
    thresholds: tuple[Threshold, ...]


@dataclass(frozen=True)
class TierChange:
    """A tier decision to store: ``tier`` for ``month``, decided on ``user`` as read."""

    user: User
    tier: Tier
    month: str
    partner_months: tuple[str, ...]

    @property
    def user_id(self) -> str:
        return self.user.user_id

    @property
    def upgraded(self) -> bool:
        return self.tier.rank > self.user.tier.rank

    @property
    def downgraded(self) -> bool:
        return self.tier.rank < self.user.tier.rank


@dataclass(frozen=True)
class ManualHold:
    """No decision: the user's tier is manual (``tier``, as read); the figures move on the
    condition that it still is (a lift meanwhile makes the use case read again and decide)."""

    user_id: str
    tier: Tier


TierMove = TierGuard | TierChange | ManualHold


class UpgradeDue(ConcurrentUpdate):
    """A transaction that moved figures under a guard (the user not read) was refused by it for
    ``user_ids``: an upgrade may be due. The use case reads them and decides (a lost race)."""

    def __init__(self, user_ids: list[str]) -> None:
        super().__init__("an upgrade may be due; read the distributor and decide")
        self.user_ids = user_ids
        self.pause = False  # nobody to let pass: the next attempt reads what the guard could not know


def awaits_month_change(user: User, month: str) -> bool:
    """Whether the user's tier for ``month`` is still to be re-decided from the month before."""
    return user.tier is not Tier.REGULAR and user.tier_month != month


def in_force(rules: TierRules, user: User, month: str) -> Tier:
    """The tier the user holds in ``month`` before the figures of an event count: the stored tier,
    re-decided from last month when the month change has not been stored yet (the commission
    of a payment in the first minutes of a month is paid at the month's tier)."""
    if user.manual_tier is not None:
        return user.manual_tier
    if not awaits_month_change(user, month):
        return user.tier
    return rules.month_change(user.tier, user.tier_stats(month), user.tier_stats(previous_month(month)))


def on_figures(rules: TierRules, user_id: str, user: User | None, delta: TierStats, month: str) -> TierMove | None:
    """The move of an event adding ``delta`` to ``user_id``'s figures of ``month``: None when
    nothing can rise (no figure grows); a guard when the user was not read or no upgrade is due;
    else the upgrade, decided with the month change when that is pending (``in_force``)."""
    if max(delta.direct_count, delta.team_count, delta.month_sales_fen) <= 0:
        return None
    guard = TierGuard(user_id, month, rules.upgrade_guard(delta))
    if user is None:
        return guard
    if user.manual_tier is not None:
        return ManualHold(user_id, user.manual_tier)
    now = user.tier_stats(month)
    after = TierStats(now.direct_count + delta.direct_count, now.team_count + delta.team_count,
                      now.month_sales_fen + delta.month_sales_fen)
    upgraded = rules.upgrade(user.tier, after)
    if upgraded is None:
        return guard
    return _change(user, upgraded, month)


def at_month_change(rules: TierRules, user: User, month: str) -> TierChange | None:
    """The month change of a distributor above the base tier (downgrade or keep, stored for
    ``month``; a manual tier is kept); None when there is none to make (decided for ``month``
    already, or base tier)."""
    if not awaits_month_change(user, month):
        return None
    return _change(user, in_force(rules, user, month), month)


def automatic_tier(rules: TierRules, user: User, month: str) -> Tier:
    """The tier the rules give a user whose manual tier is lifted in ``month``: the highest that
    this month's figures or last month's figures qualify for (what the month change and the
    upgrades would have made of them; the tier held before the manual one is not kept)."""
    reached = (rules.qualified(user.tier_stats(month)), rules.qualified(user.tier_stats(previous_month(month))))
    return max(reached, key=lambda t: t.rank)


def manual_change(rules: TierRules, user: User, tier: Tier | None, month: str) -> TierChange:
    """The operator sets ``tier`` by hand (None: lifts the manual tier, the rules' tier then):
    stored for ``month`` with the partner months it records, like any decision."""
    return _change(user, tier if tier is not None else automatic_tier(rules, user, month), month)


def _change(user: User, tier: Tier, month: str) -> TierChange:
    return TierChange(user, tier, month, tuple(partner_months(user.tier, user.tier_month, tier, month)))

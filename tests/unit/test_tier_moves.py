"""What a change of figures does to a tier (chalicelib/domain/tier_moves.py) and counting an
invitee to the ladder (``invitations.on_qualification``): pure decisions, no store."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chalicelib.domain.binding import Member
from chalicelib.domain.invitations import InvitationLadder, Milestone, on_qualification
from chalicelib.domain.tier_moves import TierChange, TierGuard, at_month_change, in_force, on_figures
from chalicelib.domain.tiers import Tier, TierRule, TierRules, TierStats
from chalicelib.domain.users import MonthSales, User

RULES = TierRules((TierRule(Tier.SENIOR, min_direct=10, min_month_sales_fen=500_000, uplift_bp=500),
                   TierRule(Tier.PARTNER, min_team=50, min_month_sales_fen=10_000_000, uplift_bp=1_000)))
DECEMBER = "2026-12"


def distributor(tier: Tier, tier_month: str | None, direct: int = 10, team: int = 10,
                sales: MonthSales = MonthSales()) -> User:
    return User("u1", "o1", "n", datetime(2026, 1, 1, tzinfo=UTC), Member("u1", direct_count=direct, team_count=team),
                invite_code="CODE0001", tier=tier, tier_month=tier_month, sales=sales)


def test_a_payment_that_meets_the_rule_upgrades_with_the_month_it_was_decided_in():
    alice = distributor(Tier.REGULAR, None, sales=MonthSales(DECEMBER, 400_000))
    move = on_figures(RULES, "u1", alice, TierStats(0, 0, 100_000), DECEMBER)
    assert isinstance(move, TierChange)
    assert (move.tier, move.month, move.partner_months, move.upgraded) == (Tier.SENIOR, DECEMBER, (), True)


def test_a_payment_short_of_the_rule_moves_under_the_guard():
    alice = distributor(Tier.REGULAR, None, sales=MonthSales(DECEMBER, 400_000))
    move = on_figures(RULES, "u1", alice, TierStats(0, 0, 99_999), DECEMBER)
    assert isinstance(move, TierGuard) and move.month == DECEMBER and len(move.thresholds) == 2


def test_a_distributor_not_read_moves_under_the_guard_and_a_shrinking_figure_needs_nothing():
    assert isinstance(on_figures(RULES, "u1", None, TierStats(0, 1, 0), DECEMBER), TierGuard)
    assert on_figures(RULES, "u1", None, TierStats(-1, -3, 0), DECEMBER) is None


def test_last_months_sales_do_not_count_for_an_upgrade_this_month():
    alice = distributor(Tier.REGULAR, None, sales=MonthSales("2026-11", 900_000))
    assert isinstance(on_figures(RULES, "u1", alice, TierStats(0, 0, 100_000), DECEMBER), TierGuard)


def test_a_distributor_awaiting_the_month_change_is_upgraded_only_above_the_tier_held():
    partner = distributor(Tier.PARTNER, "2026-10", team=60, sales=MonthSales(DECEMBER, 9_999_000))
    assert in_force(RULES, partner, DECEMBER) is Tier.SENIOR  # November brought nothing; December's sales so far
    move = on_figures(RULES, "u1", partner, TierStats(0, 0, 1_000), DECEMBER)
    assert isinstance(move, TierGuard)  # back to partner by this month's figures: no higher than held
    senior = distributor(Tier.SENIOR, "2026-11", team=60, sales=MonthSales(DECEMBER, 9_999_000))
    up = on_figures(RULES, "u1", senior, TierStats(0, 0, 1_000), DECEMBER)
    assert isinstance(up, TierChange) and (up.tier, up.partner_months) == (Tier.PARTNER, (DECEMBER,))


def test_the_tier_in_force_applies_a_pending_month_change_and_nothing_else():
    senior = distributor(Tier.SENIOR, "2026-11", sales=MonthSales("2026-11", 600_000))
    assert in_force(RULES, senior, "2026-11") is Tier.SENIOR
    assert in_force(RULES, senior, DECEMBER) is Tier.SENIOR  # November qualified
    assert in_force(RULES, senior, "2027-01") is Tier.REGULAR  # December brought nothing
    assert in_force(RULES, distributor(Tier.REGULAR, "2026-01"), DECEMBER) is Tier.REGULAR


def test_the_month_change_re_decides_a_distributor_above_the_base_tier_once_a_month():
    partner = distributor(Tier.PARTNER, "2026-11", sales=MonthSales("2026-11", 600_000))
    change = at_month_change(RULES, partner, DECEMBER)
    assert change is not None
    assert (change.tier, change.month, change.downgraded, change.partner_months) == (
        Tier.SENIOR, DECEMBER, True, ("2026-11",))
    decided = distributor(Tier.SENIOR, DECEMBER)
    assert at_month_change(RULES, decided, DECEMBER) is None
    assert at_month_change(RULES, distributor(Tier.REGULAR, "2026-05"), DECEMBER) is None


def test_a_partner_kept_at_the_month_change_is_recorded_for_the_new_month():
    never = TierRules(RULES.rules, downgrade="never")
    change = at_month_change(never, distributor(Tier.PARTNER, "2026-11"), DECEMBER)
    assert change is not None and (change.tier, change.partner_months) == (Tier.PARTNER, ("2026-11", DECEMBER))
    assert not (change.upgraded or change.downgraded)


LADDER = InvitationLadder((Milestone(10, "gift_pack"), Milestone(50, "cash", 5_000)))


@pytest.mark.parametrize(("before", "recorded", "record", "below"), [
    (0, set(), (), 9),
    (8, set(), (), 9),
    (9, set(), (10,), None),
    (10, {10}, (), 49),
    (49, {10}, (50,), None),
    (60, {10, 50}, (), None),
    (30, set(), (10,), None),  # a milestone missed (the ladder changed): recorded with the next invitee
], ids=["first", "one-short", "reaches-10", "past-10", "reaches-50", "past-all", "missed"])
def test_counting_an_invitee_records_what_it_reaches_or_names_the_bound_it_stays_below(before, recorded, record, below):
    counted = on_qualification(LADDER, before, recorded)
    assert (tuple(m.invitees for m in counted.record), counted.below, counted.before) == (record, below, before)


def test_the_cash_of_a_count_is_that_of_the_milestones_it_records():
    assert on_qualification(LADDER, 49, {10}).cash_fen == 5_000
    assert on_qualification(LADDER, 9, set()).cash_fen == 0

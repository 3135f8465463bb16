"""Distributor tiers (chalicelib/domain/tiers.py) with the thresholds of DOMAIN.md §1."""
from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from chalicelib.domain.tiers import Tier, TierRule, TierRules, TierStats

SENIOR = TierRule(Tier.SENIOR, min_direct=10, min_month_sales_fen=500_000, uplift_bp=500)  # 10 direct, 5,000 yuan
PARTNER = TierRule(Tier.PARTNER, min_team=50, min_month_sales_fen=10_000_000, uplift_bp=1_000)  # 50 team, 100,000 yuan
RULES = TierRules((PARTNER, SENIOR))  # listed in any order
NEVER = TierRules((SENIOR, PARTNER), downgrade="never")

NOTHING = TierStats(0, 0, 0)
SENIOR_STATS = TierStats(10, 10, 500_000)
PARTNER_STATS = TierStats(10, 50, 10_000_000)


@pytest.mark.parametrize(("stats", "tier"), [
    (NOTHING, Tier.REGULAR),
    (TierStats(10, 10, 500_000), Tier.SENIOR),
    (TierStats(9, 60, 500_000), Tier.REGULAR),
    (TierStats(10, 10, 499_999), Tier.REGULAR),
    (TierStats(10, 50, 10_000_000), Tier.PARTNER),
    (TierStats(10, 49, 10_000_000), Tier.SENIOR),
    (TierStats(10, 50, 9_999_999), Tier.SENIOR),
    (TierStats(0, 50, 10_000_000), Tier.PARTNER),
], ids=["nothing", "senior-exactly", "one-direct-short", "one-fen-short", "partner-exactly", "one-team-member-short",
        "partner-one-fen-short", "partner-needs-no-direct-minimum"])
def test_the_qualified_tier_is_the_highest_whose_thresholds_are_all_met(stats, tier):
    assert RULES.qualified(stats) is tier


def test_next_tier_lists_only_what_is_still_missing():
    assert RULES.next_tier(Tier.REGULAR, TierStats(4, 4, 600_000)) == (Tier.SENIOR, {"direct_count": 6})
    assert RULES.next_tier(Tier.SENIOR, TierStats(12, 30, 0)) == (
        Tier.PARTNER, {"team_count": 20, "month_sales_fen": 10_000_000})


def test_next_tier_is_empty_handed_when_the_figures_already_meet_it():
    assert RULES.next_tier(Tier.REGULAR, SENIOR_STATS) == (Tier.SENIOR, {})


def test_a_partner_has_no_next_tier():
    assert RULES.next_tier(Tier.PARTNER, PARTNER_STATS) is None


def test_each_tier_earns_its_uplift_and_regular_none():
    assert [RULES.uplift_bp(t) for t in Tier] == [0, 500, 1_000]


def test_an_upgrade_applies_in_the_middle_of_the_month():
    assert RULES.evaluate(Tier.REGULAR, SENIOR_STATS, None) is Tier.SENIOR
    assert RULES.evaluate(Tier.SENIOR, PARTNER_STATS, None) is Tier.PARTNER


def test_no_downgrade_happens_in_the_middle_of_the_month():
    assert RULES.evaluate(Tier.PARTNER, NOTHING, None) is Tier.PARTNER


@pytest.mark.parametrize(("last_month", "tier"), [
    (NOTHING, Tier.REGULAR), (SENIOR_STATS, Tier.SENIOR), (PARTNER_STATS, Tier.PARTNER)])
def test_at_month_end_the_tier_is_redecided_from_the_month_that_ended(last_month, tier):
    assert RULES.evaluate(Tier.PARTNER, NOTHING, last_month) is tier


def test_a_month_end_review_keeps_a_tier_already_earned_in_the_new_month():
    assert RULES.evaluate(Tier.PARTNER, SENIOR_STATS, NOTHING) is Tier.SENIOR


def test_the_never_policy_keeps_a_tier_once_reached():
    assert NEVER.evaluate(Tier.PARTNER, NOTHING, NOTHING) is Tier.PARTNER
    assert NEVER.evaluate(Tier.SENIOR, NOTHING, None) is Tier.SENIOR


@pytest.mark.parametrize(("rules", "downgrade"), [
    ((TierRule(Tier.REGULAR), SENIOR), "month_end"),
    ((SENIOR, TierRule(Tier.SENIOR, min_direct=20)), "month_end"),
    ((TierRule(Tier.SENIOR, uplift_bp=1_000), TierRule(Tier.PARTNER, uplift_bp=500)), "month_end"),
    ((SENIOR, PARTNER), "sometimes"),
], ids=["regular-named", "duplicate-tier", "decreasing-uplift", "unknown-downgrade-policy"])
def test_an_inconsistent_rule_set_is_refused(rules, downgrade):
    with pytest.raises(ValueError, match=r"tier rules name|higher tier cannot earn a smaller uplift|downgrade is"):
        TierRules(rules, downgrade=downgrade)


# The month change and the upgrade guard ------------------------------------------------------

@pytest.mark.parametrize(("current", "this_month", "last_month", "tier"), [
    (Tier.PARTNER, NOTHING, NOTHING, Tier.REGULAR),
    (Tier.PARTNER, NOTHING, SENIOR_STATS, Tier.SENIOR),
    (Tier.SENIOR, NOTHING, PARTNER_STATS, Tier.SENIOR),  # counts grown since the month closed: no upgrade
    (Tier.SENIOR, PARTNER_STATS, NOTHING, Tier.SENIOR),  # nor from this month's figures: the payments' to make
    (Tier.REGULAR, PARTNER_STATS, PARTNER_STATS, Tier.REGULAR),
], ids=["down-to-regular", "down-to-senior", "last-month-above", "this-month-above", "regular-stays"])
def test_the_month_change_downgrades_or_keeps_never_upgrades(current, this_month, last_month, tier):
    assert RULES.month_change(current, this_month, last_month) is tier


def test_the_month_change_under_never_keeps_the_tier():
    assert NEVER.month_change(Tier.PARTNER, NOTHING, NOTHING) is Tier.PARTNER


def test_an_event_upgrades_only_above_the_tier_held():
    assert RULES.upgrade(Tier.REGULAR, SENIOR_STATS) is Tier.SENIOR
    assert RULES.upgrade(Tier.SENIOR, PARTNER_STATS) is Tier.PARTNER
    assert RULES.upgrade(Tier.SENIOR, SENIOR_STATS) is None
    assert RULES.upgrade(Tier.PARTNER, NOTHING) is None


def guard_holds(rules: TierRules, tier: Tier, stats: TierStats, delta: TierStats) -> bool:
    """The guard as the store's condition reads it, on the figures before the delta."""
    return all(tier in t.held
               or (t.direct_below is not None and stats.direct_count < t.direct_below)
               or (t.team_below is not None and stats.team_count < t.team_below)
               or (t.sales_below is not None and stats.month_sales_fen < t.sales_below)
               for t in rules.upgrade_guard(delta))


# Small thresholds and figures around them, so that every boundary is met often.
SMALL = TierRules((TierRule(Tier.SENIOR, min_direct=3, min_month_sales_fen=5, uplift_bp=500),
                   TierRule(Tier.PARTNER, min_team=6, min_month_sales_fen=10, uplift_bp=1_000)))
FIGURES = st.builds(TierStats, st.integers(0, 6), st.integers(0, 10), st.integers(0, 14))
DELTAS = st.builds(TierStats, st.integers(-2, 2), st.integers(-3, 3), st.integers(0, 6))
ANY_RULES = st.sampled_from([SMALL, TierRules(SMALL.rules, downgrade="never"),
                             TierRules((TierRule(Tier.SENIOR, min_direct=2),
                                        TierRule(Tier.PARTNER, min_team=3, uplift_bp=100)))])


@settings(max_examples=400)
@given(rules=ANY_RULES, tier=st.sampled_from(list(Tier)), stats=FIGURES, delta=DELTAS)
def test_the_upgrade_guard_holds_exactly_when_the_delta_upgrades_nobody(rules, tier, stats, delta):
    """The condition a transaction moving figures carries in place of a read: it holds iff the
    figures after the delta lift the distributor nowhere, whatever their tier and figures."""
    after = TierStats(max(stats.direct_count + delta.direct_count, 0), max(stats.team_count + delta.team_count, 0),
                      stats.month_sales_fen + delta.month_sales_fen)
    assume(after.direct_count == stats.direct_count + delta.direct_count)  # counts never go below 0
    assume(after.team_count == stats.team_count + delta.team_count)
    assert guard_holds(rules, tier, stats, delta) is (rules.upgrade(tier, after) is None)


def test_a_rule_that_asks_nothing_the_delta_does_not_bring_guards_only_by_the_tier_held():
    rules = TierRules((TierRule(Tier.SENIOR, min_direct=1),))
    [threshold] = rules.upgrade_guard(TierStats(1, 1, 0))
    assert (threshold.held, threshold.direct_below, threshold.team_below, threshold.sales_below) == (
        (Tier.SENIOR, Tier.PARTNER), None, None, None)

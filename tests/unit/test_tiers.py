"""Distributor tiers (chalicelib/domain/tiers.py) with the thresholds of DOMAIN.md §1."""
from __future__ import annotations

import pytest

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

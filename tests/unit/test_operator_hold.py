"""The operator's hold on a distributor, pure (domain/tier_moves.py manual tier,
domain/distributors.py freeze): a manual tier is never moved by figures or the month change and
is the tier in force; lifting it gives the rules' tier; a frozen payee's share is left out."""
from __future__ import annotations

from dataclasses import replace

from chalicelib.domain.distributors import payable
from chalicelib.domain.orders import Share
from chalicelib.domain.tier_moves import ManualHold, TierGuard, at_month_change, in_force, manual_change, on_figures
from chalicelib.domain.tiers import Tier, TierStats
from chalicelib.domain.users import MonthSales
from tests.unit.test_tier_moves import DECEMBER, RULES, distributor


def test_figures_never_move_a_manual_tier_the_move_only_holds_it():
    held = replace(distributor(Tier.REGULAR, DECEMBER, sales=MonthSales(DECEMBER, 9_000_000)),
                   manual_tier=Tier.REGULAR)
    assert on_figures(RULES, "u1", held, TierStats(0, 0, 100_000), DECEMBER) == ManualHold("u1", Tier.REGULAR)
    assert isinstance(on_figures(RULES, "u1", None, TierStats(0, 0, 100_000), DECEMBER), TierGuard)  # not read


def test_the_month_change_keeps_a_manual_tier_and_it_is_the_tier_in_force():
    idle = replace(distributor(Tier.PARTNER, "2026-11", team=0, sales=MonthSales("2026-11", 0)),
                   manual_tier=Tier.PARTNER)
    assert in_force(RULES, idle, DECEMBER) is Tier.PARTNER  # figures would give regular
    change = at_month_change(RULES, idle, DECEMBER)
    assert change is not None and (change.tier, change.month, change.partner_months) == \
        (Tier.PARTNER, DECEMBER, ("2026-11", DECEMBER))


def test_lifting_gives_the_highest_tier_this_or_last_months_figures_qualify_for():
    lifted = replace(distributor(Tier.PARTNER, DECEMBER, sales=MonthSales(DECEMBER, 0, 500_000)),
                     manual_tier=Tier.PARTNER)
    assert manual_change(RULES, lifted, None, DECEMBER).tier is Tier.SENIOR  # November's sales, 10 direct
    nothing = replace(lifted, sales=MonthSales(DECEMBER, 0, 0))
    assert manual_change(RULES, nothing, None, DECEMBER).tier is Tier.REGULAR
    assert manual_change(RULES, nothing, Tier.PARTNER, DECEMBER).tier is Tier.PARTNER


def test_a_frozen_payee_s_share_is_left_out_and_the_other_level_keeps_theirs():
    shares = [Share("mid", 1, 1_000), Share("top", 2, 250)]
    assert payable(shares, {"mid"}) == [Share("top", 2, 250)]
    assert payable(shares, {"top"}) == [Share("mid", 1, 1_000)]
    assert payable(shares, set()) == shares

"""The operator's hold on a distributor under concurrency, on DynamoDB Local: a freeze racing
the payments of the distributor's invitees (each order pays the commission or the platform,
never half; the wallet holds exactly the shares the orders record); a freeze racing a
withdrawal (refused whole or made whole); a manual tier racing the payment that crosses the
threshold (the manual tier stands)."""
from __future__ import annotations

import pytest

from chalicelib.bootstrap import Deps
from chalicelib.domain.tiers import Tier
from chalicelib.services import distributors, referrals, withdrawals
from tests.race.concurrency import login, race
from tests.race.test_tier_races import pay, placed, product, shop

pytestmark = pytest.mark.race

ADMIN = "u-admin"


def test_a_freeze_racing_invitees_payments_leaves_each_order_paying_the_commission_or_the_platform(deps: Deps):
    mid, mid_code = shop(deps, "mid")
    product_id = product(deps, 5_000)
    buyers = [login(deps, "b") for _ in range(8)]
    for buyer in buyers:
        referrals.bind(buyer, mid_code, deps)
    order_ids = [placed(deps, buyer, product_id) for buyer in buyers]
    outcomes = race([lambda o=o: pay(deps, o) for o in order_ids]
                    + [lambda: distributors.freeze(mid, "调查", ADMIN, deps).frozen])
    assert outcomes == ["paid"] * 8 + [True]
    paid_to_mid = 0
    for order_id in order_ids:
        order = deps.orders.get(order_id)
        shares = [s for s in order.commissions if s.user_id == mid]
        assert (len(shares), order.forfeited) in ((1, ()), (0, (mid,))), order  # one or the other, never half
        paid_to_mid += sum(s.amount_fen for s in shares)
    assert deps.ledger.wallet(mid)["pending"] == paid_to_mid
    accruals = [e for e in deps.ledger.entries(mid) if e["kind"] == "accrual"]
    assert sum(e["amount_fen"] for e in accruals) == paid_to_mid
    assert deps.users.get(mid).sales.fen == 8 * 5_000  # every sale counted for level 1, frozen or not


def test_a_freeze_racing_a_withdrawal_refuses_it_whole_or_lets_it_through_whole(deps: Deps):
    from bench.settlement import seed_available
    from chalicelib.services import identity
    from tests.service.test_withdrawals import id_number

    for n in range(4):
        user_id, _ = shop(deps, "w")
        identity.verify_real_name(user_id, "张三", id_number(100 + n), deps)
        seed_available(user_id, "2001-03", 20_000, deps.clock())
        first, second = race([lambda u=user_id: withdrawals.request_withdrawal(u, 10_000, "k", deps),
                              lambda u=user_id: distributors.freeze(u, "调查", ADMIN, deps).frozen])
        assert second is True
        wallet = deps.ledger.wallet(user_id)
        if first == "ACCOUNT_FROZEN":
            assert (wallet["available"], wallet["withdrawing"] + wallet["withdrawn"]) == (20_000, 0)
        else:
            assert wallet["available"] == 10_000 and wallet["withdrawing"] + wallet["withdrawn"] == 10_000, first


def test_a_manual_tier_racing_the_threshold_crossing_payment_stands(deps: Deps):
    product_id = product(deps, 250_000)
    for _ in range(3):
        alice, code = shop(deps, "alice")
        buyers = [login(deps, "b") for _ in range(10)]
        for buyer in buyers:
            referrals.bind(buyer, code, deps)
        assert pay(deps, placed(deps, buyers[0], product_id)) == "paid"  # 2,500 yuan: the next order crosses
        crossing = placed(deps, buyers[1], product_id)
        outcomes = race([lambda c=crossing: pay(deps, c),
                         lambda a=alice: distributors.set_tier(a, Tier.REGULAR, "待考察", ADMIN, deps).tier])
        assert outcomes == ["paid", Tier.REGULAR]
        me = deps.users.get(alice)
        assert (me.tier, me.manual_tier, me.sales.fen) == (Tier.REGULAR, Tier.REGULAR, 500_000)

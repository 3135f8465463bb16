"""Promotions on DynamoDB Local under concurrency (issue 19): twelve users claiming the last five
coupons get exactly five; one user racing their claims stays within the per-user limit; the
new-user red packet is granted once however many first logins race."""
from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import pytest

from chalicelib.bootstrap import Deps
from chalicelib.domain.audit import Action, audit
from chalicelib.domain.promotions import CouponTerms, Promotion, PromotionKind
from chalicelib.services import auth, promotions
from chalicelib.store.promotions import CLAIMS, PromotionItem, promo_pk
from tests.race.concurrency import login, race

pytestmark = pytest.mark.race


def running(deps: Deps, kind: PromotionKind, terms: CouponTerms) -> Promotion:
    """A promotion running now, stored directly (the margin guard is the API tests'; the
    session's database holds other tests' products)."""
    now = deps.clock()
    made = Promotion(promotion_id=f"pm-race-{uuid.uuid4().hex[:10]}", kind=kind, title="抢券", terms=terms,
                     starts_at=now - timedelta(minutes=1), ends_at=now + timedelta(days=1), created_at=now,
                     created_by="u-admin")
    deps.promotions.create(made, audit("u-admin", Action.PROMOTION_CREATE, f"promotion#{made.promotion_id}", now))
    return made


@pytest.fixture
def ended_after(deps: Deps) -> Iterator[list[Promotion]]:
    """Promotions a test made, ended after it: the database is the session's, and a running red
    packet would be granted to every other test's new users."""
    made: list[Promotion] = []
    yield made
    for p in made:
        promotions.end(p.promotion_id, "u-admin", deps)


def test_twelve_users_claiming_the_last_five_coupons_get_exactly_five(deps: Deps):
    coupon = running(deps, PromotionKind.COUPON, CouponTerms(500, 0, 7, total=8, per_user=1))
    early = [login(deps, "early") for _ in range(3)]
    for user in early:
        promotions.claim(coupon.promotion_id, user, deps)
    crowd = [login(deps, "crowd") for _ in range(12)]
    outcomes = race([lambda u=u: promotions.claim(coupon.promotion_id, u, deps) for u in crowd])
    assert Counter(o if isinstance(o, str) else "claimed" for o in outcomes) == Counter(
        {"claimed": 5, "COUPON_EXHAUSTED": 7}), outcomes
    held = [c for u in crowd for c in deps.promotions.coupons_of(u, 10, None)[0]]
    assert sorted(c.user_id for c in held) == sorted(o.user_id for o in outcomes if not isinstance(o, str))
    counter = PromotionItem.get(promo_pk(coupon.promotion_id), CLAIMS, consistent_read=True)
    assert counter.claimed == 8


def test_one_user_racing_ten_claims_holds_the_per_user_limit(deps: Deps):
    coupon = running(deps, PromotionKind.COUPON, CouponTerms(500, 0, 7, total=100, per_user=3))
    user = login(deps, "greedy")
    outcomes = race([lambda: promotions.claim(coupon.promotion_id, user, deps) for _ in range(10)])
    assert Counter(o if isinstance(o, str) else "claimed" for o in outcomes) == Counter(
        {"claimed": 3, "COUPON_LIMIT_REACHED": 7}), outcomes
    assert len(deps.promotions.coupons_of(user, 10, None)[0]) == 3


def test_racing_first_logins_grant_the_red_packet_once(deps: Deps, ended_after: list[Promotion]):
    ended_after.append(running(deps, PromotionKind.NEW_USER_COUPON, CouponTerms(800, 0, 3)))
    code = f"dev:newcomer{uuid.uuid4().hex[:8]}"
    results = race([lambda: auth.login(code, deps) for _ in range(12)])
    assert sum(r.new_user for r in results) == 1
    user = results[0].user.user_id
    granted = race([lambda: promotions.welcome(user, deps) for _ in range(12)])  # the grant itself, raced
    assert granted == [[]] * 12  # the login granted it already
    held = deps.promotions.coupons_of(user, 10, None)[0]
    assert [(c.kind, c.amount_fen) for c in held] == [(PromotionKind.NEW_USER_COUPON, 800)]


def test_racing_grants_of_a_red_packet_to_a_user_without_one_grant_it_once(deps: Deps,
                                                                          ended_after: list[Promotion]):
    user = login(deps, "before")  # logged in before the red packet ran: none granted at login
    ended_after.append(running(deps, PromotionKind.NEW_USER_COUPON, CouponTerms(800, 0, 3)))
    granted = race([lambda: promotions.welcome(user, deps) for _ in range(12)])
    assert sum(len(g) for g in granted) == 1
    assert len(deps.promotions.coupons_of(user, 10, None)[0]) == 1

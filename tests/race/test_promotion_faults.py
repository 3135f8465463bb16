"""A fault at every DynamoDB call of claiming a coupon, on DynamoDB Local (tests/faults.py). The
buyer's app claims again when it got no answer, so the recovery is that claim: the tables must
then equal a fault-free run's, item by item (one coupon, the promotion's and the user's counters
at one each: never a counter without its coupon, nor a coupon beyond the limits)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.bootstrap import Deps
from chalicelib.domain.audit import Action, audit
from chalicelib.domain.errors import DomainError
from chalicelib.domain.promotions import CouponTerms, Promotion, PromotionKind
from chalicelib.services import auth, promotions
from tests.faults import Case, restore, run_with_faults

pytestmark = pytest.mark.race

NOW = datetime(2026, 11, 10, 4, 0, tzinfo=UTC)
PROMOTION = "pm-fault"


@pytest.fixture
def deps(private_tables: None, monkeypatch: pytest.MonkeyPatch) -> Deps:
    restore({})
    # the claimed coupon's id is random: fixed here, so a faulted run compares with a fault-free one
    monkeypatch.setattr(promotions, "new_id", lambda prefix, now: f"{prefix}-fixed")
    return Deps(clock=lambda: NOW)


def setup(deps: Deps) -> str:
    deps.promotions.create(
        Promotion(PROMOTION, PromotionKind.COUPON, "满100减10", CouponTerms(1_000, 10_000, 7, total=5, per_user=1),
                  NOW - timedelta(hours=1), NOW + timedelta(days=1), created_at=NOW, created_by="u-admin"),
        audit("u-admin", Action.PROMOTION_CREATE, f"promotion#{PROMOTION}", NOW))
    return str(auth.login("dev:claimer", deps).user.user_id)


def claim(deps: Deps, user_id: str) -> Any:
    try:
        return promotions.claim(PROMOTION, user_id, deps).coupon_id
    except DomainError as exc:
        return exc.code


def test_a_fault_at_any_call_of_a_claim_then_the_claim_again_holds_one_coupon(deps, faults):
    calls, endings = run_with_faults(Case(setup, claim, claim), deps, faults)
    assert "TransactWriteItems" in calls
    assert {"crashed", "GetError"} <= set(endings), endings  # plans that failed the act, then recovered
    user_id = auth.login("dev:claimer", deps).user.user_id
    held = deps.promotions.coupons_of(user_id, 10, None)[0]
    assert [c.coupon_id for c in held] == ["c-fixed"]
    assert deps.promotions.page(10, None)[0][0].claimed == 1

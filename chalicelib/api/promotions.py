"""Promotions (API.md v1.1 "Promotions"): the operator's create, list and end; what buyers see,
claiming a coupon, the caller's coupons (docs/promotions.md "Running a promotion")."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib.api.http import Call, endpoint
from chalicelib.lazy import lazy

M = "chalicelib.api.promotion_schemas"
if TYPE_CHECKING:
    from chalicelib.api import promotion_schemas as p
    from chalicelib.domain import promotions as domain
    from chalicelib.services import promotions
else:
    p, domain, promotions = lazy(M), lazy("chalicelib.domain.promotions"), lazy("chalicelib.services.promotions")

bp = Blueprint(__name__)


@endpoint(bp, "/v1/admin/promotions", "POST", auth="admin", tag="promotions", status=201, body="PromotionBody",
          response="AdminPromotionOut", models=M,
          errors=("INVALID_PROMOTION", "PROMOTION_BELOW_COST"),
          summary="Create a promotion (one of the five bodies); its worst case is checked against cost plus the "
                  "largest commission unless it is a loss leader with a budget; audited")
def create_promotion(call: Call) -> p.AdminPromotionOut:
    body = call.body.root
    draft = promotions.draft(domain.PromotionKind(body.kind), body.title, body.terms(), body.starts_at,
                             body.ends_at, body.loss_leader, body.budget_fen, call.user_id, call.deps)
    created = promotions.create(draft, call.user_id, call.deps)
    return p.AdminPromotionOut.of_row(created, call.deps.clock())


@endpoint(bp, "/v1/admin/promotions", auth="admin", tag="promotions", query="AdminPromotionsQuery",
          response="AdminPromotionsAnswer", models=M, errors=("INVALID_CURSOR",),
          summary="Every promotion, newest first, with its state, claims and a loss leader's spending")
def list_promotions(call: Call) -> p.AdminPromotionsAnswer:
    rows, next_cursor = promotions.admin_list(call.query.limit, call.query.next, call.deps)
    now = call.deps.clock()
    return p.AdminPromotionsAnswer(items=[p.AdminPromotionOut.of_row(r.promotion, now, r.claimed, r.spent_fen)
                                          for r in rows], next=next_cursor)


@endpoint(bp, "/v1/admin/promotions/{promotion_id}/end", "POST", auth="admin", tag="promotions",
          response="AdminPromotionOut", models=M, errors=("PROMOTION_NOT_FOUND", "PROMOTION_ENDED"),
          summary="End a promotion now (coupons already held stay usable to their own end); audited")
def end_promotion(call: Call) -> p.AdminPromotionOut:
    ended = promotions.end(call.params["promotion_id"], call.user_id, call.deps)
    return p.AdminPromotionOut.of_row(ended, call.deps.clock())


@endpoint(bp, "/v1/promotions", tag="promotions", query="PromotionsQuery", response="PromotionsAnswer", models=M,
          errors=("PRODUCT_NOT_FOUND",),
          summary="The promotions running now that a buyer sees (not the new-user red packet), soonest ending first")
def running_promotions(call: Call) -> p.PromotionsAnswer:
    shown = promotions.visible(call.query.product_id, call.deps)
    return p.PromotionsAnswer(items=[p.PromotionOut.of(x) for x in shown])


@endpoint(bp, "/v1/promotions/{promotion_id}/claim", "POST", tag="promotions", status=201, response="CouponOut",
          models=M, errors=("PROMOTION_NOT_FOUND", "PROMOTION_NOT_CLAIMABLE", "COUPON_EXHAUSTED",
                            "COUPON_LIMIT_REACHED"),
          summary="Claim a coupon of a running coupon promotion, within its total and per-user limits")
def claim_coupon(call: Call) -> p.CouponOut:
    coupon = promotions.claim(call.params["promotion_id"], call.user_id, call.deps)
    return p.CouponOut.of(coupon, call.deps.clock())


@endpoint(bp, "/v1/me/coupons", tag="promotions", query="CouponsQuery", response="CouponsAnswer", models=M,
          errors=("INVALID_CURSOR",), summary="The caller's coupons, newest first: usable, used, expired or all")
def my_coupons(call: Call) -> p.CouponsAnswer:
    status = domain.CouponStatus(call.query.status) if call.query.status else None
    coupons, next_cursor = promotions.my_coupons(call.user_id, status, call.query.limit, call.query.next, call.deps)
    now = call.deps.clock()
    return p.CouponsAnswer(items=[p.CouponOut.of(c, now) for c in coupons], next=next_cursor)

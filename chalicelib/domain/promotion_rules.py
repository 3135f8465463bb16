"""promo-core's rules of promotions beyond their terms (``domain/promotions.py``, the pricing
lane's): the refusals of claiming a coupon and of ending a promotion, and the margin guard
(``PROMOTION_BELOW_COST``) in ``domain/promotion_margin.py``."""
from __future__ import annotations

import hashlib

from chalicelib.domain.errors import Kind, error

CouponExhausted = error("COUPON_EXHAUSTED", Kind.CONFLICT, "Every coupon of this promotion has been claimed.")
CouponLimitReached = error("COUPON_LIMIT_REACHED", Kind.CONFLICT,
                           "The caller holds as many coupons of this promotion as one user may claim.")
PromotionNotFound = error("PROMOTION_NOT_FOUND", Kind.NOT_FOUND, "No promotion has this id.")
NotClaimable = error("PROMOTION_NOT_CLAIMABLE", Kind.CONFLICT,
                     "The promotion is not a coupon running now: not started, ended, or not a kind users claim.")
PromotionEnded = error("PROMOTION_ENDED", Kind.CONFLICT, "The promotion has ended already.")


def red_packet_id(promotion_id: str, user_id: str) -> str:
    """The id of the new-user red packet a promotion grants a user: fixed by the pair, so the
    coupon's key itself makes the grant happen once, however many first logins race."""
    return "n" + hashlib.sha256(f"{promotion_id}|{user_id}".encode()).hexdigest()[:23]

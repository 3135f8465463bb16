"""Promotions as use cases (docs/promotions.md "Running a promotion"): the operator creates,
lists and ends them (audited in the same transaction); buyers see those running, claim coupons
and list their own; a new user gets the running red packets at the first login.

What runs now is read through ``deps.promotions.running(now)``: a per-process list refreshed
within ``rules_refresh_seconds`` (the store's docstring), so a quote or a product page pays no
round trip for it in the common case.
"""
from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from chalicelib.domain.audit import Action, audit
from chalicelib.domain.promotion_margin import Payouts
from chalicelib.domain.promotion_margin import check as check_margin
from chalicelib.domain.promotion_rules import NotClaimable, PromotionEnded, PromotionNotFound, red_packet_id
from chalicelib.domain.promotions import (
    BundleTerms,
    Coupon,
    CouponStatus,
    CouponTerms,
    FullGiftTerms,
    InvalidPromotion,
    MemberDayTerms,
    Promotion,
    PromotionKind,
    Terms,
    check,
    valid_until,
)
from chalicelib.services.retry import run_until_committed

if TYPE_CHECKING:
    from chalicelib.bootstrap import Deps
    from chalicelib.domain.catalog import Product
    from chalicelib.store.promotions import PromotionRow

DEFAULT_DAYS = 30  # a promotion without ends_at runs this long
PAGE = 100


def new_id(prefix: str, now: datetime) -> str:
    """A time-ordered id: the prefix, the milliseconds in hex, 12 random hex digits."""
    return f"{prefix}{int(now.timestamp() * 1000):011x}{secrets.token_hex(6)}"


# The operator ---------------------------------------------------------------------------------

def create(promotion: Promotion, admin_id: str, deps: Deps) -> Promotion:
    """``POST /v1/admin/promotions``: validated (the terms: INVALID_PROMOTION; the products a
    bundle or gift names, the red packet's experiment), the margin guard (PROMOTION_BELOW_COST
    unless a loss leader), then stored with its audit entry in one transaction."""
    check(promotion)
    _check_experiment(promotion, deps)
    named = _named_products(promotion, deps)
    gift = named.get(promotion.terms.gift.product_id) if isinstance(promotion.terms, FullGiftTerms) else None
    touched = list(named.values()) if isinstance(promotion.terms, BundleTerms) else _listed(deps)
    rules = deps.rules
    payouts = Payouts(max((r.uplift_bp for r in rules.tier_rules().rules), default=0),
                      rules.commission.team_bonus_bp)
    check_margin(promotion, touched, gift, payouts)
    entry = audit(admin_id, Action.PROMOTION_CREATE, f"promotion#{promotion.promotion_id}", deps.clock(),
                  None, _state(promotion))
    deps.promotions.create(promotion, entry)
    return promotion


def draft(kind: PromotionKind, title: str, terms: Terms, starts_at: datetime | None, ends_at: datetime | None,
          loss_leader: bool, budget_fen: int | None, admin_id: str, deps: Deps) -> Promotion:
    """A new promotion from a body's fields: a fresh id, the start now by default, the end
    ``DEFAULT_DAYS`` after the start by default."""
    now = deps.clock()
    start = starts_at or now
    return Promotion(promotion_id=new_id("pm", now), kind=kind, title=title.strip(), terms=terms,
                     starts_at=start, ends_at=ends_at or start + timedelta(days=DEFAULT_DAYS), loss_leader=loss_leader,
                     budget_fen=budget_fen, created_at=now, created_by=admin_id)


def _state(p: Promotion) -> dict[str, object]:
    from dataclasses import asdict

    return {"kind": p.kind.value, "title": p.title, "terms": asdict(p.terms), "starts_at": p.starts_at.isoformat(),
            "ends_at": p.ends_at.isoformat(), "loss_leader": p.loss_leader, "budget_fen": p.budget_fen}


def _check_experiment(p: Promotion, deps: Deps) -> None:
    t = p.terms
    if not isinstance(t, CouponTerms) or not t.experiment:
        return
    definition = deps.rules.experiment_definitions().get(t.experiment)
    if definition is None:
        raise InvalidPromotion("no such experiment in the rules", reasons=[
            f"experiment: {t.experiment!r} is not configured (settings `experiments`)"])
    unknown = sorted(set(t.variant_amounts_fen) - set(definition.variant_names))
    if unknown:
        raise InvalidPromotion("variants not in the experiment", reasons=[
            f"variant_amounts_fen: {', '.join(unknown)} not variants of {t.experiment}"])


def _named_products(p: Promotion, deps: Deps) -> dict[str, Product]:
    """The products a bundle or a gift names, each listed, with the SKU it names
    (INVALID_PROMOTION otherwise: the reasons name each)."""
    t = p.terms
    items = t.items if isinstance(t, BundleTerms) else (t.gift,) if isinstance(t, FullGiftTerms) else ()
    found: dict[str, Product] = {}
    reasons = []
    for item in items:
        product = deps.products.get(item.product_id, consistent=False)
        if product is None or not product.listed:
            reasons.append(f"{item.product_id}: no listed product has this id")
        elif item.sku_id is not None and product.sku(item.sku_id) is None:
            reasons.append(f"{item.product_id}: no SKU {item.sku_id}")
        elif item.sku_id is None and product.skus and isinstance(t, FullGiftTerms):
            reasons.append(f"{item.product_id}: a gift of a product with SKUs names its sku_id")
        else:
            found[item.product_id] = product
    if reasons:
        raise InvalidPromotion("; ".join(reasons), reasons=reasons)
    return found


def _listed(deps: Deps) -> list[Product]:
    """Every listed product (a page of 100 at a time): what a coupon, gift or member day may touch."""
    out: list[Product] = []
    cursor: str | None = None
    while True:
        products, cursor = deps.products.list(None, PAGE, cursor)
        out += products
        if cursor is None:
            return out


def admin_list(limit: int, cursor: str | None, deps: Deps) -> tuple[list[PromotionRow], str | None]:
    """``GET /v1/admin/promotions``: every promotion, newest first, with its counters."""
    return deps.promotions.page(limit, cursor)


def end(promotion_id: str, admin_id: str, deps: Deps) -> Promotion:
    """``POST /v1/admin/promotions/{id}/end``: ended now (no more grants or automatic
    discounts; coupons held stay usable to their own end), audited. PROMOTION_NOT_FOUND;
    PROMOTION_ENDED when it was ended already or its end has passed."""
    def step() -> Promotion:
        promotion = deps.promotions.get(promotion_id)
        if promotion is None:
            raise PromotionNotFound("no such promotion", promotion_id=promotion_id)
        now = deps.clock()
        if now >= promotion.until:
            raise PromotionEnded("the promotion has ended already", ended_at=promotion.until.isoformat())
        entry = audit(admin_id, Action.PROMOTION_END, f"promotion#{promotion_id}", now, {"ended_at": None},
                      {"ended_at": now.isoformat()})
        deps.promotions.end(promotion_id, now, entry)
        return replace(promotion, ended_at=now)

    return run_until_committed(step, what="this promotion")


# Buyers ---------------------------------------------------------------------------------------

def applies_to(p: Promotion, product: Product, now: datetime) -> bool:
    """Whether a running promotion concerns a product: a coupon or a full gift any product (a
    threshold on the order), a bundle its items, a member day its category (on any day it runs:
    the buyers' list shows a member day ahead of its weekday)."""
    t = p.terms
    if isinstance(t, BundleTerms):
        return product.product_id in p.product_ids()
    if isinstance(t, MemberDayTerms):
        return t.covers(product.category)
    return p.running(now)


def visible(product_id: str | None, deps: Deps) -> list[Promotion]:
    """``GET /v1/promotions``: the promotions running now a buyer sees (a red packet is granted,
    not shown), all or those that apply to ``product_id`` (PRODUCT_NOT_FOUND for an unknown or
    unlisted one), soonest ending first."""
    now = deps.clock()
    shown = [p for p in deps.promotions.running(now) if p.kind is not PromotionKind.NEW_USER_COUPON]
    if product_id is not None:
        from chalicelib.services.catalog import ProductNotFound

        product = deps.products.get(product_id, consistent=False)
        if product is None or not product.listed:
            raise ProductNotFound("no such product", product_id=product_id)
        shown = [p for p in shown if applies_to(p, product, now)]
    return sorted(shown, key=lambda p: (p.until, p.promotion_id))


def for_product(product: Product, deps: Deps) -> list[Promotion]:
    """A product page's ``promotions``: those in force now that apply to it (a member day on its
    weekday only; no red packet)."""
    now = deps.clock()
    return [p for p in deps.promotions.running(now)
            if p.kind is not PromotionKind.NEW_USER_COUPON and p.in_force(now) and applies_to(p, product, now)]


def claim(promotion_id: str, user_id: str, deps: Deps) -> Coupon:
    """``POST /v1/promotions/{id}/claim``: a coupon of a running ``coupon`` promotion, within
    its total (COUPON_EXHAUSTED) and per-user limit (COUPON_LIMIT_REACHED), valid ``valid_days``
    from now. PROMOTION_NOT_FOUND; PROMOTION_NOT_CLAIMABLE for another kind, or one not running."""
    promotion = deps.promotions.get(promotion_id, consistent=False)
    if promotion is None:
        raise PromotionNotFound("no such promotion", promotion_id=promotion_id)
    now = deps.clock()
    t = promotion.terms
    if promotion.kind is not PromotionKind.COUPON or not isinstance(t, CouponTerms) or not promotion.running(now):
        raise NotClaimable("this promotion is not a coupon running now", kind=promotion.kind.value)
    coupon = Coupon(coupon_id=new_id("c", now), promotion_id=promotion_id, kind=promotion.kind, user_id=user_id,
                    title=promotion.title, amount_fen=t.amount_fen, min_spend_fen=t.min_spend_fen, granted_at=now,
                    valid_until=valid_until(now, t.valid_days))
    run_until_committed(lambda: deps.promotions.claim(coupon, t.total or 0, t.per_user or 0),
                        what="this promotion's coupons")  # a bare conflict is sent again; a limit is a refusal
    return coupon


def my_coupons(user_id: str, status: CouponStatus | None, limit: int, cursor: str | None,
               deps: Deps) -> tuple[list[Coupon], str | None]:
    """``GET /v1/me/coupons``: the caller's coupons, newest first, of one status or all. The
    status is derived at ``now`` (expired: unused past ``valid_until``), so a filtered page is
    read on until full: a user holds a handful of coupons."""
    now = deps.clock()
    found: list[Coupon] = []
    while True:  # each read asks for what the page still lacks, so it never passes the limit
        page, cursor = deps.promotions.coupons_of(user_id, limit - len(found), cursor)
        found += [c for c in page if status is None or c.status(now) is status]
        if len(found) >= limit or cursor is None:
            return found, cursor


def welcome(user_id: str, deps: Deps) -> list[Coupon]:
    """The new-user red packets (新人红包): at a user's first login, one coupon of each running
    ``new_user_coupon``, its amount the user's variant's when the promotion names an experiment
    (the variant is assigned and recorded here, so the experiment's conversion compares the
    amounts). Once per user and promotion, however many first logins race (the coupon's id is
    fixed by both). Returns those granted now."""
    now = deps.clock()
    granted = []
    for p in deps.promotions.running(now):
        t = p.terms
        if p.kind is not PromotionKind.NEW_USER_COUPON or not isinstance(t, CouponTerms):
            continue
        variant = _variant(t, user_id, deps)
        coupon = Coupon(coupon_id=red_packet_id(p.promotion_id, user_id), promotion_id=p.promotion_id, kind=p.kind,
                        user_id=user_id, title=p.title, amount_fen=t.amount_for(variant),
                        min_spend_fen=t.min_spend_fen, granted_at=now, valid_until=valid_until(now, t.valid_days))
        if deps.promotions.grant(coupon):
            granted.append(coupon)
    return granted


def _variant(t: CouponTerms, user_id: str, deps: Deps) -> str | None:
    if not t.experiment or t.experiment not in deps.rules.experiments:
        return None  # the operator removed the experiment since: the promotion's own amount
    from chalicelib.services.experiments import variant_for

    return variant_for(t.experiment, user_id, deps)


def granted_at_login(user_id: str, deps: Deps) -> None:
    """The login's hook (``services/auth.login``, first login only). Best effort: a failure is
    logged and counted (``red_packet_failed``), never raised into the login."""
    try:
        welcome(user_id, deps)
    except Exception as exc:  # noqa: BLE001 - a red packet must never fail a login
        from chalicelib.observability import logger, metrics

        logger().exception("red packet not granted", extra={"user_id": user_id, "error": repr(exc)})
        metrics().add_metric(name="red_packet_failed", unit="Count", value=1)

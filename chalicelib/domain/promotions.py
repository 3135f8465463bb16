"""Promotions (DOMAIN.md §9, API.md "Promotions"): the five kinds, their terms, when they run,
the coupons users hold, and what an order records of the promotions it took.

Pure. The promotions' store and routes (promo-core) keep these; the one pricing function
(domain/pricing.py) reads them; the metrics (promo-metrics) count an order's ``Applied`` records.

Two families:

* **coupons** (``new_user_coupon``, ``coupon``): a user holds one (``Coupon``, granted at first
  login or claimed) and names it at checkout (``coupon_id``); one per order;
* **automatic** (``full_gift``, ``bundle``, ``member_day``): apply by themselves to every order
  that qualifies while they run.

A promotion runs from ``starts_at`` (inclusive) to ``ends_at`` (exclusive), or until the operator
ends it early (``ended_at``). A member day is in force only on its weekday (Shanghai time) while
it runs. A claimed coupon stays usable for ``valid_days`` after it was granted, even if its
promotion ended meanwhile (ending a promotion stops the grants, not what users already hold).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from chalicelib.domain.catalog import BP
from chalicelib.domain.clock import SHANGHAI
from chalicelib.domain.errors import Kind, error

MAX_TITLE = 40  # characters of a promotion's title (a coupon's face)
MAX_VALID_DAYS = 365
MAX_BUNDLE_ITEMS = 10
MAX_ITEM_QUANTITY = 99  # = domain/orders.MAX_QUANTITY: a bundle or gift item is an order line
MAX_CATEGORIES = 20

InvalidPromotion = error("INVALID_PROMOTION", Kind.INVALID, "The promotion's terms break a rule; the reasons are listed.")
CouponNotUsable = error("COUPON_NOT_USABLE", Kind.CONFLICT,
                        "The coupon is not the caller's, used, expired, or the order is below its minimum spend.")
PurchaseLimitReached = error("PURCHASE_LIMIT_REACHED", Kind.CONFLICT,
                             "The order would take the caller past the product's purchase limit per user.")


class PromotionKind(StrEnum):
    NEW_USER_COUPON = "new_user_coupon"  # 新人红包: granted once, at a user's first login
    COUPON = "coupon"  # claimed by users, total and per-user limits
    FULL_GIFT = "full_gift"  # 满赠: a gift line when the order pays at least the minimum
    BUNDLE = "bundle"  # 套餐: a set of items at one price when the order holds them all
    MEMBER_DAY = "member_day"  # 会员日: a discount on a weekday, on some categories or all


COUPON_KINDS = frozenset({PromotionKind.NEW_USER_COUPON, PromotionKind.COUPON})
AUTOMATIC_KINDS = frozenset({PromotionKind.FULL_GIFT, PromotionKind.BUNDLE, PromotionKind.MEMBER_DAY})


@dataclass(frozen=True)
class ItemRef:
    """Units of a product (or of one of its SKUs) that a bundle holds or a gift gives."""

    product_id: str
    quantity: int
    sku_id: str | None = None


@dataclass(frozen=True)
class CouponTerms:
    """``new_user_coupon`` and ``coupon``: ``amount_fen`` off an order whose items (after the
    bundle and member-day prices) reach ``min_spend_fen``; valid ``valid_days`` after the grant."""

    amount_fen: int
    min_spend_fen: int
    valid_days: int
    total: int | None = None  # coupon: grants in all; None for a new_user_coupon
    per_user: int | None = None  # coupon: grants per user; None for a new_user_coupon (once)
    # new_user_coupon only: the amount is the variant's of this experiment (services/experiments.py),
    # variant name → amount_fen; a variant not listed gets ``amount_fen``.
    experiment: str | None = None
    variant_amounts_fen: dict[str, int] = field(default_factory=dict)

    def amount_for(self, variant: str | None) -> int:
        """The amount a user in ``variant`` is granted."""
        return self.variant_amounts_fen.get(variant, self.amount_fen) if variant else self.amount_fen


@dataclass(frozen=True)
class FullGiftTerms:
    """``full_gift`` (满赠): one ``gift`` per order whose amount to pay reaches ``min_spend_fen``."""

    min_spend_fen: int
    gift: ItemRef


@dataclass(frozen=True)
class BundleTerms:
    """``bundle`` (套餐): each complete set of ``items`` in an order costs ``price_fen``."""

    items: tuple[ItemRef, ...]
    price_fen: int


@dataclass(frozen=True)
class MemberDayTerms:
    """``member_day`` (会员日): ``discount_bp`` off the lines of ``categories`` (empty: every
    category) on ``weekday`` (1–7, Monday = 1, Shanghai time)."""

    weekday: int
    discount_bp: int
    categories: tuple[str, ...] = ()

    def covers(self, category: str) -> bool:
        return not self.categories or category in self.categories


Terms = CouponTerms | FullGiftTerms | BundleTerms | MemberDayTerms

TERMS_OF: dict[PromotionKind, type] = {
    PromotionKind.NEW_USER_COUPON: CouponTerms,
    PromotionKind.COUPON: CouponTerms,
    PromotionKind.FULL_GIFT: FullGiftTerms,
    PromotionKind.BUNDLE: BundleTerms,
    PromotionKind.MEMBER_DAY: MemberDayTerms,
}


@dataclass(frozen=True)
class Promotion:
    """A promotion as the operator created it. ``loss_leader`` with ``budget_fen``: the margin
    guard lets it sell below cost plus commission, and checkout spends at most ``budget_fen`` on
    it (``Applied.spent_fen`` of each order, counted by promo-core's store)."""

    promotion_id: str
    kind: PromotionKind
    title: str
    terms: Terms
    starts_at: datetime
    ends_at: datetime
    ended_at: datetime | None = None  # the operator ended it early
    loss_leader: bool = False
    budget_fen: int | None = None
    created_at: datetime | None = None
    created_by: str | None = None

    @property
    def until(self) -> datetime:
        """When it stops running: its end, or when the operator ended it, whichever is first."""
        return min(self.ends_at, self.ended_at) if self.ended_at else self.ends_at

    def running(self, now: datetime) -> bool:
        """Between its start (inclusive) and its end (exclusive), not ended."""
        return self.starts_at <= now < self.until

    def in_force(self, now: datetime) -> bool:
        """Running, and for a member day its weekday in Shanghai: what pricing applies."""
        if not self.running(now):
            return False
        if isinstance(self.terms, MemberDayTerms):
            return now.astimezone(SHANGHAI).isoweekday() == self.terms.weekday
        return True

    def product_ids(self) -> frozenset[str]:
        """The products it names (a bundle's items, a gift); empty for coupons and member days,
        which apply to any product (a member day by category)."""
        if isinstance(self.terms, BundleTerms):
            return frozenset(item.product_id for item in self.terms.items)
        if isinstance(self.terms, FullGiftTerms):
            return frozenset({self.terms.gift.product_id})
        return frozenset()


def check(promotion: Promotion) -> None:
    """Refuse (INVALID_PROMOTION, every reason listed) terms that break a rule: the kind's terms
    type, amounts and limits in range, a start before the end, a loss leader with a budget."""
    reasons = _reasons(promotion)
    if reasons:
        raise InvalidPromotion("; ".join(reasons), reasons=reasons)


def _reasons(p: Promotion) -> list[str]:
    reasons = []
    if not 1 <= len(p.title.strip()) <= MAX_TITLE:
        reasons.append(f"title: 1 to {MAX_TITLE} characters")
    if p.starts_at >= p.ends_at:
        reasons.append("starts_at must be before ends_at")
    if p.budget_fen is not None and p.budget_fen < 1:
        reasons.append("budget_fen: at least 1")
    if p.loss_leader and p.budget_fen is None:
        reasons.append("a loss leader needs a budget_fen")
    if not isinstance(p.terms, TERMS_OF[p.kind]):
        return [*reasons, f"terms: a {p.kind.value} takes {TERMS_OF[p.kind].__name__}"]
    t = p.terms
    if isinstance(t, CouponTerms):
        reasons += _coupon_reasons(p.kind, t)
    elif isinstance(t, FullGiftTerms):
        reasons += _at_least("min_spend_fen", t.min_spend_fen, 1) + _item_reasons("gift", t.gift)
    elif isinstance(t, BundleTerms):
        reasons += _bundle_reasons(t)
    else:
        if not 1 <= t.weekday <= 7:
            reasons.append("weekday: 1 to 7 (Monday = 1)")
        if not 1 <= t.discount_bp < BP:
            reasons.append(f"discount_bp: 1 to {BP - 1}")
        if len(t.categories) > MAX_CATEGORIES or len(set(t.categories)) != len(t.categories):
            reasons.append(f"categories: at most {MAX_CATEGORIES}, each once")
    return reasons


def _at_least(name: str, value: int, low: int) -> list[str]:
    return [] if value >= low else [f"{name}: at least {low}"]


def _coupon_reasons(kind: PromotionKind, t: CouponTerms) -> list[str]:
    reasons = _at_least("amount_fen", t.amount_fen, 1) + _at_least("min_spend_fen", t.min_spend_fen, 0)
    if not 1 <= t.valid_days <= MAX_VALID_DAYS:
        reasons.append(f"valid_days: 1 to {MAX_VALID_DAYS}")
    if kind is PromotionKind.COUPON:
        if t.total is None or t.total < 1:
            reasons.append("total: at least 1")
        if t.per_user is None or t.per_user < 1 or (t.total is not None and t.per_user > t.total):
            reasons.append("per_user: 1 to total")
        if t.experiment or t.variant_amounts_fen:
            reasons.append("an experiment's amounts are for a new_user_coupon")
    else:
        if t.total is not None or t.per_user is not None:
            reasons.append("a new_user_coupon is granted once per new user: no total or per_user")
        if bool(t.experiment) != bool(t.variant_amounts_fen):
            reasons.append("experiment and variant_amounts_fen go together")
        if any(amount < 1 for amount in t.variant_amounts_fen.values()):
            reasons.append("variant_amounts_fen: each at least 1")
    return reasons


def _item_reasons(name: str, item: ItemRef) -> list[str]:
    reasons = [] if item.product_id else [f"{name}: a product_id"]
    if not 1 <= item.quantity <= MAX_ITEM_QUANTITY:
        reasons.append(f"{name}: quantity 1 to {MAX_ITEM_QUANTITY}")
    return reasons


def _bundle_reasons(t: BundleTerms) -> list[str]:
    reasons = _at_least("price_fen", t.price_fen, 1)
    keys = [(item.product_id, item.sku_id) for item in t.items]
    if sum(item.quantity for item in t.items) < 2 or not 1 <= len(t.items) <= MAX_BUNDLE_ITEMS:
        reasons.append(f"items: 1 to {MAX_BUNDLE_ITEMS} lines, 2 units at least")
    if len(set(keys)) != len(keys):
        reasons.append("items: each product (or SKU) once")
    for index, item in enumerate(t.items):
        reasons += _item_reasons(f"items[{index}]", item)
    return reasons


class CouponStatus(StrEnum):
    USABLE = "usable"
    USED = "used"
    EXPIRED = "expired"


@dataclass(frozen=True)
class Coupon:
    """A coupon a user holds (from a ``coupon`` claimed or a ``new_user_coupon`` granted): its
    face is copied from the promotion at the grant (the amount a red packet's variant gave), so
    later changes of the promotion never change what a user holds."""

    coupon_id: str
    promotion_id: str
    kind: PromotionKind
    user_id: str
    title: str
    amount_fen: int
    min_spend_fen: int
    granted_at: datetime
    valid_until: datetime
    order_id: str | None = None  # the order using it; None: not used (or given back)
    used_at: datetime | None = None

    def status(self, now: datetime) -> CouponStatus:
        """Used (by an order), else expired past ``valid_until``, else usable."""
        if self.order_id is not None:
            return CouponStatus.USED
        return CouponStatus.EXPIRED if now >= self.valid_until else CouponStatus.USABLE

    def usable_by(self, user_id: str, now: datetime) -> bool:
        return self.user_id == user_id and self.status(now) is CouponStatus.USABLE


def valid_until(granted_at: datetime, valid_days: int) -> datetime:
    """A coupon granted at ``granted_at`` is valid ``valid_days`` × 24 hours."""
    return granted_at + timedelta(days=valid_days)


@dataclass(frozen=True)
class Applied:
    """One promotion an order took, recorded on the order (``Order.promotions``) for refunds,
    budgets and the metrics: ``discount_fen`` is what it took off the amount to pay (0 for a
    gift); ``gift_cost_fen`` what the gifts it gave cost (0 but for a full_gift);
    ``coupon_id`` the coupon used (coupon kinds only)."""

    promotion_id: str
    kind: PromotionKind
    discount_fen: int = 0
    gift_cost_fen: int = 0
    coupon_id: str | None = None

    @property
    def spent_fen(self) -> int:
        """What the promotion gave away on this order: a loss leader's budget pays this."""
        return self.discount_fen + self.gift_cost_fen

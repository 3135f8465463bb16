"""Schemas of the promotions' routes (API.md v1.1 "Promotions"): the five bodies of
``POST /v1/admin/promotions`` (one model per kind, told apart by ``kind``), the promotion as the
operator and as a buyer see it, a coupon."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, RootModel, StringConstraints

from chalicelib.api.schemas import PageQuery, QueryModel
from chalicelib.domain.promotions import (
    MAX_BUNDLE_ITEMS,
    MAX_CATEGORIES,
    MAX_ITEM_QUANTITY,
    MAX_TITLE,
    MAX_VALID_DAYS,
    BundleTerms,
    Coupon,
    CouponTerms,
    FullGiftTerms,
    ItemRef,
    MemberDayTerms,
    Promotion,
    PromotionKind,
)

Id = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]
Fen = Annotated[int, Field(ge=0, le=100_000_000)]
PositiveFen = Annotated[int, Field(ge=1, le=100_000_000)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TITLE)]
When = Annotated[AwareDatetime, Field(strict=False)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True)


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class PromotionItemIn(_In):
    product_id: Id
    quantity: Annotated[int, Field(ge=1, le=MAX_ITEM_QUANTITY)]
    sku_id: Id | None = None

    def ref(self) -> ItemRef:
        return ItemRef(self.product_id, self.quantity, self.sku_id)


class _Common(_In):
    title: Title
    starts_at: When | None = Field(default=None, description="When it starts (UTC, ISO-8601); default: now.")
    ends_at: When | None = Field(default=None, description="When it ends (exclusive); default: 30 days after the start.")
    loss_leader: bool = Field(default=False, description=(
        "Run it even when its worst case sells below cost plus the largest commission (422 "
        "PROMOTION_BELOW_COST otherwise); needs budget_fen."))
    budget_fen: PositiveFen | None = Field(default=None, description=(
        "A loss leader's budget: what its orders may give away in all (discounts and gifts' cost); "
        "checkout refuses an order beyond it (409 PROMOTION_BUDGET_SPENT)."))


class NewUserCouponBody(_Common):
    kind: Literal["new_user_coupon"]
    amount_fen: PositiveFen
    min_spend_fen: Fen
    valid_days: Annotated[int, Field(ge=1, le=MAX_VALID_DAYS)]
    experiment: Name | None = Field(default=None, description=(
        "An experiment of the rules (settings `experiments`): each new user's amount is their variant's."))
    variant_amounts_fen: dict[Name, PositiveFen] = Field(default_factory=dict, max_length=10, description=(
        "Variant → amount_fen, with `experiment`; a variant not listed gets amount_fen."))

    def terms(self) -> CouponTerms:
        return CouponTerms(self.amount_fen, self.min_spend_fen, self.valid_days, experiment=self.experiment,
                           variant_amounts_fen=dict(self.variant_amounts_fen))


class CouponBody(_Common):
    kind: Literal["coupon"]
    amount_fen: PositiveFen
    min_spend_fen: Fen
    valid_days: Annotated[int, Field(ge=1, le=MAX_VALID_DAYS)]
    total: Annotated[int, Field(ge=1, le=10_000_000)]
    per_user: Annotated[int, Field(ge=1, le=1_000)]

    def terms(self) -> CouponTerms:
        return CouponTerms(self.amount_fen, self.min_spend_fen, self.valid_days, total=self.total,
                           per_user=self.per_user)


class FullGiftBody(_Common):
    kind: Literal["full_gift"]
    min_spend_fen: PositiveFen
    gift: PromotionItemIn

    def terms(self) -> FullGiftTerms:
        return FullGiftTerms(self.min_spend_fen, self.gift.ref())


class BundleBody(_Common):
    kind: Literal["bundle"]
    items: Annotated[list[PromotionItemIn], Field(min_length=1, max_length=MAX_BUNDLE_ITEMS)]
    price_fen: PositiveFen

    def terms(self) -> BundleTerms:
        return BundleTerms(tuple(i.ref() for i in self.items), self.price_fen)


class MemberDayBody(_Common):
    kind: Literal["member_day"]
    weekday: Annotated[int, Field(ge=1, le=7, description="1–7, Monday = 1, Shanghai time")]
    discount_bp: Annotated[int, Field(ge=1, le=9_999)]
    categories: Annotated[list[Name], Field(max_length=MAX_CATEGORIES)] = Field(
        default_factory=list, description="Categories it covers; empty or absent: every category.")

    def terms(self) -> MemberDayTerms:
        return MemberDayTerms(self.weekday, self.discount_bp, tuple(self.categories))


AnyBody = NewUserCouponBody | CouponBody | FullGiftBody | BundleBody | MemberDayBody


class PromotionBody(RootModel[Annotated[AnyBody, Field(discriminator="kind")]]):
    """One of the five bodies, told apart by ``kind``."""

    model_config = ConfigDict(defer_build=True)


def terms_fields(p: Promotion) -> dict[str, Any]:
    """A promotion's terms as the bodies name them."""
    t = p.terms
    if isinstance(t, CouponTerms):
        out: dict[str, Any] = {"amount_fen": t.amount_fen, "min_spend_fen": t.min_spend_fen,
                               "valid_days": t.valid_days}
        if p.kind is PromotionKind.COUPON:
            out |= {"total": t.total, "per_user": t.per_user}
        return out
    if isinstance(t, FullGiftTerms):
        return {"min_spend_fen": t.min_spend_fen, "gift": _item(t.gift)}
    if isinstance(t, BundleTerms):
        return {"items": [_item(i) for i in t.items], "price_fen": t.price_fen}
    return {"weekday": t.weekday, "discount_bp": t.discount_bp, "categories": list(t.categories)}


def _item(i: ItemRef) -> dict[str, Any]:
    return {"product_id": i.product_id, "sku_id": i.sku_id, "quantity": i.quantity}


class PromotionOut(_Out):
    """A promotion as buyers see it: its kind's terms (a red packet's experiment is not shown)."""

    promotion_id: str
    kind: str
    title: str
    starts_at: datetime
    ends_at: datetime
    terms: dict[str, Any] = Field(description="The kind's fields of its body (amount_fen, gift, items, weekday…).")

    @classmethod
    def of(cls, p: Promotion) -> PromotionOut:
        return cls(promotion_id=p.promotion_id, kind=p.kind.value, title=p.title, starts_at=p.starts_at,
                   ends_at=p.until, terms=terms_fields(p))


class AdminPromotionOut(PromotionOut):
    """A promotion as the operator sees it: also its state, loss-leader budget, counters and
    the red packet's experiment."""

    status: Literal["scheduled", "running", "ended"]
    ended_at: datetime | None
    loss_leader: bool
    budget_fen: int | None
    spent_fen: int = Field(description="What a loss leader's orders gave away so far.")
    claimed: int = Field(description="Coupons claimed so far (a coupon).")
    experiment: str | None
    variant_amounts_fen: dict[str, int]
    created_at: datetime | None
    created_by: str | None

    @classmethod
    def of_row(cls, p: Promotion, now: datetime, claimed: int = 0, spent_fen: int = 0) -> AdminPromotionOut:
        t = p.terms
        status = "ended" if now >= p.until else "running" if p.starts_at <= now else "scheduled"
        return cls(**PromotionOut.of(p).model_dump(), status=status, ended_at=p.ended_at,
                   loss_leader=p.loss_leader, budget_fen=p.budget_fen, spent_fen=spent_fen, claimed=claimed,
                   experiment=t.experiment if isinstance(t, CouponTerms) else None,
                   variant_amounts_fen=dict(t.variant_amounts_fen) if isinstance(t, CouponTerms) else {},
                   created_at=p.created_at, created_by=p.created_by)


class AdminPromotionsAnswer(_Out):
    items: list[AdminPromotionOut]
    next: str | None


class PromotionsQuery(QueryModel):
    product_id: Id | None = Field(default=None, description=(
        "Only those that apply to this product: coupons and full gifts (any product), its bundles, "
        "a member day covering its category."))


class PromotionsAnswer(_Out):
    items: list[PromotionOut]


class CouponOut(_Out):
    coupon_id: str
    promotion_id: str
    kind: str
    title: str
    amount_fen: int
    min_spend_fen: int
    valid_until: datetime
    status: Literal["usable", "used", "expired"]
    order_id: str | None = Field(description="The order using it (status used).")

    @classmethod
    def of(cls, c: Coupon, now: datetime) -> CouponOut:
        return cls(coupon_id=c.coupon_id, promotion_id=c.promotion_id, kind=c.kind.value, title=c.title,
                   amount_fen=c.amount_fen, min_spend_fen=c.min_spend_fen, valid_until=c.valid_until,
                   status=c.status(now).value, order_id=c.order_id)


class CouponsQuery(PageQuery):
    status: Literal["usable", "used", "expired"] | None = Field(default=None, description="Default: every coupon.")


class CouponsAnswer(_Out):
    items: list[CouponOut]
    next: str | None


class AdminPromotionsQuery(PageQuery):
    pass

"""Models of the catalogue administration and the orders (API.md "Catalog and orders")."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PlainSerializer,
    StringConstraints,
    Tag,
    model_validator,
)

from chalicelib.api.promotion_schemas import CouponOut
from chalicelib.api.schemas import ProductOut
from chalicelib.domain.catalog import MAX_DETAIL, MAX_SKUS, MAX_SPECS, Product, Sku
from chalicelib.domain.clock import iso
from chalicelib.domain.fulfilment import TRACKING_NO_PATTERN
from chalicelib.domain.invariants import present
from chalicelib.domain.orders import MAX_LINES, MAX_QUANTITY, Line, Order
from chalicelib.domain.promotions import Applied
from chalicelib.domain.stock import MAX_CELLS
from chalicelib.domain.tracking import Tracking

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
Fen = Annotated[int, Field(ge=0, le=100_000_000)]
Bp = Annotated[int, Field(ge=0, le=10_000)]
# Flash sale (docs/orders.md): the items the product's stock is split over (an addition to the
# contract: optional, 1 when absent, so every client of API.md is unaffected).
StockCells = Annotated[int, Field(ge=1, le=MAX_CELLS, description=(
    f"Flash sale: the number of items (1 to {MAX_CELLS}) the product's stock is split over, so "
    "checkouts of one product spread over that many DynamoDB items (about 500 checkouts a second "
    "each); the stock shown is always their sum. Optional, 1 by default; an addition to API.md."))]


SkuId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,32}$")]
SpecName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)]
SpecValue = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
Specs = Annotated[dict[SpecName, SpecValue], Field(min_length=1, max_length=MAX_SPECS, description=(
    f'A SKU\'s specification: 1 to {MAX_SPECS} names and values, e.g. {{"颜色":"红","尺码":"M"}}; two SKUs '
    "of a product never have the same specs."))]
StockDelta = Annotated[int, Field(ge=-10_000_000, le=10_000_000)]
# Images: shape only here; the rules (≤ 9, each an image of ours really uploaded) are
# services/catalog.check_images, one place (422 INVALID_IMAGES, IMAGE_NOT_OURS, IMAGE_NOT_UPLOADED, IMAGE_INVALID).
RESELL_RETURNS = ("After-sales: units the operator receives back from a return go back to stock (resold) only when "
                  "true (default false).")
Images = Annotated[list[Annotated[str, StringConstraints(max_length=2048)]], Field(max_length=50, description=(
    "The product page's image URLs, in order: at most 9 (else 422 INVALID_IMAGES), each the image_url of an "
    "upload (POST /v1/admin/uploads) whose file was sent: else 422 IMAGE_NOT_OURS, IMAGE_NOT_UPLOADED or "
    "IMAGE_INVALID (docs/uploads.md)."))]
RichText = Annotated[str, StringConstraints(max_length=MAX_DETAIL)]
LimitPerUser = Annotated[int, Field(ge=1, le=10_000, description=(
    "The purchase limit per user (限购, docs/promotions.md \"Purchase limits\"): units of the product (all its "
    "SKUs) one user may buy in all, counted at checkout (unpaid orders included) and given back when an order "
    "is cancelled unpaid or refunded before shipment; beyond it 409 PURCHASE_LIMIT_REACHED. Absent: no limit."))]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True)


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class GroupBuyIn(_In):
    size: int = Field(default=3, ge=2, le=20)
    discount_bp: Bp = 3_000
    ttl_hours: int = Field(default=24, ge=1, le=24 * 7)


class NewSkuIn(BaseModel):
    """A SKU of a new product: what it omits is the product's (``price_fen``, ``cost_fen``,
    ``stock``); the server assigns ``sku_id``."""
    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True)
    specs: Specs
    price_fen: Annotated[int, Field(ge=1, le=100_000_000)] | None = None
    cost_fen: Fen | None = None
    stock: Annotated[int, Field(ge=0, le=10_000_000)] | None = None


class SkuPatchIn(NewSkuIn):
    """A SKU of ``PATCH skus`` (the whole new list): with ``sku_id``, an existing SKU (what it
    omits is kept, its stock too unless ``stock`` is given); without, a new one (what it omits is
    the product's price and cost, stock 0)."""
    sku_id: SkuId | None = None
    specs: Specs | None = None  # type: ignore[assignment]


Skus = Annotated[list[NewSkuIn], Field(min_length=1, max_length=MAX_SKUS)]


class ProductBody(_In):
    name: Name
    category: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
    cost_fen: Fen
    price_fen: Annotated[int, Field(ge=1, le=100_000_000)]
    stock: Annotated[int, Field(ge=0, le=10_000_000)]
    level1_rate_bp: Bp | None = None
    level2_rate_bp: Bp | None = None
    group_buy: GroupBuyIn | None = None
    stock_cells: StockCells = 1
    skus: Skus | None = Field(default=None, description=(
        "SKUs (规格), each sold on its own with its own price, cost and stock; the product's "
        "price_fen, cost_fen and stock are the defaults of a SKU that omits its own. A product "
        "with SKUs is not split (stock_cells 1): each SKU is its own stock item."))
    images: Images | None = None
    detail: RichText | None = Field(default=None, description=(
        f"The product page's rich text (HTML as a string, at most {MAX_DETAIL} characters); "
        "passes moderation like the name."))
    resell_returns: bool = Field(default=False, description=RESELL_RETURNS)
    limit_per_user: LimitPerUser | None = None


class ProductPatch(_In):
    name: Name | None = None
    category: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")] | None = None
    cost_fen: Fen | None = None
    price_fen: Annotated[int, Field(ge=1, le=100_000_000)] | None = None
    level1_rate_bp: Bp | None = None
    level2_rate_bp: Bp | None = None
    group_buy: GroupBuyIn | None = None
    stock_cells: StockCells | None = None  # the stock is re-split over this many items, its total kept
    listed: bool | None = Field(default=None, description=(
        "On or off the shelf. An operator's decision: true lists the product even while its copy waits in "
        "the review queue; new copy held for review in the same body leaves it off."))
    stock_delta: StockDelta | None = Field(default=None, description=(
        "Add (positive) or remove (negative) units, atomically with the checkouts racing it; never "
        "below 0 (409 OUT_OF_STOCK, nothing changed). On a product with SKUs, name the SKU in "
        "sku_id (422 SKU_REQUIRED otherwise); on a split product the change lands on its cells in "
        "one transaction. Audited as product.restock; applied before the other changes of the body."))
    sku_id: SkuId | None = Field(default=None, description="The SKU stock_delta moves (products with SKUs only).")
    images: Images | None = None
    detail: RichText | None = None
    resell_returns: bool | None = Field(default=None, description=RESELL_RETURNS)
    limit_per_user: LimitPerUser | None = Field(default=None, description=(
        "The purchase limit per user (限购): units one user may buy of the product in all; null lifts it."))
    skus: Annotated[list[SkuPatchIn], Field(min_length=1, max_length=MAX_SKUS)] | None = Field(
        default=None, description=(
            "The whole new SKU list. An entry with sku_id edits that SKU (keeping its stock unless "
            "stock is given: then set, conditioned on the stock just read); one without is new. A "
            "SKU left out is no longer sold or shown; its stock item is kept (a pending order's "
            "cancellation still returns there), even with stock left. A product keeps SKUs once "
            "given (the list is never empty); a product without SKUs gains them only with its own stock "
            "at 0, and never while split (422 INVALID_SKUS)."))


class SkuOut(_Out):
    """A SKU as a buyer sees it."""
    sku_id: str
    specs: dict[str, str]
    price_fen: int
    group_price_fen: int | None
    stock: int

    @classmethod
    def of(cls, sku: Sku, p: Product) -> SkuOut:
        return cls(sku_id=sku.sku_id, specs=sku.specs, price_fen=sku.price_fen,
                   group_price_fen=p.group_buy.price_fen(sku.price_fen) if p.group_buy else None,
                   stock=sku.stock or 0)


class AdminSkuOut(SkuOut):
    """A SKU as the operator sees it: with its cost."""
    cost_fen: int

    @classmethod
    def of_admin(cls, sku: Sku, p: Product) -> AdminSkuOut:
        return cls(**SkuOut.of(sku, p).model_dump(), cost_fen=sku.cost_fen)


class GroupBuyOut(_Out):
    size: int
    discount_bp: int
    ttl_hours: int


class AdminProductOut(_Out):
    product_id: str
    name: str
    category: str
    cost_fen: int
    price_fen: int
    group_price_fen: int | None
    stock: int
    level1_rate_bp: int
    level2_rate_bp: int
    group_buy: GroupBuyOut | None
    platform_profit_fen: int
    listed: bool  # false while its copy waits in the review queue (review_id)
    review_id: str | None
    stock_cells: int = Field(description="Flash sale: the items the stock is split over (1: not split).")
    skus: list[AdminSkuOut] = Field(description="Its SKUs with cost and stock ([]: none; stock is then their sum).")
    images: list[str]
    detail: str | None = Field(description="The rich text (null in the admin list: read it in the product's answers).")
    resell_returns: bool = Field(description=RESELL_RETURNS)
    limit_per_user: int | None = Field(default=None, description="The purchase limit per user (null: none).")

    @classmethod
    def of(cls, p: Product, review_id: str | None = None, with_detail: bool = True) -> AdminProductOut:
        group = GroupBuyOut(**p.group_buy.__dict__) if p.group_buy else None
        return cls(product_id=p.product_id, name=p.name, category=p.category, cost_fen=p.cost_fen,
                   price_fen=p.price_fen, group_price_fen=p.group_price_fen,
                   stock=present(p.stock, "an admin's product read whole"),
                   level1_rate_bp=p.level1_rate_bp, level2_rate_bp=p.level2_rate_bp, group_buy=group,
                   platform_profit_fen=p.platform_profit_fen, listed=p.listed, review_id=review_id,
                   stock_cells=p.stock_cells, skus=[AdminSkuOut.of_admin(k, p) for k in p.skus],
                   images=list(p.images), detail=p.detail if with_detail else None,
                   resell_returns=p.resell_returns, limit_per_user=p.limit_per_user)


class AdminProductQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)
    listed: bool | None = None
    q: str | None = Field(default=None, min_length=1, max_length=60, description=(
        "A product id exactly (that product alone), else a substring of the name (case-sensitive)."))
    limit: int = Field(default=20, ge=1, le=100)
    next: str | None = Field(default=None, max_length=2048)


class AdminProductsPage(_Out):
    items: list[AdminProductOut]
    next: str | None = Field(description=(
        "The next page's cursor (null: the end). A filtered page may hold fewer than limit items "
        "before the end."))


class ProductPageOut(ProductOut):
    """One listed product as its page shows it (API.md v1.1): the list's fields and its page's."""
    images: list[str]
    detail: str
    skus: list[SkuOut]
    promotions: list[dict[str, Any]] = Field(description=(
        "The promotions in force now that apply to it (a member day on its weekday), each as "
        "GET /v1/promotions shows one (PromotionOut)."))

    @classmethod
    def of(cls, p: Product, uplift_bp: int, promotions: list[dict[str, Any]] | None = None) -> ProductPageOut:
        return cls(**cls.fields_of(p, uplift_bp), images=list(p.images), detail=p.detail,
                   skus=[SkuOut.of(k, p) for k in p.skus], promotions=promotions or [])


class LineIn(_In):
    product_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    quantity: Annotated[int, Field(ge=1, le=MAX_QUANTITY)]
    sku_id: SkuId | None = Field(default=None, description=(
        "The SKU bought: required on a product with SKUs (422 SKU_REQUIRED); a SKU the product does "
        "not have, or any on a product without SKUs: 422 SKU_NOT_FOUND."))


Phone = Annotated[str, StringConstraints(pattern=r"^\+?[0-9\- ]{5,20}$")]
Region = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
OptionalRegion = Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)]
Detail = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
OptionalDetail = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
OptionalCode = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9A-Za-z\- ]{0,12}$")]


class ShortAddressIn(_In):
    """The short form: ``detail`` is the whole address below name and phone. Strict: no other key."""
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
    phone: Phone
    detail: Detail

    def stored(self) -> dict[str, str]:
        return {"name": self.name, "phone": self.phone, "detail": self.detail}


SHORT_KEYS = frozenset(ShortAddressIn.model_fields)
# An object with a WeChat key is the WeChat form only when it has none of the short form's keys:
# a mix of both is refused (by the strict short form), never half read.
_WECHAT_SCHEMA: dict[str, Any] = {
    "not": {"anyOf": [{"required": [key]} for key in sorted(SHORT_KEYS)]},
    "anyOf": [{"required": ["detailInfo"]}, {"required": ["detailInfoNew"]}],
}


class WechatAddressIn(BaseModel):
    """The object ``wx.chooseAddress`` answers, passed as it is (docs/orders.md "Addresses").
    Keys WeChat adds later are ignored, unread and unstored; the documented ones are checked."""
    model_config = ConfigDict(extra="ignore", strict=True, defer_build=True, json_schema_extra=_WECHAT_SCHEMA)
    userName: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
    telNumber: Phone
    provinceName: Region
    cityName: Region
    countyName: OptionalRegion = ""  # a prefecture city without counties (东莞, 中山...) may have none
    streetName: OptionalRegion = ""  # newer pickers: the 4th level
    detailInfo: OptionalDetail = ""  # includes the street; one of detailInfo, detailInfoNew is required
    detailInfoNew: OptionalDetail = ""  # the newer picker's detail
    postalCode: OptionalCode = ""
    nationalCode: OptionalCode = ""
    errMsg: Annotated[str, StringConstraints(max_length=200)] = ""  # "chooseAddress:ok": not stored

    @model_validator(mode="after")
    def _has_detail(self) -> WechatAddressIn:
        if not (self.detailInfo or self.detailInfoNew):
            raise ValueError("detailInfo (or detailInfoNew) is required")
        return self

    def stored(self) -> dict[str, str]:
        parts = {"name": self.userName, "phone": self.telNumber, "province": self.provinceName,
                 "city": self.cityName, "county": self.countyName, "street": self.streetName,
                 "detail": self.detailInfo or self.detailInfoNew, "postal_code": self.postalCode,
                 "national_code": self.nationalCode}
        return {key: value for key, value in parts.items() if value}


WECHAT_KEYS = frozenset(WechatAddressIn.model_fields)


def _address_form(value: Any) -> str:
    if isinstance(value, dict):
        keys = value.keys()
        return "wechat" if keys & WECHAT_KEYS and not keys & SHORT_KEYS else "short"
    return "wechat" if isinstance(value, WechatAddressIn) else "short"


def stored_address(address: ShortAddressIn | WechatAddressIn) -> dict[str, str]:
    return address.stored()


# A delivery address, in either form; dumped (model_dump: what the services hash and store) as the
# one stored form: name, phone, detail, and province, city, county, street, postal_code,
# national_code when given (absent otherwise). The short form dumps exactly as before.
AddressIn = Annotated[
    Annotated[ShortAddressIn, Tag("short")] | Annotated[WechatAddressIn, Tag("wechat")],
    Discriminator(_address_form),
    PlainSerializer(stored_address, return_type=dict[str, str]),
]


class OrderBody(_In):
    items: Annotated[list[LineIn], Field(min_length=1, max_length=MAX_LINES)]
    address: AddressIn
    coupon_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")] | None = Field(
        default=None, description=(
            "A coupon of the caller's (GET /v1/me/coupons) to use: used in the order's transaction (at most once), "
            "given back when the order is cancelled unpaid or refunded before shipment. Not the caller's, used, "
            "expired, or the order below its minimum spend: 409 COUPON_NOT_USABLE."))


# Pricing (docs/promotions.md "Pricing"): what POST /v1/orders/quote answers and every order carries.
class GiftOut(_Out):
    """Free units a full gift (满赠) added: on a line of their own (paid 0) or on the line of the
    same product the order buys."""
    product_id: str
    sku_id: str | None
    name: str
    quantity: int


class AppliedOut(_Out):
    """A promotion the order took, in the order of application, and what it took off (0: a gift)."""
    promotion_id: str
    kind: str
    discount_fen: int
    coupon_id: str | None = None


class PricingOut(_Out):
    """items_fen (the bought units at list price) − discount_fen = amount_fen (what is paid: the sum
    of the lines' paid_fen)."""
    items_fen: int
    discount_fen: int
    amount_fen: int
    gifts: list[GiftOut]
    promotions: list[AppliedOut]
    coupon_id: str | None

    @classmethod
    def of(cls, lines: Sequence[Line], applied: Sequence[Applied], coupon_id: str | None) -> PricingOut:
        items = sum(line.list_fen for line in lines)
        amount = sum(line.paid_fen for line in lines)
        return cls(items_fen=items, discount_fen=items - amount, amount_fen=amount,
                   gifts=[GiftOut(product_id=x.product_id, sku_id=x.sku_id, name=x.name, quantity=x.free_units)
                          for x in lines if x.free_units],
                   promotions=[AppliedOut(promotion_id=a.promotion_id, kind=a.kind.value, discount_fen=a.discount_fen,
                                          coupon_id=a.coupon_id) for a in applied],
                   coupon_id=coupon_id)

    @classmethod
    def of_order(cls, o: Order) -> PricingOut:
        return cls.of(o.lines, o.promotions, o.coupon_id)


class QuoteLineOut(_Out):
    product_id: str
    sku_id: str | None
    name: str
    quantity: int = Field(description="Units, the free units of a gift included.")
    unit_price_fen: int
    discount_fen: int
    free_units: int
    paid_fen: int

    @classmethod
    def of(cls, x: Line) -> QuoteLineOut:
        return cls(product_id=x.product_id, sku_id=x.sku_id, name=x.name, quantity=x.quantity,
                   unit_price_fen=x.unit_price_fen, discount_fen=x.discount_fen, free_units=x.free_units,
                   paid_fen=x.paid_fen)


class QuoteAnswer(_Out):
    pricing: PricingOut
    items: list[QuoteLineOut]
    applicable_coupons: list[CouponOut] = Field(description=(
        "The caller's usable coupons this cart reaches the minimum spend of, largest amount first."))


class LineOut(_Out):
    product_id: str
    name: str
    quantity: int
    unit_price_fen: int
    paid_fen: int
    refunded_quantity: int = 0  # units refunded by after-sales cases (docs/after-sales.md)
    sku_id: str | None = None  # the SKU bought (null: a product without SKUs)
    specs: dict[str, str] | None = None  # its specs when ordered
    discount_fen: int = 0  # what promotions took off the line (docs/promotions.md)
    free_units: int = 0  # units a full gift added free (all of them: a gift line, paid 0)


class CommissionOut(_Out):
    user_id: str
    level: int
    amount_fen: int


class AddressOut(_Out):
    """The stored form, every key present (null: not given; orders placed with the short form
    have only name, phone and detail)."""
    name: str
    phone: str
    detail: str
    province: str | None = None
    city: str | None = None
    county: str | None = None
    street: str | None = None
    postal_code: str | None = None
    national_code: str | None = None


class TrackingStepOut(_Out):
    at: str
    context: str
    status: str  # the carrier's word for the step (在途, 派件, 签收, ...); "" when not given


class TrackingOut(_Out):
    """The carrier's tracking of a parcel (docs/delivery.md): its state, its steps (newest first,
    the newest 40) and the subscription with 快递100 (pending, active, failed)."""

    state: str  # waiting, collected, in_transit, problem, delivering, delivered, returning, returned
    carrier: str
    tracking_no: str
    delivered_at: str | None
    returned_at: str | None
    updated_at: str | None
    subscription: str
    steps: list[TrackingStepOut]

    @classmethod
    def of(cls, t: Tracking | None) -> TrackingOut | None:
        if t is None:
            return None
        return cls(state=t.state.value, carrier=t.carrier, tracking_no=t.tracking_no,
                   delivered_at=iso(t.delivered_at) if t.delivered_at else None,
                   returned_at=iso(t.returned_at) if t.returned_at else None,
                   updated_at=iso(t.news_at) if t.news_at else None, subscription=t.sub.value,
                   steps=[TrackingStepOut(at=iso(s.at), context=s.context, status=s.status) for s in t.steps])


class OrderOut(_Out):
    order_id: str
    status: str
    amount_fen: int
    refunded_fen: int = 0  # refunded after shipment by after-sales cases so far (an instant refund is the status)
    items: list[LineOut]
    commissions: list[CommissionOut]
    created_at: str
    pay_deadline: str
    paid_at: str | None
    shipped_at: str | None
    completed_at: str | None
    carrier: str | None
    tracking_no: str | None
    address: AddressOut | None  # null: none given yet (a group order may give it later)
    # carrier tracking (docs/delivery.md): the carrier's delivery, and the parcel's steps on the
    # order's own page, the buyer's list and the admin list (null elsewhere, and before shipping)
    delivered_at: str | None = None
    tracking: TrackingOut | None = None
    pricing: PricingOut | None = None  # docs/promotions.md: items, discount, gifts, promotions taken

    @classmethod
    def of(cls, o: Order, show_payees: bool = True, tracking: Tracking | None = None) -> OrderOut:
        def t(value: object) -> str | None:
            return iso(value) if value else None  # type: ignore[arg-type]
        from chalicelib.domain.refunds import refunded_units

        return cls(order_id=o.order_id, status=o.status.value, amount_fen=o.amount_fen, refunded_fen=o.refunded_fen,
                   items=[LineOut(product_id=x.product_id, name=x.name, quantity=x.quantity,
                                  unit_price_fen=x.unit_price_fen, paid_fen=x.paid_fen, refunded_quantity=r,
                                  sku_id=x.sku_id, specs=x.specs, discount_fen=x.discount_fen,
                                  free_units=x.free_units)
                          for x, r in zip(o.lines, refunded_units(o), strict=True)],
                   commissions=[CommissionOut(user_id=s.user_id, level=s.level, amount_fen=s.amount_fen)
                                for s in o.commissions] if show_payees else [],
                   created_at=iso(o.created_at), pay_deadline=iso(o.pay_deadline), paid_at=t(o.paid_at),
                   shipped_at=t(o.shipped_at), completed_at=t(o.completed_at), carrier=o.carrier,
                   tracking_no=o.tracking_no, address=_address_out(o.address), delivered_at=t(o.delivered_at),
                   tracking=TrackingOut.of(tracking), pricing=PricingOut.of_order(o))


def _address_out(address: dict[str, str] | None) -> AddressOut | None:
    if not address:
        return None
    return AddressOut(**{key: value for key, value in address.items() if key in AddressOut.model_fields})


class PaymentOut(_Out):
    model_config = ConfigDict(extra="forbid", defer_build=True, populate_by_name=True)
    appId: str
    timeStamp: str
    nonceStr: str
    package: str
    signType: str
    paySign: str


class CheckoutAnswer(_Out):
    order_id: str
    status: str
    amount_fen: int
    payment: PaymentOut | None
    pay_deadline: str
    pricing: PricingOut | None = None


class OrdersPage(_Out):
    items: list[OrderOut]
    next: str | None


class ShipBody(_In):
    carrier: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
    tracking_no: Annotated[str, StringConstraints(strip_whitespace=True, pattern=TRACKING_NO_PATTERN)]


class RefundBody(_In):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]


class CommissionQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)
    status: str | None = Field(default=None, pattern="^(pending|frozen|available|reversed|clawed_back)$")
    limit: int = Field(default=20, ge=1, le=100)
    next: str | None = Field(default=None, max_length=2048)


class CommissionEntryOut(_Out):
    order_id: str
    level: int
    amount_fen: int  # what the distributor keeps (after refunds)
    reversed_fen: int = 0  # what refunds took back (reversed or clawed back)
    status: str
    available_at: str | None


class CommissionsPage(_Out):
    items: list[CommissionEntryOut]
    next: str | None


class WalletOut(_Out):
    pending_fen: int
    frozen_fen: int
    available_fen: int
    withdrawing_fen: int
    withdrawn_fen: int


class NotifyAnswer(_Out):
    code: str
    message: str


class DevPayAnswer(_Out):
    status: str
    notification: dict[str, object]


class PageQueryOrders(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)
    limit: int = Field(default=20, ge=1, le=100)
    next: str | None = Field(default=None, max_length=2048)


__all__ = ["iso"]

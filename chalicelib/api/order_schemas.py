"""Models of the catalogue administration and the orders (API.md "Catalog and orders")."""
from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from chalicelib.domain.catalog import Product
from chalicelib.domain.clock import iso
from chalicelib.domain.orders import MAX_LINES, MAX_QUANTITY, Order

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]
Fen = Annotated[int, Field(ge=0, le=100_000_000)]
Bp = Annotated[int, Field(ge=0, le=10_000)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True)


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class GroupBuyIn(_In):
    size: int = Field(default=3, ge=2, le=20)
    discount_bp: Bp = 3_000
    ttl_hours: int = Field(default=24, ge=1, le=24 * 7)


class ProductBody(_In):
    name: Name
    category: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
    cost_fen: Fen
    price_fen: Annotated[int, Field(ge=1, le=100_000_000)]
    stock: Annotated[int, Field(ge=0, le=10_000_000)]
    level1_rate_bp: Bp | None = None
    level2_rate_bp: Bp | None = None
    group_buy: GroupBuyIn | None = None


class ProductPatch(_In):
    name: Name | None = None
    category: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")] | None = None
    cost_fen: Fen | None = None
    price_fen: Annotated[int, Field(ge=1, le=100_000_000)] | None = None
    level1_rate_bp: Bp | None = None
    level2_rate_bp: Bp | None = None
    group_buy: GroupBuyIn | None = None


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

    @classmethod
    def of(cls, p: Product, review_id: str | None = None) -> AdminProductOut:
        group = GroupBuyOut(**p.group_buy.__dict__) if p.group_buy else None
        return cls(product_id=p.product_id, name=p.name, category=p.category, cost_fen=p.cost_fen,
                   price_fen=p.price_fen, group_price_fen=p.group_price_fen, stock=p.stock,
                   level1_rate_bp=p.level1_rate_bp, level2_rate_bp=p.level2_rate_bp, group_buy=group,
                   platform_profit_fen=p.platform_profit_fen, listed=p.listed, review_id=review_id)


class LineIn(_In):
    product_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    quantity: Annotated[int, Field(ge=1, le=MAX_QUANTITY)]


class AddressIn(_In):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
    phone: Annotated[str, StringConstraints(pattern=r"^\+?[0-9\- ]{5,20}$")]
    detail: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class OrderBody(_In):
    items: Annotated[list[LineIn], Field(min_length=1, max_length=MAX_LINES)]
    address: AddressIn


class LineOut(_Out):
    product_id: str
    name: str
    quantity: int
    unit_price_fen: int
    paid_fen: int


class CommissionOut(_Out):
    user_id: str
    level: int
    amount_fen: int


class OrderOut(_Out):
    order_id: str
    status: str
    amount_fen: int
    items: list[LineOut]
    commissions: list[CommissionOut]
    created_at: str
    pay_deadline: str
    paid_at: str | None
    shipped_at: str | None
    completed_at: str | None
    carrier: str | None
    tracking_no: str | None

    @classmethod
    def of(cls, o: Order, show_payees: bool = True) -> OrderOut:
        def t(value: object) -> str | None:
            return iso(value) if value else None  # type: ignore[arg-type]
        return cls(order_id=o.order_id, status=o.status.value, amount_fen=o.amount_fen,
                   items=[LineOut(product_id=x.product_id, name=x.name, quantity=x.quantity,
                                  unit_price_fen=x.unit_price_fen, paid_fen=x.paid_fen) for x in o.lines],
                   commissions=[CommissionOut(user_id=s.user_id, level=s.level, amount_fen=s.amount_fen)
                                for s in o.commissions] if show_payees else [],
                   created_at=iso(o.created_at), pay_deadline=iso(o.pay_deadline), paid_at=t(o.paid_at),
                   shipped_at=t(o.shipped_at), completed_at=t(o.completed_at), carrier=o.carrier,
                   tracking_no=o.tracking_no)


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


class OrdersPage(_Out):
    items: list[OrderOut]
    next: str | None


class ShipBody(_In):
    carrier: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
    tracking_no: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9\-]{4,40}$")]


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
    amount_fen: int
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

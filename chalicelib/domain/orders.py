"""Orders: a closed set of statuses with one transition map, pricing and commission shares.

Money is integer fen; rates are basis points; every share is floored to the fen and the
remainder stays with the platform (``catalog.share_of``).
"""
from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import NamedTuple

from chalicelib.domain.binding import Upline
from chalicelib.domain.catalog import Product, share_of
from chalicelib.domain.clock import SHANGHAI, business_date
from chalicelib.domain.errors import DomainError, Kind, error
from chalicelib.domain.fulfilment import ShippingReport
from chalicelib.domain.promotions import Applied
from chalicelib.domain.shards import SHARDS
from chalicelib.domain.stock import Take, stock_id

MAX_LINES = 20
MAX_QUANTITY = 99

InvalidOrder = error("INVALID_ORDER", Kind.INVALID, "The order's lines are not acceptable.")
ProductNotFound = error("PRODUCT_NOT_FOUND", Kind.INVALID, "A line names a product that does not exist.")
OutOfStock = error("OUT_OF_STOCK", Kind.CONFLICT, "Not enough stock for a line.")
OrderNotFound = error("ORDER_NOT_FOUND", Kind.NOT_FOUND, "No such order (or not yours).")
IdempotencyKeyReused = error("IDEMPOTENCY_KEY_REUSED", Kind.CONFLICT, "The key was used with another body.")
IdempotencyKeyMissing = error("IDEMPOTENCY_KEY_REQUIRED", Kind.BAD_REQUEST, "Send an Idempotency-Key header.")
SkuRequired = error("SKU_REQUIRED", Kind.INVALID, "The product has SKUs: a line names one (sku_id).")
SkuNotFound = error("SKU_NOT_FOUND", Kind.INVALID, "A line names a SKU its product does not have.")
CommissionExceedsMargin = error("COMMISSION_EXCEEDS_MARGIN", Kind.INVALID,
                                "The largest possible payout exceeds the product's margin.")


class OrderStatus(StrEnum):
    PENDING_PAYMENT = "pending_payment"
    PAID = "paid"
    SHIPPED = "shipped"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"


TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.PENDING_PAYMENT: frozenset({OrderStatus.PAID, OrderStatus.CANCELLED}),
    OrderStatus.PAID: frozenset({OrderStatus.SHIPPED, OrderStatus.REFUNDED}),
    OrderStatus.SHIPPED: frozenset({OrderStatus.COMPLETED, OrderStatus.REFUNDED}),
    OrderStatus.COMPLETED: frozenset({OrderStatus.REFUNDED}),
    OrderStatus.CANCELLED: frozenset(),
    OrderStatus.REFUNDED: frozenset(),
}


class WrongOrderStatus(DomainError):
    code = "WRONG_ORDER_STATUS"
    kind = Kind.CONFLICT


def check_transition(current: OrderStatus, target: OrderStatus) -> None:
    """Raise unless ``current → target`` is an allowed transition."""
    if target not in TRANSITIONS[current]:
        raise WrongOrderStatus(f"an order that is {current.value} cannot become {target.value}",
                               status=current.value)


@dataclass(frozen=True)
class Line:
    product_id: str
    name: str
    quantity: int
    unit_price_fen: int
    unit_cost_fen: int
    level1_rate_bp: int
    level2_rate_bp: int
    sku_id: str | None = None  # the SKU bought, on a product with SKUs
    specs: dict[str, str] | None = None  # that SKU's specs when ordered (颜色, 尺码, ...)
    # Promotions (domain/pricing.py): what they took off the bought units, and the units a full
    # gift added free (counted in ``quantity``: they leave stock with the others).
    discount_fen: int = 0
    free_units: int = 0

    @property
    def stock_id(self) -> str:
        """The stock its units come from: the product's, or its SKU's."""
        return stock_id(self.product_id, self.sku_id)

    @property
    def list_fen(self) -> int:
        """The bought units at the list price (a SKU's, or the group price): the order's ``items_fen``."""
        return self.unit_price_fen * (self.quantity - self.free_units)

    @property
    def paid_fen(self) -> int:
        """What the buyer pays for the line: commission and refunds read this."""
        return self.list_fen - self.discount_fen

    @property
    def gift(self) -> bool:
        """Every unit given by a full gift: a zero-price line."""
        return self.free_units == self.quantity

    def paid_between(self, start: int, end: int) -> int:
        """What units ``start+1 .. end`` of the line were paid: the line's payment spread evenly
        over its units, floored cumulatively, so any split of all units adds up to ``paid_fen``
        (refunds take units in order: the first refund takes units 1.., the next the following)."""
        return self.paid_fen * end // self.quantity - self.paid_fen * start // self.quantity

    @property
    def cost_fen(self) -> int:
        return self.unit_cost_fen * self.quantity


class Want(NamedTuple):
    """A line as asked: the product, how many, and its SKU (on a product with SKUs)."""

    product_id: str
    quantity: int
    sku_id: str | None = None


# A line as a caller passes it: (product, quantity) or (product, quantity, SKU).
Wanted = tuple[str, int] | tuple[str, int, str | None]


def price_lines(wanted: Sequence[Wanted], products: dict[str, Product]) -> list[Line]:
    """The order's lines at today's prices (a SKU's own on a product with SKUs); refuses bad
    quantities, unknown products, a line of a product with SKUs that names none
    (SKU_REQUIRED) and a SKU its product does not have (SKU_NOT_FOUND)."""
    asked = [Want(*w) for w in wanted]
    if not 1 <= len(asked) <= MAX_LINES:
        raise InvalidOrder(f"an order has 1 to {MAX_LINES} lines")
    ids = [(w.product_id, w.sku_id) for w in asked]
    if len(set(ids)) != len(ids):
        raise InvalidOrder("each product (or SKU) appears on one line only")
    lines = []
    for index, (product_id, quantity, sku_id) in enumerate(asked):
        if not 1 <= quantity <= MAX_QUANTITY:
            raise InvalidOrder(f"quantities are 1 to {MAX_QUANTITY}", line=index)
        product = products.get(product_id)
        if product is None or not product.listed:
            raise ProductNotFound("no such product", line=index, product_id=product_id)
        line = line_of(product, sku_id, quantity, None, index)
        sku = product.sku(sku_id) if sku_id else None
        available = sku.stock if sku else product.stock
        if available is not None and available < quantity:  # unread: its cells' conditions decide
            raise OutOfStock("not enough stock", line=index, product_id=product_id, available=available,
                             **({"sku_id": sku_id} if sku_id else {}))
        lines.append(line)
    return lines


def line_of(product: Product, sku_id: str | None, quantity: int, unit_price_fen: int | None = None,
            index: int = 0) -> Line:
    """A line of ``quantity`` units of the product, or of its SKU: priced at the SKU's price and
    cost (``unit_price_fen`` replaces the price, e.g. a group price of it; None: the regular
    one), recording the SKU and its specs."""
    if not product.skus:
        if sku_id is not None:
            raise SkuNotFound("this product has no SKUs", line=index, product_id=product.product_id, sku_id=sku_id)
        return Line(product.product_id, product.name, quantity,
                    product.price_fen if unit_price_fen is None else unit_price_fen, product.cost_fen,
                    product.level1_rate_bp, product.level2_rate_bp)
    if sku_id is None:
        raise SkuRequired("name the SKU (sku_id) of a product with SKUs", line=index, product_id=product.product_id)
    sku = product.sku(sku_id)
    if sku is None:
        raise SkuNotFound("no such SKU of this product", line=index, product_id=product.product_id, sku_id=sku_id)
    return Line(product.product_id, product.name, quantity, sku.price_fen if unit_price_fen is None else unit_price_fen,
                sku.cost_fen, product.level1_rate_bp, product.level2_rate_bp, sku.sku_id, dict(sku.specs))


@dataclass(frozen=True)
class Share:
    """One commission entry: who, which level, how much."""

    user_id: str
    level: int
    amount_fen: int
    # the rate added to every line's own at accrual (level 1's tier uplift; 0 at level 2), so a
    # partial refund recomputes the accrual on fewer units (domain/refunds.py); None: accrued
    # before it was recorded
    uplift_bp: int | None = None


@dataclass(frozen=True)
class RefundRecord:
    """One refund an order took after shipment (domain/refunds.py): its number (WeChat's
    ``out_refund_no``), amount, the units and the part of the amount of each line by index, the
    units put back in stock, and when."""

    refund_no: str
    amount_fen: int
    lines: tuple[tuple[int, int, int], ...]  # (line index, units, fen)
    restocked: tuple[tuple[int, int], ...]  # (line index, units)
    at: datetime


def commission_shares(lines: list[Line], upline: Upline, level1_uplift_bp: int) -> list[Share]:
    """Level 1 earns each line's rate plus their tier uplift, level 2 the line's level-2 rate,
    on what was paid for the line, floored per line. Never a third level: only ``upline``."""
    shares = []
    if upline.level1:
        amount = sum(share_of(line.paid_fen, line.level1_rate_bp + level1_uplift_bp) for line in lines)
        shares.append(Share(upline.level1, 1, amount, level1_uplift_bp))
    if upline.level1 and upline.level2:
        amount = sum(share_of(line.paid_fen, line.level2_rate_bp) for line in lines)
        shares.append(Share(upline.level2, 2, amount, 0))
    return [s for s in shares if s.amount_fen > 0]


def payout_upline(buyer: Upline, buyer_id: str, buyer_is_distributor: bool, self_purchase: bool) -> Upline:
    """Who an order pays. With self-purchase commission on, a distributor buying earns level 1
    and their parent level 2; otherwise the buyer's own upline."""
    if self_purchase and buyer_is_distributor:
        return Upline(buyer_id, buyer.level1)
    return buyer


@dataclass(frozen=True)
class Breakdown:
    """Where an order's money goes: paid = cost + commissions + platform profit."""

    paid_fen: int
    cost_fen: int
    commission_fen: int

    @property
    def platform_profit_fen(self) -> int:
        return self.paid_fen - self.cost_fen - self.commission_fen


def breakdown(lines: list[Line], shares: list[Share]) -> Breakdown:
    return Breakdown(sum(line.paid_fen for line in lines), sum(line.cost_fen for line in lines),
                     sum(s.amount_fen for s in shares))


def largest_payout_fen(price_fen: int, level1_rate_bp: int, level2_rate_bp: int, top_uplift_bp: int,
                       team_bonus_bp: int) -> int:
    """The most one unit can ever pay out: partner level 1 + level 2 + the team bonus of each.
    Level 1 and level 2 can both be partners, and each earns the team bonus on the order
    (``payouts.team_sharers``): the worst case counts two bonuses."""
    return share_of(price_fen, level1_rate_bp + top_uplift_bp) + share_of(price_fen, level2_rate_bp) \
        + 2 * share_of(price_fen, team_bonus_bp)


def check_margin(product: Product, top_uplift_bp: int, team_bonus_bp: int) -> None:
    """Refuse a product whose largest payout exceeds its margin, at its lowest selling price;
    with SKUs, of every SKU at its own price and cost (the refusal names the SKU)."""
    for variant, sku in zip(product.variants(), product.skus or (None,), strict=True):
        prices = [variant.price_fen] + ([variant.group_price_fen] if variant.group_price_fen is not None else [])
        for price in prices:
            payout = largest_payout_fen(price, variant.level1_rate_bp, variant.level2_rate_bp, top_uplift_bp,
                                        team_bonus_bp)
            if payout > price - variant.cost_fen:
                where = {"sku_id": sku.sku_id} if sku else {}
                raise CommissionExceedsMargin("the largest possible payout exceeds the margin",
                                              price_fen=price, margin_fen=price - variant.cost_fen,
                                              largest_payout_fen=payout, **where)


def available_on(completed_at: datetime, hold_days: int) -> datetime:
    """T+N: commission of an order completed on Shanghai day D becomes available at the start of
    day D+N (Shanghai)."""
    day: date = business_date(completed_at) + timedelta(days=hold_days)
    return datetime.combine(day, time(0), tzinfo=SHANGHAI)


@dataclass(frozen=True)
class Order:
    order_id: str
    buyer_id: str
    status: OrderStatus
    lines: list[Line]
    amount_fen: int
    created_at: datetime
    pay_deadline: datetime
    upline: Upline = field(default_factory=Upline)
    kind: str = "normal"
    paid_at: datetime | None = None
    shipped_at: datetime | None = None
    delivered_at: datetime | None = None  # the carrier's delivery (docs/delivery.md)
    returned_at: datetime | None = None  # the carrier brought the parcel back to the sender
    completed_at: datetime | None = None
    cancelled_at: datetime | None = None
    refunded_at: datetime | None = None
    transaction_id: str | None = None
    carrier: str | None = None
    tracking_no: str | None = None
    commissions: list[Share] = field(default_factory=list)
    group_id: str | None = None  # a group-buy order's group (docs/groups.md)
    address: dict[str, str] | None = None  # the stored form (docs/orders.md "Addresses"); None: not given yet
    # Which stock cells each line's stock (``Line.stock_id``) its units came from
    # (domain/stock.py); a stock not named here took its line from cell 0, the product (or SKU)
    # item itself (every order of an unsplit product, every SKU line).
    takes: dict[str, list[Take]] = field(default_factory=dict)
    # WeChat's shipping report of a shipped order (domain/fulfilment.py); None: never shipped
    shipping_report: ShippingReport | None = None
    # The runtime rules' version the order was placed under (docs/settings.md): its later steps
    # (payment's uplift, shipping's auto-confirm, completion's hold) read that version's rules.
    rules_version: int = 1
    # Payees frozen when the order was paid: their commission stayed with the platform
    # (domain/distributors.py).
    forfeited: tuple[str, ...] = ()
    # After-sales refunds (domain/refunds.py): their sum, and each one applied, in order.
    refunded_fen: int = 0
    refunds: tuple[RefundRecord, ...] = ()
    # Promotions (domain/pricing.py): the coupon the order uses, every promotion it took.
    coupon_id: str | None = None
    promotions: tuple[Applied, ...] = ()
    # units counted against purchase limits, per product: given back with the coupon
    limited: tuple[tuple[str, int], ...] = ()

    @property
    def items_fen(self) -> int:
        """The bought units at their list prices, before promotions."""
        return sum(line.list_fen for line in self.lines)

    @property
    def discount_fen(self) -> int:
        """What promotions took off: ``items_fen`` − ``amount_fen``."""
        return self.items_fen - self.amount_fen

    def takes_of(self, line: Line) -> list[Take]:
        """Where a line's units came from (cells of its ``stock_id``), so a cancellation or
        refund returns them there."""
        return self.takes.get(line.stock_id) or [(0, line.quantity)]


def due_partition(day: date, item_id: str) -> str:
    """The partition key of a due-day index entry (``unpaid``, ``to_confirm``, ``groups_due``):
    the day and one of 16 shards, ``"2026-12-05#a"``, so a day's orders spread over 16 index
    partitions instead of one (docs/orders.md "Keys"). The shard is the id's last hex digit (our
    ids end in random hex), or a CRC of the id for any other id."""
    return f"{day.isoformat()}#{id_shard(item_id)}"


def id_shard(item_id: str) -> str:
    last = item_id[-1:].lower()
    if last in SHARDS:
        return last
    return SHARDS[zlib.crc32(item_id.encode()) % len(SHARDS)]

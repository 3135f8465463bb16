"""Products and what a distributor would earn on them (DOMAIN.md §2, §3)."""
from __future__ import annotations

from dataclasses import dataclass, replace

BP = 10_000  # basis points in a whole
MAX_SKUS = 50  # a product's SKUs: their definitions ride in the product item (docs/catalogue.md)
MAX_SPECS = 4  # dimensions of a SKU (颜色, 尺码, ...)
MAX_IMAGES = 9
MAX_DETAIL = 10_000  # characters of a product's rich-text detail (moderated in 4 pieces at most)


def share_of(amount_fen: int, rate_bp: int) -> int:
    """A rate applied to an amount, floored to the fen (the remainder stays with the platform)."""
    if amount_fen < 0 or rate_bp < 0:
        raise ValueError("amounts and rates are never negative")
    return amount_fen * rate_bp // BP


@dataclass(frozen=True)
class GroupBuy:
    size: int = 3
    discount_bp: int = 3_000  # 30% off: members pay 70%
    ttl_hours: int = 24

    def price_fen(self, price_fen: int) -> int:
        return price_fen - share_of(price_fen, self.discount_bp)


@dataclass(frozen=True)
class Sku:
    """One specification of a product (规格): its own price, cost and stock (its own stock item:
    domain/stock.py ``stock_id``). ``stock`` is None where not read."""

    sku_id: str
    specs: dict[str, str]
    price_fen: int
    cost_fen: int
    stock: int | None = None

    def label(self) -> str:
        """The specs as a buyer reads them: "红 / M"."""
        return " / ".join(self.specs.values())


@dataclass(frozen=True)
class Product:
    product_id: str
    name: str
    category: str
    cost_fen: int
    price_fen: int
    stock: int | None  # the sum of its cells; None where not read (a split product at checkout)
    level1_rate_bp: int
    level2_rate_bp: int
    group_buy: GroupBuy | None = None
    listed: bool = True  # False while its copy waits in the review queue: not shown, not sold
    stock_cells: int = 1  # flash sale: its stock split over this many items (domain/stock.py)
    # With SKUs, each is sold on its own (an order line names one); ``price_fen``/``cost_fen``
    # are then the defaults a SKU was given when it omitted its own, and ``stock`` their sum.
    skus: tuple[Sku, ...] = ()
    images: tuple[str, ...] = ()
    detail: str = ""
    # After-sales: units the operator receives back are put back in stock (resold) only when set
    # (docs/after-sales.md); off by default: a returned cosmetic or food is not resold.
    resell_returns: bool = False
    # Units one user may buy in all (docs/promotions.md "Purchase limits"); None: no limit.
    limit_per_user: int | None = None

    def sku(self, sku_id: str) -> Sku | None:
        return next((s for s in self.skus if s.sku_id == sku_id), None)

    def variants(self) -> list[Product]:
        """What a buyer can buy, each priced on its own: the product itself without SKUs, else
        one product per SKU at the SKU's price and cost (the margin guard checks each)."""
        if not self.skus:
            return [self]
        return [replace(self, price_fen=s.price_fen, cost_fen=s.cost_fen, stock=s.stock, skus=()) for s in self.skus]

    @property
    def group_price_fen(self) -> int | None:
        return self.group_buy.price_fen(self.price_fen) if self.group_buy else None

    def commission_preview_fen(self, uplift_bp: int) -> int:
        """Level-1 commission on one unit at full price for a distributor with ``uplift_bp``."""
        return share_of(self.price_fen, self.level1_rate_bp + uplift_bp)

    @property
    def platform_profit_fen(self) -> int:
        """Price − cost − level-1 and level-2 commission at the regular tier (API.md)."""
        return self.price_fen - self.cost_fen - share_of(self.price_fen, self.level1_rate_bp) \
            - share_of(self.price_fen, self.level2_rate_bp)


# The demo catalogue: DOMAIN.md §2 (commission by category) and §3 (product selection).
DEMO_CATALOGUE: tuple[Product, ...] = (
    Product("p-beauty-serum", "焕颜精华 Radiance serum", "beauty", 5_000, 15_000, 500, 2_000, 500),
    Product("p-food-nuts", "每日坚果 Daily nuts", "food", 2_000, 5_000, 2_000, 1_600, 500, GroupBuy()),
    Product("p-appliance-purifier", "空气净化器 Air purifier", "appliance", 80_000, 150_000, 50, 1_000, 500),
    Product("p-mask", "补水面膜 Hydrating face mask", "beauty", 1_500, 5_000, 1_000, 2_000, 500, GroupBuy()),
    Product("p-tea", "养生花茶 Health tea", "food", 2_800, 8_000, 300, 1_600, 500),
    Product("p-smart-plug", "智能插座 Smart plug", "appliance", 6_000, 10_000, 100, 1_000, 500),
)

"""Products and what a distributor would earn on them (DOMAIN.md §2, §3)."""
from __future__ import annotations

from dataclasses import dataclass

BP = 10_000  # basis points in a whole


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

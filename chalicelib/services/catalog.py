"""The catalogue as a distributor sees it: with the commission they would earn."""
from __future__ import annotations

from dataclasses import dataclass

from chalicelib.domain.catalog import Product
from chalicelib.domain.tiers import Tier
from chalicelib.services.deps import Deps


@dataclass(frozen=True)
class CatalogPage:
    products: list[Product]
    uplift_bp: int
    next_cursor: str | None


def list_products(user_id: str, category: str | None, limit: int, cursor: str | None, deps: Deps) -> CatalogPage:
    """A page of products; the commission preview uses the caller's tier (regular for a
    shopper, i.e. what they would earn once they open a shop)."""
    user = deps.users.get(user_id, consistent=False)
    tier = user.tier if user and user.invite_code else Tier.REGULAR
    products, next_cursor = deps.products.list(category, limit, cursor)
    return CatalogPage(products, deps.settings.rules.tier_rules().uplift_bp(tier), next_cursor)

"""The catalogue as a distributor sees it: with the commission they would earn."""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from chalicelib.domain.catalog import GroupBuy, Product
from chalicelib.domain.errors import NotFound
from chalicelib.domain.materials import Review, ReviewKind
from chalicelib.domain.orders import check_margin
from chalicelib.domain.stock import check_cells
from chalicelib.domain.tiers import Tier
from chalicelib.services import moderation
from chalicelib.services.retry import run_until_committed

if TYPE_CHECKING:
    from chalicelib.bootstrap import Deps


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
    return CatalogPage(products, deps.rules.tier_rules().uplift_bp(tier), next_cursor)


def _checked(product: Product, deps: Deps) -> Product:
    rules = deps.rules
    top_uplift = max((r.uplift_bp for r in rules.tier_rules().rules), default=0)
    check_margin(product, top_uplift, rules.commission.team_bonus_bp)
    return product


def create_product(fields: dict[str, Any], admin_id: str, deps: Deps) -> tuple[Product, str | None]:
    """Admin: a new product; rates default to its category's. Refused when its largest possible
    payout (partner level 1 + level 2 + team bonus) exceeds its margin at its lowest price, or
    when its copy is blocked; copy held for review leaves it unlisted until approved.
    Returns the product and the review id when held."""
    import secrets

    rates = deps.rules.commission.rates_for(fields["category"])
    group = fields.get("group_buy")
    product = _checked(Product(
        product_id=f"p{secrets.token_hex(6)}", name=fields["name"], category=fields["category"],
        cost_fen=fields["cost_fen"], price_fen=fields["price_fen"], stock=fields["stock"],
        level1_rate_bp=fields.get("level1_rate_bp", rates.level1_rate_bp),
        level2_rate_bp=fields.get("level2_rate_bp", rates.level2_rate_bp),
        group_buy=GroupBuy(**group) if group else None, stock_cells=check_cells(fields.get("stock_cells", 1))), deps)
    context = moderation.PublishContext(ReviewKind.PRODUCT, product.product_id, admin_id)
    outcome = moderation.check_publishable(product.name, deps, context)
    product = replace(product, listed=not outcome.held)
    deps.products.put_if_absent(product, deps.clock())
    review_id = moderation.hold(product.name, context, outcome, deps) if outcome.held else None
    return product, review_id


def update_product(product_id: str, changes: dict[str, Any], admin_id: str,
                   deps: Deps) -> tuple[Product, str | None]:
    """Admin: edit a product's fields; the margin rule applies to the result, and a new name
    passes moderation (held: the product is unlisted until approved). A new ``stock_cells``
    re-splits the stock over that many cells, its total exact (checkouts racing it: read again)."""
    current = deps.products.get(product_id)
    if current is None:
        raise NotFound("no such product")
    cells = changes.pop("stock_cells", None)
    if cells is not None and check_cells(cells) != current.stock_cells:
        total = run_until_committed(lambda: deps.products.resplit(product_id, cells), what="this product's stock")
        current = replace(current, stock=total, stock_cells=cells)
    if "group_buy" in changes:
        group = changes.pop("group_buy")
        changes["group_buy"] = GroupBuy(**group) if group else None
    product = _checked(replace(current, **changes), deps)
    review_id = None
    if "name" in changes and changes["name"] != current.name:
        context = moderation.PublishContext(ReviewKind.PRODUCT, product_id, admin_id)
        outcome = moderation.check_publishable(product.name, deps, context)
        if outcome.held:
            product = replace(product, listed=False)
            review_id = moderation.hold(product.name, context, outcome, deps)
    deps.products.replace(product, deps.clock())
    return product, review_id


def on_review(review: Review, approved: bool, deps: Deps) -> None:
    """After an admin decides on held product copy: approved lists the product."""
    if approved:
        deps.products.set_listed(review.ref, True)


moderation.register_publisher(ReviewKind.PRODUCT, on_review)

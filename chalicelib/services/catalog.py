"""The catalogue: as a buyer or a distributor sees it (with the commission they would earn),
and as the operator runs it (create, edit, restock, list everything). Every admin change
commits its audit entry in the same transaction (store/products.py)."""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from chalicelib.domain.audit import Action, AuditEntry, audit
from chalicelib.domain.catalog import MAX_IMAGES, GroupBuy, Product, Sku
from chalicelib.domain.errors import Kind, NotFound, error
from chalicelib.domain.materials import Review, ReviewKind
from chalicelib.domain.orders import OutOfStock, SkuNotFound, SkuRequired, check_margin
from chalicelib.domain.stock import allocate, check_cells, split, stock_id
from chalicelib.domain.tiers import Tier
from chalicelib.services import moderation
from chalicelib.services.retry import ReadAgain, run_until_committed

if TYPE_CHECKING:
    from chalicelib.bootstrap import Deps

ProductNotFound = error("PRODUCT_NOT_FOUND", Kind.NOT_FOUND, "No such product (or not on the shelf).")
InvalidImages = error("INVALID_IMAGES", Kind.INVALID, "A product has at most 9 images.")
InvalidSkus = error("INVALID_SKUS", Kind.INVALID, "The SKUs are not acceptable.")


@dataclass(frozen=True)
class CatalogPage:
    products: list[Product]
    uplift_bp: int
    next_cursor: str | None


def _uplift(user_id: str, deps: Deps) -> int:
    """The caller's level-1 uplift (regular for a shopper: what they would earn once they open a shop)."""
    user = deps.users.get(user_id, consistent=False)
    tier = user.tier if user and user.invite_code else Tier.REGULAR
    return deps.rules.tier_rules().uplift_bp(tier)


def list_products(user_id: str, category: str | None, limit: int, cursor: str | None, deps: Deps) -> CatalogPage:
    """A page of products; the commission preview uses the caller's tier."""
    products, next_cursor = deps.products.list(category, limit, cursor)
    return CatalogPage(products, _uplift(user_id, deps), next_cursor)


def product_page(user_id: str, product_id: str, deps: Deps) -> tuple[Product, int]:
    """One listed product with its images, detail and SKUs (with stock), and the caller's uplift;
    unlisted or unknown: PRODUCT_NOT_FOUND (404)."""
    product = deps.products.get(product_id, consistent=False)
    if product is None or not product.listed:
        raise ProductNotFound("no such product", product_id=product_id)
    return product, _uplift(user_id, deps)


def admin_products(listed: bool | None, q: str | None, limit: int, cursor: str | None,
                   deps: Deps) -> tuple[list[Product], str | None]:
    """Admin: every product, listed or not, with cost, stock and SKUs."""
    return deps.products.admin_list(listed, q, limit, cursor)


def check_images(urls: list[str], deps: Deps) -> tuple[str, ...]:
    """The one rule of a product's images: at most 9, each an image of ours really uploaded
    (``services/uploads.check_images``: under our media base and ``products/``, stored, an allowed
    type within the size limit; IMAGE_NOT_OURS, IMAGE_NOT_UPLOADED, IMAGE_INVALID)."""
    from chalicelib.services.uploads import check_images as ours_and_uploaded

    if len(urls) > MAX_IMAGES:
        raise InvalidImages(f"at most {MAX_IMAGES} images", count=len(urls))
    return tuple(ours_and_uploaded(urls, deps))


def _checked(product: Product, deps: Deps) -> Product:
    """The margin guard, per SKU on a product with SKUs; distinct SKU specs; a product with SKUs
    is never split (each SKU is its own stock item)."""
    if product.skus:
        seen = [tuple(sorted(sku.specs.items())) for sku in product.skus]
        if len(set(seen)) != len(seen):
            raise InvalidSkus("two SKUs have the same specs")
        if product.stock_cells != 1:
            raise InvalidSkus("a product with SKUs is not split (stock_cells 1): each SKU is its own stock item")
    rules = deps.rules
    top_uplift = max((r.uplift_bp for r in rules.tier_rules().rules), default=0)
    check_margin(product, top_uplift, rules.commission.team_bonus_bp)
    return product


def _new_sku_id() -> str:
    return f"s{secrets.token_hex(5)}"


def _plain(detail: str) -> str:
    """The rich text's words, as moderation reads them (tags dropped)."""
    return re.sub(r"<[^>]*>", " ", detail).strip()


def _copy(product: Product) -> str:
    return _plain(product.detail) or product.name


def _state(product: Product) -> dict[str, Any]:
    """What an audit entry records of a product (its definition; stock is moved by restocks)."""
    return {"name": product.name, "category": product.category, "cost_fen": product.cost_fen,
            "price_fen": product.price_fen, "level1_rate_bp": product.level1_rate_bp,
            "level2_rate_bp": product.level2_rate_bp, "listed": product.listed,
            "group_buy": product.group_buy.__dict__ if product.group_buy else None,
            "stock_cells": product.stock_cells, "images": list(product.images), "detail": product.detail,
            "resell_returns": product.resell_returns, "limit_per_user": product.limit_per_user,
            "skus": [{"sku_id": s.sku_id, "specs": s.specs, "price_fen": s.price_fen, "cost_fen": s.cost_fen}
                     for s in product.skus]}


def create_product(fields: dict[str, Any], admin_id: str, deps: Deps) -> tuple[Product, str | None]:
    """Admin: a new product; rates default to its category's; each SKU's omitted price, cost and
    stock are the product's. Refused when the largest possible payout (partner level 1 + level
    2 + team bonus) exceeds the margin of the product or of a SKU at its lowest price, or when
    its copy is blocked; copy held for review leaves it unlisted until approved. The product,
    its stock items and the audit entry in one transaction. Returns the product and the review
    id when held."""
    rates = deps.rules.commission.rates_for(fields["category"])
    group = fields.get("group_buy")
    skus = tuple(Sku(_new_sku_id(), dict(s["specs"]), s.get("price_fen", fields["price_fen"]),
                     s.get("cost_fen", fields["cost_fen"]), s.get("stock", fields["stock"]))
                 for s in fields.get("skus") or ())
    product = _checked(Product(
        product_id=f"p{secrets.token_hex(6)}", name=fields["name"], category=fields["category"],
        cost_fen=fields["cost_fen"], price_fen=fields["price_fen"],
        stock=sum(s.stock or 0 for s in skus) if skus else fields["stock"],
        level1_rate_bp=fields.get("level1_rate_bp", rates.level1_rate_bp),
        level2_rate_bp=fields.get("level2_rate_bp", rates.level2_rate_bp),
        group_buy=GroupBuy(**group) if group else None, stock_cells=check_cells(fields.get("stock_cells", 1)),
        skus=skus, images=check_images(fields.get("images") or [], deps), detail=fields.get("detail", ""),
        resell_returns=fields.get("resell_returns", False), limit_per_user=fields.get("limit_per_user")), deps)
    context = moderation.PublishContext(ReviewKind.PRODUCT, product.product_id, admin_id,
                                        title=product.name if product.detail else None)
    outcome = moderation.check_publishable(_copy(product), deps, context)
    product = replace(product, listed=not outcome.held)
    now = deps.clock()
    deps.products.put_if_absent(product, now, audit(admin_id, Action.PRODUCT_CREATE, f"product#{product.product_id}",
                                                    now, None, {**_state(product), "stock": product.stock}))
    review_id = moderation.hold(_copy(product), context, outcome, deps) if outcome.held else None
    return product, review_id


def update_product(product_id: str, changes: dict[str, Any], admin_id: str,
                   deps: Deps) -> tuple[Product, str | None]:
    """Admin: edit a product; the margin rule applies to the result (per SKU), and new copy (name
    or detail) passes moderation (held: the product is unlisted until approved). In order, each
    its own audited transaction: ``stock_delta`` (a restock), a new ``stock_cells`` (re-splits
    the stock, total exact), then every other field with its audit entry."""
    changes = dict(changes)
    delta, sku_id = changes.pop("stock_delta", None), changes.pop("sku_id", None)
    if sku_id is not None and delta is None:
        raise InvalidSkus("sku_id names the SKU a stock_delta moves; send it with stock_delta")
    current = deps.products.get(product_id)
    if current is None:
        raise NotFound("no such product")
    if delta is not None:
        current = restock(current, sku_id, delta, admin_id, deps)
    cells = changes.pop("stock_cells", None)
    if cells is not None and check_cells(cells) != current.stock_cells:
        if current.skus:
            raise InvalidSkus("a product with SKUs is not split: each SKU is its own stock item")
        total = run_until_committed(lambda: deps.products.resplit(product_id, cells), what="this product's stock")
        current = replace(current, stock=total, stock_cells=cells)
    if not changes:
        return current, None
    first = audit(admin_id, Action.PRODUCT_UPDATE, f"product#{product_id}", deps.clock())
    return run_until_committed(lambda: _edit(product_id, changes, first, deps), what="this product")


def _edit(product_id: str, changes: dict[str, Any], first: AuditEntry, deps: Deps) -> tuple[Product, str | None]:
    """One attempt of an edit: read, decide, commit conditioned on the SKUs read. Every attempt
    records under the same entry (``first``'s id and time): an attempt after one that committed
    but lost its answer finds the entry there and ends (store/products.py)."""
    admin_id = first.actor_id
    current = deps.products.get(product_id)
    if current is None:
        raise NotFound("no such product")
    fields = dict(changes)
    if "group_buy" in fields:
        group = fields.pop("group_buy")
        fields["group_buy"] = GroupBuy(**group) if group else None
    if "images" in fields:
        fields["images"] = check_images(fields["images"], deps)
    stock_sets: dict[str, int] = {}
    if "skus" in fields:
        fields["skus"], stock_sets = _new_skus(current, fields, fields.pop("skus"))
    product = _checked(replace(current, **fields), deps)
    review_id = None
    if product.name != current.name or product.detail != current.detail:
        context = moderation.PublishContext(ReviewKind.PRODUCT, product_id, admin_id,
                                            title=product.name if product.detail else None)
        outcome = moderation.check_publishable(_copy(product), deps, context)
        if outcome.held:
            product = replace(product, listed=False)
            review_id = moderation.hold(_copy(product), context, outcome, deps)
    before, after = _changed(_state(current), _state(product))
    deps.products.replace(product, current, replace(first, before=before, after=after), stock_sets)
    stocks = {sku.sku_id: stock_sets.get(sku.sku_id, sku.stock or 0) for sku in product.skus}
    skus = tuple(replace(sku, stock=stocks[sku.sku_id]) for sku in product.skus)
    return replace(product, skus=skus, stock=sum(stocks.values()) if skus else product.stock), review_id


def _changed(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The parts of a product an edit changes, before and after."""
    keys = [k for k in after if before.get(k) != after[k]]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


def _new_skus(current: Product, fields: dict[str, Any], wanted: list[dict[str, Any]]
              ) -> tuple[tuple[Sku, ...], dict[str, int]]:
    """PATCH ``skus``: the whole new list. An entry naming an existing SKU edits it (what it
    omits is kept; ``stock`` given: set); one without ``sku_id`` is new (what it omits: the
    product's price and cost as edited, stock 0). Returns the SKUs and the stocks to set."""
    if not current.skus and (current.stock or 0) > 0:
        raise InvalidSkus("a product gains SKUs only with its own stock at 0 (stock_delta first)",
                          stock=current.stock)
    price, cost = fields.get("price_fen", current.price_fen), fields.get("cost_fen", current.cost_fen)
    skus: list[Sku] = []
    sets: dict[str, int] = {}
    for index, entry in enumerate(wanted):
        sku_id = entry.get("sku_id")
        if sku_id is None:
            if entry.get("specs") is None:
                raise InvalidSkus("a new SKU has specs", index=index)
            skus.append(Sku(_new_sku_id(), dict(entry["specs"]), entry.get("price_fen", price),
                            entry.get("cost_fen", cost), entry.get("stock", 0)))
            continue
        old = current.sku(sku_id)
        if old is None:
            raise SkuNotFound("no such SKU of this product", index=index, sku_id=sku_id)
        if entry.get("stock") is not None:
            sets[sku_id] = entry["stock"]
        skus.append(replace(old, specs=dict(entry.get("specs") or old.specs),
                            price_fen=entry.get("price_fen", old.price_fen),
                            cost_fen=entry.get("cost_fen", old.cost_fen)))
    if len({s.sku_id for s in skus}) != len(skus):
        raise InvalidSkus("a SKU appears twice")
    return tuple(skus), sets


def restock(product: Product, sku_id: str | None, delta: int, admin_id: str, deps: Deps) -> Product:
    """Admin: add or remove units of a product's stock (its SKU's, on a product with SKUs),
    atomically with the checkouts racing it, never below 0 (OUT_OF_STOCK, nothing changed), with
    its audit entry in the same transaction. A removal from a split product takes from its cells
    as read (a cell moved meanwhile: read again); an addition spreads over its active cells.
    Returns the product with the stock as read after."""
    if product.skus and sku_id is None:
        raise SkuRequired("name the SKU (sku_id) whose stock moves", product_id=product.product_id)
    if sku_id is not None and product.sku(sku_id) is None:
        raise SkuNotFound("no such SKU of this product", product_id=product.product_id, sku_id=sku_id)
    stock = stock_id(product.product_id, sku_id)
    # one entry id for every attempt: an attempt after one that committed but lost its answer
    # (a timeout) finds its entry and ends, instead of moving the stock twice
    first = audit(admin_id, Action.PRODUCT_RESTOCK, f"product#{product.product_id}", deps.clock())
    which = {"sku_id": sku_id} if sku_id else {}

    def step() -> None:
        active, counts = deps.products.cells([stock])[stock]
        before = sum(counts)
        entry = replace(first, before={"stock": before, **which},
                        after={"stock": before + delta, **which, "stock_delta": delta})
        if delta >= 0:
            adds = [(cell, units) for cell, units in enumerate(split(delta, active)) if units]
            deps.products.restock(product.product_id, stock, [], adds, entry)
            return
        plan = [(0, -delta)] if len(counts) == 1 else allocate(-delta, counts, active)
        if plan is None:
            raise OutOfStock("the stock would go below 0", product_id=product.product_id, available=before)
        try:
            deps.products.restock(product.product_id, stock, plan, [], entry)
        except OutOfStock as short:
            if len(counts) == 1:  # one item: its condition is the whole stock's, the refusal final
                raise
            raise ReadAgain("a stock cell changed since it was read") from short

    run_until_committed(step, what="this product's stock")
    return deps.products.get(product.product_id) or product


def on_review(review: Review, approved: bool, deps: Deps) -> None:
    """After an admin decides on held product copy: approved lists the product."""
    if approved:
        deps.products.set_listed(review.ref, True)


moderation.register_publisher(ReviewKind.PRODUCT, on_review)

"""Smart recommendation as use cases (DOMAIN.md §8, docs/experiments.md): a product's
recommendations and a user's home list (the daily job that computes the lists:
services/recommendation_job.py)."""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from chalicelib.domain.activity import Event, EventType
from chalicelib.domain.catalog import Product
from chalicelib.domain.errors import Kind, error
from chalicelib.domain.orders import OrderStatus
from chalicelib.domain.recommendations import (
    HomeInputs,
    Suggestion,
    home_list,
)
from chalicelib.domain.recommendations import for_product as product_choice

if TYPE_CHECKING:
    from chalicelib.bootstrap import Deps

ProductNotFound = error("PRODUCT_NOT_FOUND", Kind.NOT_FOUND, "No listed product has this id.")
PRODUCT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
PAID = (OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.COMPLETED)
RECENT_ORDERS = 10  # a user's newest orders read for their recent purchases

Shown = tuple[Product, Suggestion]


# Reading ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Recommendations:
    items: list[Shown]
    computed_on: str | None
    variant: str | None = None


def _shown(chosen: list[Suggestion], products: dict[str, Product]) -> list[Shown]:
    return [(products[s.product_id], s) for s in chosen]


def _listed(products: dict[str, Product]) -> set[str]:
    return {p for p, product in products.items() if product.listed}


def for_product(product_id: str, limit: int | None, deps: Deps) -> Recommendations:
    """A listed product's recommendations: bought together, then its category's popular
    products. PRODUCT_NOT_FOUND when no listed product has this id."""
    from chalicelib.store.recommendations import category_list_key, product_list_key

    product = deps.products.get(product_id) if PRODUCT_ID.match(product_id) else None
    if product is None or not product.listed:
        raise ProductNotFound(f"no listed product {product_id!r}")
    limit = limit or deps.rules.recommendations.limit
    own_key, category_key = product_list_key(product_id), category_list_key(product.category)
    stored = deps.recommendations.lists([own_key, category_key])
    together = stored[own_key].items if own_key in stored else []
    popular = stored[category_key].items if category_key in stored else []
    products = deps.recommendations.products(s.product_id for s in together + popular)
    chosen = product_choice(product_id, together, popular, _listed(products), limit)
    computed_on = next((s.computed_on for s in stored.values()), None)
    return Recommendations(_shown(chosen, products), computed_on)


def recent_products(user_id: str, deps: Deps) -> list[str]:
    """The user's recently bought and viewed products, most recent first (their newest orders and
    their latest batch of product views)."""
    orders, _ = deps.orders.by_buyer(user_id, RECENT_ORDERS, None)
    timed: list[tuple[datetime, int, str]] = []
    for order in orders:
        if order.status in PAID:
            timed += [(order.paid_at or order.created_at, i, line.product_id) for i, line in enumerate(order.lines)]
    viewed, at = deps.recommendations.viewed(user_id)
    if at is not None:
        timed += [(at, i, product_id) for i, product_id in enumerate(viewed)]
    timed.sort(key=lambda t: (-t[0].timestamp(), t[1]))
    return list(dict.fromkeys(product_id for _, _, product_id in timed))[:deps.rules.recommendations.recent]


def for_user(user_id: str, limit: int | None, deps: Deps) -> Recommendations:
    """The user's home list (domain ``home_list``), ordered by their ``home_layout`` variant; the
    first call exposes them to the experiment."""
    from chalicelib.services.experiments import home_layout_variant
    from chalicelib.store.recommendations import HOT, category_list_key, product_list_key

    rules = deps.rules.recommendations
    variant = home_layout_variant(user_id, deps)
    recent = recent_products(user_id, deps)
    stored = deps.recommendations.lists([HOT, *(product_list_key(p) for p in recent)])
    category_of = {p: found.category for p in recent
                   if (found := stored.get(product_list_key(p))) is not None and found.category}
    stored |= deps.recommendations.lists([category_list_key(c) for c in dict.fromkeys(category_of.values())])
    together = {p: stored[product_list_key(p)].items for p in recent if product_list_key(p) in stored}
    popular = {c: stored[category_list_key(c)].items for c in category_of.values() if category_list_key(c) in stored}
    hot = stored[HOT].items if HOT in stored else []
    candidates = [s.product_id for lists in (*together.values(), *popular.values(), hot) for s in lists]
    products = deps.recommendations.products(candidates)
    inputs = HomeInputs(recent, together, category_of, popular, hot, _listed(products))
    chosen = home_list(inputs, variant, limit or rules.limit, rules.hot_slots)
    computed_on = stored[HOT].computed_on if HOT in stored else None
    return Recommendations(_shown(chosen, products), computed_on, variant)


def remember_views(user_id: str, events: Sequence[Event], deps: Deps) -> None:
    """Keep the products of a user's latest batch of events holding product views (most recent
    first; at most 20), for their home list: one PutItem, no read. Best effort: a failure is
    logged and counted (``recommendation_input_failed``), never raised into the request."""
    views = sorted((e for e in events if e.type is EventType.PRODUCT_VIEW and e.product_id), key=lambda e: e.ts,
                   reverse=True)
    if not views:
        return
    try:
        products = list(dict.fromkeys(e.product_id for e in views if e.product_id))[:20]
        deps.recommendations.remember_views(user_id, products, views[0].ts)
    except Exception as exc:  # noqa: BLE001 - a recommendation input must never fail the request
        _failed("remember_views", exc)


def _failed(step: str, exc: Exception) -> None:
    from chalicelib.observability import logger, metrics

    logger().exception("recommendation input not recorded", extra={"step": step, "error": repr(exc)})
    metrics().add_metric(name="recommendation_input_failed", unit="Count", value=1)

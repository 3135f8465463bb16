"""Smart recommendation as use cases (DOMAIN.md §8, docs/experiments.md): the daily job, a
product's recommendations and a user's home list."""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from chalicelib.domain.activity import Event, EventType
from chalicelib.domain.catalog import Product
from chalicelib.domain.clock import business_date
from chalicelib.domain.errors import Kind, error
from chalicelib.domain.orders import OrderStatus
from chalicelib.domain.recommendations import (
    HomeInputs,
    Scored,
    Suggestion,
    Window,
    bought_together,
    category_popularity,
    home_list,
    popularity,
    ranked,
)
from chalicelib.domain.recommendations import for_product as product_choice

if TYPE_CHECKING:
    from chalicelib.bootstrap import Deps
    from chalicelib.store.recommendations import Key

ProductNotFound = error("PRODUCT_NOT_FOUND", Kind.NOT_FOUND, "No listed product has this id.")
PRODUCT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
PAID = (OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.COMPLETED)
RECENT_ORDERS = 10  # a user's newest orders read for their recent purchases

Shown = tuple[Product, Suggestion]


# The daily job ------------------------------------------------------------------------------
def compute_recommendations(now: datetime, deps: Deps) -> dict[str, Any]:
    """Bought-together lists per product, popular products per category and overall, from the
    ``window_days`` complete days before ``now`` (Asia/Shanghai). Each day is summarised once from
    its baskets and product views and kept; a run reads the window's summaries (one BatchGetItem)
    and summarises only the days it has not seen, so its cost does not grow with history."""
    rules = deps.settings.rules.recommendations
    today = business_date(now)
    days = [today - timedelta(days=k) for k in range(1, rules.window_days + 1)]
    summaries = deps.recommendations.day_summaries(days)
    missing = [day for day in days if day not in summaries]
    for day in missing:
        summaries[day] = _summarise(day, deps)
        deps.recommendations.save_day_summary(day, summaries[day], now)
    window = Window()
    for summary in summaries.values():
        window.add(summary)
    lists = _lists(window, deps)
    removed = deps.recommendations.save_lists(lists, today)
    return {"from": days[-1].isoformat(), "to": days[0].isoformat(), "days_summarised": len(missing),
            "orders": window.baskets, "products": len(set(window.orders) | set(window.views)),
            "pairs": len(window.together), "lists": len(lists), "lists_removed": removed}


def _summarise(day: date, deps: Deps) -> Window:
    """A day's counts: each paid order's products (its basket) and the product views."""
    summary = Window()
    for basket in deps.analytics.baskets(day):
        summary.add_order([product_id for product_id, _ in basket.items])
    summary.views.update({p: counts.views for p, counts in deps.analytics.product_day_counts(day).items()
                          if counts.views})
    return summary


def _lists(window: Window, deps: Deps) -> dict[Key, tuple[list[Scored], str | None]]:
    from chalicelib.store.recommendations import HOT, category_list_key, product_list_key

    rules = deps.settings.rules.recommendations
    scores = popularity(window, rules.purchase_weight, rules.view_weight)
    category_of = {p: product.category for p, product in deps.recommendations.products(scores).items()}
    together = bought_together(window, rules.stored)
    lists: dict[Key, tuple[list[Scored], str | None]] = {
        product_list_key(p): (together.get(p, []), category) for p, category in category_of.items()}
    for category, popular in category_popularity(scores, category_of, rules.stored).items():
        lists[category_list_key(category)] = (popular, None)
    lists[HOT] = (ranked({p: s for p, s in scores.items() if p in category_of}, rules.stored), None)
    return lists


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
    limit = limit or deps.settings.rules.recommendations.limit
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
    return list(dict.fromkeys(product_id for _, _, product_id in timed))[:deps.settings.rules.recommendations.recent]


def for_user(user_id: str, limit: int | None, deps: Deps) -> Recommendations:
    """The user's home list (domain ``home_list``), ordered by their ``home_layout`` variant; the
    first call exposes them to the experiment."""
    from chalicelib.services.experiments import home_layout_variant
    from chalicelib.store.recommendations import HOT, category_list_key, product_list_key

    rules = deps.settings.rules.recommendations
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

"""Smart recommendation (DOMAIN.md §8): "bought together", category popularity and a home list.

Everything is computed from counts over a bounded window of days (30 by default), never from the
order history itself:

* ``orders(i)``: paid orders holding product ``i``; ``together(i, j)``: paid orders holding both;
  ``views(i)``: product views.
* **Bought together**: ``score(i, j) = together(i, j) / √(orders(i)·orders(j))`` (the cosine of
  the two products' order sets), in basis points floored: two products always bought together
  score 10000; ``j``'s list for ``i`` is ranked by score, then product id.
* **Popularity**: ``purchase_weight·orders(i) + view_weight·views(i)`` (5 and 1 by default: a
  purchase says more than a look); ranked per category and over the whole catalogue ("hot").
* **For a product**: its bought-together list, filled up with its category's popular products.
* **Home list of a user**: the bought-together lists of the user's recent products (scores
  added up), then the popular products of their categories, and ``hot_slots`` hot items (at most
  half the list; more when personal items run out); the ``home_layout`` variant orders them:
  ``A`` personal items first, ``B`` hot items first. Products the user has just bought or viewed
  are not suggested back to them.

Only products in ``listed`` are ever returned; ties go to the smaller product id.
"""
from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from chalicelib.domain.catalog import BP

BOUGHT_TOGETHER = "bought_together"
CATEGORY = "category"
HOT = "hot"
HOT_FIRST = "B"  # the home_layout variant that shows hot items first (the seed's test)


@dataclass(frozen=True)
class Scored:
    product_id: str
    score: int


@dataclass(frozen=True)
class Suggestion:
    product_id: str
    reason: str  # bought_together | category | hot
    score: int


@dataclass
class Window:
    """Counts added up over the days of a window (the job's input)."""

    orders: Counter[str] = field(default_factory=Counter)
    views: Counter[str] = field(default_factory=Counter)
    together: Counter[tuple[str, str]] = field(default_factory=Counter)  # pairs with the smaller id first
    baskets: int = 0  # paid orders counted

    def add(self, other: Window) -> None:
        """Add another window's counts (a day's) to this one."""
        self.orders.update(other.orders)
        self.views.update(other.views)
        self.together.update(other.together)
        self.baskets += other.baskets

    def add_order(self, product_ids: Iterable[str], times: int = 1) -> None:
        """Count one paid order (``times`` of them) holding these products."""
        distinct = sorted(set(product_ids))
        self.baskets += times
        for index, first in enumerate(distinct):
            self.orders[first] += times
            for second in distinct[index + 1:]:
                self.together[(first, second)] += times


def pairs_of(product_ids: Iterable[str]) -> list[tuple[str, str]]:
    """The unordered pairs of distinct products of one order, the smaller id first."""
    distinct = sorted(set(product_ids))
    return [(a, b) for i, a in enumerate(distinct) for b in distinct[i + 1:]]


def ranked(scores: Mapping[str, int], limit: int) -> list[Scored]:
    """Highest score first, then the smaller id; at most ``limit``; zero scores left out."""
    order = sorted((item for item in scores.items() if item[1] > 0), key=lambda kv: (-kv[1], kv[0]))
    return [Scored(product_id, score) for product_id, score in order[:limit]]


def cosine_bp(together: int, orders_a: int, orders_b: int) -> int:
    """``together / √(orders_a·orders_b)`` in basis points, floored exactly (integer square root)."""
    if together <= 0 or orders_a <= 0 or orders_b <= 0:
        return 0
    return math.isqrt(BP * BP * together * together // (orders_a * orders_b))


def bought_together(window: Window, limit: int) -> dict[str, list[Scored]]:
    """Each bought product's most related products."""
    scores: dict[str, dict[str, int]] = defaultdict(dict)
    for (a, b), count in window.together.items():
        score = cosine_bp(count, window.orders[a], window.orders[b])
        scores[a][b] = score
        scores[b][a] = score
    return {product_id: ranked(related, limit) for product_id, related in scores.items()}


def popularity(window: Window, purchase_weight: int, view_weight: int) -> dict[str, int]:
    products = set(window.orders) | set(window.views)
    return {p: purchase_weight * window.orders[p] + view_weight * window.views[p] for p in products}


def category_popularity(scores: Mapping[str, int], category_of: Mapping[str, str], limit: int) -> dict[str, list[Scored]]:
    """The most popular products of each category (products of unknown category are left out)."""
    per_category: dict[str, dict[str, int]] = defaultdict(dict)
    for product_id, score in scores.items():
        if product_id in category_of:
            per_category[category_of[product_id]][product_id] = score
    return {category: ranked(products, limit) for category, products in per_category.items()}


def _take(into: list[Suggestion], candidates: Iterable[Scored], reason: str, listed: set[str], excluded: set[str],
          limit: int) -> None:
    seen = excluded | {s.product_id for s in into}
    for candidate in candidates:
        if len(into) >= limit:
            return
        if candidate.product_id in listed and candidate.product_id not in seen:
            into.append(Suggestion(candidate.product_id, reason, candidate.score))
            seen.add(candidate.product_id)


def for_product(product_id: str, together: list[Scored], category_popular: list[Scored], listed: set[str],
                limit: int) -> list[Suggestion]:
    """A product's page: bought together first, then its category's popular products."""
    chosen: list[Suggestion] = []
    _take(chosen, together, BOUGHT_TOGETHER, listed, {product_id}, limit)
    _take(chosen, category_popular, CATEGORY, listed, {product_id}, limit)
    return chosen


@dataclass(frozen=True)
class HomeInputs:
    recent: list[str]  # the user's recently bought or viewed products, most recent first
    together: Mapping[str, list[Scored]]  # per recent product
    category_of: Mapping[str, str]  # of the recent products
    category_popular: Mapping[str, list[Scored]]  # per category of the recent products
    hot: list[Scored]
    listed: set[str]


def home_list(inputs: HomeInputs, variant: str | None, limit: int, hot_slots: int) -> list[Suggestion]:
    """The personalised home list (module docstring): ``hot_slots`` hot items are always in it, at
    most half of it; personal items fill the rest, and hot ones whatever they leave."""
    excluded = set(inputs.recent)
    hot: list[Suggestion] = []
    _take(hot, inputs.hot, HOT, inputs.listed, excluded, min(hot_slots, limit // 2))
    personal: list[Suggestion] = []
    room = limit - len(hot)
    summed: Counter[str] = Counter()
    for product_id in inputs.recent:
        for scored in inputs.together.get(product_id, []):
            summed[scored.product_id] += scored.score
    taken = excluded | {s.product_id for s in hot}
    _take(personal, ranked(summed, len(summed)), BOUGHT_TOGETHER, inputs.listed, taken, room)
    for category in dict.fromkeys(inputs.category_of[p] for p in inputs.recent if p in inputs.category_of):
        _take(personal, inputs.category_popular.get(category, []), CATEGORY, inputs.listed, taken, room)
    if len(hot) + len(personal) < limit:  # not enough personal items: more hot ones
        _take(hot, inputs.hot, HOT, inputs.listed, excluded | {s.product_id for s in personal},
              limit - len(personal))
    return hot + personal if variant == HOT_FIRST else personal + hot

"""Recommendations on moto: the daily job over a 30-day window of baskets and views, a product's
list, a user's home list by variant. Hand-computed numbers in the comments."""
from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from bench.item_size import analytics_items, largest
from chalicelib.bootstrap import Deps
from chalicelib.config import Rules
from chalicelib.domain.activity import Event, EventType
from chalicelib.domain.catalog import Product
from chalicelib.jobs import run_job
from chalicelib.services import recommendations
from chalicelib.services.recommendations import ProductNotFound
from chalicelib.store.analytics import AnalyticsItem, Tally, Write, basket_item
from chalicelib.store.recommendations import HOT, category_list_key, product_list_key
from tests.service.test_orders import login, paid_order

TODAY = date(2026, 11, 10)  # the clock's START, 12:00 in Shanghai
CATALOGUE = [("mask", "beauty"), ("serum", "beauty"), ("lipstick", "beauty"), ("nuts", "food"), ("tea", "food"),
             ("purifier", "appliance"), ("kettle", "appliance")]


def add_catalogue(deps: Deps) -> None:
    for product_id, category in CATALOGUE:
        deps.products.put_if_absent(Product(product_id, product_id, category, 1_000, 5_000, 100, 1_000, 500,
                                            listed=product_id != "lipstick"), deps.clock())


def basket(deps: Deps, day: date, order_id: str, *products: str) -> None:
    """A paid order's basket, with the day's ``orders`` counter it is written with (facts.order_paid)."""
    item = basket_item(day, order_id, "someone", [(p, 1) for p in products], deps.clock())
    tally = Tally()
    tally.add(day, "orders")
    assert deps.analytics.write(Write(tally=tally, puts=(item,))) is None


def views(deps: Deps, day: date, **counts: int) -> None:
    """Product views, with the day's ``product_views`` counter they are written with (events)."""
    tally = Tally()
    for product_id, n in counts.items():
        tally.add_product(day, product_id, "views", n)
        tally.add(day, "product_views", n)
    assert deps.analytics.write(Write(tally=tally)) is None


def compute(now: datetime, deps: Deps, slice_budget: float | None = None) -> dict[str, Any]:
    """The job, run to its end in this process (``run_job``)."""
    return run_job("compute_recommendations", now, deps, slice_budget)


@pytest.fixture
def history(deps: Deps) -> Deps:
    """Paid orders: 11-09 {mask, serum} ×2, {mask, nuts}; 11-01 {mask}, {nuts, tea};
    10-12 {lipstick, mask} (inside the 30 days before 11-10); 10-10 {purifier, kettle} (outside).
    Views: 11-09 mask 10, tea 7; 11-08 serum 3, purifier 4, kettle 2."""
    add_catalogue(deps)
    day = TODAY - timedelta(days=1)
    basket(deps, day, "o1", "mask", "serum")
    basket(deps, day, "o2", "mask", "serum")
    basket(deps, day, "o3", "mask", "nuts")
    basket(deps, date(2026, 11, 1), "o4", "mask")
    basket(deps, date(2026, 11, 1), "o5", "nuts", "tea")
    basket(deps, date(2026, 10, 12), "o6", "lipstick", "mask")
    basket(deps, date(2026, 10, 10), "o7", "purifier", "kettle")
    views(deps, day, mask=10, tea=7)
    views(deps, date(2026, 11, 8), serum=3, purifier=4, kettle=2)
    return deps


def test_the_job_adds_up_the_30_days_before_today(history, clock):
    summary = compute(clock(), history)
    # o1–o6 (o7 is outside the window); orders per product: mask 5, serum 2, nuts 2, tea 1, lipstick 1
    expected = {"from": "2026-10-11", "to": "2026-11-09", "days_summarised": 30, "orders": 6,
                "products": 7, "pairs": 4, "lists": 7 + 3 + 1, "lists_removed": 0}
    assert {name: summary[name] for name in expected} == expected
    stored = history.recommendations.lists([product_list_key("mask"), category_list_key("beauty"), HOT])
    # mask–serum 2/√(5·2) = 0.63245 → 6324; mask–lipstick 1/√(5·1) → 4472; mask–nuts 1/√(5·2) → 3162
    assert [(s.product_id, s.score) for s in stored[product_list_key("mask")].items] == [
        ("serum", 6324), ("lipstick", 4472), ("nuts", 3162)]
    assert stored[product_list_key("mask")].category == "beauty"
    # popularity 5·orders + views: mask 35, serum 13, tea 12, nuts 10, lipstick 5, purifier 4, kettle 2
    assert [(s.product_id, s.score) for s in stored[category_list_key("beauty")].items] == [
        ("mask", 35), ("serum", 13), ("lipstick", 5)]
    assert [s.product_id for s in stored[HOT].items] == ["mask", "serum", "tea", "nuts", "lipstick", "purifier", "kettle"]
    assert stored[HOT].computed_on == "2026-11-10"


def test_a_product_page_shows_bought_together_listed_products_then_its_category(history, clock):
    compute(clock(), history)
    mask = recommendations.for_product("mask", None, history)
    assert [(p.product_id, s.reason, s.score) for p, s in mask.items] == [
        ("serum", "bought_together", 6324), ("nuts", "bought_together", 3162)]  # lipstick is not listed
    assert mask.computed_on == "2026-11-10"
    tea = recommendations.for_product("tea", 5, history)
    assert [(p.product_id, s.reason) for p, s in tea.items] == [("nuts", "bought_together")]
    # the purifier was bought with the kettle 31 days ago: out of the window, so its category fills in
    purifier = recommendations.for_product("purifier", None, history)
    assert [(p.product_id, s.reason, s.score) for p, s in purifier.items] == [("kettle", "category", 2)]


@pytest.mark.parametrize("product_id", ["lipstick", "no-such-product", "x" * 65, "../mask"])
def test_unknown_or_unlisted_products_have_no_recommendations(history, product_id):
    with pytest.raises(ProductNotFound):
        recommendations.for_product(product_id, None, history)


def test_before_the_first_run_a_product_has_an_empty_list(history):
    page = recommendations.for_product("mask", None, history)
    assert (page.items, page.computed_on) == ([], None)


def test_each_day_is_summarised_once_and_lists_of_products_out_of_the_window_are_removed(history, clock):
    compute(clock(), history)
    clock.advance(days=1)
    assert compute(clock(), history)["days_summarised"] == 1
    clock.advance(days=2)  # 11-13: the window starts on 10-14, the lipstick's only order (10-12) has left
    summary = compute(clock(), history)
    assert (summary["days_summarised"], summary["orders"], summary["lists_removed"]) == (2, 5, 1)
    assert history.recommendations.lists([product_list_key("lipstick")]) == {}
    assert [s.product_id for s in history.recommendations.lists([product_list_key("mask")])[product_list_key("mask")]
            .items] == ["serum", "nuts"]


def configure_home(deps: Deps, variant: str) -> None:
    rules = Rules.model_validate({"experiments": {"home_layout": {"variants": {"A": int(variant == "A"),
                                                                               "B": int(variant == "B")}}},
                                  "recommendations": {"limit": 4, "hot_slots": 2}})
    deps.settings = deps.settings.model_copy(update={"rules": rules})


@pytest.mark.parametrize(("variant", "expected"), [
    ("A", ["tea", "mask", "serum", "purifier"]),
    ("B", ["mask", "serum", "purifier", "tea"]),
])
def test_the_home_list_builds_on_recent_purchases_and_the_variant_orders_it(history, clock, variant, expected):
    compute(clock(), history)
    configure_home(history, variant)
    buyer = login(history, "buyer")
    paid_order(history, buyer, "nuts")
    # recent: nuts → together tea 7071, mask 3162; food: tea, nuts (recent). Hot slots: mask, serum;
    # personal: tea (mask is hot already); filled with hot: tea taken, nuts recent, lipstick unlisted → purifier
    home = recommendations.for_user(buyer, None, history)
    assert home.variant == variant
    assert [p.product_id for p, _ in home.items] == expected
    assert {p.product_id: s.reason for p, s in home.items}["tea"] == "bought_together"
    assert history.experiments.exposure(buyer, "home_layout").variant == variant  # the home list exposes


def test_recent_views_count_with_purchases_most_recent_first(history, clock):
    compute(clock(), history)
    configure_home(history, "A")
    buyer = login(history, "viewer")
    paid_order(history, buyer, "nuts")
    clock.advance(minutes=5)
    at = clock()
    recommendations.remember_views(buyer, [  # one batch: serum viewed first, then the purifier twice
        Event(EventType.PRODUCT_VIEW, "s1", at - timedelta(seconds=30), product_id="serum"),
        Event(EventType.PAGE_VIEW, "s1", at - timedelta(seconds=20), page="/pages/cart"),
        Event(EventType.PRODUCT_VIEW, "s1", at - timedelta(seconds=10), product_id="purifier"),
        Event(EventType.PRODUCT_VIEW, "s1", at, product_id="purifier")], history)
    assert recommendations.recent_products(buyer, history) == ["purifier", "serum", "nuts"]
    home = recommendations.for_user(buyer, 6, history)
    # hot slots: mask, tea (serum recent); together: mask 6324 (serum) + 3162 (nuts) → mask taken,
    # tea 7071 (nuts) taken; categories appliance: kettle; beauty: mask taken, lipstick unlisted;
    # food: tea taken → personal [kettle]; hot fill: lipstick no, purifier recent … none left
    assert [(p.product_id, s.reason) for p, s in home.items] == [("kettle", "category"), ("mask", "hot"), ("tea", "hot")]


def test_without_the_experiment_the_home_list_has_no_variant(history, clock):
    history.settings = history.settings.model_copy(update={"rules": Rules.model_validate({"experiments": {}})})
    compute(clock(), history)
    home = recommendations.for_user(login(history, "new"), 3, history)
    assert home.variant is None
    assert [(p.product_id, s.reason) for p, s in home.items] == [("mask", "hot"), ("serum", "hot"), ("tea", "hot")]


def test_views_are_remembered_best_effort_and_only_for_product_views(deps, clock, monkeypatch):
    user = login(deps, "looker")
    recommendations.remember_views(user, [Event(EventType.PAGE_VIEW, "s1", clock(), page="/pages/index")], deps)
    assert deps.recommendations.viewed(user) == ([], None)

    def broken(*args: object) -> None:
        raise RuntimeError("DynamoDB is down")

    monkeypatch.setattr(deps.recommendations, "remember_views", broken)
    recommendations.remember_views(user, [Event(EventType.PRODUCT_VIEW, "s1", clock(), product_id="mask")], deps)


# The job as parts -----------------------------------------------------------------------------
def rec_items(prefixes: tuple[str, ...] = ("rec#p#", "rec#c#", "rec#hot")) -> list[str]:
    """The stored lists (or other ``rec#`` items), as sorted JSON lines."""
    return sorted(json.dumps(i, sort_keys=True) for i in analytics_items() if i["pk"]["S"].startswith(prefixes))


def forget_the_job() -> None:
    """Every item the job wrote: its lists and every step's output and marker."""
    for item in analytics_items():
        if item["pk"]["S"].startswith("rec#") and not item["pk"]["S"].startswith("rec#u#"):
            AnalyticsItem(item["pk"]["S"], item["sk"]["S"]).delete()


def test_one_page_slices_with_parts_taking_over_each_others_steps_leave_the_same_lists(history, clock, monkeypatch):
    from chalicelib.services import recommendation_job

    whole = compute(clock(), history)
    lists = rec_items()
    forget_the_job()
    # a step of a few products or one basket a page spans slices: the parts, served in turn, take
    # over steps others have begun (both run it, under two nonces)
    monkeypatch.setattr(recommendation_job, "PRODUCTS_PER_READ", 2)
    monkeypatch.setattr(recommendation_job, "BASKETS_PER_PAGE", 1)
    sliced = compute(clock(), history, slice_budget=0)
    assert rec_items() == lists
    fields = ("days_summarised", "orders", "products", "pairs", "lists", "lists_removed")
    assert {f: sliced[f] for f in fields} == {f: whole[f] for f in fields}
    assert sliced["slices"] > 2 * whole["slices"]


def test_no_item_of_the_job_grows_with_the_products(deps, clock, monkeypatch):
    """200 products bought and viewed against 20: more chunks, none larger than the chunk bound,
    and lists of at most ``stored`` products."""
    from chalicelib.store import recommendation_runs

    monkeypatch.setattr(recommendation_runs, "CHUNK_BYTES", 600)
    rules = Rules.model_validate({"recommendations": {"window_days": 2, "stored": 5}})
    deps.settings = deps.settings.model_copy(update={"rules": rules})
    largest_by_size = {}
    for n, day in ((20, date(2026, 11, 9)), (200, date(2026, 11, 12))):
        ids = [f"p{n}x{i:04d}" for i in range(n)]
        for product_id in ids:
            deps.products.put_if_absent(Product(product_id, "x", f"c{n}", 1_000, 5_000, 9, 1_000, 500), deps.clock())
        for i in range(n):  # every product bought with the next two and viewed
            basket(deps, day, f"o{n}-{i}", ids[i], ids[(i + 1) % n], ids[(i + 2) % n])
        for start in range(0, n, 40):
            views(deps, day, **{p: 1 for p in ids[start:start + 40]})
        clock.at = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=UTC) + timedelta(hours=4)
        summary = compute(clock(), deps)
        assert (summary["products"], summary["orders"]) == (n, n)
        items = [i for i in analytics_items() if i["pk"]["S"].startswith("rec#")]
        markers = [i for i in items if i["pk"]["S"].startswith(("rec#day#", "rec#run#"))]
        largest_by_size[n] = (largest([i for i in items if i not in markers])[0], largest(markers)[0], len(items))
        forget_the_job()
    (small, small_marker, small_count), (big, big_marker, big_count) = largest_by_size[20], largest_by_size[200]
    assert big_count > 2 * small_count
    assert max(small, big) <= 600 + 200  # a chunk of at most 600 bytes of JSON and its key; lists are smaller
    assert max(small_marker, big_marker) <= 1_200  # a day's marker: its 24 steps' nonces, counts and bucket bits

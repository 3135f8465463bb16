"""Recommendation scores on hand-computed data (DOMAIN.md §8)."""
from __future__ import annotations

from chalicelib.domain.recommendations import (
    HomeInputs,
    Scored,
    Suggestion,
    Window,
    bought_together,
    category_popularity,
    cosine_bp,
    for_product,
    home_list,
    pairs_of,
    popularity,
    ranked,
)


def window() -> Window:
    """Five paid orders: {mask, serum}, {mask, serum}, {mask, nuts}, {mask}, {nuts, tea};
    views: mask 10, serum 3, tea 7, purifier 4."""
    w = Window()
    w.add_order(["mask", "serum"], times=2)
    w.add_order(["mask", "nuts", "mask"])  # a product twice in one order counts once
    w.add_order(["mask"])
    w.add_order(["tea", "nuts"])
    w.views.update({"mask": 10, "serum": 3, "tea": 7, "purifier": 4})
    return w


CATEGORY = {"mask": "beauty", "serum": "beauty", "nuts": "food", "tea": "food", "purifier": "appliance"}


def test_orders_and_pairs_are_counted_once_per_order():
    w = window()
    assert w.baskets == 5
    assert w.orders == {"mask": 4, "serum": 2, "nuts": 2, "tea": 1}
    assert w.together == {("mask", "serum"): 2, ("mask", "nuts"): 1, ("nuts", "tea"): 1}
    assert pairs_of(["c", "a", "b", "a"]) == [("a", "b"), ("a", "c"), ("b", "c")]


def test_windows_add_up_day_by_day():
    total = Window()
    for day in (window(), window()):
        total.add(day)
    assert (total.baskets, total.orders["mask"], total.views["tea"], total.together[("mask", "serum")]) == (10, 8, 14, 4)


def test_the_bought_together_score_is_the_cosine_in_basis_points_floored():
    # mask–serum: 2/√(4·2) = 0.707106… → 7071; mask–nuts: 1/√(4·2) → 3535; nuts–tea: 1/√(2·1) → 7071
    assert cosine_bp(2, 4, 2) == 7071
    assert cosine_bp(1, 4, 2) == 3535
    assert cosine_bp(3, 3, 3) == 10_000
    assert cosine_bp(0, 3, 3) == 0
    scores = bought_together(window(), limit=5)
    assert scores == {
        "mask": [Scored("serum", 7071), Scored("nuts", 3535)],
        "serum": [Scored("mask", 7071)],
        "nuts": [Scored("tea", 7071), Scored("mask", 3535)],
        "tea": [Scored("nuts", 7071)],
    }
    assert bought_together(window(), limit=1)["mask"] == [Scored("serum", 7071)]


def test_popularity_weighs_a_purchase_as_five_views():
    # mask 5·4 + 10 = 30; serum 5·2 + 3 = 13; nuts 5·2 = 10; tea 5·1 + 7 = 12; purifier 4
    assert popularity(window(), 5, 1) == {"mask": 30, "serum": 13, "nuts": 10, "tea": 12, "purifier": 4}


def test_category_popularity_ranks_each_category_and_leaves_out_unknown_products():
    scores = {**popularity(window(), 5, 1), "ghost": 99}
    assert category_popularity(scores, CATEGORY, limit=5) == {
        "beauty": [Scored("mask", 30), Scored("serum", 13)],
        "food": [Scored("tea", 12), Scored("nuts", 10)],
        "appliance": [Scored("purifier", 4)],
    }


def test_ties_go_to_the_smaller_id_and_zero_scores_are_left_out():
    assert ranked({"b": 5, "a": 5, "c": 9, "z": 0}, 10) == [Scored("c", 9), Scored("a", 5), Scored("b", 5)]


def test_a_product_page_shows_bought_together_then_its_category_but_never_itself():
    together = [Scored("serum", 7071), Scored("nuts", 3535)]
    beauty = [Scored("mask", 30), Scored("lipstick", 20), Scored("serum", 13)]
    listed = {"mask", "serum", "nuts", "lipstick"}
    assert for_product("mask", together, beauty, listed, limit=3) == [
        Suggestion("serum", "bought_together", 7071), Suggestion("nuts", "bought_together", 3535),
        Suggestion("lipstick", "category", 20)]


def test_unlisted_products_are_never_recommended():
    together = [Scored("serum", 7071), Scored("nuts", 3535)]
    assert for_product("mask", together, [], {"mask", "nuts"}, limit=3) == [Suggestion("nuts", "bought_together", 3535)]


def home_inputs(recent: list[str]) -> HomeInputs:
    w = window()
    scores = popularity(w, 5, 1)
    return HomeInputs(recent=recent, together=bought_together(w, 10), category_of=CATEGORY,
                      category_popular=category_popularity(scores, CATEGORY, 10), hot=ranked(scores, 10),
                      listed={"mask", "serum", "nuts", "tea", "purifier"})


def test_the_home_list_of_variant_a_puts_personal_items_before_hot_ones():
    # recent: nuts → together tea 7071, mask 3535; food category: tea (taken), nuts (recent);
    # 2 hot slots: mask 30 and serum 13 (nuts recent) — mask is hot, so personal keeps tea only
    chosen = home_list(home_inputs(["nuts"]), "A", limit=4, hot_slots=2)
    assert chosen == [Suggestion("tea", "bought_together", 7071), Suggestion("mask", "hot", 30),
                      Suggestion("serum", "hot", 13), Suggestion("purifier", "hot", 4)]


def test_variant_b_shows_the_same_items_hot_ones_first():
    a = home_list(home_inputs(["nuts"]), "A", limit=4, hot_slots=2)
    b = home_list(home_inputs(["nuts"]), "B", limit=4, hot_slots=2)
    assert [s.product_id for s in b] == ["mask", "serum", "purifier", "tea"]
    assert sorted(s.product_id for s in a) == sorted(s.product_id for s in b)


def test_scores_of_several_recent_products_add_up():
    # recent mask and tea: together nuts 3535 (mask) + 7071 (tea) = 10606, serum 7071 (mask);
    # the hot slot is filled first: serum (mask and tea are recent), so serum shows as hot
    chosen = home_list(home_inputs(["mask", "tea"]), "A", limit=3, hot_slots=1)
    assert chosen == [Suggestion("nuts", "bought_together", 10_606), Suggestion("serum", "hot", 13),
                      Suggestion("purifier", "hot", 4)]
    chosen = home_list(home_inputs(["mask", "tea"]), "A", limit=3, hot_slots=0)
    assert chosen == [Suggestion("nuts", "bought_together", 10_606), Suggestion("serum", "bought_together", 7071),
                      Suggestion("purifier", "hot", 4)]


def test_hot_slots_take_at_most_half_the_list():
    chosen = home_list(home_inputs(["nuts"]), "A", limit=3, hot_slots=4)
    # 1 hot slot: mask; personal: tea 7071 (mask taken); filled with hot: serum
    assert [(s.product_id, s.reason) for s in chosen] == [("tea", "bought_together"), ("mask", "hot"), ("serum", "hot")]


def test_a_user_without_history_gets_the_hot_list():
    chosen = home_list(home_inputs([]), "A", limit=3, hot_slots=1)
    assert [(s.product_id, s.reason) for s in chosen] == [("mask", "hot"), ("serum", "hot"), ("tea", "hot")]

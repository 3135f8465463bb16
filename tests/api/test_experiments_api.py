"""Experiments and recommendations through HTTP: variants, the admin figures, the daily job on
demand, a product's and a user's recommendations, bad input."""
from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.domain.catalog import Product
from tests.conftest import START
from tests.service.test_recommendations import basket


@pytest.fixture
def admin(api):
    return api.login("admin")[0]


def test_a_users_variant_is_stable_and_recorded_once(api, deps):
    token, user_id = api.login("alice")
    status, first = api.call("GET", "/v1/experiments/home_layout/variant", token=token)
    assert status == 200 and first["experiment"] == "home_layout" and first["variant"] in ("A", "B")
    assert api.call("GET", "/v1/experiments/home_layout/variant", token=token)[1] == first
    assert deps.experiments.counts("home_layout")[first["variant"]].exposures == 1
    assert deps.experiments.exposure(user_id, "home_layout").variant == first["variant"]


@pytest.mark.parametrize(("path", "token_needed", "status", "code"), [
    ("/v1/experiments/no_such_test/variant", True, 404, "EXPERIMENT_NOT_FOUND"),
    ("/v1/experiments/home_layout/variant", False, 401, "UNAUTHENTICATED"),
    ("/v1/me/recommendations", False, 401, "UNAUTHENTICATED"),
    ("/v1/products/no-such-product/recommendations", False, 404, "PRODUCT_NOT_FOUND"),
    ("/v1/products/p1/recommendations?limit=0", False, 422, "VALIDATION_FAILED"),
    ("/v1/products/p1/recommendations?limit=51", False, 422, "VALIDATION_FAILED"),
    ("/v1/products/p1/recommendations?limit=ten", False, 422, "VALIDATION_FAILED"),
    ("/v1/products/p1/recommendations?sort=desc", False, 422, "VALIDATION_FAILED"),
    ("/v1/me/recommendations?limit=-1", True, 422, "VALIDATION_FAILED"),
])
def test_bad_requests_get_a_stable_code_and_change_nothing(api, deps, path, token_needed, status, code):
    deps.products.put_if_absent(Product("p1", "面膜", "beauty", 1_500, 5_000, 50, 2_000, 500), deps.clock())
    token = api.login("bob")[0] if token_needed else None
    answer = api.call("GET", path, token=token)
    assert answer[0] == status and answer[1]["error"]["code"] == code, answer
    assert deps.experiments.counts("home_layout") == {}


def test_the_admin_figures_need_an_admin(api, admin):
    assert api.call("GET", "/v1/admin/experiments", token=api.login("carol")[0])[0] == 403
    token, _ = api.login("dave")
    variant = api.call("GET", "/v1/experiments/home_layout/variant", token=token)[1]["variant"]
    status, figures = api.call("GET", "/v1/admin/experiments", token=admin)
    assert status == 200
    [home] = figures["experiments"]
    assert (home["experiment"], home["control"], home["min_detectable_effect_bp"]) == ("home_layout", "A", 700)
    rows = {row["variant"]: row for row in home["variants"]}
    assert rows[variant]["exposures"] == 1 and rows[variant]["conversions"] == 0
    # 8% → 15% needs 325 per variant (tests/unit/test_experiments.py)
    assert rows[variant]["sample_size_needed"] == 324 and rows["A"]["p_value"] is None


def test_the_job_runs_on_demand_and_feeds_both_lists(api, deps, admin):
    for product_id, category in (("mask", "beauty"), ("serum", "beauty"), ("nuts", "food")):
        deps.products.put_if_absent(Product(product_id, product_id, category, 1_000, 5_000, 9, 1_000, 500), deps.clock())
    yesterday = (START - timedelta(days=1)).date()
    for order_id, products in (("o1", ["mask", "serum"]), ("o2", ["mask", "nuts"]), ("o3", ["mask", "serum"])):
        basket(deps, yesterday, order_id, *products)
    status, run = api.call("POST", "/v1/dev/jobs/compute_recommendations", {"now": "2026-11-10T04:00:00Z"})
    assert status == 200, run
    assert (run["job"], run["orders"], run["pairs"], run["to"]) == ("compute_recommendations", 3, 2, "2026-11-09")
    status, page = api.call("GET", "/v1/products/mask/recommendations?limit=1")
    # mask–serum 2/√(3·2) = 0.81649 → 8164
    assert status == 200 and page["computed_on"] == "2026-11-10"
    assert page["items"] == [{"product_id": "serum", "name": "serum", "category": "beauty", "price_fen": 5_000,
                              "group_price_fen": None, "reason": "bought_together", "score": 8164}]
    token, _ = api.login("erin")
    status, home = api.call("GET", "/v1/me/recommendations", token=token)
    assert status == 200 and home["variant"] in ("A", "B")
    # no purchases yet: the hot list, popularity 5·orders: mask 15, serum 10, nuts 5
    assert [(i["product_id"], i["reason"], i["score"]) for i in home["items"]] == [
        ("mask", "hot", 15), ("serum", "hot", 10), ("nuts", "hot", 5)]


def test_the_new_routes_are_in_the_openapi_document(api):
    paths = api.call("GET", "/v1/openapi.json")[1]["paths"]
    assert paths["/v1/products/{product_id}/recommendations"]["get"]["security"] == []
    for path in ("/v1/experiments/{name}/variant", "/v1/me/recommendations", "/v1/admin/experiments"):
        assert "get" in paths[path]


def configure_home(deps, variant: str) -> None:
    from chalicelib.config import Rules

    rules = Rules.model_validate({"experiments": {"home_layout": {"variants": {"A": int(variant == "A"),
                                                                               "B": int(variant == "B")}}}})
    deps.settings = deps.settings.model_copy(update={"rules": rules})


def test_paying_after_seeing_a_variant_converts_once_and_the_metrics_show_it(api, deps, admin):
    configure_home(deps, "B")
    deps.products.put_if_absent(Product("p1", "面膜", "beauty", 1_500, 5_000, 50, 2_000, 500), deps.clock())
    token, _ = api.login("frank")
    assert api.call("GET", "/v1/experiments/home_layout/variant", token=token)[1]["variant"] == "B"
    for key in ("k1", "k2"):  # two paid orders: one conversion
        status, placed = api.call("POST", "/v1/orders", {"items": [{"product_id": "p1", "quantity": 1}],
                                                         "address": {"name": "张三", "phone": "13800000000",
                                                                     "detail": "上海"}},
                                  token, headers={"Idempotency-Key": key})
        assert status == 201, placed
        assert api.call("POST", f"/v1/dev/pay/{placed['order_id']}")[1]["status"] == "paid"
    status, metrics = api.call("GET", "/v1/admin/metrics?from=2026-11-10&to=2026-11-10", token=admin)
    assert status == 200, metrics
    [home] = metrics["experiments"]
    assert [(v["variant"], v["exposures"], v["conversions"], v["conversion_rate_bp"]) for v in home["variants"]] == [
        ("A", 0, 0, 0), ("B", 1, 1, 10_000)]


def test_product_views_sent_as_events_shape_the_home_list(api, deps):
    configure_home(deps, "A")
    for product_id, category in (("mask", "beauty"), ("serum", "beauty"), ("nuts", "food"), ("tea", "food")):
        deps.products.put_if_absent(Product(product_id, product_id, category, 1_000, 5_000, 9, 1_000, 500), deps.clock())
    yesterday = (START - timedelta(days=1)).date()
    for order_id, products in (("o1", ["nuts", "tea"]), ("o2", ["mask"]), ("o3", ["mask"]), ("o4", ["serum"])):
        basket(deps, yesterday, order_id, *products)
    api.call("POST", "/v1/dev/jobs/compute_recommendations", {"now": "2026-11-10T04:00:00Z"})
    token, _ = api.login("grace")
    batch = {"events": [{"type": "product_view", "session_id": "s-1", "product_id": "nuts", "ts": "2026-11-10T03:59:00Z"}]}
    assert api.call("POST", "/v1/events", batch, token)[0] == 202
    status, home = api.call("GET", "/v1/me/recommendations?limit=3", token=token)
    # viewed nuts → bought together tea 10000; 1 hot slot (at most half of 3): mask 10 (nuts viewed);
    # food: tea taken, nuts viewed; filled with hot: serum 5
    assert status == 200 and home["variant"] == "A"
    assert [(i["product_id"], i["reason"]) for i in home["items"]] == [("tea", "bought_together"), ("mask", "hot"),
                                                                      ("serum", "hot")]

from __future__ import annotations

import re

from chalicelib.config import Mode


def test_dev_jobs_run_a_job_as_of_a_given_time(api, deps):
    from chalicelib.domain.tiers import Tier

    _, alice, _ = api.distributor("alice")
    assert deps.users.set_tier(alice, Tier.SENIOR, "2026-11", expected=Tier.REGULAR)  # re-decided in December
    status, body = api.call("POST", "/v1/dev/jobs/evaluate_tiers", {"now": "2026-12-01T00:00:00Z"})
    assert status == 200 and body["job"] == "evaluate_tiers" and body["downgraded"] == 1
    assert body["now"] == "2026-12-01T00:00:00Z"


def test_dev_jobs_refuse_unknown_jobs_and_naive_times(api):
    assert api.call("POST", "/v1/dev/jobs/nope", {})[1]["error"]["code"] == "NOT_FOUND"
    status, body = api.call("POST", "/v1/dev/jobs/evaluate_tiers", {"now": "2026-12-01T00:00:00"})
    assert status == 422 and body["error"]["code"] == "VALIDATION_FAILED"


def test_dev_routes_do_not_exist_outside_simulator_mode(api, deps):
    deps.settings = deps.settings.model_copy(update={"mode": Mode.LIVE, "wechat_app_secret": "s"})  # no validation
    status, body = api.call("POST", "/v1/dev/jobs/evaluate_tiers", {})
    assert status == 404 and body["error"]["code"] == "NOT_FOUND"


def _chalice_routes():
    """The API's routes: the console's HTML pages under /console are not the API (docs/console.md)."""
    import app

    return {(path, method) for path, methods in app.app.routes.items() for method in methods
            if not path.startswith("/console")}


def test_every_route_of_the_app_is_in_the_openapi_document(api):
    status, doc = api.call("GET", "/v1/openapi.json")
    assert status == 200 and doc["openapi"].startswith("3.")
    documented = {(path, method.upper()) for path, ops in doc["paths"].items() for method in ops}
    assert _chalice_routes() == documented


def test_every_schema_reference_in_the_document_resolves(api):
    doc = api.call("GET", "/v1/openapi.json")[1]
    refs = set(re.findall(r'"\$ref": "#/components/schemas/(\w+)"', __import__("json").dumps(doc)))
    assert refs and refs <= set(doc["components"]["schemas"])


def test_the_contract_fields_of_api_md_are_in_the_schemas(api):
    schemas = api.call("GET", "/v1/openapi.json")[1]["components"]["schemas"]
    assert set(schemas["UserOut"]["properties"]) >= {"user_id", "nickname", "role", "tier", "parent_id", "invite_code",
                                                     "real_name_verified", "shop"}
    assert set(schemas["TeamAnswer"]["properties"]) == {"tier", "direct_count", "team_count", "month_sales_fen",
                                                        "next_tier", "direct", "next"}
    # API.md's two fields, and the product a poster's scene opened (docs/posters.md)
    assert set(schemas["BindAnswer"]["properties"]) == {"parent_id", "grandparent_id", "product_id"}


def test_an_answers_fields_with_defaults_are_required_and_a_requests_are_not(api):
    """Answers are dumped whole, so a typed client (clients/miniprogram) may rely on every field of
    an answer; a request's field with a default stays optional."""
    schemas = api.call("GET", "/v1/openapi.json")[1]["components"]["schemas"]
    assert "reversed_fen" in schemas["CommissionEntryOut"]["required"]  # default 0, always sent
    assert {"sku_id", "refunded_quantity"} <= set(schemas["LineOut"]["required"])
    assert "sku_id" not in schemas["LineIn"]["required"]  # a checkout line may leave it out

"""Every Lambda function imports ``app`` at cold start: the heavy libraries, the services, the store
and the schemas must load only in the requests that use them (DESIGN.md "Cold start").
Structural, not timed: `make bench` times it."""
from __future__ import annotations

import json
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

import pytest

HEAVY = {"PIL", "pynamodb", "botocore", "boto3", "cryptography", "jwt", "aws_xray_sdk", "opentelemetry",
         "aws_lambda_powertools", "pydantic", "pydantic_core", "zoneinfo"}
TRACING = {"aws_xray_sdk", "opentelemetry"}
SIMULATOR = {"FENXIAO_MODE": "simulator"}
# A deployed function: live, its keys in the secret FENXIAO_SECRET_ID names (read on first use).
LIVE = {"FENXIAO_MODE": "live", "FENXIAO_SECRET_ID": "fenxiao/prod", "AWS_LAMBDA_FUNCTION_NAME": "fenxiao-prod",
        "AWS_DEFAULT_REGION": "cn-north-1"}

# Our own modules ``import app`` may load: the blueprints and route declarations, the error
# mapping, the lazy loader and the entry points' wrappers. A route imports its schemas, services
# and domain modules when it first runs. Adding a module here costs every cold start: measure it
# (`make bench`, cold-start part) first.
ALLOWED_OWN = {
    "app",
    "chalicelib",
    "chalicelib.api",
    *(f"chalicelib.api.{area}" for area in (
        "admin", "after_sales", "analytics", "catalog", "centre", "console", "console_after_sales", "console_audit",
        "console_content", "console_distributors", "console_http", "console_orders", "console_products",
        "console_settings", "console_support",
        "console_withdrawals", "content", "dashboard", "dev", "experiments", "fulfilment", "groups", "openapi",
        "orders", "payments", "referrals", "settings", "subscriptions", "support", "tracking", "uploads", "users",
        "wallet", "leaderboards")),
    *(f"chalicelib.api.{area}" for area in ("promotions", "console_promotions")),  # issue 19 (promo-core)
    *(f"chalicelib.api.{area}" for area in ("posters", "partner_board")),  # issue 18 (poster)
    "chalicelib.api.errors",
    "chalicelib.api.http",
    "chalicelib.domain",
    "chalicelib.domain.errors",
    "chalicelib.entrypoints",
    "chalicelib.lazy",
    "chalicelib.observability",
}


@lru_cache(maxsize=2)
def modules_loaded_by_importing_the_app(live: bool = False) -> frozenset[str]:
    probe = "import json, sys, app; print(json.dumps(sorted(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                            cwd=Path(__file__).resolve().parents[2],
                            env={**(LIVE if live else SIMULATOR), "PATH": "/usr/bin:/bin"})
    return frozenset(json.loads(result.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("live", [False, True], ids=["simulator", "live-with-secret"])
def test_importing_the_app_loads_no_heavy_library(live: bool) -> None:
    loaded = {m.split(".")[0] for m in modules_loaded_by_importing_the_app(live)}
    assert not loaded & HEAVY, f"imported at cold start: {sorted(loaded & HEAVY)}"


def test_importing_the_app_loads_only_the_allowed_modules_of_ours() -> None:
    ours = {m for m in modules_loaded_by_importing_the_app() if m == "app" or m.startswith("chalicelib")}
    assert ours <= ALLOWED_OWN, f"imported at cold start, not in the allow-list: {sorted(ours - ALLOWED_OWN)}"


def test_every_route_module_is_on_the_allow_list() -> None:
    """The allow-list names every blueprint module: a new area is added to it on purpose."""
    areas = {p.stem for p in (Path(__file__).resolve().parents[2] / "chalicelib" / "api").glob("*.py")
             if p.stem != "__init__" and not p.stem.endswith("schemas")}
    assert {f"chalicelib.api.{a}" for a in areas} <= ALLOWED_OWN


# A request that needs no database (no token: 401), served as API Gateway would call the handler.
SERVE = """
import json, sys, app
event = {"resource": "/v1/me", "path": "/v1/me", "httpMethod": "GET", "headers": {}, "multiValueHeaders": {},
         "queryStringParameters": None, "multiValueQueryStringParameters": None, "pathParameters": None,
         "stageVariables": None, "body": None, "isBase64Encoded": False,
         "requestContext": {"resourcePath": "/v1/me", "httpMethod": "GET", "requestId": "r-1", "path": "/v1/me",
                            "identity": {"sourceIp": "127.0.0.1"}}}
status = app.app(event, None)["statusCode"]
print(json.dumps({"status": status, "modules": sorted({m.split('.')[0] for m in sys.modules})}))
"""
IN_LAMBDA = {"FENXIAO_MODE": "simulator", "AWS_LAMBDA_FUNCTION_NAME": "fenxiao-dev-APIHandler",
             "AWS_DEFAULT_REGION": "cn-north-1"}


@pytest.mark.parametrize("env", [
    IN_LAMBDA,  # no ADOT wrapper: tracing off
    {**IN_LAMBDA, "AWS_LAMBDA_EXEC_WRAPPER": "/opt/otel-instrument", "OTEL_SDK_DISABLED": "true"},
], ids=["no-wrapper", "otel-sdk-disabled"])
def test_serving_a_request_with_tracing_off_loads_no_tracing_library(env: dict[str, str]) -> None:
    result = subprocess.run([sys.executable, "-c", SERVE], capture_output=True, text=True, check=True,
                            cwd=Path(__file__).resolve().parents[2], env={**env, "PATH": "/usr/bin:/bin"})
    served = json.loads(result.stdout.strip().splitlines()[-1])
    assert served["status"] == 401
    assert not set(served["modules"]) & TRACING, sorted(set(served["modules"]) & TRACING)

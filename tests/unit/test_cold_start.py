"""Every Lambda function imports ``app`` at cold start: the heavy libraries must load only in
the requests that use them (DESIGN.md "Cold start"). Structural, not timed: `make bench` times it."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = {"pynamodb", "botocore", "boto3", "cryptography", "jwt", "aws_xray_sdk", "opentelemetry"}
TRACING = {"aws_xray_sdk", "opentelemetry"}
SIMULATOR = {"FENXIAO_MODE": "simulator"}
# A deployed function: live, its keys in the secret FENXIAO_SECRET_ID names (read on first use).
LIVE = {"FENXIAO_MODE": "live", "FENXIAO_SECRET_ID": "fenxiao/prod", "AWS_LAMBDA_FUNCTION_NAME": "fenxiao-prod",
        "AWS_DEFAULT_REGION": "cn-north-1"}


@pytest.mark.parametrize("env", [SIMULATOR, LIVE], ids=["simulator", "live-with-secret"])
def test_importing_the_app_loads_no_heavy_library(env: dict[str, str]) -> None:
    probe = "import json, sys, app; print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                            cwd=Path(__file__).resolve().parents[2], env={**env, "PATH": "/usr/bin:/bin"})
    loaded = set(json.loads(result.stdout.strip().splitlines()[-1]))
    assert not loaded & HEAVY, f"imported at cold start: {sorted(loaded & HEAVY)}"


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

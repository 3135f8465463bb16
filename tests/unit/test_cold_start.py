"""Every Lambda function imports ``app`` at cold start: the heavy libraries must load only in
the requests that use them (DESIGN.md "Cold start"). Structural, not timed: `make bench` times it."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = {"pynamodb", "botocore", "boto3", "cryptography", "jwt", "aws_xray_sdk"}
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

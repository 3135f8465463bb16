"""The environment the bench runs the app in: what tests/conftest.py sets, plus quiet Powertools.

It must be applied before anything imports ``chalicelib`` (settings and the models' region are
read at import)."""
from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

JWT_SECRET = "bench-secret-bench-secret-bench-secret-0123"  # noqa: S105 -- a throw-away key of the benchmarks' simulator-mode app

# Settings of the app under test (simulator mode: logins are "dev:<name>" codes).
APP_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "cn-north-1",
    "FENXIAO_MODE": "simulator",
    "JWT_SECRET": JWT_SECRET,
}

# In-process runs: tracing off as in the tests. Logs and metrics stay on (as in production);
# the bench sends their output to /dev/null instead.
IN_PROCESS_ENV = {
    **APP_ENV,
    "OTEL_SDK_DISABLED": "true",  # tracing off (docs/ops.md "Tracing")
    "POWERTOOLS_DEV": "false",
}


def apply_in_process() -> None:
    os.environ.update(IN_PROCESS_ENV)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    os.environ.pop("AWS_ENDPOINT_URL_DYNAMODB", None)


def subprocess_env(**extra: str) -> dict[str, str]:
    """A prod-like environment for the cold-start subprocesses: no endpoint override, no test
    switches, fake credentials (so botocore never asks an instance metadata service)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("POWERTOOLS_", "AWS_ENDPOINT_URL", "PYTHON"))}
    env.update(APP_ENV)
    env.update(extra)
    return env

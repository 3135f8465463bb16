"""Run the mini-program client's Node tests against a local stack of their own (``make test-client``).

Starts the stack as the e2e tier does (``scripts/dev.run_stack``: DynamoDB Local, or the moto
fallback without Java; the S3 stand-in; the demo catalogue; ``chalice local`` in simulator mode) on
free ports with an in-memory database, then runs ``node --test`` on the compiled tests with:

- ``FENXIAO_API_URL``: the stack's base URL;
- ``FENXIAO_JWT_SECRET``: the stack's session key, made here, so that a test can sign a token that
  expired a minute ago (the renewal test): a real expired token, refused by the real check.

Exits with node's exit code; the stack's log tail is printed when the tests failed.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

if __package__ in (None, ""):  # run as `python scripts/client_e2e.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.dev import run_stack
from scripts.procs import StartupError, free_port, log_tail

PACKAGE = Path(__file__).resolve().parent.parent / "clients" / "miniprogram"
TESTS = ("dist/test/unit/", "dist/test/stack/")
READY_TIMEOUT = 120.0
TESTS_TIMEOUT = 600.0


def main(argv: Sequence[str] | None = None) -> int:
    jwt_secret = secrets.token_urlsafe(48)
    env = {"FENXIAO_MODE": "simulator", "JWT_SECRET": jwt_secret}
    with tempfile.TemporaryDirectory(prefix="client-e2e-") as scratch:
        log = Path(scratch) / "stack.log"
        try:
            with run_stack(free_port(), None, READY_TIMEOUT, log_path=log, env=env) as url:
                print(f"client-e2e: the stack answers at {url}", flush=True)
                result = subprocess.run(  # noqa: S603 -- the machine's node on our own compiled tests
                    ["node", "--test", *(argv or TESTS)],  # noqa: S607 -- node from PATH, as `make` finds it
                    cwd=PACKAGE, env={**os.environ, "FENXIAO_API_URL": url, "FENXIAO_JWT_SECRET": jwt_secret},
                    stdin=subprocess.DEVNULL, timeout=TESTS_TIMEOUT, check=False,
                )
        except StartupError as exc:
            print(f"client-e2e: the stack did not start: {exc}", file=sys.stderr)
            return 1
        if result.returncode != 0:
            print(f"client-e2e: node --test exited {result.returncode}; the stack's log:\n{log_tail(log, lines=60)}",
                  file=sys.stderr)
        return result.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

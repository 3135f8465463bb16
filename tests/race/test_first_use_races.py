"""The lazy imports of the API under concurrent first use, in process and without a database.

``import app`` loads no schema, service or domain module: every route loads what it needs on its
first request (chalicelib/lazy.py). Here, in fresh interpreters that have only imported the app,
one thread per route makes that first use at once (its request and answer models), and one per
lazily imported module a blueprint names; then each makes all the others' in an order of its own.
None may fail or see a half-initialised module. (importlib's LazyLoader, used before, failed this
in about half the processes on 2 cores: two threads created a module object each for
``chalicelib.api.dashboard_schemas``, and one load found the other's in ``sys.modules``: a 500.)
tests/e2e/test_first_requests.py sends such first requests over HTTP.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.race

PROCESSES = 10  # fresh interpreters: a first use happens once per process

PROBE = r"""
import importlib, json, random, threading
import app
from chalicelib.api.http import ROUTES

blueprint_modules = [importlib.import_module(f"chalicelib.api.{name}") for name in (
    "admin", "analytics", "catalog", "content", "dashboard", "dev", "experiments", "groups", "openapi",
    "orders", "payments", "referrals", "users", "wallet", "console", "console_http", "console_orders",
    "console_products")]
lazies = [value for module in blueprint_modules for value in vars(module).values()
          if type(value).__name__ == "LazyModule"]
work = [lambda r=r: (r.body, r.query, r.response) for r in ROUTES]
work += [lambda m=m: (m.__file__, m.__name__) for m in lazies]
start = threading.Barrier(len(work))
errors = []

def first_use(i):
    # Its own first use, then every other one in an order of its own: the threads meet on each.
    others = work[:i] + work[i + 1:]
    random.Random(i).shuffle(others)
    order = [work[i], *others]
    start.wait()
    for job in order:
        try:
            job()
        except Exception as exc:
            errors.append(repr(exc))

threads = [threading.Thread(target=first_use, args=(i,)) for i in range(len(work))]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(json.dumps({"uses": len(work), "errors": errors}))
"""


def first_use_at_once() -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=False, timeout=120,
                          cwd=Path(__file__).resolve().parents[2],
                          env={"FENXIAO_MODE": "simulator", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_every_route_used_first_by_its_own_thread_at_once_loads_cleanly_in_fresh_processes() -> None:
    failures: list[str] = []
    for _ in range(PROCESSES):
        outcome = first_use_at_once()
        assert outcome["uses"] > 50
        failures += outcome["errors"]
    assert not failures, failures[:5]

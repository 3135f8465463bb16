"""Which Lambda memory runs the functions fastest per cost (docs/performance.md "Lambda memory").

Lambda gives a function CPU in proportion to its memory: 1,769 MB is one vCPU; below it the
function gets that share of one, above it more vCPUs, which our single-threaded handlers do
not use. So a run's duration at memory M is its CPU time stretched by 1,769 / M (not below
1,769) plus the time it waits on DynamoDB, which memory does not change:

    duration(M) = cpu × max(1, 1769 / M) + wait
    cost(M)     = duration(M) × M / 1024 × price per GB-second (+ the price of the request)

Measured here, in this process against DynamoDB Local: the process CPU time (``time.process_time``:
ours alone, DynamoDB Local is another process) and the wall time of

* ``settle_commissions`` through the job engine (``run_job``) over ``n`` due commissions of
  ``users`` users, the representative job: read an index page, commit transactions of ~100
  items, repeat;
* API requests through the app (``chalice.test``): logins of new users (a transaction and an
  update each) and product lists (a read and a query),

with their DynamoDB round trips by operation. ``wait`` on AWS is not DynamoDB Local's: it is
derived as round trips × the latency of each operation on AWS (``AWS_LATENCY_MS``, typical
in-region figures, an assumption stated in the docs), so the result does not depend on how
slow the local Java database is. This machine's core is taken as one Lambda vCPU (both are
current x86 server cores; the docs say so).

Cost × duration, (a·M + b)(a + b/M) with a = wait and b = 1769 × cpu, is smallest at
M* = 1769 × cpu / wait: the memory at which the stretched CPU time equals the wait. Below M*
a run gets much slower for little saving; above it a run costs more for little speed. The
recommendation is M* rounded up to a size Lambda users pick, at least what the process needs
(its peak resident memory plus headroom).
"""
from __future__ import annotations

import os
import resource
import time
from datetime import timedelta
from typing import Any

from bench.env import REPO_ROOT

ONE_VCPU_MB = 1769
MEMORY_OPTIONS_MB = (128, 256, 512, 768, 1024, 1536, 1769, 2048)
PRICE_PER_GB_SECOND = 0.0000166667  # USD, x86, the public price list of us-east-1
PRICE_PER_MILLION_REQUESTS = 0.20  # USD
# Typical in-region DynamoDB latency per operation (ms), on-demand tables, items of ~1 KB; a
# transaction of ~100 items takes longer than a single write.
AWS_LATENCY_MS = {"GetItem": 4.0, "BatchGetItem": 6.0, "Query": 6.0, "Scan": 10.0, "PutItem": 6.0,
                  "UpdateItem": 6.0, "DeleteItem": 6.0, "BatchWriteItem": 12.0, "TransactWriteItems": 20.0,
                  "TransactGetItems": 10.0, "SendMessage": 10.0}
SLOW_TRANSACTION_MS = 50.0  # the sensitivity case: a transaction of ~100 items slower than assumed
N, USERS, REQUESTS = 2_000, 200, 200


def _measure(action: Any, meter: Any) -> dict[str, Any]:
    meter.reset()
    cpu, wall = time.process_time(), time.perf_counter()
    action()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    snap = meter.take()
    return {"cpu_s": cpu, "wall_s": wall, "local_wait_s": max(wall - cpu, 0.0),
            "aws_wait_s": aws_wait(snap.calls), "aws_wait_slow_s": aws_wait(snap.calls, SLOW_TRANSACTION_MS),
            "round_trips": snap.round_trips, "calls": dict(snap.calls)}


def aws_wait(calls: dict[str, int], transaction_ms: float | None = None) -> float:
    """Seconds a run waits on DynamoDB on AWS: its round trips × ``AWS_LATENCY_MS``."""
    latency = {**AWS_LATENCY_MS, **({"TransactWriteItems": transaction_ms} if transaction_ms else {})}
    return sum(latency.get(op, 10.0) * n for op, n in calls.items()) / 1000


def by_memory(cpu: float, wait: float, runs: int = 1) -> list[dict[str, float]]:
    """Duration, cost (USD per ``runs`` runs) and their product at each memory option."""
    rows = []
    for mb in MEMORY_OPTIONS_MB:
        duration = cpu * max(1.0, ONE_VCPU_MB / mb) + wait
        cost = runs * (duration * mb / 1024 * PRICE_PER_GB_SECOND + PRICE_PER_MILLION_REQUESTS / 1e6)
        rows.append({"memory_mb": mb, "duration_s": duration, "cost_usd": cost, "cost_x_duration": cost * duration})
    return rows


def best_memory(cpu: float, wait: float) -> float:
    """M* = 1769 × cpu / wait, within Lambda's 128 MB .. one vCPU (more vCPUs do not help)."""
    if wait <= 0:
        return float(ONE_VCPU_MB)
    return min(max(ONE_VCPU_MB * cpu / wait, 128.0), float(ONE_VCPU_MB))


def run(n: int = N, users: int = USERS, requests: int = REQUESTS) -> dict[str, Any]:
    import sys

    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    from scripts import dynamodb_local

    with dynamodb_local.start() as db:
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = db.endpoint
        try:
            return _run(n, users, requests, db.backend)
        finally:
            os.environ.pop("AWS_ENDPOINT_URL_DYNAMODB", None)


def _run(n: int, users: int, requests: int, backend: str) -> dict[str, Any]:
    import contextlib

    from chalice.test import Client

    import app
    from bench.api import Api
    from bench.meter import DynamoMeter
    from bench.settlement import AVAILABLE_AT, NOW, seed_frozen
    from chalicelib.bootstrap import Deps, set_default_deps
    from chalicelib.jobs import run_job
    from chalicelib.services.demo import seed_demo
    from chalicelib.store.tables import all_models, ensure_tables, reset_connections

    reset_connections()
    ensure_tables()
    meter = DynamoMeter()
    meter.attach_models(all_models())
    seed_frozen(n, users, prefix="m", available_at=AVAILABLE_AT + timedelta(minutes=1))
    deps = Deps(clock=lambda: NOW + timedelta(minutes=5))
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):  # the job's log lines, as in Lambda
        job = _measure(lambda: run_job("settle_commissions", NOW + timedelta(minutes=5), deps), meter)
    seed_demo(Deps())
    set_default_deps(Deps())
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink), \
            Client(app.app, stage_name="test", project_dir=str(REPO_ROOT)) as client:
        api = Api(client.http)
        api.products(api.login("memory-warm-up"))  # first-use costs stay out (a warm function)
        tokens: list[str] = []
        logins = _measure(lambda: tokens.extend(api.login(f"memory-{i}") for i in range(requests)), meter)
        lists = _measure(lambda: [api.products(token) for token in tokens], meter)
    set_default_deps(None)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out: dict[str, Any] = {"backend": backend, "peak_rss_mb": peak_mb, "n": n, "users": users, "requests": requests}
    for name, figures, runs in (("settle_commissions", job, 1), ("login (new user)", logins, requests),
                                ("product list", lists, requests)):
        cpu, wait = figures["cpu_s"] / runs, figures["aws_wait_s"] / runs
        out[name] = {**figures, "runs": runs, "cpu_per_run_s": cpu, "aws_wait_per_run_s": wait,
                     "cpu_share_local": figures["cpu_s"] / figures["wall_s"] if figures["wall_s"] else 0.0,
                     "best_memory_mb": best_memory(cpu, wait),
                     "best_memory_slow_transactions_mb": best_memory(cpu, figures["aws_wait_slow_s"] / runs),
                     "by_memory": by_memory(cpu, wait, 1_000)}
    return out


def section(result: dict[str, Any]) -> str:
    from bench.report import table

    out = [f"Lambda memory (CPU vs wait, measured on {result['backend']}; durations derived for Lambda: "
           f"docs/performance.md; peak RSS of the bench process {result['peak_rss_mb']:.0f} MB)"]
    for name in ("settle_commissions", "login (new user)", "product list"):
        f = result[name]
        out.append(f"{name}: {f['runs']} run(s), CPU {f['cpu_s']:.2f} s of wall {f['wall_s']:.2f} s locally "
                   f"({f['cpu_share_local']:.0%}); round trips {f['round_trips']} {f['calls']}; AWS wait "
                   f"{f['aws_wait_s']:.2f} s; best memory (cost x duration) {f['best_memory_mb']:.0f} MB "
                   f"({f['best_memory_slow_transactions_mb']:.0f} MB if a transaction takes {SLOW_TRANSACTION_MS:.0f} ms)")
        out.append(table(["memory MB", "duration ms per run", "USD per 1,000 runs", "cost x duration"],
                         [[r["memory_mb"], f"{r['duration_s'] * 1000:.1f}", f"{r['cost_usd']:.5f}",
                           f"{r['cost_x_duration']:.2e}"] for r in f["by_memory"]], right=(0, 1, 2, 3)))
    return "\n".join(out)

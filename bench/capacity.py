"""The jobs' capacity (issue 14, docs/capacity.md): each area's bench runs its jobs at growing
sizes through the job engine (``chalicelib.jobs.run_job``) against DynamoDB Local and reports
per size its parts, slices, DynamoDB round trips (per item: flat when the job scales), wall
time and the largest item written, plus an extrapolation row to a million.

Each module named in ``CAPACITY_BENCHES`` has ``run(sizes: tuple[int, ...] | None) -> list[dict]``
(None: its own default sizes) returning rows with the keys of ``COLUMNS``; ``extrapolated`` rows
carry figures derived, not measured (the module's docstring says how).
"""
from __future__ import annotations

import contextlib
import importlib
import math
import os
import sys
import uuid
from collections.abc import Iterator
from typing import Any

CAPACITY_BENCHES: list[str] = [  # "bench.capacity_<area>" modules, in the order they print
    "bench.capacity_orders",
    "bench.capacity_ledger",  # settle_commissions, reconcile_wallets
    "bench.capacity_tiers",  # evaluate_tiers (the month change), team_bonus
    "bench.capacity_analytics",  # compute_metrics, compute_recommendations
]

COLUMNS = ("job", "size", "parts", "slices", "round_trips", "round_trips_per_item", "seconds", "largest_item_bytes")


LAMBDA_MB = 512  # the memory the capacity figures derive Lambda seconds at (bench/job_memory.py)
WORKER_MB = 1_024  # the job worker's deployed memory (.chalice/config.json), for comparison
WORKER_SECONDS = 45.0  # a slice's work before it hands back (setting job_slice_seconds)
WORKER_TIMEOUT = 60.0  # the worker's Lambda timeout: job_margin_seconds (15) left to record and hand back
PRICES = {  # USD, us-east-1 on-demand list prices (DynamoDB's since its November 2024 cut)
    "dynamodb_write_per_million": 0.625,  # write request units
    "dynamodb_read_per_million": 0.125,  # read request units
    "lambda_gb_second": 0.0000166667,  # x86
    "lambda_per_million": 0.20,
    "sqs_per_million": 0.40,  # standard queue; a slice is a send, a receive and a delete
}
SEED_THREADS = 4


@contextlib.contextmanager
def database() -> Iterator[None]:
    """DynamoDB Local, started here unless ``AWS_ENDPOINT_URL_DYNAMODB`` names one already."""
    from chalicelib.store.tables import reset_connections

    if os.environ.get("AWS_ENDPOINT_URL_DYNAMODB"):
        yield
        return
    from scripts import dynamodb_local

    with dynamodb_local.start() as db:
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = db.endpoint
        reset_connections()
        try:
            yield
        finally:
            del os.environ["AWS_ENDPOINT_URL_DYNAMODB"]
            reset_connections()


@contextlib.contextmanager
def fresh_tables() -> Iterator[None]:
    """Every model's table under a name of its own, created here and dropped after."""
    from chalicelib.store.tables import all_models, ensure_tables, reset_connections

    models = all_models()
    names = {model: model.Meta.table_name for model in models}
    suffix = uuid.uuid4().hex[:8]
    for model in models:
        model.Meta.table_name = f"{names[model]}-cap-{suffix}"
    reset_connections()
    ensure_tables()
    try:
        yield
    finally:
        for model in models:
            model.delete_table()
            model.Meta.table_name = names[model]
        reset_connections()


def write_all(items: list[Any]) -> None:
    """Seed ``items`` (models of any tables) with BatchWriteItem over ``SEED_THREADS`` threads
    (DynamoDB Local takes them at once), each chunk through its model's batch writer."""
    from concurrent.futures import ThreadPoolExecutor

    def write(chunk: list[Any]) -> None:
        with type(chunk[0]).batch_write() as batch:
            for item in chunk:
                batch.save(item)

    by_model: dict[type, list[Any]] = {}
    for item in items:
        by_model.setdefault(type(item), []).append(item)
    chunks = []
    for same in by_model.values():
        size = max(25, math.ceil(len(same) / (4 * SEED_THREADS)))
        chunks += [same[i:i + size] for i in range(0, len(same), size)]
    with ThreadPoolExecutor(SEED_THREADS) as pool:
        list(pool.map(write, chunks))


def largest_item_bytes() -> int:
    """The largest item of every table, sized by DynamoDB's rules (``bench/item_size.py``)."""
    from bench.item_size import item_bytes, scan
    from chalicelib.store.tables import all_models

    return max((item_bytes(item) for model in all_models()
                for item in scan(model._get_connection().connection.client, model.Meta.table_name)), default=0)


def derived_seconds(calls: dict[str, int], cpu_seconds: float, memory_mb: int = LAMBDA_MB) -> float:
    """Lambda seconds at ``memory_mb`` for work that made ``calls`` and took ``cpu_seconds`` of a
    core here (``bench/job_memory.py``: CPU stretched below one vCPU, plus the AWS wait)."""
    from bench.job_memory import ONE_VCPU_MB, aws_wait

    return cpu_seconds * max(1.0, ONE_VCPU_MB / memory_mb) + aws_wait(calls)


def billed_write_units(calls: Any, index_writes: int) -> float:
    """Write request units AWS would bill for items under 1 KB: 2 per item of a transaction, 1 per
    other write, 1 per secondary-index write (``index_writes``, counted from what the job changes:
    DynamoDB Local's own figures for transactions are far below AWS's bill, e.g. 5,619 units for
    480 settlement transactions of about 45,000 items)."""
    transactional = calls.items.get("TransactWriteItems", 0)
    single = sum(calls.calls.get(name, 0) for name in ("PutItem", "UpdateItem", "DeleteItem"))
    return 2 * transactional + single + calls.items.get("BatchWriteItem", 0) + index_writes


def run_cost(wcu: float, rcu: float, lambda_seconds: float, slices: int, memory_mb: int = LAMBDA_MB,
             digits: int = 4) -> dict[str, float]:
    """What a run costs at ``PRICES``: its billed units, its Lambda seconds at ``memory_mb`` and one
    invocation per slice, and three SQS requests per slice; each part and the total, in USD."""
    cost = {
        "dynamodb": wcu / 1e6 * PRICES["dynamodb_write_per_million"] + rcu / 1e6 * PRICES["dynamodb_read_per_million"],
        "lambda": lambda_seconds * memory_mb / 1024 * PRICES["lambda_gb_second"]
        + slices / 1e6 * PRICES["lambda_per_million"],
        "sqs": 3 * slices / 1e6 * PRICES["sqs_per_million"],
    }
    return {k: round(v, digits) for k, v in cost.items()} | {"total": round(sum(cost.values()), digits)}


def run_all(sizes: tuple[int, ...] | None = None) -> dict[str, list[dict[str, Any]]]:
    results = {}
    for name in CAPACITY_BENCHES:
        print(f"[bench] capacity: {name}", file=sys.stderr, flush=True)
        results[name] = importlib.import_module(name).run(sizes)
    return results


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return "" if value is None else str(value)


def section(results: dict[str, list[dict[str, Any]]]) -> str:
    """One table per area; extra keys of a row (cost, notes) print after the columns."""
    out = ["Job capacity (DynamoDB Local; 'extrapolated' rows are derived: docs/capacity.md)"]
    for name, rows in results.items():
        out.append(f"\n{name}")
        out.append("  " + " | ".join(COLUMNS) + " | more")
        for row in rows:
            more = {k: v for k, v in row.items() if k not in COLUMNS}
            out.append("  " + " | ".join(_cell(row.get(c)) for c in COLUMNS) + (f" | {more}" if more else ""))
    return "\n".join(out)

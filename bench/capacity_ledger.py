"""Capacity of the distributors' money jobs (issue 14) on DynamoDB Local: ``settle_commissions``
over 1k/5k/20k commissions due and ``reconcile_wallets`` over as many wallets touched today, each
run whole through ``run_job`` (every shard's part, every slice, the engine's own bookkeeping), and
an extrapolation to 1,000,000 commissions (and wallets) a day.

What is measured exactly: the DynamoDB calls (round trips, per item), the parts and slices, the
capacity units DynamoDB Local reports, the largest item of the tables, and this process's CPU
time. What is derived, with ``bench/job_memory.py``'s model: the time of a worker on Lambda at
512 MB (and at the job worker's deployed 1,024 MB), its CPU time stretched by 1,769 / memory
(1,769 MB is one vCPU; this machine's core taken as one) plus its round trips at in-region
DynamoDB latencies (``job_memory.AWS_LATENCY_MS``: DynamoDB Local's own latencies are those of a
Java process on this machine). The prices are ``PRICES`` (us-east-1 list prices, USD).

Seeding is direct (BatchWriteItem through the ledger model, 4 threads): commissions frozen and
listed in ``settle_queue`` with their wallets, or wallets listed in ``touched`` with the entry
that explains their balance. User ids are ``u`` + 20 hex digits, so their last digit spreads them
over the 16 shards as real ids do.
"""
from __future__ import annotations

import math
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.capacity import (
    PRICES,
    WORKER_MB,
    WORKER_SECONDS,
    WORKER_TIMEOUT,
    billed_write_units,
    database,
    derived_seconds,
    fresh_tables,
    largest_item_bytes,
    run_cost,
    write_all,
)

SIZES = (1_000, 5_000, 20_000)
PER_USER = 4  # commissions due per distributor in a day's run
AVAILABLE_AT = datetime(2026, 11, 12, 16, 0, tzinfo=UTC)  # 2026-11-13 00:00 in Shanghai
NOW = AVAILABLE_AT + timedelta(minutes=10)
EXTRAPOLATE_TO = 1_000_000



def run(sizes: tuple[int, ...] | None = None) -> list[dict[str, Any]]:
    """One row per job and size (default ``SIZES``), then one extrapolated row per job."""
    rows: list[dict[str, Any]] = []
    with database():
        for n in sizes or SIZES:
            with fresh_tables():
                rows.append(_settle(n))
            with fresh_tables():
                rows.append(_reconcile(n))
    for job in ("settle_commissions", "reconcile_wallets"):
        measured = [r for r in rows if r["job"] == job]
        if measured:
            rows.append(extrapolate(measured[-1], EXTRAPOLATE_TO))
    return rows


# The two jobs ---------------------------------------------------------------------------------

def _settle(n: int) -> dict[str, Any]:
    from chalicelib.bootstrap import Deps

    frozen = seed_due(n)
    # settle_queue: each commission unlisted; touched: each wallet listed for the day (a new key)
    row = _measure("settle_commissions", NOW, Deps(), n, index_writes=n + len(frozen))
    if row["summary"].get("settled") != n:
        raise RuntimeError(f"settled {row['summary'].get('settled')} of {n}")
    _check_settled(frozen)
    return row


def _reconcile(n: int) -> dict[str, Any]:
    from chalicelib.bootstrap import Deps

    seed_touched(n, NOW)
    row = _measure("reconcile_wallets", NOW, Deps(clock=lambda: NOW), n, index_writes=0)
    if row["summary"].get("wallets") != n or row["summary"].get("differences"):
        raise RuntimeError(f"reconciled {row['summary']}")
    return row


def _measure(job: str, now: datetime, deps: Any, n: int, index_writes: int) -> dict[str, Any]:
    from bench.meter import DynamoMeter
    from chalicelib.jobs import run_job
    from chalicelib.store.tables import all_models

    meter = DynamoMeter()
    meter.attach_models(all_models())
    meter.reset()
    started, cpu = time.perf_counter(), time.process_time()
    summary = run_job(job, now, deps)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    calls = meter.take()
    worker = derived_seconds(dict(calls.calls), cpu_seconds)
    return {"job": job, "size": n, "parts": summary["parts"], "slices": summary["slices"],
            "round_trips": calls.round_trips, "round_trips_per_item": calls.round_trips / n,
            "seconds": seconds, "largest_item_bytes": largest_item_bytes(),
            "calls": dict(calls.calls), "items": dict(calls.items), "wcu": billed_write_units(calls, index_writes),
            "rcu": calls.rcu, "cpu_seconds": cpu_seconds,
            "lambda_seconds_derived": worker, "lambda_seconds_per_item": worker / n,
            "lambda_seconds_at_worker_mb": derived_seconds(dict(calls.calls), cpu_seconds, WORKER_MB),
            "summary": {k: v for k, v in summary.items() if isinstance(v, int | float)}}


def extrapolate(row: dict[str, Any], items: int) -> dict[str, Any]:
    """``row``'s figures per item at ``items`` a day: the same 16 (or 32) parts, each working
    through its share in slices of at most ``WORKER_SECONDS``; the cost of the run."""
    per_item = row["lambda_seconds_per_item"]
    parts = row["parts"]
    part_seconds = per_item * items / parts
    slices_per_part = max(1, math.ceil(part_seconds / WORKER_SECONDS))
    slices = parts * slices_per_part
    round_trips = row["round_trips_per_item"] * items
    wcu, rcu = row["wcu"] / row["size"] * items, row["rcu"] / row["size"] * items
    lambda_seconds = per_item * items
    cost = run_cost(wcu, rcu, lambda_seconds, slices)
    return {"job": row["job"], "size": items, "extrapolated": True, "extrapolated_from": row["size"],
            "parts": parts, "slices": slices,
            "round_trips": round(round_trips), "round_trips_per_item": row["round_trips_per_item"],
            "seconds": None, "largest_item_bytes": row["largest_item_bytes"],
            "part_lambda_seconds": part_seconds, "slice_seconds": min(part_seconds, WORKER_SECONDS),
            "part_lambda_seconds_at_worker_mb": row["lambda_seconds_at_worker_mb"] / row["size"] * items / parts,
            "worker_invocation_seconds": min(part_seconds, WORKER_SECONDS) + 1.0,  # + record and hand back
            "worker_timeout_seconds": WORKER_TIMEOUT, "wall_seconds_if_parallel": slices_per_part * WORKER_SECONDS
            if slices_per_part > 1 else part_seconds,
            "lambda_seconds": lambda_seconds, "wcu": wcu, "rcu": rcu,
            "cost_usd": cost,
            "prices_usd": PRICES}


# Seeding ----------------------------------------------------------------------------------------

def user_id(k: int) -> str:
    return f"u{k:020x}"


def seed_due(n: int) -> dict[str, int]:
    """``n`` frozen commissions of ``n / PER_USER`` users due at ``AVAILABLE_AT``, listed in
    ``settle_queue``, with wallets (frozen = their sum). Returns each user's frozen total."""
    from chalicelib.store.ledger import WALLET, LedgerItem, commission_key, settle_keys

    frozen: dict[str, int] = {}
    users = max(1, n // PER_USER)
    items = []
    for i in range(n):
        user, order, fen = user_id(i % users), f"o{i:09d}", 1 + i % 100
        shard, key = settle_keys(user, order, 1, AVAILABLE_AT)
        items.append(LedgerItem(user, commission_key(order, 1), order_id=order, level=1, amount_fen=fen,
                                status="frozen", at=AVAILABLE_AT - timedelta(days=3), available_at=AVAILABLE_AT,
                                settle_shard=shard, settle_key=key))
        frozen[user] = frozen.get(user, 0) + fen
    items += [LedgerItem(user, WALLET, pending_fen=0, frozen_fen=fen, available_fen=0) for user, fen in frozen.items()]
    write_all(items)
    return frozen


def seed_touched(n: int, now: datetime) -> None:
    """``n`` wallets touched on the day of ``now``, each explained by one entry (a reward into
    ``available``: the Query that reads a wallet's entries is one page either way)."""
    from chalicelib.domain.clock import business_date
    from chalicelib.domain.shards import shard_of
    from chalicelib.store.ledger import WALLET, LedgerItem, touched_on

    day, items = business_date(now).isoformat(), []
    for k in range(n):
        user, fen = user_id(k), 1 + k % 100
        items.append(LedgerItem(user, f"entry#reward{k:09d}#0#reward", amount_fen=fen, kind="reward",
                                at=now - timedelta(days=1), status="->available"))
        items.append(LedgerItem(user, WALLET, pending_fen=0, frozen_fen=0, available_fen=fen,
                                touched_day=touched_on(day, shard_of(user))))
    write_all(items)




def _check_settled(frozen: dict[str, int]) -> None:
    from chalicelib.store.ledger import WALLET, LedgerItem

    for item in LedgerItem.batch_get([(u, WALLET) for u in frozen]):
        if int(item.available_fen or 0) != frozen[item.pk] or int(item.frozen_fen or 0) != 0:
            raise RuntimeError(f"wallet {item.pk} not settled exactly")


def section(rows: list[dict[str, Any]]) -> str:
    """The rows as a plain-text table, then the extrapolations."""
    lines = ["Ledger jobs on DynamoDB Local (run_job: every part and slice; Lambda seconds derived at 512 MB)",
             f"  {'job':<20}{'size':>8}{'parts':>7}{'slices':>7}{'trips':>8}{'/item':>7}{'s':>7}"
             f"{'λ s':>7}{'item B':>8}"]
    for r in rows:
        if "extrapolated_from" in r:
            continue
        lines.append(f"  {r['job']:<20}{r['size']:>8,}{r['parts']:>7}{r['slices']:>7}{r['round_trips']:>8,}"
                     f"{r['round_trips_per_item']:>7.3f}{r['seconds']:>7.1f}{r['lambda_seconds_derived']:>7.1f}"
                     f"{r['largest_item_bytes']:>8}")
    for r in rows:
        if "extrapolated_from" not in r:
            continue
        lines.append(f"  {r['job']} at {r['size']:,} a day (from {r['extrapolated_from']:,}): {r['parts']} parts, "
                     f"{r['slices']} slices, {r['part_lambda_seconds']:.0f} Lambda s per part, each worker "
                     f"invocation ≤ {r['worker_invocation_seconds']:.0f} s (timeout {r['worker_timeout_seconds']:.0f}"
                     f" s), {r['round_trips']:,} round trips, cost ${r['cost_usd']['total']:.2f} "
                     f"(DynamoDB ${r['cost_usd']['dynamodb']:.2f}, Lambda ${r['cost_usd']['lambda']:.4f}, "
                     f"SQS ${r['cost_usd']['sqs']:.4f})")
    return "\n".join(lines)


if __name__ == "__main__":
    import json
    import sys

    from bench.env import apply_in_process

    apply_in_process()
    chosen = tuple(int(a) for a in sys.argv[1:]) or SIZES
    result = run(chosen)
    print(section(result))
    print(json.dumps(result, indent=1, default=str))

"""Capacity of the tier jobs (issue 14) on DynamoDB Local: ``evaluate_tiers`` (the month change)
and ``team_bonus`` over 1k/5k/20k distributors, each run whole through ``run_job`` (every shard's
part, every slice, the engine's own bookkeeping), the month change's later runs of the month, and
an extrapolation to 1,000,000 distributors.

The distributors: ``SENIOR_SHARE`` senior and ``PARTNER_SHARE`` partner (decided in November;
generous against the rules' thresholds of 10 direct invitees and 5,000 yuan a month, 50 team
members and 100,000 yuan), the rest regular. Half of each kept by November's figures, half short
(downgraded). Each partner is on November's roll with team sales. Upgrades and milestones are not
measured here: they are part of the payment, binding and completion transactions (one update
item more or less in a transaction they make anyway: ``make bench``'s money scenarios).

What is measured exactly: the DynamoDB calls (round trips, per distributor and per distributor
re-decided or partner paid), the parts and slices, the largest item of the tables, this
process's CPU time. What is derived, with ``bench/job_memory.py``'s model: the time of a worker
invocation on Lambda at 512 MB (and at the worker's deployed 1,024 MB), as its CPU time stretched
by the share of a vCPU Lambda gives that memory, plus each call at an in-region DynamoDB latency
(``job_memory.AWS_LATENCY_MS``; DynamoDB Local's own latencies are a Java process's on this
machine); the billed write units (``billed_write_units``); the cost at ``PRICES`` (us-east-1
list prices, USD).

Seeding is direct (BatchWriteItem through the models, 4 threads). User ids are ``u`` + 20 hex
digits, so their last digit spreads them over the 16 shards as real ids do.
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
SENIOR_SHARE, PARTNER_SHARE = 0.08, 0.02
NOVEMBER, DECEMBER = "2026-11", "2026-12"
MONTH_CHANGE = datetime(2026, 11, 30, 16, 5, tzinfo=UTC)  # 00:05 Shanghai on December 1st
LATER_RUN = MONTH_CHANGE + timedelta(days=1)
BONUS_RUN = datetime(2026, 11, 30, 16, 30, tzinfo=UTC)  # 00:30 Shanghai
EXTRAPOLATE_TO = 1_000_000
DAYS_A_MONTH = 30



def run(sizes: tuple[int, ...] | None = None) -> list[dict[str, Any]]:
    """Per size: the month change, its next run, the team bonus; then one extrapolated row each."""
    rows: list[dict[str, Any]] = []
    with database():
        for n in sizes or SIZES:
            with fresh_tables():
                people = seed(n)
                rows.append(_month_change(n, people))
                rows.append(_later_run(n))
                rows.append(_team_bonus(n, people))
    for job in ("evaluate_tiers", "evaluate_tiers (later run)", "team_bonus"):
        measured = [r for r in rows if r["job"] == job]
        if measured:
            rows.append(extrapolate(measured, EXTRAPOLATE_TO))
    return rows


# The jobs ---------------------------------------------------------------------------------------

def _month_change(n: int, people: dict[str, list[str]]) -> dict[str, Any]:
    above = len(people["senior"]) + len(people["partner"])
    # above_base (keys only): the key of a distributor kept or downgraded to senior moves (2 index
    # writes: out and in); one downgraded to regular leaves the index (1)
    to_regular = len(people["senior_short"])
    row = _measure("evaluate_tiers", MONTH_CHANGE, n, index_writes=2 * (above - to_regular) + to_regular)
    summary = row["summary"]
    if summary.get("evaluated") != above or summary.get("kept", 0) + summary.get("downgraded", 0) != above:
        raise RuntimeError(f"the month change re-decided {summary}, expected {above}")
    row["per_re_decided"] = row["round_trips"] / above
    return row


def _later_run(n: int) -> dict[str, Any]:
    row = _measure("evaluate_tiers", LATER_RUN, n, index_writes=0)
    if row["summary"].get("evaluated"):
        raise RuntimeError(f"a later run of the month found work: {row['summary']}")
    row["job"] = "evaluate_tiers (later run)"
    return row


def _team_bonus(n: int, people: dict[str, list[str]]) -> dict[str, Any]:
    partners = len(people["partner"])
    # each accrual lists the bonus in settle_queue and the wallet in touched: 2 index writes
    row = _measure("team_bonus", BONUS_RUN, n, index_writes=2 * partners)
    if row["summary"].get("paid") != partners:
        raise RuntimeError(f"the team bonus paid {row['summary']}, expected {partners} partners")
    row["per_partner"] = row["round_trips"] / partners
    return row


def _measure(job: str, now: datetime, n: int, index_writes: int) -> dict[str, Any]:
    from bench.meter import DynamoMeter
    from chalicelib.bootstrap import Deps
    from chalicelib.jobs import run_job
    from chalicelib.store.tables import all_models

    meter = DynamoMeter()
    meter.attach_models(all_models())
    meter.reset()
    started, cpu = time.perf_counter(), time.process_time()
    summary = run_job(job, now, Deps(clock=lambda: now))
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
            "summary": {k: v for k, v in summary.items() if isinstance(v, int | float) and not isinstance(v, bool)}}


def fitted(rows: list[dict[str, Any]], key: str, distributors: int) -> float:
    """``key`` at ``distributors``, on the line through the two largest sizes measured (a fixed
    part, the engine's per-part bookkeeping, and a part per distributor); proportional from a
    single size."""
    if len(rows) < 2:
        return float(rows[-1][key]) * distributors / rows[-1]["size"]
    small, large = rows[-2], rows[-1]
    per_item = (large[key] - small[key]) / (large["size"] - small["size"])
    return max(float(large[key]) + per_item * (distributors - large["size"]), 0.0)


def extrapolate(rows: list[dict[str, Any]], distributors: int) -> dict[str, Any]:
    """A job's figures at ``distributors`` (``fitted`` on its measured ``rows``; the later runs
    of the month are fixed: 16 empty pages whatever the size): the same 16 parts, each working
    through its share in slices of at most ``WORKER_SECONDS``; the cost of a run and of a month
    (the month change runs once with work and 29 more times finding none; the bonus once)."""
    row = rows[-1]
    fixed = row["job"] == "evaluate_tiers (later run)"
    figure = (lambda key: float(row[key])) if fixed else (lambda key: fitted(rows, key, distributors))
    lambda_seconds, round_trips = figure("lambda_seconds_derived"), figure("round_trips")
    wcu, rcu = figure("wcu"), figure("rcu")
    parts = row["parts"]
    part_seconds = lambda_seconds / max(parts, 1)
    slices_per_part = max(1, math.ceil(part_seconds / WORKER_SECONDS))
    slices = parts * slices_per_part
    cost = run_cost(wcu, rcu, lambda_seconds, slices)
    runs_a_month = DAYS_A_MONTH - 1 if fixed else 1
    total = cost["total"]
    return {"job": row["job"], "size": distributors, "extrapolated": True,
            "extrapolated_from": [r["size"] for r in rows[-2:]],
            "parts": parts, "slices": slices, "round_trips": round(round_trips),
            "round_trips_per_item": round_trips / distributors, "seconds": None,
            "largest_item_bytes": row["largest_item_bytes"],
            "part_lambda_seconds": part_seconds, "worker_invocation_seconds": min(part_seconds, WORKER_SECONDS) + 1.0,
            "worker_timeout_seconds": WORKER_TIMEOUT,
            "wall_seconds_if_parallel": slices_per_part * WORKER_SECONDS if slices_per_part > 1 else part_seconds,
            "lambda_seconds": lambda_seconds, "wcu": wcu, "rcu": rcu,
            "cost_usd": cost,
            "runs_a_month": runs_a_month, "cost_usd_a_month": round(total * runs_a_month, 4), "prices_usd": PRICES}


# Seeding ----------------------------------------------------------------------------------------

def user_id(k: int) -> str:
    return f"u{k:020x}"


def seed(n: int) -> dict[str, list[str]]:
    """``n`` distributors (see the module docstring); returns the ids of each tier."""
    from chalicelib.domain.shards import shard_of
    from chalicelib.store.ledger import LedgerItem, partner_roll, team_sales_key
    from chalicelib.store.users import PROFILE, UserItem

    created = MONTH_CHANGE - timedelta(days=90)
    seniors, partners = round(n * SENIOR_SHARE), round(n * PARTNER_SHARE)
    people: dict[str, list[str]] = {"regular": [], "senior": [], "partner": [], "senior_short": []}
    users: list[Any] = []
    ledger: list[Any] = []
    for k in range(n):
        uid = user_id(k)
        tier = "partner" if k < partners else "senior" if k < partners + seniors else "regular"
        people[tier].append(uid)
        item = UserItem(uid, PROFILE, openid=f"bench-{k}", nickname=f"d{k}", created_at=created,
                        invite_code=f"B{k:07d}", shop_name=f"shop {k}", shop_opened_at=created, tier=tier,
                        direct_count=10 + k % 5, team_count=(50 if tier == "partner" else 10) + k % 7,
                        sales_month=NOVEMBER)
        if tier == "regular":
            item.month_sales_fen = 100_000 + k % 1_000
        else:
            kept = k % 2 == 0
            if tier == "senior" and not kept:
                people["senior_short"].append(uid)
            bar = 10_000_000 if tier == "partner" else 500_000
            item.month_sales_fen = bar + k if kept else bar // 2
            item.tier_month, item.ranked_shard, item.ranked_key = NOVEMBER, shard_of(uid), f"{NOVEMBER}#{uid}"
        users.append(item)
        if tier == "partner":
            ledger.append(LedgerItem(partner_roll(NOVEMBER, shard_of(uid)), uid, at=created))
            ledger.append(LedgerItem(uid, team_sales_key(NOVEMBER), amount_fen=1_000_000 + k))
    write_all(users)
    write_all(ledger)
    return people


def section(rows: list[dict[str, Any]]) -> str:
    """The rows as a plain-text table, then the extrapolations."""
    lines = ["Tier jobs on DynamoDB Local (run_job: every part and slice; Lambda seconds derived at 512 MB)",
             f"  {'job':<28}{'size':>8}{'parts':>7}{'slices':>7}{'trips':>8}{'/dist':>7}{'s':>7}"
             f"{'λ s':>7}{'item B':>8}"]
    for r in rows:
        if "extrapolated_from" in r:
            continue
        lines.append(f"  {r['job']:<28}{r['size']:>8,}{r['parts']:>7}{r['slices']:>7}{r['round_trips']:>8,}"
                     f"{r['round_trips_per_item']:>7.3f}{r['seconds']:>7.1f}{r['lambda_seconds_derived']:>7.1f}"
                     f"{r['largest_item_bytes']:>8}")
    for r in rows:
        if "extrapolated_from" not in r:
            continue
        lines.append(f"  {r['job']} at {r['size']:,} distributors (from {r['extrapolated_from']}): {r['parts']} "
                     f"parts, {r['slices']} slices, {r['part_lambda_seconds']:.1f} Lambda s per part, each worker "
                     f"invocation ≤ {r['worker_invocation_seconds']:.0f} s (timeout {r['worker_timeout_seconds']:.0f}"
                     f" s), {r['round_trips']:,} round trips, ${r['cost_usd']['total']:.4f} a run × "
                     f"{r['runs_a_month']} = ${r['cost_usd_a_month']:.4f} a month")
    return "\n".join(lines)


if __name__ == "__main__":  # python -m bench.capacity_tiers [sizes...]
    import json
    import sys

    from bench.env import apply_in_process

    apply_in_process()
    chosen = tuple(int(a) for a in sys.argv[1:]) or None
    result = run(chosen)
    print(section(result))
    print(json.dumps(result, indent=1, default=str))

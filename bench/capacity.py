"""The jobs' capacity (issue 14, docs/capacity.md): each area's bench runs its jobs at growing
sizes through the job engine (``chalicelib.jobs.run_job``) against DynamoDB Local and reports
per size its parts, slices, DynamoDB round trips (per item: flat when the job scales), wall
time and the largest item written, plus an extrapolation row to a million.

Each module named in ``CAPACITY_BENCHES`` has ``run(sizes: tuple[int, ...] | None) -> list[dict]``
(None: its own default sizes) returning rows with the keys of ``COLUMNS``; ``extrapolated`` rows
carry figures derived, not measured (the module's docstring says how).
"""
from __future__ import annotations

import importlib
import sys
from typing import Any

CAPACITY_BENCHES: list[str] = [  # "bench.capacity_<area>" modules, in the order they print
    "bench.capacity_orders",
    "bench.capacity_ledger",  # settle_commissions, reconcile_wallets
    "bench.capacity_tiers",  # evaluate_tiers (the month change), team_bonus
    "bench.capacity_analytics",  # compute_metrics, compute_recommendations
]

COLUMNS = ("job", "size", "parts", "slices", "round_trips", "round_trips_per_item", "seconds", "largest_item_bytes")


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

"""The order jobs as the tests run them: through ``chalicelib.jobs.run_job`` (every part, every
slice), answering the counts the jobs used to return whole, so the tests' assertions stay as
they were (a run's summary also carries the engine's own fields: parts, slices...)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

COUNTS = {"cancel_unpaid": ("cancelled",), "auto_confirm": ("confirmed",),
          "expire_groups": ("failed", "refunded", "cancelled")}


def run_counts(job: str, now: datetime, deps: Any, **options: Any) -> dict[str, int]:
    from chalicelib.jobs import run_job

    summary = run_job(job, now, deps, **options)
    return {name: summary[name] for name in COUNTS[job]}


def cancel_unpaid(now: datetime, deps: Any, **options: Any) -> dict[str, int]:
    return run_counts("cancel_unpaid", now, deps, **options)


def auto_confirm(now: datetime, deps: Any, **options: Any) -> dict[str, int]:
    return run_counts("auto_confirm", now, deps, **options)


def expire_groups(now: datetime, deps: Any, **options: Any) -> dict[str, int]:
    return run_counts("expire_groups", now, deps, **options)

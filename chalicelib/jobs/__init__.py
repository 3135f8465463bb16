"""The scheduled jobs. Each is a ``JobDef`` (``chalicelib/jobs/engine.py``): a plan of parts and
a worker for one slice of a part; ``app.py`` schedules the plans and runs the workers on the jobs'
queue, and ``POST /v1/dev/jobs/{job}`` runs a whole job as of any instant in simulator mode
(``run_job``: its parts in-process, one after the other). docs/jobs.md.
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from chalicelib.domain.invariants import present
from chalicelib.jobs.engine import (
    Deadline,
    JobDef,
    JobQueue,
    LocalQueue,
    Slice,
    StrayMessage,
    start,
    summary,
    work_slice,
)

if TYPE_CHECKING:
    from chalicelib.bootstrap import Deps



def split(name: str, module: str, plan: str, work: str, finish: str | None = None) -> JobDef:
    """A job of parts whose ``plan``, ``work`` and ``finish`` are functions of the services module
    ``chalicelib.services.<module>``, imported on first use (the app's cold start stays light)."""
    from importlib import import_module

    def named(function: str) -> Any:
        return lambda *args: getattr(import_module(f"chalicelib.services.{module}"), function)(*args)

    return JobDef(name, named(plan), named(work), named(finish) if finish else None)


# One line per job (docs/jobs.md lists their parts).
JOBS: dict[str, JobDef] = {
    "evaluate_tiers": split("evaluate_tiers", "tiers", "month_change_parts", "change_month_part"),
    "cancel_unpaid": split("cancel_unpaid", "orders", "unpaid_parts", "cancel_unpaid_part"),
    "auto_confirm": split("auto_confirm", "orders", "confirm_parts", "auto_confirm_part"),
    "expire_groups": split("expire_groups", "groups", "expire_parts", "expire_groups_part"),
    "settle_commissions": split("settle_commissions", "settlement", "settlement_parts", "settle_part",
                                "settlement_finished"),
    "reconcile_wallets": split("reconcile_wallets", "settlement", "reconcile_parts", "reconcile_part",
                               "reconciliation_finished"),
    "team_bonus": split("team_bonus", "rewards", "team_bonus_parts", "team_bonus_part", "finish_team_bonus"),
    "compute_metrics": split("compute_metrics", "metrics", "metrics_parts", "metrics_part", "metrics_finish"),
    "poll_transfers": split("poll_transfers", "withdrawals", "transfer_parts", "poll_part"),
    "report_shipments": split("report_shipments", "shipping_reports", "report_parts", "report_part"),
    "track_parcels": split("track_parcels", "delivery", "track_parts", "track_part"),
    "send_messages": split("send_messages", "subscriptions", "send_parts", "send_part"),
    "finish_case_refunds": split("finish_case_refunds", "case_refunds", "refund_parts", "refund_part"),
    "compute_recommendations": split("compute_recommendations", "recommendation_job", "recommendation_parts",
                                     "recommendation_part", "recommendation_finish"),
}


def run_job(name: str, now: datetime, deps: Deps, slice_budget: float | None = None) -> dict[str, Any]:
    """Run a whole job as of ``now`` in this process: plan it, then every slice over a
    ``LocalQueue`` until none is left; returns the run's summary (``engine.summary``). Each slice
    gets ``slice_budget`` seconds (default: the setting ``job_slice_seconds``; 0: one page each)."""
    from chalicelib.observability import logger

    job, queue = JOBS[name], LocalQueue()
    budget = deps.settings.job_slice_seconds if slice_budget is None else slice_budget
    log = logger()
    log.info("job started", extra={"job": name, "as_of": now.isoformat()})
    run_id = start(job, now, deps, queue)
    while (piece := queue.take()) is not None:
        work_slice(job, piece, deps, Deadline.after(budget), queue)
    result = summary(deps.jobs, run_id)
    log.info("job finished", extra={"job": name, "run": run_id, "summary": result})
    return result


def plan_job(name: str, now: datetime, deps: Deps, queue: JobQueue) -> dict[str, Any]:
    """A schedule's part where a queue's workers do the work: plan the run and send its parts."""
    from chalicelib.observability import logger

    run_id = start(JOBS[name], now, deps, queue)
    parts = present(deps.jobs.run(run_id), f"the run {run_id}").parts
    logger().info("job planned", extra={"job": name, "run": run_id, "parts": parts})
    return {"job": name, "run": run_id, "parts": parts}


def work_message(body: str, deps: Deps, deadline: Deadline, queue: JobQueue) -> dict[str, Any]:
    """A worker's part: one slice, from its message. A message that is not a slice of a known job
    raises StrayMessage (it then goes to the dead-letter queue after its retries)."""
    from chalicelib.observability import logger

    piece = Slice.from_json(body)
    if piece.job not in JOBS:
        raise StrayMessage(f"no job named {piece.job!r}")
    progress = work_slice(JOBS[piece.job], piece, deps, deadline, queue)
    logger().info("job slice", extra={"job": piece.job, "run": piece.run_id, "part": piece.part,
                                      "counts": progress.counts, "more": progress.cursor is not None})
    return {"job": piece.job, "run": piece.run_id, "part": piece.part, "done": progress.cursor is None}

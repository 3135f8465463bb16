"""Scheduled entry points. Each job is ``run(now, deps) -> summary``; ``app.py`` schedules them
and ``POST /v1/dev/jobs/{job}`` runs them as of any instant in simulator mode."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chalicelib.bootstrap import Deps

Job = Callable[[datetime, "Deps"], dict[str, Any]]


def _evaluate_tiers(now: datetime, deps: Deps) -> dict[str, Any]:
    from chalicelib.services.tiers import evaluate_tiers

    return asdict(evaluate_tiers(now, deps))


def _cancel_unpaid(now: datetime, deps: Deps) -> dict[str, Any]:
    from chalicelib.services.orders import cancel_unpaid_part, unpaid_parts

    return _whole(now, deps, unpaid_parts, cancel_unpaid_part)


def _auto_confirm(now: datetime, deps: Deps) -> dict[str, Any]:
    from chalicelib.services.orders import auto_confirm_part, confirm_parts

    return _whole(now, deps, confirm_parts, auto_confirm_part)


def _settle_commissions(now: datetime, deps: Deps) -> dict[str, Any]:
    from chalicelib.services.settlement import settle_commissions

    return settle_commissions(now, deps)


def _reconcile_wallets(now: datetime, deps: Deps) -> dict[str, Any]:
    from chalicelib.services.settlement import reconcile_wallets

    return reconcile_wallets(now, deps)


def _expire_groups(now: datetime, deps: Deps) -> dict[str, Any]:
    from chalicelib.services.groups import expire_groups_part, expire_parts

    return _whole(now, deps, expire_parts, expire_groups_part)


def _team_bonus(now: datetime, deps: Deps) -> dict[str, Any]:
    from chalicelib.services.rewards import team_bonus

    return team_bonus(now, deps)


def _poll_transfers(now: datetime, deps: Deps) -> dict[str, Any]:
    from chalicelib.services.withdrawals import poll_transfers

    return poll_transfers(now, deps)


def _compute_metrics(now: datetime, deps: Deps) -> dict[str, Any]:
    from chalicelib.services.metrics import compute_metrics

    return compute_metrics(now, deps)


def _compute_recommendations(now: datetime, deps: Deps) -> dict[str, Any]:
    from chalicelib.services.recommendations import compute_recommendations

    return compute_recommendations(now, deps)


def _whole(now: datetime, deps: Deps, plan: Any, work: Any) -> dict[str, Any]:
    """Every part of a planned job, each to its end (until the job engine runs them)."""
    total: dict[str, Any] = {}
    for part in plan(now, deps):
        cursor = None
        while True:
            walked = work(part, cursor, now, deps, _NEVER)
            for name, value in walked.counts.items():
                total[name] = total.get(name, 0) + value
            cursor = walked.cursor
            if cursor is None:
                break
    return total


class _Never:
    def expired(self) -> bool:
        return False


_NEVER = _Never()


JOBS: dict[str, Job] = {
    "evaluate_tiers": _evaluate_tiers,
    "cancel_unpaid": _cancel_unpaid,
    "auto_confirm": _auto_confirm,
    "expire_groups": _expire_groups,
    "settle_commissions": _settle_commissions,
    "reconcile_wallets": _reconcile_wallets,
    "team_bonus": _team_bonus,
    "compute_metrics": _compute_metrics,
    "poll_transfers": _poll_transfers,
    "compute_recommendations": _compute_recommendations,
}


def run_job(name: str, now: datetime, deps: Deps) -> dict[str, Any]:
    """Run one job with logging and metrics around it."""
    from chalicelib.observability import logger, metrics

    log = logger()
    log.info("job started", extra={"job": name, "as_of": now.isoformat()})
    summary = JOBS[name](now, deps)
    metrics().add_metric(name=f"{name}_runs", unit="Count", value=1)
    log.info("job finished", extra={"job": name, "summary": summary})
    return summary

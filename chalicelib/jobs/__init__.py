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
    from chalicelib.services.orders import cancel_unpaid

    return cancel_unpaid(now, deps)


def _auto_confirm(now: datetime, deps: Deps) -> dict[str, Any]:
    from chalicelib.services.orders import auto_confirm

    return auto_confirm(now, deps)


def _settle_commissions(now: datetime, deps: Deps) -> dict[str, Any]:
    from chalicelib.services.settlement import settle_commissions

    return settle_commissions(now, deps)


def _reconcile_wallets(now: datetime, deps: Deps) -> dict[str, Any]:
    from chalicelib.services.settlement import reconcile_wallets

    return reconcile_wallets(now, deps)


def _expire_groups(now: datetime, deps: Deps) -> dict[str, Any]:
    from chalicelib.services.groups import expire_groups

    return expire_groups(now, deps)


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

"""fenxiao: the Chalice app. It wires blueprints, middleware and schedules; it holds no logic."""
from __future__ import annotations

import os
from typing import Any

from chalice import Chalice, Cron, Rate

from chalicelib.api import (
    admin,
    after_sales,
    analytics,
    catalog,
    centre,
    console,
    console_after_sales,
    console_audit,
    console_content,
    console_distributors,
    console_orders,
    console_products,
    console_promotions,
    console_settings,
    console_support,
    console_withdrawals,
    content,
    dashboard,
    dev,
    experiments,
    fulfilment,
    groups,
    leaderboards,
    openapi,
    orders,
    partner_board,
    payments,
    posters,
    promotions,
    referrals,
    settings,
    subscriptions,
    support,
    tracking,
    uploads,
    users,
    wallet,
)
from chalicelib.api.errors import normalise_chalice_error
from chalicelib.entrypoints import observe_request, run_job_slice, run_scheduled

app = Chalice(app_name="fenxiao", configure_logs=False)
# The jobs' queue (docs/jobs.md): ``infra.package`` names it per stage and creates it.
JOBS_QUEUE = os.environ.get("JOBS_QUEUE", "fenxiao-jobs")

for blueprint in (users.bp, referrals.bp, catalog.bp, orders.bp, groups.bp, payments.bp, content.bp, admin.bp,
                  dev.bp, wallet.bp, analytics.bp, dashboard.bp, experiments.bp, fulfilment.bp, settings.bp,
                  uploads.bp, tracking.bp,
                  after_sales.bp,
                  support.bp,
                  subscriptions.bp,
                  leaderboards.bp,
                  console.bp, console_orders.bp, console_products.bp,
                  console_distributors.bp, console_withdrawals.bp, console_content.bp, console_settings.bp,
                  console_audit.bp, console_support.bp,
                  console_after_sales.bp,
                  centre.bp,
                  promotions.bp, console_promotions.bp,
                  posters.bp, partner_board.bp,
                  openapi.bp):
    app.register_blueprint(blueprint)


@app.middleware("http")
def observe(event: Any, get_response: Any) -> Any:
    return normalise_chalice_error(observe_request(event, get_response))


# Schedules: EventBridge cron is UTC; 16:05 UTC is 00:05 in Asia/Shanghai.
@app.schedule(Cron(5, 16, "*", "*", "?", "*"), name="evaluate_tiers")
def evaluate_tiers(event: Any) -> dict[str, Any]:
    return run_scheduled("evaluate_tiers", event)


@app.schedule(Rate(5, unit=Rate.MINUTES), name="cancel_unpaid")
def cancel_unpaid(event: Any) -> dict[str, Any]:
    return run_scheduled("cancel_unpaid", event)


@app.schedule(Rate(5, unit=Rate.MINUTES), name="expire_groups")
def expire_groups(event: Any) -> dict[str, Any]:
    return run_scheduled("expire_groups", event)


# WeChat's shipping reports not yet taken, tried again (docs/orders.md "The shipping information rule").
@app.schedule(Rate(10, unit=Rate.MINUTES), name="report_shipments")
def report_shipments(event: Any) -> dict[str, Any]:
    return run_scheduled("report_shipments", event)


# Carrier tracking: subscriptions 快递100 did not take yet, and parcels without news asked about
# (docs/delivery.md).
@app.schedule(Rate(30, unit=Rate.MINUTES), name="track_parcels")
def track_parcels(event: Any) -> dict[str, Any]:
    return run_scheduled("track_parcels", event)


@app.schedule(Rate(5, unit=Rate.MINUTES), name="send_messages")
def send_messages(event: Any) -> dict[str, Any]:
    return run_scheduled("send_messages", event)


# After-sales refunds whose request ended between the decision and the money (docs/after-sales.md).
@app.schedule(Rate(10, unit=Rate.MINUTES), name="finish_case_refunds")
def finish_case_refunds(event: Any) -> dict[str, Any]:
    return run_scheduled("finish_case_refunds", event)


@app.schedule(Cron(20, 16, "*", "*", "?", "*"), name="auto_confirm")
def auto_confirm(event: Any) -> dict[str, Any]:
    return run_scheduled("auto_confirm", event)


# 00:10 Shanghai: after midnight, so the day's T+N commissions are due.
@app.schedule(Cron(10, 16, "*", "*", "?", "*"), name="settle_commissions")
def settle_commissions(event: Any) -> dict[str, Any]:
    return run_scheduled("settle_commissions", event)


# 00:40 Shanghai: after settlement, over the wallets touched yesterday and today.
@app.schedule(Cron(40, 16, "*", "*", "?", "*"), name="reconcile_wallets")
def reconcile_wallets(event: Any) -> dict[str, Any]:
    return run_scheduled("reconcile_wallets", event)


# 00:30 Shanghai daily: pays partners the team bonus of the month that ended, once (runs after
# the 1st see the month marked paid and stop; a missed 1st is caught up the next day).
@app.schedule(Cron(30, 16, "*", "*", "?", "*"), name="team_bonus")
def team_bonus(event: Any) -> dict[str, Any]:
    return run_scheduled("team_bonus", event)


# 00:50 Shanghai daily: closes the leaderboards of the month that ended and pays their rewards,
# once (later runs see the month marked done; a missed day is caught up the next).
@app.schedule(Cron(50, 16, "*", "*", "?", "*"), name="leaderboard_rewards")
def leaderboard_rewards(event: Any) -> dict[str, Any]:
    return run_scheduled("leaderboard_rewards", event)


# 01:00 Shanghai: the metrics of the day that ended (after settlement at 00:10, so its
# settled commission is in), stored and published to CloudWatch.
@app.schedule(Cron(0, 17, "*", "*", "?", "*"), name="compute_metrics")
def compute_metrics(event: Any) -> dict[str, Any]:
    return run_scheduled("compute_metrics", event)


# Withdrawals waiting for WeChat Pay's merchant transfer: asked for their bill's state (the
# notification usually comes first), and bills whose creation never arrived are created again.
@app.schedule(Rate(10, unit=Rate.MINUTES), name="poll_transfers")
def poll_transfers(event: Any) -> dict[str, Any]:
    return run_scheduled("poll_transfers", event)


# 00:50 Shanghai: recommendations from the 30 days that ended at midnight (their baskets and views).
@app.schedule(Cron(50, 16, "*", "*", "?", "*"), name="compute_recommendations")
def compute_recommendations(event: Any) -> dict[str, Any]:
    return run_scheduled("compute_recommendations", event)


# The jobs' workers: one slice of a job's part per message (docs/jobs.md).
@app.on_sqs_message(queue=JOBS_QUEUE, batch_size=1, name="job_worker")
def job_worker(event: Any) -> list[dict[str, Any]]:
    return run_job_slice(event)

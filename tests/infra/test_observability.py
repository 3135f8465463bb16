"""The dashboard and alarms are generated from the metric catalogue and infra's platform list:
a metric added to either is drawn, and alarmed when it has an alarm; every function and table
of the app is watched; the alarms that ops rely on exist and notify the topic."""
from __future__ import annotations

import json
import re
from typing import Any

import pytest

from chalicelib.domain.metric_catalog import CATALOGUE, Alarm, Group, Metric, Unit
from infra.observability import (
    ALARM_TOPIC,
    PLATFORM,
    AlarmRule,
    Stack,
    dashboard_body,
    lines,
    observability_template,
)
from infra.observability import Metric as PlatformMetric
from infra.template import app_functions

TABLES = ("UsersTable", "OrdersTable", "LedgerTable")
STACK = Stack("fenxiao", {"api_handler": "APIHandler", "settle_commissions": "SettleCommissions",
                          "reconcile_wallets": "ReconcileWallets", "compute_metrics": "ComputeMetrics",
                          "evaluate_tiers": "EvaluateTiers", "job_worker": "JobWorker"}, TABLES,
              ("JobsQueue", "JobsDeadLetters"))


def drawn(body: str) -> list[list[Any]]:
    """Every metric line of the dashboard: [namespace, name, dim, value, ..., {options}] or [{expression}]."""
    return [row for w in json.loads(body)["widgets"] if w["type"] == "metric" for row in w["properties"]["metrics"]]


def named(body: str) -> set[str]:
    names = {row[1] for row in drawn(body) if isinstance(row[0], str)}
    searches = [row[0]["expression"] for row in drawn(body) if isinstance(row[0], dict)]
    return names | {m for s in searches for m in re.findall(r'MetricName="(\w+)"', s)}


def alarms_of(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: r["Properties"] for k, r in template["Resources"].items() if r["Type"] == "AWS::CloudWatch::Alarm"}


def test_every_catalogue_metric_is_on_the_dashboard_with_its_dimensions() -> None:
    body = dashboard_body(STACK, CATALOGUE)
    assert {m.name for m in CATALOGUE} <= named(body)
    day = next(row for row in drawn(body) if row[1:2] == ["gmv_fen"])
    assert day[:4] == ["Fenxiao", "gmv_fen", "service", "fenxiao"]  # as Powertools publishes it
    search = next(row[0]["expression"] for row in drawn(body) if isinstance(row[0], dict)
                  and "units_sold" in row[0]["expression"])
    assert search == "SEARCH('{Fenxiao,product_id,service} MetricName=\"units_sold\"', 'Average', 86400)"


def test_a_metric_added_to_the_catalogue_is_drawn_and_alarmed() -> None:
    quiet = Metric("refund_rate_bp", Unit.NONE, Group.SALES, "refunds / orders, of the day")
    loud = Metric("complaints", Unit.COUNT, Group.USERS, "complaints on the day",
                  alarm=Alarm("GreaterThanThreshold", 5, "more than 5 complaints in a day"))
    per_product = Metric("returns", Unit.COUNT, Group.PRODUCTS, "returns of the product", per_product=True)
    template = observability_template(STACK, (*CATALOGUE, quiet, loud, per_product))
    body = template["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    assert {"refund_rate_bp", "complaints", "returns"} <= named(body)
    watched = {a["MetricName"]: a for a in alarms_of(template).values()}
    assert "refund_rate_bp" not in watched and "returns" not in watched
    assert watched["complaints"]["ComparisonOperator"] == "GreaterThanThreshold"
    assert watched["complaints"]["Threshold"] == 5 and watched["complaints"]["Period"] == 86400
    assert watched["complaints"]["AlarmDescription"] == "more than 5 complaints in a day"


def test_a_metric_added_to_the_platform_list_is_drawn_and_alarmed_per_table() -> None:
    extra = PlatformMetric("dynamodb_system_errors", "DynamoDB tables", "AWS/DynamoDB", "SystemErrors", "table",
                           "Sum", "System errors", alarm=AlarmRule("GreaterThanThreshold", 0, "DynamoDB failed"))
    template = observability_template(STACK, CATALOGUE, (*PLATFORM, extra))
    body = template["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    assert [row[3] for row in drawn(body) if row[1:2] == ["SystemErrors"]] == ["${UsersTable}", "${OrdersTable}",
                                                                             "${LedgerTable}"]
    watched = [a for a in alarms_of(template).values() if a["MetricName"] == "SystemErrors"]
    assert [a["Dimensions"] for a in watched] == [[{"Name": "TableName", "Value": {"Fn::Sub": "${" + t + "}"}}]
                                                  for t in TABLES]


@pytest.mark.parametrize(("name", "per"), [("Errors", "FunctionName"), ("Throttles", "FunctionName"),
                                           ("Duration", "FunctionName"), ("ReadThrottleEvents", "TableName"),
                                           ("WriteThrottleEvents", "TableName"), ("TransactionConflict", "TableName")])
def test_every_function_and_every_table_is_on_the_dashboard(name: str, per: str) -> None:
    rows = [row for row in drawn(dashboard_body(STACK, CATALOGUE)) if row[1:2] == [name] and row[2] == per]
    expected = [*STACK.functions.values()] if per == "FunctionName" else [*TABLES]
    assert sorted({row[3] for row in rows}) == sorted("${" + x + "}" for x in expected)


def test_every_metric_our_code_emits_by_name_is_on_the_dashboard() -> None:
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "chalicelib"
    literal = {m for path in root.rglob("*.py")
               for m in re.findall(r'add_metric\(name="(\w+)"', path.read_text(encoding="utf-8"))}
    body = dashboard_body(STACK, CATALOGUE)
    assert literal <= named(body)
    assert {"api_2xx", "api_4xx", "api_5xx", "settle_commissions_runs", "reconcile_wallets_runs",
            "evaluate_tiers_runs"} <= named(body)


def test_the_alarms_ops_rely_on_exist_and_notify_the_topic() -> None:
    found = alarms_of(observability_template(STACK))
    by_metric: dict[str, list[dict[str, Any]]] = {}
    for alarm in found.values():
        by_metric.setdefault(alarm["MetricName"], []).append(alarm)
        assert alarm["AlarmActions"] == [{"Ref": ALARM_TOPIC}] and alarm["OKActions"] == [{"Ref": ALARM_TOPIC}]
    [five] = by_metric["5XXError"]
    assert five["Statistic"] == "Average" and five["Threshold"] == 0.01
    assert five["Dimensions"] == [{"Name": "ApiName", "Value": "fenxiao"}]
    for metric in ("ReadThrottleEvents", "WriteThrottleEvents"):
        assert len(by_metric[metric]) == len(TABLES)
    assert [a["Dimensions"][0]["Value"] for a in by_metric["Errors"]] == [
        {"Fn::Sub": "${SettleCommissions}"}, {"Fn::Sub": "${ReconcileWallets}"}, {"Fn::Sub": "${ComputeMetrics}"},
        {"Fn::Sub": "${JobWorker}"}]  # the daily jobs' schedules (they plan) and the worker (it works)
    runs = {a["MetricName"]: a for a in found.values() if a["MetricName"].endswith("_runs")}
    assert set(runs) == {"settle_commissions_runs", "reconcile_wallets_runs", "compute_metrics_runs"}
    missed = runs["settle_commissions_runs"]
    assert (missed["ComparisonOperator"], missed["Threshold"], missed["TreatMissingData"]) == (
        "LessThanThreshold", 1, "breaching")
    assert missed["Period"] * missed["EvaluationPeriods"] == 26 * 3600
    [differences] = by_metric["reconciliation_differences"]
    assert (differences["ComparisonOperator"], differences["Threshold"]) == ("GreaterThanThreshold", 0)
    [drop] = by_metric["conversion_vs_7day_mean_bp"]
    assert (drop["ComparisonOperator"], drop["Threshold"]) == ("LessThanThreshold", -200)
    [conflicts] = by_metric["transaction_conflicts"]  # counted by store/conflicts.py, one per conflict
    assert (conflicts["Namespace"], conflicts["Statistic"], conflicts["Period"]) == ("Fenxiao", "Sum", 300)
    assert (conflicts["ComparisonOperator"], conflicts["Threshold"]) == ("GreaterThanThreshold", 300)
    assert (conflicts["EvaluationPeriods"], conflicts["DatapointsToAlarm"]) == (3, 2)
    assert conflicts["Dimensions"] == [{"Name": "service", "Value": "fenxiao"}]
    assert len({a["AlarmName"]["Fn::Sub"] for a in found.values()}) == len(found)


def test_an_alarm_on_a_job_the_app_does_not_have_is_an_error() -> None:
    typo = PlatformMetric("lambda_errors", "Lambda", "AWS/Lambda", "Errors", "function", "Sum", "Errors",
                          alarm=AlarmRule("GreaterThanThreshold", 0, "failed"), alarm_on=("settle_comissions",))
    with pytest.raises(ValueError, match="settle_comissions"):
        observability_template(STACK, CATALOGUE, (typo,))


def test_the_dashboard_places_widgets_on_the_grid_without_overlap() -> None:
    widgets = json.loads(dashboard_body(STACK, CATALOGUE))["widgets"]
    cells: set[tuple[int, int]] = set()
    for w in widgets:
        assert w["x"] >= 0 and w["x"] + w["width"] <= 24
        mine = {(x, y) for x in range(w["x"], w["x"] + w["width"]) for y in range(w["y"], w["y"] + w["height"])}
        assert not cells & mine
        cells |= mine


def test_the_app_functions_are_the_api_handler_the_job_worker_and_every_scheduled_job() -> None:
    from chalicelib.jobs import JOBS

    functions = app_functions()
    assert functions["api_handler"] == "APIHandler" and functions["settle_commissions"] == "SettleCommissions"
    assert functions["job_worker"] == "JobWorker"
    assert set(functions) - {"api_handler", "job_worker"} == set(JOBS)
    job_lines = lines(next(m for m in PLATFORM if m.per == "job"), Stack("fenxiao", functions, ()))
    assert {line.name for line in job_lines} == {f"{job}_runs" for job in JOBS}


def test_the_jobs_queue_is_watched_for_old_messages_and_its_dead_letters_alarm() -> None:
    resources = observability_template(STACK, CATALOGUE)["Resources"]
    age = resources["AlarmJobsOldestMessageJobsQueue"]["Properties"]
    dead = resources["AlarmJobsDeadLettersJobsDeadLetters"]["Properties"]
    assert (age["MetricName"], age["Threshold"]) == ("ApproximateAgeOfOldestMessage", 3600)
    assert age["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::Sub": "${JobsQueue.QueueName}"}}]
    assert (dead["MetricName"], dead["Threshold"], dead["ComparisonOperator"]) == (
        "ApproximateNumberOfMessagesVisible", 0, "GreaterThanThreshold")
    assert "AlarmLambdaErrorsJobWorker" in resources

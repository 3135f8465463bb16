"""The CloudWatch dashboard and alarms, generated from two lists so that no metric is forgotten:

* ``chalicelib.domain.metric_catalog.CATALOGUE``: the daily business metrics ``compute_metrics``
  publishes as EMF (namespace Fenxiao), each with its dashboard group and, for some, an alarm;
* ``PLATFORM`` below: what AWS publishes for our API, functions and tables, and what our entry
  points and jobs publish (answers by status class, job runs, settlement, reconciliation,
  withdrawals), each with the alarm that watches it, if any.

Every metric of either list is drawn on the dashboard, expanded over every function or table of
the template it is "per"; every alarm of either list is created and notifies the stack's SNS
topic. Pure functions over dicts, like ``infra.template``; the functions and tables are passed in.
"""
from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from chalicelib.domain.metric_catalog import Metric as CatalogueMetric

NAMESPACE = "Fenxiao"  # chalicelib.observability.NAMESPACE: our EMF metrics
SERVICE = {"service": "fenxiao"}  # the dimension Powertools adds to each of them
PRODUCT_DIMENSION = "product_id"
ALARM_TOPIC, ALARM_EMAIL, HAS_ALARM_EMAIL = "AlarmTopic", "AlarmEmail", "HasAlarmEmail"
DASHBOARD = "Dashboard"
DAY, HOUR, FIVE_MINUTES = 86400, 3600, 300
GRID = 24

Per = Literal["api", "function", "job", "table", "service", "queue"]
Comparison = Literal["GreaterThanThreshold", "GreaterThanOrEqualToThreshold", "LessThanThreshold",
                     "LessThanOrEqualToThreshold"]
Missing = Literal["breaching", "notBreaching", "ignore", "missing"]


@dataclass(frozen=True)
class AlarmRule:
    """A metric alarms when ``stat`` over ``period`` seconds compares with ``threshold`` in
    ``datapoints`` of the last ``periods`` periods (in all of them when ``datapoints`` is 0)."""

    comparison: Comparison
    threshold: float
    description: str
    stat: str = "Sum"
    period: int = FIVE_MINUTES
    periods: int = 1
    datapoints: int = 0
    missing: Missing = "notBreaching"


@dataclass(frozen=True)
class Metric:
    """A graph on the dashboard: one metric, one line per API, function, job or table it is per
    (``service``: one of our EMF metrics; ``job``: ``name`` holds ``{job}``, one line per job).
    ``alarm_on`` limits the alarm to these jobs' functions or these jobs (empty: every line)."""

    key: str
    group: str
    namespace: str
    name: str
    per: Per
    stat: str
    title: str
    period: int = FIVE_MINUTES
    alarm: AlarmRule | None = None
    alarm_on: tuple[str, ...] = ()


# Groups of the platform part of the dashboard, in display order.
API, LAMBDA, DYNAMODB, JOBS, MONEY, DATA = ("API", "Lambda functions", "DynamoDB tables", "Scheduled jobs",
                                            "Settlement, reconciliation and withdrawals",
                                            "Analytics, experiments and recommendations")
GW, FN, DDB, SQS = "AWS/ApiGateway", "AWS/Lambda", "AWS/DynamoDB", "AWS/SQS"
DAILY_JOBS = ("settle_commissions", "reconcile_wallets", "compute_metrics")  # money, then the day's metrics
# Conflicts are expected now and then (two buyers of one product in the same few milliseconds)
# and each costs one more send; a sustained second of them means one item is hot.
CONFLICTS_PER_FIVE_MINUTES = 300
WORKER = "job_worker"  # the function that runs the jobs' slices from their queue (app.py)
JOBS_QUEUE, DEAD_LETTERS = "JobsQueue", "JobsDeadLetters"  # logical ids (infra.template.queue_resources)
THROTTLED = AlarmRule("GreaterThanThreshold", 0, "DynamoDB throttled requests in 2 of the last 3 five-minute periods",
                      periods=3, datapoints=2)

PLATFORM: tuple[Metric, ...] = (
    Metric("api_requests", API, GW, "Count", "api", "Sum", "Requests"),
    Metric("api_5xx_rate", API, GW, "5XXError", "api", "Average", "5xx rate (share of requests)",
           alarm=AlarmRule("GreaterThanThreshold", 0.01, "more than 1% of API requests answered 5xx in 2 of the last "
                           "3 five-minute periods (a 5xx is a bug: bad input is a 4xx)", stat="Average", periods=3,
                           datapoints=2)),
    Metric("api_4xx_rate", API, GW, "4XXError", "api", "Average", "4xx rate (share of requests)"),
    Metric("api_latency_p50", API, GW, "Latency", "api", "p50", "Latency p50 (ms)"),
    Metric("api_latency_p99", API, GW, "Latency", "api", "p99", "Latency p99 (ms)"),
    Metric("api_answers_2xx", API, NAMESPACE, "api_2xx", "service", "Sum", "Answers 2xx (our middleware)"),
    Metric("api_answers_4xx", API, NAMESPACE, "api_4xx", "service", "Sum", "Answers 4xx (our middleware)"),
    Metric("api_answers_5xx", API, NAMESPACE, "api_5xx", "service", "Sum", "Answers 5xx (our middleware)"),
    Metric("lambda_errors", LAMBDA, FN, "Errors", "function", "Sum", "Errors", period=HOUR,
           alarm=AlarmRule("GreaterThanThreshold", 0, "a daily job failed (an invocation ended in an error; the "
                           "next run does what is still due, nothing twice)", period=HOUR),
           alarm_on=(*DAILY_JOBS, WORKER)),
    Metric("lambda_throttles", LAMBDA, FN, "Throttles", "function", "Sum", "Throttles"),
    Metric("lambda_duration_p95", LAMBDA, FN, "Duration", "function", "p95", "Duration p95 (ms)"),
    Metric("lambda_duration_max", LAMBDA, FN, "Duration", "function", "Maximum", "Duration max (ms; timeouts show here)"),
    Metric("dynamodb_read_throttles", DYNAMODB, DDB, "ReadThrottleEvents", "table", "Sum", "Read throttle events",
           alarm=THROTTLED),
    Metric("dynamodb_write_throttles", DYNAMODB, DDB, "WriteThrottleEvents", "table", "Sum", "Write throttle events",
           alarm=THROTTLED),
    Metric("dynamodb_transaction_conflicts", DYNAMODB, DDB, "TransactionConflict", "table", "Sum",
           "Transaction conflicts (retried by the code)"),
    Metric("transaction_conflicts", DYNAMODB, NAMESPACE, "transaction_conflicts", "service", "Sum",
           "Writes sent again after a TransactionConflict (our client)",
           alarm=AlarmRule("GreaterThanThreshold", CONFLICTS_PER_FIVE_MINUTES,
                           "more than 1 write a second met another transaction in flight (TransactionConflict, "
                           "sent again by the client) in 2 of the last 3 five-minute periods: a hot item "
                           "(docs/ops.md \"Transaction conflicts\")", periods=3, datapoints=2)),
    Metric("dynamodb_read_capacity", DYNAMODB, DDB, "ConsumedReadCapacityUnits", "table", "Sum", "Read capacity used"),
    Metric("dynamodb_write_capacity", DYNAMODB, DDB, "ConsumedWriteCapacityUnits", "table", "Sum",
           "Write capacity used"),
    Metric("job_runs", JOBS, NAMESPACE, "{job}_runs", "job", "Sum", "Successful runs", period=HOUR,
           alarm=AlarmRule("LessThanThreshold", 1, "the job has not finished a run for 26 hours (it runs daily)",
                           period=HOUR, periods=26, missing="breaching"),
           alarm_on=DAILY_JOBS),
    Metric("jobs_oldest_message", JOBS, SQS, "ApproximateAgeOfOldestMessage", "queue", "Maximum",
           "Oldest message waiting (s)", alarm=AlarmRule(
               "GreaterThanThreshold", HOUR, "a job's slice has waited over an hour for a worker (workers failing, "
               "throttled or out of concurrency: docs/jobs.md)", stat="Maximum", periods=3), alarm_on=(JOBS_QUEUE,)),
    Metric("jobs_dead_letters", JOBS, SQS, "ApproximateNumberOfMessagesVisible", "queue", "Maximum",
           "Messages waiting (the dead-letter queue: slices that failed 5 times)", alarm=AlarmRule(
               "GreaterThanThreshold", 0, "a job's slice failed five deliveries and was set aside: its part is not "
               "done (docs/jobs.md \"Dead letters\")", stat="Maximum"), alarm_on=(DEAD_LETTERS,)),
    Metric("commissions_settled", MONEY, NAMESPACE, "commissions_settled", "service", "Sum", "Commissions settled",
           period=HOUR),
    Metric("commission_fen_settled", MONEY, NAMESPACE, "commission_fen_settled", "service", "Sum",
           "Commission settled (fen)", period=HOUR),
    Metric("settlement_deferred", MONEY, NAMESPACE, "settlement_deferred", "service", "Sum",
           "Commissions deferred to the next run (conflicts)", period=HOUR),
    Metric("reconciliation_differences", MONEY, NAMESPACE, "reconciliation_differences", "service", "Maximum",
           "Wallets differing from their ledger", period=HOUR,
           alarm=AlarmRule("GreaterThanThreshold", 0, "a wallet's balances differ from the sum of its ledger entries "
                           "(the job's ERROR log line names the wallet and bucket)", stat="Maximum", period=HOUR)),
    Metric("wallets_reconciled", MONEY, NAMESPACE, "wallets_reconciled", "service", "Sum", "Wallets reconciled",
           period=HOUR),
    Metric("withdrawals_requested", MONEY, NAMESPACE, "withdrawals_requested", "service", "Sum",
           "Withdrawals requested", period=HOUR),
    Metric("withdrawals_paid", MONEY, NAMESPACE, "withdrawals_paid", "service", "Sum", "Withdrawals paid", period=HOUR),
    Metric("shipping_report_failed", MONEY, NAMESPACE, "shipping_report_failed", "service", "Sum",
           "WeChat shipping reports given up (funds may be held)", period=HOUR,
           alarm=AlarmRule("GreaterThanThreshold", 0, "a shipment's WeChat shipping report (发货信息管理) was given up: "
                           "refused, or 8 attempts failed; WeChat may hold the payment's funds until it is reported "
                           "by hand (docs/orders.md \"The shipping information rule\"; the ERROR log names the order)",
                           period=HOUR)),
    Metric("shipping_report_retry", MONEY, NAMESPACE, "shipping_report_retry", "service", "Sum",
           "WeChat shipping reports deferred (tried again by report_shipments)", period=HOUR),
    Metric("tracking_subscribe_failed", DATA, NAMESPACE, "tracking_subscribe_failed", "service", "Sum",
           "Carrier tracking subscriptions given up (polled instead)", period=HOUR,
           alarm=AlarmRule("GreaterThanThreshold", 0, "a parcel's 快递100 subscription was given up (refused, or 8 "
                           "attempts failed): its tracking comes only from the real-time query every 12 h "
                           "(docs/delivery.md; the ERROR log names the parcel and 快递100's answer)", period=HOUR)),
    Metric("withdrawals_returned", MONEY, NAMESPACE, "withdrawals_returned", "service", "Sum",
           "Withdrawals returned to the wallet", period=HOUR),
    Metric("subscribe_message_sent", DATA, NAMESPACE, "subscribe_message_sent", "service", "Sum",
           "Subscribe messages sent (订阅消息)", period=HOUR),
    Metric("subscribe_message_pending", DATA, NAMESPACE, "subscribe_message_pending", "service", "Sum",
           "Subscribe messages deferred (tried again by send_messages)", period=HOUR),
    Metric("subscribe_message_refused", DATA, NAMESPACE, "subscribe_message_refused", "service", "Sum",
           "Subscribe messages the user refused (43101)", period=HOUR),
    Metric("subscribe_message_failed", DATA, NAMESPACE, "subscribe_message_failed", "service", "Sum",
           "Subscribe messages given up", period=HOUR,
           alarm=AlarmRule("GreaterThanThreshold", 0, "WeChat refused a subscribe message's template id, fields or "
                           "page, or 6 attempts failed: check the settings' messages section (docs/subscribe-messages"
                           ".md; the ERROR log names the kind, the cause and WeChat's answer)", period=HOUR)),
    Metric("subscribe_message_error", DATA, NAMESPACE, "subscribe_message_error", "service", "Sum",
           "Subscribe messages not queued (an error after the business commit)", period=HOUR,
           alarm=AlarmRule("GreaterThanThreshold", 0, "a subscribe message could not be queued after its business "
                           "change committed (the change stands; the ERROR log names the kind and cause)",
                           period=HOUR)),
    Metric("analytics_fact_failed", DATA, NAMESPACE, "analytics_fact_failed", "service", "Sum",
           "Facts not counted (the day's metrics are short)", period=HOUR,
           alarm=AlarmRule("GreaterThanThreshold", 0, "a business fact was not counted in the day's metrics (the "
                           "request went on; the log line names the fact)", period=HOUR)),
    Metric("experiment_conversion_failed", DATA, NAMESPACE, "experiment_conversion_failed", "service", "Sum",
           "Experiment conversions not counted", period=HOUR),
    Metric("recommendation_input_failed", DATA, NAMESPACE, "recommendation_input_failed", "service", "Sum",
           "Recommendation inputs not recorded", period=HOUR),
    Metric("red_packet_failed", DATA, NAMESPACE, "red_packet_failed", "service", "Sum",
           "New-user red packets not granted at a first login", period=HOUR,
           alarm=AlarmRule("GreaterThanThreshold", 0, "a new user's red packet was not granted at the first login "
                           "(the login went on; the log line names the user: docs/promotions.md)", period=HOUR)),
)


@dataclass(frozen=True)
class Stack:
    """What the metrics are per: the API's name, function logical ids by chalice function name
    (``api_handler`` and one per scheduled job) and table logical ids. Names of the dashboard and
    the alarms start with the CloudFormation stack's name, so stages do not collide."""

    api_name: str
    functions: dict[str, str]
    tables: tuple[str, ...]
    queues: tuple[str, ...] = ()  # logical ids of the jobs' queues (infra.template.queue_resources)

    @property
    def jobs(self) -> tuple[str, ...]:
        """The scheduled jobs' functions (not the API's, not the worker's)."""
        return tuple(name for name in self.functions if name not in ("api_handler", WORKER))


@dataclass(frozen=True)
class Line:
    """One metric of one thing: what a graph draws and an alarm watches."""

    namespace: str
    name: str
    dimensions: dict[str, str]  # values may hold ${LogicalId}, resolved by Fn::Sub
    label: str
    instance: str  # "" for a single line; else the function, job or table it is of


def lines(metric: Metric, stack: Stack) -> list[Line]:
    """The metric expanded over what it is per."""
    if metric.per == "api":
        return [Line(metric.namespace, metric.name, {"ApiName": stack.api_name}, metric.name, "")]
    if metric.per == "service":
        return [Line(metric.namespace, metric.name, dict(SERVICE), metric.name, "")]
    if metric.per == "job":
        return [Line(metric.namespace, metric.name.format(job=job), dict(SERVICE), job, job) for job in stack.jobs]
    if metric.per == "queue":
        return [Line(metric.namespace, metric.name, {"QueueName": "${" + queue + ".QueueName}"}, queue, queue)
                for queue in stack.queues]
    if metric.per == "function":
        return [Line(metric.namespace, metric.name, {"FunctionName": "${" + logical + "}"}, name, name)
                for name, logical in stack.functions.items()]
    return [Line(metric.namespace, metric.name, {"TableName": "${" + table + "}"}, table, table)
            for table in stack.tables]


def catalogue_metric(entry: CatalogueMetric) -> Metric:
    """A business metric of the catalogue as a dashboard metric: its daily value (one datapoint
    per run of ``compute_metrics``), with the catalogue's alarm on it."""
    alarm = None
    if entry.alarm is not None:
        alarm = AlarmRule(entry.alarm.comparison, entry.alarm.threshold, entry.alarm.why,  # type: ignore[arg-type]
                          stat="Average", period=DAY)
    return Metric(entry.name, f"Business · {entry.group}", NAMESPACE, entry.name, "service", "Average", entry.name,
                  period=DAY, alarm=alarm)


# --- the dashboard ---------------------------------------------------------------------------

def _graph(metric: Metric, stack: Stack, width: int) -> dict[str, Any]:
    rows = [[line.namespace, line.name, *[x for kv in line.dimensions.items() for x in kv],
             {"label": line.label}] for line in lines(metric, stack)]
    return {"type": "metric", "width": width, "height": 5, "properties": {
        "title": metric.title, "view": "timeSeries", "region": "${AWS::Region}", "stat": metric.stat,
        "period": metric.period, "metrics": rows}}


def _product_graph(entry: CatalogueMetric) -> dict[str, Any]:
    """A per-product metric: one line per product that published it (a search, since products come
    and go)."""
    schema = "{" + ",".join([NAMESPACE, PRODUCT_DIMENSION, *SERVICE]) + "}"
    search = f"SEARCH('{schema} MetricName=\"{entry.name}\"', 'Average', {DAY})"
    return {"type": "metric", "width": 12, "height": 6, "properties": {
        "title": f"{entry.name} per product", "view": "timeSeries", "region": "${AWS::Region}", "period": DAY,
        "metrics": [[{"expression": search, "id": "products", "label": ""}]]}}


def _text(markdown: str) -> dict[str, Any]:
    return {"type": "text", "width": GRID, "height": 1, "properties": {"markdown": markdown}}


def _place(widgets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Left to right, top to bottom on the 24-column grid."""
    x = y = row_height = 0
    for widget in widgets:
        if x + widget["width"] > GRID:
            x, y, row_height = 0, y + row_height, 0
        widget["x"], widget["y"] = x, y
        x += widget["width"]
        row_height = max(row_height, widget["height"])
    return widgets


def dashboard_body(stack: Stack, catalogue: Sequence[CatalogueMetric], platform: Sequence[Metric] = PLATFORM) -> str:
    """The dashboard's JSON (for Fn::Sub): the business metrics by catalogue group, then the
    platform metrics by group."""
    widgets = [_text("# ${AWS::StackName}\nDaily business metrics (one value per Asia/Shanghai day, written "
                     "by compute_metrics), then the API, functions, tables and jobs. Alarms: docs/ops.md.")]
    groups: dict[str, list[dict[str, Any]]] = {}
    for entry in catalogue:
        graph = _product_graph(entry) if entry.per_product else _graph(catalogue_metric(entry), stack, 8)
        groups.setdefault(f"Business · {entry.group}", []).append(graph)
    for metric in platform:
        groups.setdefault(metric.group, []).append(_graph(metric, stack, 8 if metric.per in ("api", "service") else 12))
    for group, graphs in groups.items():
        widgets += [_text(f"## {group}"), *graphs]
    return json.dumps({"start": "-P7D", "periodOverride": "inherit", "widgets": _place(widgets)},
                      ensure_ascii=False, separators=(",", ":"))


# --- the alarms ------------------------------------------------------------------------------

def _camel(text: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^0-9A-Za-z]+", text) if part)


def _alarm(metric: Metric, rule: AlarmRule, line: Line) -> tuple[str, dict[str, Any]]:
    suffix = f"-{line.instance}" if line.instance else ""
    properties: dict[str, Any] = {
        "AlarmName": {"Fn::Sub": f"${{AWS::StackName}}-{metric.key}{suffix}"},
        "AlarmDescription": rule.description,
        "Namespace": line.namespace,
        "MetricName": line.name,
        "Dimensions": [{"Name": k, "Value": {"Fn::Sub": v} if "${" in v else v} for k, v in line.dimensions.items()],
        "Statistic" if not rule.stat.startswith("p") else "ExtendedStatistic": rule.stat,
        "Period": rule.period,
        "EvaluationPeriods": rule.periods,
        "Threshold": rule.threshold,
        "ComparisonOperator": rule.comparison,
        "TreatMissingData": rule.missing,
        "AlarmActions": [{"Ref": ALARM_TOPIC}],
        "OKActions": [{"Ref": ALARM_TOPIC}],
    }
    if rule.datapoints:
        properties["DatapointsToAlarm"] = rule.datapoints
    return "Alarm" + _camel(metric.key + suffix), {"Type": "AWS::CloudWatch::Alarm", "Properties": properties}


def alarms(stack: Stack, metrics: Sequence[Metric]) -> dict[str, dict[str, Any]]:
    """An alarm per line of every metric that has one (only the ``alarm_on`` lines when given;
    naming a job or function the stack does not have is an error, not a silent gap)."""
    resources: dict[str, dict[str, Any]] = {}
    for metric in metrics:
        if metric.alarm is None:
            continue
        expanded = lines(metric, stack)
        missing = set(metric.alarm_on) - {line.instance for line in expanded}
        if missing:
            raise ValueError(f"alarm {metric.key}: the stack has no {sorted(missing)}")
        for line in expanded:
            if not metric.alarm_on or line.instance in metric.alarm_on:
                name, resource = _alarm(metric, metric.alarm, line)
                resources[name] = resource
    return resources


def observability_template(stack: Stack, catalogue: Sequence[CatalogueMetric] | None = None,
                           platform: Sequence[Metric] = PLATFORM) -> dict[str, Any]:
    """The dashboard, the alarms, the alarm topic and its optional e-mail subscription, as a
    template fragment to merge into chalice's."""
    if catalogue is None:
        from chalicelib.domain.metric_catalog import CATALOGUE

        catalogue = CATALOGUE
    metrics = [catalogue_metric(m) for m in catalogue if not m.per_product] + list(platform)
    resources: dict[str, dict[str, Any]] = {
        ALARM_TOPIC: {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": {"Fn::Sub": "${AWS::StackName} alarms"}}},
        "AlarmEmailSubscription": {"Type": "AWS::SNS::Subscription", "Condition": HAS_ALARM_EMAIL, "Properties": {
            "TopicArn": {"Ref": ALARM_TOPIC}, "Protocol": "email", "Endpoint": {"Ref": ALARM_EMAIL}}},
        DASHBOARD: {"Type": "AWS::CloudWatch::Dashboard", "Properties": {
            "DashboardName": {"Ref": "AWS::StackName"},
            "DashboardBody": {"Fn::Sub": dashboard_body(stack, catalogue, platform)}}},
    }
    resources.update(alarms(stack, metrics))
    return {
        "Parameters": {ALARM_EMAIL: {"Type": "String", "Default": "", "AllowedPattern": r"^$|^[^@\s]+@[^@\s]+$",
                                     "Description": "e-mail address the alarms are sent to (optional; "
                                                    "subscribe anything else to the AlarmTopicArn output)"}},
        "Conditions": {HAS_ALARM_EMAIL: {"Fn::Not": [{"Fn::Equals": [{"Ref": ALARM_EMAIL}, ""]}]}},
        "Resources": resources,
        "Outputs": {"DashboardName": {"Value": {"Ref": DASHBOARD}}, "AlarmTopicArn": {"Value": {"Ref": ALARM_TOPIC}}},
    }

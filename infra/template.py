"""What infra/ adds to Chalice's template, built from one source of truth each:

* the tables: keys and indexes from the PynamoDB models (``chalicelib.store.tables.table_spec``),
  names from the stage's environment variables in ``.chalice/config.json``;
* the Lambda role's policy: exactly those tables and their indexes, logs, the one secret the
  functions read at run time (``FENXIAO_SECRET_ID``), and X-Ray where the stage traces;
* the CloudWatch dashboard and alarms (``infra.observability``) over every function of ``app.py``
  and every table.

Pure functions over dicts: no files, no subprocesses (``infra.package`` does those).
"""
from __future__ import annotations

from typing import Any

from chalice.config import Config
from pynamodb.attributes import TTLAttribute
from pynamodb.models import Model

API_HANDLER = "api_handler"
PROTECTED_STAGES = frozenset({"prod"})  # tables that refuse DeleteTable even by hand

# What the store does (pynamodb: get/put/update/delete, query, batch, transactions, condition
# checks, describe). Transactions have no IAM actions of their own: TransactWriteItems and
# TransactGetItems are authorised item by item through these.
DYNAMODB_ACTIONS = (
    "dynamodb:BatchGetItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DeleteItem",
    "dynamodb:DescribeTable",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:UpdateItem",
)
LOG_ACTIONS = ("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents")
XRAY_ACTIONS = ("xray:PutTelemetryRecords", "xray:PutTraceSegments")
SECRET_ACTIONS = ("secretsmanager:GetSecretValue",)
# The schedules send to the jobs' queue; its event source mapping receives and deletes for the
# worker (with the function's role) and reads the queue's attributes.
QUEUE_ACTIONS = ("sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes",
                 "sqs:ChangeMessageVisibility")
JOBS_QUEUE, DEAD_LETTERS = "JobsQueue", "JobsDeadLetters"
WORKER = "job_worker"
DELIVERIES = 5  # a slice that failed this many deliveries goes to the dead-letter queue


def stage_config(config_from_disk: dict[str, Any], stage: str, function_name: str = API_HANDLER) -> Config:
    """Chalice's own view of a stage (so chaining and per-function overrides mean what they
    mean to ``chalice package``)."""
    if stage not in config_from_disk.get("stages", {}):
        raise ValueError(f"stage {stage!r} is not in .chalice/config.json")
    return Config(chalice_stage=stage, function_name=function_name, config_from_disk=config_from_disk)


def ttl_attribute(model: type[Model]) -> str | None:
    """The attribute DynamoDB expires items by: ``Meta.ttl_attribute`` (a Python or a DynamoDB
    attribute name) if the model sets one, else the model's ``TTLAttribute`` if it declares one."""
    attributes = model.get_attributes()
    named = getattr(model.Meta, "ttl_attribute", None)
    if named:
        attribute = attributes.get(named)
        return attribute.attr_name if attribute is not None else str(named)
    declared = [a.attr_name for a in attributes.values() if isinstance(a, TTLAttribute)]
    return declared[0] if declared else None


def table_env_vars() -> dict[str, str]:
    """Settings field → environment variable, for every table setting (``*_table``)."""
    from chalicelib.config import env_vars

    return {field: var for field, var in env_vars().items() if field.endswith("_table")}


def logical_id(env_var: str) -> str:
    """USERS_TABLE → UsersTable."""
    return "".join(part.capitalize() for part in env_var.split("_"))


def model_env_var(model: type[Model]) -> str:
    """The environment variable that names a model's table (matched through the settings the
    model's ``Meta.table_name`` was read from)."""
    from chalicelib.config import get_settings

    settings = get_settings()
    matches = [var for field, var in table_env_vars().items() if getattr(settings, field) == model.Meta.table_name]
    if len(matches) != 1:
        raise ValueError(f"{model.__name__}: no single *_TABLE setting names table {model.Meta.table_name!r}")
    return matches[0]


def table_resource(spec: dict[str, Any], table_name: str, ttl: str | None, protect: bool) -> dict[str, Any]:
    """One AWS::DynamoDB::Table from a ``table_spec``: on demand, encrypted, point-in-time
    recovery on, kept when the stack goes or the table would be replaced."""
    properties = {key: value for key, value in spec.items() if key != "TableName"}
    properties.update({
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        "SSESpecification": {"SSEEnabled": True},
    })
    if ttl:
        properties["TimeToLiveSpecification"] = {"AttributeName": ttl, "Enabled": True}
    if protect:
        properties["DeletionProtectionEnabled"] = True
    return {
        "Type": "AWS::DynamoDB::Table",
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": properties,
    }


def table_resources(models: list[type[Model]], env: dict[str, str], stage: str) -> dict[str, dict[str, Any]]:
    """Every model's table, named as the stage's environment names it."""
    from chalicelib.store.tables import table_spec

    resources = {}
    for model in models:
        var = model_env_var(model)
        if not env.get(var):
            raise ValueError(f"stage {stage!r} sets no {var} (the table of {model.__name__})")
        resources[logical_id(var)] = table_resource(table_spec(model), env[var], ttl_attribute(model),
                                                    protect=stage in PROTECTED_STAGES)
    return resources


def secret_arn(secret_id: str) -> Any:
    """The ARN of the secret a name or ARN designates. Secrets Manager appends six random
    characters to a secret's name in its ARN: ``-??????`` matches them and no other secret."""
    if secret_id.startswith("arn:"):
        return secret_id
    return {"Fn::Sub": "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:"
                       + secret_id + "-??????"}


def jobs_queue_name(app_name: str, stage: str) -> str:
    """The jobs' queue of a stage (``app.py`` reads it as ``JOBS_QUEUE`` when packaged)."""
    return f"{app_name}-{stage}-jobs"


def queue_resources(name: str, worker_timeout: int) -> dict[str, dict[str, Any]]:
    """The jobs' queue and its dead-letter queue (docs/jobs.md). A message is invisible for six
    times the worker's timeout while a worker has it (AWS's advice for a Lambda event source, so
    retries of a throttled batch do not redeliver it early), and set aside after ``DELIVERIES``
    failed deliveries; dead letters are kept 14 days for inspection and redrive."""
    encrypted = {"SqsManagedSseEnabled": True}
    return {
        DEAD_LETTERS: {"Type": "AWS::SQS::Queue", "Properties": {
            "QueueName": f"{name}-dead-letters", "MessageRetentionPeriod": 14 * 86400, **encrypted}},
        JOBS_QUEUE: {"Type": "AWS::SQS::Queue", "Properties": {
            "QueueName": name, "VisibilityTimeout": 6 * worker_timeout, "MessageRetentionPeriod": 4 * 86400,
            "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": [DEAD_LETTERS, "Arn"]},
                              "maxReceiveCount": DELIVERIES}, **encrypted}},
    }


def queue_url_everywhere(functions: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Every function learns the jobs' queue URL (``JOBS_QUEUE_URL``): the schedules send to it,
    the worker sends continuations to it. Deep-merged into chalice's functions."""
    return {logical: {"Properties": {"Environment": {"Variables": {"JOBS_QUEUE_URL": {"Ref": JOBS_QUEUE}}}}}
            for logical in functions.values()}


def lambda_policy(tables: dict[str, dict[str, Any]], xray: bool, secret_id: str | None = None) -> dict[str, Any]:
    """The functions' IAM policy: the tables (and their indexes) of this template only, the jobs'
    queue, the product images under ``products/`` of the media bucket (``infra.media``), and
    reading the one secret of the stage when it names one."""
    from infra.media import media_policy_statements

    table_arns: list[Any] = []
    for name, table in tables.items():
        table_arns.append({"Fn::GetAtt": [name, "Arn"]})
        properties = table["Properties"]
        if properties.get("GlobalSecondaryIndexes") or properties.get("LocalSecondaryIndexes"):
            table_arns.append({"Fn::Sub": "${" + name + ".Arn}/index/*"})
    log_groups = "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/lambda/*"
    statements: list[dict[str, Any]] = [
        {"Sid": "Tables", "Effect": "Allow", "Action": list(DYNAMODB_ACTIONS), "Resource": table_arns},
        {"Sid": "Logs", "Effect": "Allow", "Action": list(LOG_ACTIONS),
         "Resource": [{"Fn::Sub": log_groups}, {"Fn::Sub": log_groups + ":*"}]},
        {"Sid": "JobsQueue", "Effect": "Allow", "Action": list(QUEUE_ACTIONS),
         "Resource": [{"Fn::GetAtt": [JOBS_QUEUE, "Arn"]}]},
        *media_policy_statements(),
    ]
    if secret_id:
        statements.append({"Sid": "Secret", "Effect": "Allow", "Action": list(SECRET_ACTIONS),
                           "Resource": secret_arn(secret_id)})
    if xray:
        statements.append({"Sid": "Tracing", "Effect": "Allow", "Action": list(XRAY_ACTIONS), "Resource": "*"})
    return {"Version": "2012-10-17", "Statement": statements}


def app_functions() -> dict[str, str]:
    """Chalice function name → the logical id ``chalice package`` gives its function: the API
    handler and one per scheduled (or other event-driven) function of ``app.py``."""
    from chalice.utils import to_cfn_resource_name

    from app import app

    functions = {API_HANDLER: "APIHandler"} if app.routes else {}
    functions.update({source.name: to_cfn_resource_name(source.name) for source in app.event_sources})
    functions.update({f.name: to_cfn_resource_name(f.name) for f in app.pure_lambda_functions})
    return functions


def merge_template(tables: dict[str, dict[str, Any]], queues: dict[str, dict[str, Any]] | None = None,
                   media: dict[str, dict[str, Any]] | None = None, media_base_url: str = "") -> dict[str, Any]:
    """The template ``chalice package --merge-template`` deep-merges over its own: the tables, the
    jobs' queues (and their URL in every function's environment), the product images' bucket and
    distribution (``infra.media``, and the bucket and base URL in every function's environment),
    and the dashboard and alarms over every function, table and queue (``infra.observability``)."""
    from app import app
    from infra.media import BUCKET, DISTRIBUTION, media_env_everywhere
    from infra.observability import Stack, observability_template

    functions = app_functions()
    queues, media = queues or {}, media or {}
    observed = observability_template(Stack(app.app_name, functions, tuple(tables), tuple(queues)))
    outputs: dict[str, Any] = {f"{name}Name": {"Value": {"Ref": name}} for name in tables}
    outputs.update({f"{name}Url": {"Value": {"Ref": name}} for name in queues})
    wired = queue_url_everywhere(functions) if JOBS_QUEUE in queues else {}
    if BUCKET in media:
        wired = deep_merge(wired, media_env_everywhere(functions, media_base_url))
        outputs[f"{BUCKET}Name"] = {"Value": {"Ref": BUCKET}}
        outputs[f"{DISTRIBUTION}Domain"] = {"Value": {"Fn::GetAtt": [DISTRIBUTION, "DomainName"]}}
    return {**observed, "Resources": {**tables, **queues, **media, **wired, **observed["Resources"]},
            "Outputs": {**outputs, **observed["Outputs"]}}


def deep_merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """``b`` over ``a``, dicts merged key by key (as ``chalice package --merge-template`` does)."""
    merged = dict(a)
    for key, value in b.items():
        merged[key] = deep_merge(merged[key], value) if isinstance(value, dict) and isinstance(
            merged.get(key), dict) else value
    return merged


def fix_log_group_refs(template: dict[str, Any]) -> list[str]:
    """Point chalice's log groups at functions that exist. With ``log_retention_in_days`` chalice
    names the API function "ApiHandler" in its log group but "APIHandler" in the template
    (aws/chalice#2079). Returns the log groups fixed; a no-op once chalice gets it right."""
    resources = template.get("Resources", {})
    fixed = []
    for name, resource in resources.items():
        if resource.get("Type") != "AWS::Logs::LogGroup":
            continue
        sub = resource.get("Properties", {}).get("LogGroupName", {})
        target = sub.get("Fn::Sub", "").removeprefix("/aws/lambda/${").removesuffix("}") if isinstance(sub, dict) else ""
        if target and target not in resources:
            actual = next((r for r in resources if r.lower() == target.lower()), None)
            if actual is not None:
                resource["Properties"]["LogGroupName"] = {"Fn::Sub": "/aws/lambda/${" + actual + "}"}
                fixed.append(name)
    return fixed

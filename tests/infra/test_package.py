"""The CloudFormation package: `python -m infra.package --stage prod` builds a template that
cfn-lint passes, with every model's table, the functions, their settings and their permissions."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.models import Model

from chalicelib.config import Settings
from chalicelib.secrets import CREDENTIAL_KEYS
from chalicelib.store.tables import all_models, table_spec
from infra.template import (
    fix_log_group_refs,
    lambda_policy,
    model_env_var,
    table_env_vars,
    table_resource,
    ttl_attribute,
)

ROOT = Path(__file__).resolve().parents[2]
CONFIG = json.loads((ROOT / ".chalice" / "config.json").read_text())
PROD_ENV: dict[str, str] = CONFIG["stages"]["prod"]["environment_variables"]


@pytest.fixture(scope="module")
def template(packaged: tuple[subprocess.CompletedProcess[str], Path]) -> dict[str, Any]:
    done, out = packaged
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads((out / "sam.json").read_text())


def resources_of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def test_prod_package_passes_cfn_lint_without_errors_or_warnings(packaged: Any) -> None:
    done, out = packaged
    assert done.returncode == 0, done.stdout + done.stderr
    assert "cfn-lint cn-north-1: 0 errors, 0 warnings" in done.stdout
    assert (out / "deployment.zip").stat().st_size > 1_000_000  # the dependencies are in it


@pytest.mark.parametrize("model", all_models(), ids=lambda m: m.__name__)
def test_every_model_table_is_there_with_the_models_keys_and_pitr(template: dict[str, Any], model: type[Model]) -> None:
    spec = table_spec(model)
    name = PROD_ENV[model_env_var(model)]
    tables = {r["Properties"]["TableName"]: r for r in resources_of_type(template, "AWS::DynamoDB::Table").values()}
    table = tables[name]
    props = table["Properties"]
    assert props["KeySchema"] == spec["KeySchema"]
    assert sorted(props["AttributeDefinitions"], key=str) == sorted(spec["AttributeDefinitions"], key=str)
    assert props.get("GlobalSecondaryIndexes") == spec.get("GlobalSecondaryIndexes")
    assert props.get("LocalSecondaryIndexes") == spec.get("LocalSecondaryIndexes")
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"] == {"SSEEnabled": True}
    assert table["DeletionPolicy"] == table["UpdateReplacePolicy"] == "Retain"


def test_the_template_has_no_table_the_models_do_not_declare(template: dict[str, Any]) -> None:
    names = {r["Properties"]["TableName"] for r in resources_of_type(template, "AWS::DynamoDB::Table").values()}
    assert names == {PROD_ENV[model_env_var(m)] for m in all_models()}


def test_api_and_scheduled_functions_exist_and_name_the_tables(template: dict[str, Any]) -> None:
    functions = resources_of_type(template, "AWS::Serverless::Function")
    api, tiers = functions["APIHandler"]["Properties"], functions["EvaluateTiers"]["Properties"]
    assert api["Handler"] == "app.app" and api["Timeout"] == 30 and api["MemorySize"] == 1024
    assert tiers["Handler"] == "app.evaluate_tiers" and tiers["Timeout"] == 300
    assert [e["Type"] for e in tiers["Events"].values()] == ["Schedule"]
    tables = resources_of_type(template, "AWS::DynamoDB::Table")
    for props in (api, tiers):
        env = props["Environment"]["Variables"]
        for model in all_models():
            var = model_env_var(model)
            assert env[var] in {t["Properties"]["TableName"] for t in tables.values()}


def test_each_function_has_the_memory_docs_performance_md_derives(template: dict[str, Any]) -> None:
    """The API and the job worker 1,024 MB (within a few percent of the least cost x duration of
    their measured CPU against their DynamoDB wait; the API's cold start is CPU alone), the
    schedules that only plan 512 MB (docs/performance.md "Lambda memory")."""
    memory = {name: f["Properties"]["MemorySize"]
              for name, f in resources_of_type(template, "AWS::Serverless::Function").items()}
    assert memory.pop("APIHandler") == 1024
    assert memory.pop("JobWorker") == 1024
    assert memory and set(memory.values()) == {512}


def test_every_function_runs_on_python_3_13(template: dict[str, Any]) -> None:
    functions = resources_of_type(template, "AWS::Serverless::Function")
    runtimes = {name: f["Properties"].get("Runtime", template.get("Globals", {}).get("Function", {}).get("Runtime"))
                for name, f in functions.items()}
    assert functions
    assert runtimes == dict.fromkeys(functions, "python3.13")


def test_prod_runs_live_and_traced_naming_its_secret(template: dict[str, Any]) -> None:
    for props in (r["Properties"] for r in resources_of_type(template, "AWS::Serverless::Function").values()):
        env = props["Environment"]["Variables"]
        assert env["FENXIAO_MODE"] == "live" and env["FENXIAO_STAGE"] == "prod"
        assert env["FENXIAO_SECRET_ID"] == "fenxiao/prod"
        # traced with OpenTelemetry: the ADOT layer of the region, started by its wrapper (docs/ops.md)
        assert props["Tracing"] == "Active"
        assert props["Layers"] == CONFIG["stages"]["prod"]["layers"]
        assert [arn.split(":")[3] for arn in props["Layers"]] == ["cn-north-1"]
        assert "AWSOpenTelemetryDistroPython" in props["Layers"][0]
        assert env["AWS_LAMBDA_EXEC_WRAPPER"] == "/opt/otel-instrument"


def test_no_function_environment_holds_a_secret_or_a_reference_to_one(template: dict[str, Any]) -> None:
    """Anyone who may read a function's configuration reads its environment, resolved: the keys
    are read from Secrets Manager at run time instead (chalicelib/secrets.py)."""
    functions = resources_of_type(template, "AWS::Serverless::Function")
    assert functions
    for name, function in functions.items():
        env = function["Properties"]["Environment"]["Variables"]
        assert not set(env) & set(CREDENTIAL_KEYS), name
        for var, value in env.items():
            text = json.dumps(value)
            assert "resolve:secretsmanager" not in text and "resolve:ssm-secure" not in text, (name, var)
            assert "PRIVATE KEY" not in text, (name, var)
    globals_env = template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    assert not set(globals_env) & set(CREDENTIAL_KEYS) and "resolve:" not in json.dumps(globals_env)


def test_the_functions_may_read_their_one_secret_and_no_other(template: dict[str, Any]) -> None:
    functions = resources_of_type(template, "AWS::Serverless::Function")
    for function in functions.values():
        role = template["Resources"][function["Properties"]["Role"]["Fn::GetAtt"][0]]
        statements = role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
        reading = [s for s in statements if any(a.startswith("secretsmanager:") for a in s["Action"])]
        assert reading == [{"Sid": "Secret", "Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"],
                            "Resource": {"Fn::Sub": "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:"
                                                    "${AWS::AccountId}:secret:fenxiao/prod-??????"}}]


def test_a_secret_given_by_arn_is_granted_by_that_arn_only() -> None:
    arn = "arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:fenxiao/prod-AbCdEf"
    statements = lambda_policy({}, xray=False, secret_id=arn)["Statement"]
    assert [s["Resource"] for s in statements if s["Sid"] == "Secret"] == [arn]
    assert not [s for s in lambda_policy({}, xray=False)["Statement"] if s["Sid"] == "Secret"]


def test_the_functions_may_use_these_tables_and_their_indexes_and_nothing_else(template: dict[str, Any]) -> None:
    tables = sorted(resources_of_type(template, "AWS::DynamoDB::Table"))
    indexed = [t for t in tables if template["Resources"][t]["Properties"].get("GlobalSecondaryIndexes")]
    expected = [{"Fn::GetAtt": [t, "Arn"]} for t in tables] + [{"Fn::Sub": "${" + t + ".Arn}/index/*"} for t in indexed]
    functions = resources_of_type(template, "AWS::Serverless::Function")
    for function in functions.values():
        role = template["Resources"][function["Properties"]["Role"]["Fn::GetAtt"][0]]
        [policy] = role["Properties"]["Policies"]
        statements = policy["PolicyDocument"]["Statement"]
        dynamodb = [s for s in statements if any(a.startswith("dynamodb:") for a in s["Action"])]
        assert len(dynamodb) == 1
        assert sorted(dynamodb[0]["Resource"], key=str) == sorted(expected, key=str)
        assert "dynamodb:Scan" not in dynamodb[0]["Action"]
        assert any("xray:PutTraceSegments" in s["Action"] for s in statements)


def test_dev_table_names_are_the_settings_defaults() -> None:
    dev = CONFIG["stages"]["dev"]["environment_variables"]
    for field, var in table_env_vars().items():
        assert dev[var] == Settings.model_fields[field].default, var
    assert dev["FENXIAO_MODE"] == "simulator"


def test_dev_and_test_stages_run_without_aws() -> None:
    dev = CONFIG["stages"]["dev"]["environment_variables"]
    assert not [v for v in dev.values() if "{{resolve:" in v]  # chalice local cannot resolve them
    # chalice.test.Client applies the stage's variables: the test stage leaves the tests' own alone
    assert "environment_variables" not in CONFIG["stages"]["test"]
    assert "environment_variables" not in CONFIG


class MetaTTL(Model):
    class Meta:
        table_name = "meta-ttl"
        ttl_attribute = "expires_at"

    pk = UnicodeAttribute(hash_key=True)
    expires_at = NumberAttribute(attr_name="exp", null=True)


class DeclaredTTL(Model):
    class Meta:
        table_name = "declared-ttl"

    pk = UnicodeAttribute(hash_key=True)
    expires = TTLAttribute(null=True)


class NoTTL(Model):
    class Meta:
        table_name = "no-ttl"

    pk = UnicodeAttribute(hash_key=True)


def test_a_model_gets_a_ttl_from_its_meta_or_its_ttl_attribute() -> None:
    assert ttl_attribute(MetaTTL) == "exp"
    assert ttl_attribute(DeclaredTTL) == "expires"
    assert ttl_attribute(NoTTL) is None
    with_ttl = table_resource(table_spec(MetaTTL), "t", ttl_attribute(MetaTTL), protect=False)
    assert with_ttl["Properties"]["TimeToLiveSpecification"] == {"AttributeName": "exp", "Enabled": True}
    assert "TimeToLiveSpecification" not in table_resource(table_spec(NoTTL), "t", None, protect=False)["Properties"]


def test_a_log_group_pointing_at_a_misnamed_function_is_repointed() -> None:
    template: dict[str, Any] = {"Resources": {
        "APIHandler": {"Type": "AWS::Serverless::Function"},
        "ApiHandlerLogGroup": {"Type": "AWS::Logs::LogGroup",
                               "Properties": {"LogGroupName": {"Fn::Sub": "/aws/lambda/${ApiHandler}"}}},
        "Jobs": {"Type": "AWS::Serverless::Function"},
        "JobsLogGroup": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": {"Fn::Sub": "/aws/lambda/${Jobs}"}}},
    }}
    assert fix_log_group_refs(template) == ["ApiHandlerLogGroup"]
    assert template["Resources"]["ApiHandlerLogGroup"]["Properties"]["LogGroupName"] == {
        "Fn::Sub": "/aws/lambda/${APIHandler}"}


def test_packaging_refuses_settings_the_functions_would_refuse_at_start_up() -> None:
    from infra.package import check_settings

    env = {**PROD_ENV}
    check_settings(env)
    with pytest.raises(ValueError, match="tier_downgrade"):
        check_settings({**env, "FENXIAO_RULES": '{"tier_downgrade": "sometimes"}'})
    with pytest.raises(ValueError, match="token_ttl_seconds"):
        check_settings({**env, "TOKEN_TTL_SECONDS": "soon"})


def test_packaging_refuses_a_layer_of_another_region() -> None:
    from infra.package import check_layers

    layers = CONFIG["stages"]["prod"]["layers"]
    check_layers(layers, "cn-north-1")
    with pytest.raises(ValueError, match="layers not in us-east-1"):
        check_layers(layers, "us-east-1")


def test_packaging_refuses_a_stage_whose_environment_would_show_a_key() -> None:
    from infra.package import check_settings

    with pytest.raises(ValueError, match="would show JWT_SECRET"):
        check_settings({**PROD_ENV, "JWT_SECRET": "x" * 48})
    with pytest.raises(ValueError, match="would show WECHAT_APP_ID"):
        check_settings({**PROD_ENV, "WECHAT_APP_ID": "{{resolve:secretsmanager:fenxiao/prod:SecretString:WECHAT_APP_ID}}"})
    without_secret = {k: v for k, v in PROD_ENV.items() if k != "FENXIAO_SECRET_ID"}
    with pytest.raises(ValueError, match="id_hash_key"):  # live, and no keys anywhere
        check_settings(without_secret)


def test_the_jobs_queue_feeds_the_worker_and_every_function_knows_its_url(template: dict[str, Any]) -> None:
    queues = resources_of_type(template, "AWS::SQS::Queue")
    assert set(queues) == {"JobsQueue", "JobsDeadLetters"}
    jobs = queues["JobsQueue"]["Properties"]
    assert jobs["QueueName"] == "fenxiao-prod-jobs"
    assert jobs["RedrivePolicy"] == {"deadLetterTargetArn": {"Fn::GetAtt": ["JobsDeadLetters", "Arn"]},
                                     "maxReceiveCount": 5}
    functions = resources_of_type(template, "AWS::Serverless::Function")
    worker = functions["JobWorker"]["Properties"]
    assert worker["Timeout"] == 60 and jobs["VisibilityTimeout"] == 6 * 60
    [source] = worker["Events"].values()
    assert source["Type"] == "SQS" and source["Properties"]["BatchSize"] == 1
    assert source["Properties"]["Queue"] == {
        "Fn::Sub": "arn:${AWS::Partition}:sqs:${AWS::Region}:${AWS::AccountId}:fenxiao-prod-jobs"}
    for name, function in functions.items():
        assert function["Properties"]["Environment"]["Variables"]["JOBS_QUEUE_URL"] == {"Ref": "JobsQueue"}, name


def test_the_functions_may_use_the_jobs_queue_and_no_other() -> None:
    from infra.template import lambda_policy

    [queue] = [s for s in lambda_policy({}, xray=False)["Statement"] if s["Sid"] == "JobsQueue"]
    assert queue["Resource"] == [{"Fn::GetAtt": ["JobsQueue", "Arn"]}]
    assert set(queue["Action"]) == {"sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage",
                                    "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"}

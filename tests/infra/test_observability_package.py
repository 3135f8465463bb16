"""The packaged prod template (``python -m infra.package``, the same as ``make package``) carries
the dashboard and alarms over exactly the functions chalice packaged and the tables infra/ made."""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from chalicelib.domain.metric_catalog import CATALOGUE

ROOT = Path(__file__).resolve().parents[2]
PSEUDO = {"AWS::Region", "AWS::StackName", "AWS::AccountId", "AWS::Partition", "AWS::URLSuffix"}


@pytest.fixture(scope="module")
def template(packaged: tuple[subprocess.CompletedProcess[str], Path]) -> dict[str, Any]:
    done, out = packaged  # tests/infra/conftest.py: built once for the session
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 errors, 0 warnings" in done.stdout
    return json.loads((out / "sam.json").read_text())


def of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def body(template: dict[str, Any]) -> str:
    [dashboard] = of_type(template, "AWS::CloudWatch::Dashboard").values()
    return dashboard["Properties"]["DashboardBody"]["Fn::Sub"]


def test_the_dashboard_draws_every_packaged_function_and_table(template: dict[str, Any]) -> None:
    text = body(template)
    lines = [row for w in json.loads(text)["widgets"] if w["type"] == "metric" for row in w["properties"]["metrics"]]
    for metric, dimension, kind in (("Errors", "FunctionName", "AWS::Serverless::Function"),
                                    ("Duration", "FunctionName", "AWS::Serverless::Function"),
                                    ("ReadThrottleEvents", "TableName", "AWS::DynamoDB::Table"),
                                    ("TransactionConflict", "TableName", "AWS::DynamoDB::Table")):
        drawn = {row[3] for row in lines if row[1:3] == [metric, dimension]}
        assert drawn == {"${" + name + "}" for name in of_type(template, kind)}, metric
    assert {m.name for m in CATALOGUE if not m.per_product} <= {row[1] for row in lines if isinstance(row[0], str)}


def test_every_substitution_names_a_resource_or_a_pseudo_parameter(template: dict[str, Any]) -> None:
    names = set(re.findall(r"\$\{([^}]+)\}", body(template)))
    for alarm in of_type(template, "AWS::CloudWatch::Alarm").values():
        names |= set(re.findall(r"\$\{([^}]+)\}", json.dumps(alarm)))
    resources = {name.split(".")[0] for name in names}  # ${JobsQueue.QueueName}: an attribute of JobsQueue
    assert resources - PSEUDO <= set(template["Resources"])
    assert {"APIHandler", "SettleCommissions", "UsersTable", "JobsQueue", "JobsDeadLetters"} <= resources


def test_the_alarms_go_to_the_topic_and_the_email_is_optional(template: dict[str, Any]) -> None:
    alarms = of_type(template, "AWS::CloudWatch::Alarm")
    assert len(alarms) >= 10
    assert all(a["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}] for a in alarms.values())
    assert template["Resources"]["AlarmTopic"]["Type"] == "AWS::SNS::Topic"
    subscription = template["Resources"]["AlarmEmailSubscription"]
    assert subscription["Condition"] == "HasAlarmEmail" and subscription["Properties"]["Protocol"] == "email"
    assert template["Parameters"]["AlarmEmail"]["Default"] == ""
    assert {"DashboardName", "AlarmTopicArn"} <= set(template["Outputs"])
    settle = [a for a in alarms.values() if a["Properties"]["Dimensions"][0]["Value"] == {"Fn::Sub": "${SettleCommissions}"}]
    assert [a["Properties"]["MetricName"] for a in settle] == ["Errors"]

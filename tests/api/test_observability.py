"""Every entry point logs JSON with a correlation id and publishes EMF metrics."""
from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest

import app
from chalicelib.observability import logger


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    """What the Powertools logger writes, at INFO."""
    log = logger()
    stream, level = io.StringIO(), log.log_level
    old = log.registered_handler.setStream(stream)
    log.setLevel("INFO")
    yield stream
    log.registered_handler.setStream(old)
    log.setLevel(level)


def _api_gateway_event(path: str, request_id: str) -> dict[str, object]:
    return {
        "resource": path, "path": path, "httpMethod": "GET", "headers": {"accept": "application/json"},
        "multiValueHeaders": {}, "queryStringParameters": None, "multiValueQueryStringParameters": None,
        "pathParameters": None, "stageVariables": None, "body": None, "isBase64Encoded": False,
        "requestContext": {"resourcePath": path, "httpMethod": "GET", "requestId": request_id, "path": path,
                           "identity": {"sourceIp": "127.0.0.1"}},
    }


def _json_lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_a_request_is_logged_with_the_api_gateway_request_id_and_counted_in_emf(deps, capsys, logs):
    response = app.app(_api_gateway_event("/v1/me", "req-42"), None)
    assert response["statusCode"] == 401 and response["headers"]["X-Request-Id"] == "req-42"
    request_log = next(line for line in _json_lines(logs.getvalue()) if line.get("message") == "request")
    assert request_log["correlation_id"] == "req-42" and request_log["status"] == 401
    emf = next(line for line in _json_lines(capsys.readouterr().out) if "_aws" in line)
    assert emf["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Fenxiao" and emf["api_4xx"] == [1.0]


def test_a_scheduled_job_logs_its_summary_and_publishes_a_run_metric(deps, capsys, logs):
    from chalice.app import CloudWatchEvent

    event = CloudWatchEvent({"id": "evt-7", "detail-type": "Scheduled Event", "source": "aws.events",
                             "account": "1", "time": "2026-11-10T16:05:00Z", "region": "cn-north-1",
                             "resources": [], "detail": {}, "version": "0"}, None)
    summary = app.evaluate_tiers.func(event) if hasattr(app.evaluate_tiers, "func") else app.evaluate_tiers(event)
    assert summary["evaluated"] == 0
    assert any(line.get("message") == "job finished" and line.get("correlation_id") == "evt-7"
               for line in _json_lines(logs.getvalue()))
    assert any(line.get("evaluate_tiers_runs") == [1.0] for line in _json_lines(capsys.readouterr().out))


def test_a_bug_answers_500_and_logs_its_traceback_with_the_route(deps, logs, monkeypatch):
    from chalicelib.services import catalog

    def broken(*_: object) -> None:
        raise ZeroDivisionError("a bug")

    from chalicelib.services.sessions import Caller, issue_token

    monkeypatch.setattr(catalog, "list_products", broken)
    event = _api_gateway_event("/v1/products", "req-500")
    token = issue_token(Caller("u-1", "user"), deps.settings, deps.clock())
    event["headers"] = {"accept": "application/json", "authorization": f"Bearer {token}"}
    response = app.app(event, None)
    assert response["statusCode"] == 500
    crash = next(line for line in _json_lines(logs.getvalue()) if line.get("message") == "unhandled error: answered 500")
    assert crash["route"] == "/v1/products"
    assert "ZeroDivisionError: a bug" in str(crash["exception"])
    assert crash["correlation_id"] == "req-500"

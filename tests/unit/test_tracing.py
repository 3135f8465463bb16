"""Tracing is OpenTelemetry, set up by the ADOT Lambda layer (docs/ops.md "Tracing"): an entry
point opens a span through the OpenTelemetry API only where the layer's wrapper runs; elsewhere
nothing of OpenTelemetry is touched (tests/unit/test_cold_start.py checks the imports)."""
from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from typing import Any

import pytest

from chalicelib import observability
from chalicelib.observability import OTEL_WRAPPER, traced, tracer, tracing_enabled


class Recorder:
    """Stands in for ``opentelemetry.trace``: records the spans opened and how they ended."""

    def __init__(self) -> None:
        self.spans: list[tuple[str, Any]] = []
        self.service = ""

    def get_tracer(self, name: str) -> Recorder:
        self.service = name
        return self

    def start_as_current_span(self, name: str) -> Any:
        recorder = self

        class Span:
            def __enter__(self) -> None:
                recorder.spans.append((name, "open"))

            def __exit__(self, kind: Any, exc: Any, tb: Any) -> None:
                recorder.spans[-1] = (name, exc)

        return Span()


@pytest.fixture
def lambda_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "fenxiao-prod-APIHandler")
    monkeypatch.setenv("AWS_LAMBDA_EXEC_WRAPPER", OTEL_WRAPPER)
    monkeypatch.delenv("OTEL_SDK_DISABLED", raising=False)
    tracer.cache_clear()
    yield
    tracer.cache_clear()


@pytest.fixture
def otel(lambda_env: None, monkeypatch: pytest.MonkeyPatch) -> Recorder:
    recorder = Recorder()
    package = types.ModuleType("opentelemetry")
    package.trace = recorder  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "opentelemetry", package)
    monkeypatch.setitem(sys.modules, "opentelemetry.trace", recorder)  # type: ignore[arg-type]
    return recorder


def test_tracing_is_on_only_under_the_adot_wrapper_in_lambda(lambda_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    assert tracing_enabled()
    monkeypatch.setenv("OTEL_SDK_DISABLED", "true")
    assert not tracing_enabled()
    monkeypatch.delenv("OTEL_SDK_DISABLED")
    monkeypatch.setenv("AWS_LAMBDA_EXEC_WRAPPER", "/opt/something-else")
    assert not tracing_enabled()
    monkeypatch.setenv("AWS_LAMBDA_EXEC_WRAPPER", OTEL_WRAPPER)
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME")
    assert not tracing_enabled()  # chalice local, the tests


def test_an_entry_point_runs_in_a_span_of_the_service(otel: Recorder) -> None:
    with traced("## GET /v1/me"):
        assert otel.spans == [("## GET /v1/me", "open")]
    assert otel.spans == [("## GET /v1/me", None)] and otel.service == "fenxiao"


def test_an_exception_reaches_the_span_and_goes_on(otel: Recorder) -> None:
    failure = RuntimeError("boom")
    with pytest.raises(RuntimeError), traced("## job settle_commissions"):
        raise failure
    assert otel.spans == [("## job settle_commissions", failure)]


def test_without_the_layer_the_entry_point_runs_untraced_with_a_warning(
        lambda_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "opentelemetry", None)  # import fails
    warnings: list[str] = []
    monkeypatch.setattr(observability, "logger", lambda: types.SimpleNamespace(warning=warnings.append))
    with traced("## GET /v1/me"):
        pass
    assert tracer() is None and len(warnings) == 1 and "ADOT layer" in warnings[0]

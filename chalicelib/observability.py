"""Powertools Logger (JSON, correlation id) and Metrics (EMF, namespace Fenxiao), built lazily,
and tracing with OpenTelemetry (docs/ops.md "Tracing"): the AWS Distro for OpenTelemetry Lambda
layer sets up the SDK, the function's span and the export to X-Ray; we only open spans through
the OpenTelemetry API, which that layer provides. Where tracing is off nothing of OpenTelemetry
(or of the X-Ray SDK) is imported: no cost at cold start."""
from __future__ import annotations

import os
import sys
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger, Metrics

SERVICE = "fenxiao"
NAMESPACE = "Fenxiao"


class _CurrentStdout:
    """Writes to whatever ``sys.stdout`` is now (the logger outlives test captures)."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


@lru_cache(maxsize=1)
def logger() -> Logger:
    from aws_lambda_powertools import Logger

    return Logger(service=SERVICE, stream=_CurrentStdout())  # type: ignore[arg-type]


@lru_cache(maxsize=1)
def metrics() -> Metrics:
    from aws_lambda_powertools import Metrics

    return Metrics(namespace=NAMESPACE, service=SERVICE)


OTEL_WRAPPER = "/opt/otel-instrument"  # the ADOT layer's start-up wrapper (AWS_LAMBDA_EXEC_WRAPPER)


def tracing_enabled() -> bool:
    """On in a Lambda function started by the ADOT layer's wrapper, unless OTEL_SDK_DISABLED."""
    env = os.environ
    return ("AWS_LAMBDA_FUNCTION_NAME" in env and env.get("AWS_LAMBDA_EXEC_WRAPPER") == OTEL_WRAPPER
            and env.get("OTEL_SDK_DISABLED", "").strip().lower() != "true")


@lru_cache(maxsize=1)
def tracer() -> Any:
    """The OpenTelemetry tracer of the service, or None where tracing is off."""
    if not tracing_enabled():
        return None
    try:
        from opentelemetry import trace
    except ImportError:  # the wrapper is configured but the layer is not attached
        logger().warning("tracing is configured but OpenTelemetry is missing: is the ADOT layer attached?")
        return None
    return trace.get_tracer(SERVICE)


def flush_metrics() -> None:
    """Publish the metrics of this invocation (EMF lines on stdout); nothing when none were added."""
    m = metrics()
    if m.metric_set:
        m.flush_metrics()


class traced:
    """A span around an entry point (child of the function's span), when tracing is on; an
    exception is recorded on it and marks it as an error."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._span: Any = None

    def __enter__(self) -> traced:
        t = tracer()
        if t is not None:
            self._span = t.start_as_current_span(self._name)
            self._span.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._span is not None:
            self._span.__exit__(*exc)

"""Powertools Logger (JSON, correlation id), Metrics (EMF, namespace Fenxiao) and Tracer, built
lazily: the Tracer alone costs about a second of cold start, so it exists only where tracing is on."""
from __future__ import annotations

import os
import sys
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger, Metrics, Tracer

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


def tracing_enabled() -> bool:
    return os.environ.get("POWERTOOLS_TRACE_DISABLED", "").lower() not in ("1", "true") \
        and "AWS_LAMBDA_FUNCTION_NAME" in os.environ


@lru_cache(maxsize=1)
def tracer() -> Tracer | None:
    if not tracing_enabled():
        return None
    from aws_lambda_powertools import Tracer

    return Tracer(service=SERVICE)


def flush_metrics() -> None:
    """Publish the metrics of this invocation (EMF lines on stdout); nothing when none were added."""
    m = metrics()
    if m.metric_set:
        m.flush_metrics()


class traced:
    """A tracer subsegment around an entry point, when tracing is on."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._segment: Any = None

    def __enter__(self) -> traced:
        t = tracer()
        if t is not None:
            self._segment = t.provider.in_subsegment(self._name)
            self._segment.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._segment is not None:
            self._segment.__exit__(*exc)

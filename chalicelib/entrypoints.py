"""What every entry point does around its work: correlation id, logs, metrics, tracing."""
from __future__ import annotations

import uuid
from typing import Any

from chalicelib.observability import flush_metrics, logger, metrics, traced


def observe_request(request: Any, get_response: Any) -> Any:
    """Middleware body for HTTP: correlation id from API Gateway's request id, a latency-free
    request metric by status class, and metrics flushed at the end."""
    context = getattr(request, "context", None) or {}
    request_id = context.get("requestId") or uuid.uuid4().hex  # chalice local has none
    log = logger()
    log.set_correlation_id(request_id)
    route = context.get("resourcePath", request.path if hasattr(request, "path") else "?")
    with traced(f"## {request.method} {route}"):
        response = get_response(request)
    status_class = f"{response.status_code // 100}xx"
    metrics().add_metric(name=f"api_{status_class}", unit="Count", value=1)
    level = log.error if response.status_code >= 500 else log.info
    level("request", extra={"method": request.method, "route": route, "status": response.status_code})
    flush_metrics()
    response.headers["X-Request-Id"] = request_id
    return response


def run_scheduled(job: str, event: Any) -> dict[str, Any]:
    """A schedule fired: with a jobs queue configured, plan the run and send its parts to the
    queue's workers (``run_job_slice``); without one, run the whole job here (``make dev``)."""
    from chalicelib.bootstrap import default_deps
    from chalicelib.domain.clock import system_clock
    from chalicelib.jobs import plan_job, run_job

    log = logger()
    raw: dict[str, Any] = event.to_dict() if hasattr(event, "to_dict") else {}
    log.set_correlation_id(raw.get("id"))
    deps = default_deps()
    try:
        with traced(f"## job {job}"):
            if deps.settings.jobs_queue_url:
                from chalicelib.jobs.sqs import SqsQueue

                return plan_job(job, system_clock(), deps, SqsQueue(deps.settings.jobs_queue_url))
            return run_job(job, system_clock(), deps)
    finally:
        flush_metrics()


def run_job_slice(event: Any) -> list[dict[str, Any]]:
    """The jobs' queue delivered messages (one per invocation, ``batch_size=1``): run each slice
    within the invocation's remaining time, sending its continuation to the same queue. An error
    fails the invocation, so SQS delivers the message again (then to the dead-letter queue)."""
    from chalicelib.bootstrap import default_deps
    from chalicelib.jobs import work_message
    from chalicelib.jobs.engine import Deadline
    from chalicelib.jobs.sqs import SqsQueue

    deps = default_deps()
    queue = SqsQueue(deps.settings.jobs_queue_url)
    deadline = Deadline.of_lambda(event.context, deps.settings.job_margin_seconds)
    done = []
    try:
        for record in event:
            logger().set_correlation_id(record.to_dict().get("messageId"))
            with traced("## job slice"):
                done.append(work_message(record.body, deps, deadline, queue))
    finally:
        flush_metrics()
    return done

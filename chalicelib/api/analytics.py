"""The analytics area: behaviour events in, daily metrics out (docs/metrics.md)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib.api.experiments import experiment_rows
from chalicelib.api.http import Call, endpoint
from chalicelib.lazy import lazy

M = "chalicelib.api.analytics_schemas"
if TYPE_CHECKING:
    from chalicelib.api import analytics_schemas as s
    from chalicelib.domain import activity
    from chalicelib.domain import metrics as metric_rules
    from chalicelib.services import events, metrics, repurchase
else:
    s, activity, metric_rules = lazy(M), lazy("chalicelib.domain.activity"), lazy("chalicelib.domain.metrics")
    events, metrics = lazy("chalicelib.services.events"), lazy("chalicelib.services.metrics")
    repurchase = lazy("chalicelib.services.repurchase")

bp = Blueprint(__name__)


@endpoint(bp, "/v1/events", "POST", tag="analytics", models=M, status=202, body="EventsBody", response="EventsAnswer",
          summary="Record up to 100 page views, product views and shares of the caller (a batch sent again counts once)",
          errors=("VALIDATION_FAILED", "EVENT_TIME_OUT_OF_RANGE", "MALFORMED_JSON", "BODY_TOO_LARGE"))
def record_events(call: Call) -> s.EventsAnswer:
    batch = [activity.Event(activity.EventType(e.type), e.session_id, e.ts, e.page, e.product_id) for e in call.body.events]
    done = events.record_events(call.user_id, batch, call.deps)
    return s.EventsAnswer(accepted=done.accepted, duplicates=done.duplicates)


@endpoint(bp, "/v1/admin/metrics", auth="admin", tag="analytics", models=M, query="MetricsQuery",
          response="MetricsAnswer", errors=("VALIDATION_FAILED", "INVALID_DATE", "INVALID_DATE_RANGE"),
          summary="The daily metrics of each Asia/Shanghai day from `from` to `to` (at most 366 days)")
def daily_metrics(call: Call) -> s.MetricsAnswer:
    first, last = metric_rules.date_range(call.query.from_, call.query.to)
    return s.MetricsAnswer(days=metrics.metrics_rows(first, last, call.deps), experiments=experiment_rows(call),
                           repurchase_cycles=repurchase.cycles_as_of(last, call.deps))

"""POST /v1/events and GET /v1/admin/metrics through the app: strict validation, replays counted
once, admin only, date ranges checked, the job on demand."""
from __future__ import annotations

from datetime import date

import pytest

from chalicelib.domain.metric_catalog import DAY_METRICS

NOW = "2026-11-10T04:00:00Z"  # the conftest clock: 12:00 in Shanghai
TODAY = date(2026, 11, 10)


def event(kind: str = "page_view", ts: str = "2026-11-10T03:59:00Z", **more: str) -> dict[str, str]:
    body = {"type": kind, "session_id": "s-1", "ts": ts}
    if kind == "page_view":
        body["page"] = "/pages/index/index"
    if kind == "product_view":
        body["product_id"] = "p1"
    return {**body, **more}


def test_events_are_accepted_with_202_and_a_replayed_batch_counts_nothing_twice(api, deps):
    token, _ = api.login("visitor")
    batch = {"events": [event(), event(ts="2026-11-10T03:59:30Z", page="/pages/product/product"),
                        event("product_view"), event("share", product_id="p1")]}
    assert api.call("POST", "/v1/events", batch, token) == (202, {"accepted": 4, "duplicates": 0})
    assert api.call("POST", "/v1/events", batch, token) == (202, {"accepted": 0, "duplicates": 4})
    c = deps.analytics.day_counts([TODAY])[TODAY]
    assert (c["visitors"], c["page_views"], c["product_views"], c["shares"], c["sessions"], c["bounced"]) == \
        (1, 2, 1, 1, 1, 0)


@pytest.mark.parametrize("bad", [
    {"events": []},
    {"events": [event()] * 101},
    {"events": [event(kind="click")]},
    {"events": [{**event(), "page": None}]},
    {"events": [event("product_view", product_id="bad id with spaces")]},
    {"events": [{**event(), "ts": "2026-11-10T03:59:00"}]},  # no zone
    {"events": [{**event(), "extra": 1}]},
    {"events": [{**event(), "session_id": ""}]},
    {"evts": []},
])
def test_malformed_batches_are_422_and_count_nothing(api, deps, bad):
    token, _ = api.login("visitor")
    status, body = api.call("POST", "/v1/events", bad, token)
    assert status == 422 and body["error"]["code"] == "VALIDATION_FAILED"
    c = deps.analytics.day_counts([TODAY])[TODAY]
    assert (c["page_views"], c["product_views"], c["shares"], c["sessions"]) == (0, 0, 0, 0)
    assert c["visitors"] == 1  # the login's, not the batch's


@pytest.mark.parametrize("ts", ["2026-11-09T03:00:00Z", "2026-11-10T04:06:00Z"])
def test_events_older_than_a_day_or_from_the_future_are_refused_whole(api, deps, ts):
    token, _ = api.login("visitor")
    status, body = api.call("POST", "/v1/events", {"events": [event(), event(ts=ts)]}, token)
    assert status == 422 and body["error"]["code"] == "EVENT_TIME_OUT_OF_RANGE"
    assert deps.analytics.day_counts([TODAY])[TODAY]["page_views"] == 0


def test_events_need_a_user_token(api):
    status, body = api.call("POST", "/v1/events", {"events": [event()]})
    assert status == 401 and body["error"]["code"] == "UNAUTHENTICATED"


def test_admin_metrics_return_the_computed_rows_with_the_api_md_fields(api):
    admin, _ = api.login("admin")
    token, _ = api.login("visitor")
    api.call("POST", "/v1/events", {"events": [event()]}, token)
    status, ran = api.call("POST", "/v1/dev/jobs/compute_metrics", {"now": "2026-11-11T01:00:00Z"})
    assert status == 200 and ran["date"] == "2026-11-10"
    status, body = api.call("GET", "/v1/admin/metrics?from=2026-11-01&to=2026-11-10", token=admin)
    # the stored row of the 10th; the 9th (yesterday to the clock) has no row yet: computed live
    assert status == 200 and [d["date"] for d in body["days"]] == ["2026-11-09", "2026-11-10"]
    row = body["days"][1]
    # both logged in: 2 visitors (DOMAIN.md §9), 1 session
    assert set(DAY_METRICS) <= set(row) and row["visitors"] == 2 and row["bounce_rate_bp"] == 10_000


@pytest.mark.parametrize(("query", "code"), [
    ("from=2026-11-10&to=2026-11-01", "INVALID_DATE_RANGE"),
    ("from=2025-11-09&to=2026-11-10", "INVALID_DATE_RANGE"),  # 367 days
    ("from=2026-02-30&to=2026-03-01", "INVALID_DATE"),
    ("from=20261101&to=2026-11-10", "VALIDATION_FAILED"),
    ("to=2026-11-10", "VALIDATION_FAILED"),
    ("from=2026-11-01&to=2026-11-10&x=1", "VALIDATION_FAILED"),
])
def test_bad_date_ranges_are_422_with_a_stable_code(api, query, code):
    admin, _ = api.login("admin")
    status, body = api.call("GET", f"/v1/admin/metrics?{query}", token=admin)
    assert status == 422 and body["error"]["code"] == code


def test_a_full_year_is_accepted_and_only_admins_see_metrics(api):
    admin, _ = api.login("admin")
    user, _ = api.login("visitor")
    assert api.call("GET", "/v1/admin/metrics?from=2025-11-10&to=2026-11-10", token=admin)[0] == 200
    assert api.call("GET", "/v1/admin/metrics?from=2026-11-01&to=2026-11-10", token=user)[0] == 403

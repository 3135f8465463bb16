"""Visitors (DOMAIN.md §9) through the app: a login or any authenticated request makes a visitor of
the day, once per user and Shanghai day, without a write on every request, and a failure to count
never fails the request."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from chalicelib.store.analytics import AnalyticsStore

TODAY = date(2026, 11, 10)  # the conftest clock: 2026-11-10 12:00 Shanghai


def visitors(deps, day: date = TODAY) -> int:
    return deps.analytics.day_counts([day])[day]["visitors"]


@pytest.fixture
def writes(monkeypatch) -> list[object]:
    """Every analytics write, counted (and still made)."""
    made: list[object] = []
    real = AnalyticsStore.write

    def counted(self, write):
        made.append(write)
        return real(self, write)

    monkeypatch.setattr(AnalyticsStore, "write", counted)
    return made


def test_a_login_makes_a_visitor_and_later_requests_of_the_day_write_nothing(api, deps, writes):
    token, _ = api.login("visitor")
    assert visitors(deps) == 1
    before = len(writes)
    for _ in range(5):
        assert api.call("GET", "/v1/me", token=token)[0] == 200
    assert len(writes) == before  # the process remembers the mark: no write per request
    assert visitors(deps) == 1


def test_an_authenticated_request_on_a_new_day_makes_a_visitor_of_that_day_without_a_login(api, deps, clock):
    token, _ = api.login("visitor")
    clock.at = clock() + timedelta(days=1)
    assert api.call("GET", "/v1/me", token=token)[0] == 200
    assert api.call("GET", "/v1/me", token=token)[0] == 200
    assert (visitors(deps), visitors(deps, TODAY + timedelta(days=1))) == (1, 1)


def test_a_mark_made_by_another_process_counts_nothing_twice(api, deps):
    from chalicelib.services import visits

    token, user_id = api.login("visitor")
    visits.forget_all()  # a cold process: it does not know the mark exists
    assert api.call("GET", "/v1/me", token=token)[0] == 200
    assert visitors(deps) == 1
    assert visits.remembers(deps, user_id, deps.clock())  # and now it knows


def test_events_after_the_login_do_not_count_the_visitor_again(api, deps):
    token, _ = api.login("visitor")
    batch = {"events": [{"type": "page_view", "session_id": "s-1", "page": "/pages/index/index",
                         "ts": "2026-11-10T03:59:00Z"}]}
    assert api.call("POST", "/v1/events", batch, token)[0] == 202
    assert visitors(deps) == 1


def test_a_failing_count_never_fails_the_request_and_the_next_request_counts(api, deps, monkeypatch):
    real = AnalyticsStore.write

    def broken(self, write):
        raise RuntimeError("DynamoDB is down")

    monkeypatch.setattr(AnalyticsStore, "write", broken)
    token, _ = api.login("visitor")
    assert api.call("GET", "/v1/me", token=token)[0] == 200
    assert visitors(deps) == 0
    monkeypatch.setattr(AnalyticsStore, "write", real)
    assert api.call("GET", "/v1/me", token=token)[0] == 200
    assert visitors(deps) == 1


def test_a_refused_token_makes_no_visitor(api, deps):
    assert api.call("GET", "/v1/me", token="not-a-token")[0] == 401
    assert visitors(deps) == 0

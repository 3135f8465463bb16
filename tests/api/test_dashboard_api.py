"""``GET /v1/admin/dashboard``: the HTML data board for an admin; the short-lived link that opens it
in the mini-program's web-view; bad ``days`` are refused with a 4xx; the OpenAPI document says
``text/html``."""
from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from chalicelib.services import dashboard
from tests.browser.sample_rows import sample_rows


@pytest.fixture
def rows(monkeypatch: pytest.MonkeyPatch) -> list[tuple[date, date]]:
    """The board reads these rows instead of the metrics store; the periods asked are recorded."""
    asked: list[tuple[date, date]] = []

    def fake(from_day: date, to_day: date, deps: Any) -> list[dict[str, Any]]:
        asked.append((from_day, to_day))
        return sample_rows(from_day, to_day)

    monkeypatch.setattr(dashboard, "daily_rows", fake)
    return asked


def get(api: Any, path: str, token: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return api.client.http.get(path, headers=headers)


def test_an_admin_gets_the_board_of_the_last_30_shanghai_days_as_html(api, rows, clock) -> None:
    token, _ = api.login("admin")
    response = get(api, "/v1/admin/dashboard", token)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none';")
    assert response.headers["Cache-Control"] == "no-store" and response.headers["Referrer-Policy"] == "no-referrer"
    page = response.body.decode()
    assert page.startswith("<!doctype html>") and "2026-10-12 – 2026-11-10 · updated 2026-11-10 12:00" in page
    assert rows == [(date(2026, 10, 12), date(2026, 11, 10))]  # the clock says 2026-11-10 12:00 in Shanghai
    assert 'id="top-products"' in page and "补水面膜" in page


@pytest.mark.parametrize("days", ["7", "90"])
def test_days_picks_the_period(api, rows, days) -> None:
    token, _ = api.login("admin")
    assert get(api, f"/v1/admin/dashboard?days={days}", token).status_code == 200
    assert (rows[0][1] - rows[0][0]).days + 1 == int(days)


@pytest.mark.parametrize("days", ["6", "91", "0", "-30", "thirty", "7.5", ""])
def test_days_out_of_7_to_90_is_refused_and_reads_nothing(api, rows, days) -> None:
    token, _ = api.login("admin")
    status, body = api.call("GET", f"/v1/admin/dashboard?days={days}", token=token)
    assert status == 422 and body["error"]["code"] == "VALIDATION_FAILED"
    assert rows == []


def test_the_board_needs_an_admin(api, rows) -> None:
    status, body = api.call("GET", "/v1/admin/dashboard")
    assert status == 401 and body["error"]["code"] == "UNAUTHENTICATED"
    token, _ = api.login("alice")
    status, body = api.call("GET", "/v1/admin/dashboard", token=token)
    assert status == 403 and body["error"]["code"] == "FORBIDDEN"
    status, body = api.call("POST", "/v1/admin/dashboard/links", {}, token)
    assert status == 403 and body["error"]["code"] == "FORBIDDEN"
    assert rows == []


def test_a_link_opens_the_board_without_a_header_until_it_expires(api, rows, clock) -> None:
    token, _ = api.login("admin")
    status, link = api.call("POST", "/v1/admin/dashboard/links", {"days": 14}, token)
    assert status == 201 and link["expires_at"] == "2026-11-10T04:05:00Z"
    assert urlsplit(link["url"]).path == "/v1/dashboard" and parse_qs(urlsplit(link["url"]).query)["days"] == ["14"]
    response = get(api, link["url"])
    assert response.status_code == 200 and "2026-10-28 – 2026-11-10" in response.body.decode()
    assert "Content-Security-Policy" in response.headers

    clock.advance(minutes=5)
    status, body = api.call("GET", link["url"])
    assert status == 401 and body["error"]["code"] == "UNAUTHENTICATED" and "expired" in body["error"]["message"]


def test_a_session_token_is_no_ticket_and_a_ticket_is_no_session_token(api, rows) -> None:
    token, _ = api.login("admin")
    status, body = api.call("GET", f"/v1/dashboard?ticket={token}")
    assert status == 401 and body["error"]["code"] == "UNAUTHENTICATED"
    ticket = parse_qs(urlsplit(api.call("POST", "/v1/admin/dashboard/links", {}, token)[1]["url"]).query)["ticket"][0]
    status, body = api.call("GET", "/v1/admin/dashboard", token=ticket)
    assert status == 401 and body["error"]["code"] == "UNAUTHENTICATED"
    status, body = api.call("GET", "/v1/me", token=ticket)
    assert status == 401
    assert api.call("GET", "/v1/dashboard?ticket=forged")[0] == 401
    assert api.call("GET", "/v1/dashboard")[0] == 422  # no ticket at all
    assert len(rows) == 0


def test_the_openapi_document_says_the_board_is_html(api) -> None:
    doc = api.call("GET", "/v1/openapi.json")[1]
    for path in ("/v1/admin/dashboard", "/v1/dashboard"):
        answer = doc["paths"][path]["get"]["responses"]["200"]
        assert answer["content"] == {"text/html": {"schema": {"type": "string"}}}
    params = {p["name"]: p for p in doc["paths"]["/v1/admin/dashboard"]["get"]["parameters"]}
    assert params["days"]["schema"]["minimum"] == 7 and params["days"]["schema"]["maximum"] == 90
    assert doc["paths"]["/v1/dashboard"]["get"]["security"] == []
    link = doc["paths"]["/v1/admin/dashboard/links"]["post"]["responses"]["201"]["content"]["application/json"]
    assert link["schema"]["$ref"].endswith("/DashboardLinkAnswer")

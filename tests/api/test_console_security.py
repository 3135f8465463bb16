"""The console's security over HTTP: no session → the sign-in page; a POST without the session's
CSRF token → 403 with nothing changed; an expired session → the sign-in page; sign-out ends the
session on the server; the development sign-in refuses a user who is not an admin; the
mini-program's confirmation refuses an unknown, expired or used code, changing nothing."""
from __future__ import annotations

from typing import Any

import pytest

from chalicelib.config import Mode
from tests.api.console_client import ConsoleClient, csrf, text
from tests.api.test_authorization import snapshot

PAGES = ["/console/orders", "/console/board", "/console/orders?status=paid"]


@pytest.fixture
def browser(client: Any) -> ConsoleClient:
    return ConsoleClient(client)


def _console_routes() -> list[tuple[str, str]]:
    import app

    return [(path, method) for path, methods in app.app.routes.items() for method in methods
            if path.startswith("/console")]


PUBLIC = {"/console", "/console/login", "/console/login/wait", "/console/login/dev", "/console/static/{name}"}


def test_every_console_page_without_a_session_sends_the_browser_to_sign_in(browser: ConsoleClient) -> None:
    guarded = [(p, m) for p, m in _console_routes() if p not in PUBLIC]
    assert guarded, "no guarded console route"
    for path, method in guarded:
        concrete = path.replace("{", "").replace("}", "")
        response = browser.get(concrete) if method == "GET" else browser.post(concrete, {"csrf_token": "x"})
        assert response.status_code == 303, (method, path, response.status_code)
        assert response.headers["Location"].startswith("/console/login"), (method, path)


def test_an_htmx_request_without_a_session_is_told_to_go_to_sign_in(browser: ConsoleClient) -> None:
    response = browser.get("/console/orders", headers={"HX-Request": "true"})
    assert response.headers["HX-Redirect"] == "/console/login"


def test_a_page_opens_with_a_session_and_carries_the_security_headers(browser: ConsoleClient) -> None:
    browser.sign_in()
    response = browser.get("/console/orders")
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self';" in csp and "'unsafe-inline'" not in csp and "frame-ancestors 'none'" in csp
    assert response.headers["Cache-Control"] == "no-store" and response.headers["X-Frame-Options"] == "DENY"
    assert "<script>" not in text(response) and " style=" not in text(response)  # nothing inline


@pytest.mark.parametrize("token", [None, "", "forged-token"])
def test_a_post_without_the_sessions_csrf_token_is_403_and_changes_nothing(browser: ConsoleClient,
                                                                           token: str | None) -> None:
    browser.sign_in()
    before = snapshot()
    fields = {} if token is None else {"csrf_token": token}
    response = browser.post("/console/logout", fields)
    assert response.status_code == 403 and "CSRF" in text(response)
    assert snapshot() == before
    assert browser.get("/console/orders").status_code == 200  # still signed in


def test_a_post_with_the_token_in_the_htmx_header_passes(browser: ConsoleClient) -> None:
    browser.sign_in()
    token = browser.csrf()
    response = browser.post("/console/logout", {}, headers={"X-CSRF-Token": token, "HX-Request": "true"})
    assert response.headers["HX-Redirect"] == "/console/login"


def test_a_cross_site_post_is_refused_even_with_the_token(browser: ConsoleClient) -> None:
    browser.sign_in()
    token = browser.csrf()
    response = browser.post("/console/logout", {"csrf_token": token}, headers={"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 403
    assert browser.get("/console/orders").status_code == 200


def test_the_sign_in_form_needs_the_login_cookies_token(browser: ConsoleClient) -> None:
    browser.get("/console/login")
    before = snapshot()
    response = browser.post("/console/login/dev", {"name": "admin", "csrf_token": "guess"})
    assert response.status_code == 403 and snapshot() == before
    assert "__Host-fx_console" not in browser.jar


def test_an_expired_session_sends_the_browser_to_sign_in(browser: ConsoleClient, clock: Any) -> None:
    browser.sign_in()
    assert browser.get("/console/orders").status_code == 200
    clock.advance(minutes=30)
    response = browser.get("/console/orders")
    assert response.status_code == 303 and response.headers["Location"] == "/console/login?next=/console/orders"


def test_sign_out_ends_the_session_on_the_server(browser: ConsoleClient) -> None:
    browser.sign_in()
    cookie = browser.jar["__Host-fx_console"]
    response = browser.post("/console/logout", {"csrf_token": browser.csrf()})
    assert response.status_code == 303 and "__Host-fx_console" not in browser.jar
    browser.jar["__Host-fx_console"] = cookie  # a copy of the old cookie opens nothing
    assert browser.get("/console/orders").status_code == 303


def test_the_development_sign_in_refuses_a_user_who_is_not_an_admin(browser: ConsoleClient) -> None:
    page = browser.get("/console/login")
    before = snapshot()
    response = browser.post("/console/login/dev", {"csrf_token": csrf(page), "name": "mallory"})
    assert response.status_code == 403
    assert "__Host-fx_console" not in browser.jar
    assert snapshot() == before


def test_the_development_sign_in_does_not_exist_outside_simulator_mode(browser: ConsoleClient, deps: Any) -> None:
    page = browser.get("/console/login")
    deps.settings = deps.settings.model_copy(update={"mode": Mode.LIVE, "wechat_app_secret": "s"})
    response = browser.post("/console/login/dev", {"csrf_token": csrf(page), "name": "admin"})
    assert response.status_code == 404


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/v1/me", "/console\\..\\x"])
def test_sign_in_never_sends_the_browser_off_the_console(browser: ConsoleClient, target: str) -> None:
    page = browser.get("/console/login")
    response = browser.post("/console/login/dev", {"csrf_token": csrf(page), "name": "admin", "next": target})
    assert response.headers["Location"] == "/console/orders"


@pytest.mark.parametrize("name", ["../console.py", "..%2Frender.py", "nothing.css", "templates"])
def test_only_the_consoles_own_assets_are_served(browser: ConsoleClient, name: str) -> None:
    assert browser.get(f"/console/static/{name}").status_code in (403, 404)  # 403: no route matches at all


def test_the_assets_are_served_with_their_types(browser: ConsoleClient) -> None:
    css = browser.get("/console/static/console.css")
    js = browser.get("/console/static/htmx.min.js")
    assert css.headers["Content-Type"].startswith("text/css") and js.headers["Content-Type"].startswith("text/javascript")
    assert "immutable" in css.headers["Cache-Control"]


def test_the_waiting_page_stops_polling_once_the_code_expired(browser: ConsoleClient, clock: Any) -> None:
    page = browser.get("/console/login")
    scene = text(page).split('data-scene="', 1)[1].split('"', 1)[0]
    assert browser.get(f"/console/login/wait?scene={scene}").status_code == 200
    clock.advance(minutes=2)
    response = browser.get(f"/console/login/wait?scene={scene}")
    assert response.status_code == 286 and "已过期" in text(response)  # 286: htmx stops polling


# The mini-program's confirmation (POST /v1/console/logins/{scene}/confirm) -------------------

def _scene(browser: ConsoleClient) -> str:
    return text(browser.get("/console/login")).split('data-scene="', 1)[1].split('"', 1)[0]


def test_the_confirmation_of_an_unknown_code_is_404(api: Any) -> None:
    admin, _ = api.login("admin")
    before = snapshot()
    status, body = api.call("POST", "/v1/console/logins/cl.AAAAAAAAAAAAAAAAAAAAAA/confirm", token=admin)
    assert (status, body["error"]["code"]) == (404, "LOGIN_SCENE_NOT_FOUND") and snapshot() == before


def test_the_confirmation_of_an_expired_code_is_409_and_changes_nothing(api: Any, browser: ConsoleClient,
                                                                        clock: Any) -> None:
    admin, _ = api.login("admin")
    scene = _scene(browser)
    clock.advance(seconds=121)
    before = snapshot()
    status, body = api.call("POST", f"/v1/console/logins/{scene}/confirm", token=admin)
    assert (status, body["error"]["code"]) == (409, "LOGIN_SCENE_EXPIRED") and snapshot() == before


def test_the_confirmation_of_a_used_code_is_409_and_changes_nothing(api: Any, browser: ConsoleClient) -> None:
    admin, _ = api.login("admin")
    scene = _scene(browser)
    assert api.call("POST", f"/v1/console/logins/{scene}/confirm", token=admin) == (200, {"status": "confirmed"})
    # the mini-program's retry before the browser used it: the same answer
    assert api.call("POST", f"/v1/console/logins/{scene}/confirm", token=admin) == (200, {"status": "confirmed"})
    assert browser.get(f"/console/login/wait?scene={scene}").status_code == 303  # signed in
    assert "__Host-fx_console" in browser.jar
    before = snapshot()
    status, body = api.call("POST", f"/v1/console/logins/{scene}/confirm", token=admin)
    assert (status, body["error"]["code"]) == (409, "LOGIN_SCENE_USED") and snapshot() == before

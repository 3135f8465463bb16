"""The console's frame: sign-in (scan, development), sign-out, static assets, the home page and
the data board's link; and the one JSON route, the mini-program's confirmation of a scan
(API.md "Operator": ``POST /v1/console/logins/{scene}/confirm``). docs/console.md."""
from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlencode

from chalice import Blueprint, Response

from chalicelib.api.console_http import LOGIN_COOKIE, SESSION_COOKIE, PageCall, cookie_header, login_csrf, page
from chalicelib.api.http import Call, endpoint
from chalicelib.domain.errors import DomainError, NotFound
from chalicelib.lazy import lazy

M = "chalicelib.api.console_schemas"
if TYPE_CHECKING:
    from chalicelib.api import console_schemas as s
    from chalicelib.services import console, dashboard
    from chalicelib.web.console import render
else:
    s, console = lazy(M), lazy("chalicelib.services.console")
    dashboard, render = lazy("chalicelib.services.dashboard"), lazy("chalicelib.web.console.render")

bp = Blueprint(__name__)
HOME = "/console/orders"
LOGIN_SECONDS = 120


def _next(value: str) -> str:
    """Where to go after sign-in: a console path of ours, never another site."""
    return value if value.startswith("/console/") and not value.startswith("//") and "\\" not in value else HOME


@page(bp, "/console", auth=False)
def home(call: PageCall) -> Response:
    return call.redirect(HOME)


@page(bp, "/console/login", auth=False)
def sign_in_page(call: PageCall) -> Response:
    next_path = _next(call.query.get("next", ""))
    if console.current_session(call.cookies.get(SESSION_COOKIE), call.deps) is not None:
        return call.redirect(next_path)
    started = console.start_sign_in(call.deps)
    call.set_cookies.append(cookie_header(LOGIN_COOKIE, started.browser_secret, LOGIN_SECONDS))
    call.cookies[LOGIN_COOKIE] = started.browser_secret
    try:
        code_url, error = console.code_image(started.scene, call.deps), None
    except DomainError as exc:  # WeChat cannot draw it now: the page says so, the dev sign-in stays
        code_url, error = "", exc
    return call.render("login.html", code_url=code_url, error=error, scene=started.scene,
                       expires_at=started.expires_at, next=next_path, login_csrf=login_csrf(call))


@page(bp, "/console/login/wait", auth=False)
def sign_in_wait(call: PageCall) -> Response:
    """Polled by the sign-in page (htmx, every 2 s): answers 286 (htmx stops polling) once the
    code is expired or refused, and signs the browser in once it was confirmed."""
    next_path = _next(call.query.get("next", ""))
    result = console.poll_sign_in(call.query.get("scene", ""), call.cookies.get(LOGIN_COOKIE, ""), call.deps)
    if result.opened is not None:
        call.set_cookies += [cookie_header(SESSION_COOKIE, result.opened.cookie, None),
                             cookie_header(LOGIN_COOKIE, "", 0)]
        return call.redirect(next_path)
    return call.render("login_wait.html", 200 if result.status == "waiting" else 286, status=result.status,
                       next=next_path)


@page(bp, "/console/login/dev", ("POST",), auth=False)
def dev_sign_in(call: PageCall) -> Response:
    opened = console.dev_sign_in(call.form.get("name"), call.deps)
    call.set_cookies += [cookie_header(SESSION_COOKIE, opened.cookie, None), cookie_header(LOGIN_COOKIE, "", 0)]
    return call.redirect(_next(call.form.get("next")))


@page(bp, "/console/logout", ("POST",))
def sign_out(call: PageCall) -> Response:
    if call.session is not None:
        console.sign_out(call.session, call.deps)
    call.set_cookies.append(cookie_header(SESSION_COOKIE, "", 0))
    return call.redirect("/console/login")


@page(bp, "/console/board")
def board(call: PageCall) -> Response:
    """The phone data board, opened with a ticket (its page takes no cookie)."""
    from chalicelib.services.sessions import Caller

    ticket, _ = dashboard.issue_ticket(Caller(call.admin_id, "admin"), call.deps)
    return call.redirect("/v1/dashboard?" + urlencode({"ticket": ticket, "days": 30}))


@page(bp, "/console/static/{name}", auth=False)
def static(call: PageCall) -> Response:
    found = render.static_file(call.params["name"])
    if found is None:
        raise NotFound("no such file")
    data, media_type = found
    # chalice sends bytes only for its binary media types: text goes as text
    body = data.decode("utf-8") if media_type.startswith("text/") else data
    response = call.respond(body, 200, media_type)
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"  # the URL carries its digest
    return response


@endpoint(bp, "/v1/console/logins/{scene}/confirm", "POST", auth="admin", tag="admin", models=M,
          response="ConsoleLoginConfirmed",
          errors=("LOGIN_SCENE_NOT_FOUND", "LOGIN_SCENE_EXPIRED", "LOGIN_SCENE_USED"),
          summary="An admin signed in on the mini-program confirms the console sign-in whose code (scene) they "
                  "scanned: the browser showing it signs in within 2 s. One use, 2 minutes; the same admin "
                  "confirming again gets the same answer")
def confirm_console_login(call: Call) -> s.ConsoleLoginConfirmed:
    console.confirm_sign_in(call.params["scene"], call.caller, call.deps)
    return s.ConsoleLoginConfirmed()

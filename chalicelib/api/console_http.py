"""The console's page decorator: what every ``/console/`` page shares (docs/console.md).

``@page(bp, path, methods)`` registers a route that

* finds the session from its cookie (``services.console.current_session``): none, or one ended
  by idleness, age or sign-out, sends a browser to the sign-in page (303; an htmx request gets
  ``HX-Redirect``), so no page ever renders for a stranger;
* refuses a state-changing request (anything but GET/HEAD) without the session's CSRF token, in
  the form field ``csrf_token`` or the ``X-CSRF-Token`` header (htmx sends it from the layout's
  ``hx-headers``), with 403 and nothing changed; the browser's ``Sec-Fetch-Site`` saying
  ``cross-site`` is refused the same way;
* reads the form (urlencoded or multipart) into ``call.form``;
* renders a domain error as the error page (or, for htmx, a fragment) with its HTTP status;
* adds the headers of every console answer: the CSP, ``no-store``, ``nosniff``, no framing.

Pages before sign-in (``auth=False``) protect their forms with the login cookie instead
(``login_csrf``): nobody can post the sign-in form from another site.
"""
from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from chalice import Blueprint, Response

from chalicelib.domain.errors import DomainError, Forbidden
from chalicelib.lazy import lazy

if TYPE_CHECKING:
    from chalicelib.bootstrap import Deps
    from chalicelib.domain.console import Session
    from chalicelib.services import console
    from chalicelib.web.console import forms, render
else:
    console, forms, render = (lazy("chalicelib.services.console"), lazy("chalicelib.web.console.forms"),
                              lazy("chalicelib.web.console.render"))

SESSION_COOKIE = "__Host-fx_console"
LOGIN_COOKIE = "__Host-fx_login"
CSRF_FIELD, CSRF_HEADER = "csrf_token", "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD"})
SIGN_IN = "/console/login"
FORM_TYPES = ["application/x-www-form-urlencoded", "multipart/form-data", "application/json", "text/plain"]


@dataclass
class PageCall:
    """What a page handler gets: the request's parts, the session (None on ``auth=False``
    pages) and the adapters."""

    deps: Deps
    method: str
    path: str
    params: dict[str, str]
    query: dict[str, str]
    headers: dict[str, str]
    cookies: dict[str, str]
    session: Session | None
    form: Any = None  # forms.Form on a request with a body
    set_cookies: list[str] = field(default_factory=list)

    @property
    def admin_id(self) -> str:
        if self.session is None:
            raise Forbidden("sign in first")
        return self.session.admin_id

    @property
    def htmx(self) -> bool:
        return self.headers.get("hx-request") == "true"

    def render(self, template: str, http_status: int = 200, **context: Any) -> Response:
        """A page (or fragment) with the layout's context: the admin, the CSRF token, the menu."""
        from chalicelib.web.console.nav import BOARD, NAV

        body = render.render(template, session=self.session, csrf_token=self.session.csrf_token if self.session else "",
                             nav=NAV, board=BOARD, current=self.path, simulator=self.deps.settings.simulator,
                             **context)
        return self.respond(body, http_status)

    def respond(self, body: str | bytes, status: int = 200, content_type: str = "text/html; charset=utf-8",
                headers: dict[str, str] | None = None) -> Response:
        cookies: dict[str, Any] = {}
        if self.set_cookies:  # chalice answers a list as several headers of the name
            cookies["Set-Cookie"] = self.set_cookies[0] if len(self.set_cookies) == 1 else list(self.set_cookies)
        return Response(body=body, status_code=status,
                        headers={**page_headers(self.deps), "Content-Type": content_type, **(headers or {}), **cookies})

    def redirect(self, to: str) -> Response:
        """After a POST, or to the sign-in page: 303 for a browser, HX-Redirect for htmx."""
        if self.htmx:
            return self.respond("", 200, headers={"HX-Redirect": to})
        return self.respond("", 303, headers={"Location": to})


Handler = Callable[[PageCall], Response]


def page_headers(deps: Deps) -> dict[str, str]:
    return {"Content-Security-Policy": render.content_security_policy(*media_origins(deps)), "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin",
            "Cross-Origin-Opener-Policy": "same-origin"}


def media_origins(deps: Deps) -> tuple[str, str]:
    """Where product images are shown from (the media base URL: CloudFront, or the S3 in use)
    and where the browser uploads them (S3's endpoint: the presigned form's URL)."""
    from urllib.parse import urlsplit

    def origin(url: str) -> str:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}" if parts.netloc else ""

    media = deps.media
    return origin(media.base_url), origin(media.client.meta.endpoint_url)


def cookie_header(name: str, value: str, max_age: int | None) -> str:
    """A cookie the page's scripts cannot read, sent only to us, only over HTTPS, never with a
    request another site starts (``__Host-``: no Domain, Path /)."""
    parts = [f"{name}={value}", "Path=/", "HttpOnly", "Secure", "SameSite=Strict"]
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    return "; ".join(parts)


def page(bp: Blueprint, path: str, methods: tuple[str, ...] = ("GET",), *, auth: bool = True) -> Callable[[Handler], Handler]:
    """Declare a console page (docs/console.md "Adding a page")."""

    def register(handler: Handler) -> Handler:
        def view(**params: str) -> Response:
            return _serve(bp, handler, params, auth)

        view.__name__ = f"console_{handler.__name__}"
        bp.route(path, methods=list(methods), content_types=FORM_TYPES)(view)
        return handler

    return register


def _serve(bp: Blueprint, handler: Handler, params: dict[str, str], auth: bool) -> Response:
    from chalicelib.bootstrap import default_deps

    request, deps = bp.current_request, default_deps()
    headers = {k.lower(): v for k, v in (request.headers or {}).items()}
    call = PageCall(deps, request.method.upper(), request.path, params, dict(request.query_params or {}), headers,
                    _cookies(headers.get("cookie", "")), None)
    try:
        if auth:
            call.session = console.current_session(call.cookies.get(SESSION_COOKIE), deps)
            if call.session is None:
                return _to_sign_in(call)
        if call.method not in SAFE_METHODS:
            call.form = _read_form(call, request.raw_body)
            _check_csrf(call)
        return handler(call)
    except DomainError as exc:
        return _error_page(call, exc)


def _cookies(header: str) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except CookieError:
        return {}
    return {name: morsel.value for name, morsel in jar.items()}


def _to_sign_in(call: PageCall) -> Response:
    target = SIGN_IN if call.method not in SAFE_METHODS or call.htmx else f"{SIGN_IN}?next={quote(call.path, safe='/')}"
    return call.redirect(target)


def _read_form(call: PageCall, raw: bytes | str | None) -> Any:
    from chalicelib.domain.errors import BodyTooLarge, ValidationFailed

    body = raw.encode() if isinstance(raw, str) else (raw or b"")
    limit = call.deps.settings.console_max_body_bytes
    if len(body) > limit:
        raise BodyTooLarge(f"the form is over {limit} bytes")
    try:
        return forms.parse_form(call.headers.get("content-type", ""), body)
    except forms.FormUnreadable as exc:
        raise ValidationFailed(str(exc)) from exc


def login_csrf(call: PageCall) -> str:
    """The CSRF token of the forms shown before sign-in: bound to the browser's login cookie."""
    secret = call.cookies.get(LOGIN_COOKIE, "")
    if not secret:
        return ""
    return hmac.new(call.deps.settings.jwt_secret.encode(), f"console-login:{secret}".encode(), "sha256").hexdigest()


def _check_csrf(call: PageCall) -> None:
    if call.headers.get("sec-fetch-site") == "cross-site":
        raise Forbidden("a console form can only be sent from the console")
    expected = call.session.csrf_token if call.session else login_csrf(call)
    given = call.headers.get(CSRF_HEADER) or (call.form.get(CSRF_FIELD) if call.form else "")
    if not expected or not given or not hmac.compare_digest(expected.encode(), given.encode()):
        raise Forbidden("the form's CSRF token is missing or wrong: reload the page and send it again",
                        reason="csrf")


def _error_page(call: PageCall, exc: DomainError) -> Response:
    from chalicelib.api.errors import STATUS

    status = STATUS[exc.kind]
    template = "error_fragment.html" if call.htmx else "error.html"
    response = call.render(template, status, error=exc, code=status)
    if exc.kind.value == "unavailable":
        response.headers["Retry-After"] = "1"
    return response

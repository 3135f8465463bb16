"""The phone data board: an HTML page of the daily metrics (docs/ops.md).

An admin's client with a Bearer header opens ``GET /v1/admin/dashboard``; the mini-program's
web-view cannot send one, so the mini-program asks for a link (``POST /v1/admin/dashboard/links``)
whose short-lived ticket opens ``GET /v1/dashboard`` and nothing else."""
from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlencode

from chalice import Blueprint, Response

from chalicelib.api.http import Call, endpoint
from chalicelib.lazy import lazy

MODELS = "chalicelib.api.dashboard_schemas"
if TYPE_CHECKING:
    from chalicelib.api import dashboard_schemas as s
    from chalicelib.domain import clock
    from chalicelib.services import dashboard
else:
    s, clock, dashboard = lazy(MODELS), lazy("chalicelib.domain.clock"), lazy("chalicelib.services.dashboard")

bp = Blueprint(__name__)
HTML = "text/html"


def html_response(days: int, call: Call) -> Response:
    from chalicelib.web.board import content_security_policy, render_board

    page = render_board(dashboard.build_board(days, call.deps))
    return Response(body=page, status_code=200, headers={
        "Content-Type": "text/html; charset=utf-8",
        "Content-Security-Policy": content_security_policy(),
        "Cache-Control": "no-store",
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
    })


@endpoint(bp, "/v1/admin/dashboard", auth="admin", tag="admin", query="DashboardQuery", models=MODELS, produces=HTML,
          summary="The data board: GMV, visitors, conversion, AOV, retention, top products, trends (HTML, phone-sized)")
def admin_dashboard(call: Call) -> Response:
    return html_response(call.query.days, call)


@endpoint(bp, "/v1/admin/dashboard/links", "POST", auth="admin", tag="admin", status=201, body="DashboardLinkBody",
          response="DashboardLinkAnswer", models=MODELS,
          summary="A short-lived link that opens the data board without a header (for the mini-program's web-view)")
def dashboard_link(call: Call) -> s.DashboardLinkAnswer:
    ticket, expires = dashboard.issue_ticket(call.caller, call.deps)
    url = "/v1/dashboard?" + urlencode({"ticket": ticket, "days": call.body.days})
    return s.DashboardLinkAnswer(url=url, expires_at=clock.iso(expires))


@endpoint(bp, "/v1/dashboard", auth="public", tag="admin", query="DashboardTicketQuery", models=MODELS, produces=HTML,
          errors=("UNAUTHENTICATED", "FORBIDDEN"),
          summary="The data board opened by a ticket of POST /v1/admin/dashboard/links instead of a header")
def ticket_dashboard(call: Call) -> Response:
    dashboard.verify_ticket(call.query.ticket, call.deps)
    return html_response(call.query.days, call)

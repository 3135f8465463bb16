"""The partner's own back office (独立后台, docs/tier-rights.md): the phone data board scoped to
the partner's team, with the partner's Bearer token or a short-lived link for the web-view."""
from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlencode

from chalice import Blueprint, Response

from chalicelib.api.http import Call, endpoint
from chalicelib.lazy import lazy

MODELS = "chalicelib.api.dashboard_schemas"  # the same days, link and ticket models as the admin's board
if TYPE_CHECKING:
    from chalicelib.api import dashboard_schemas as s
    from chalicelib.domain import clock
    from chalicelib.services import partner_board
else:
    s, clock = lazy(MODELS), lazy("chalicelib.domain.clock")
    partner_board = lazy("chalicelib.services.partner_board")

bp = Blueprint(__name__)
HTML = "text/html"


def html_response(partner_id: str, days: int, call: Call) -> Response:
    from chalicelib.web.board import content_security_policy, render_board

    made = partner_board.build(partner_id, days, call.deps)
    note = f" · the newest {partner_board.MAX_ORDERS:,} orders" if made.truncated else ""
    page = render_board(made.board, partner_board.TITLE, partner_board.CHARTS, note, levers=False)
    return Response(body=page, status_code=200, headers={
        "Content-Type": "text/html; charset=utf-8",
        "Content-Security-Policy": content_security_policy(),
        "Cache-Control": "no-store",
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
    })


@endpoint(bp, "/v1/me/board", tag="distributors", query="DashboardQuery", models=MODELS, produces=HTML,
          errors=("NOT_A_PARTNER",),
          summary="The partner's own data board (HTML, phone-sized): their team's members, GMV, conversion, "
                  "average order value, top products and team bonus; partners only")
def my_board(call: Call) -> Response:
    return html_response(call.user_id, call.query.days, call)


@endpoint(bp, "/v1/me/board/links", "POST", tag="distributors", status=201, body="DashboardLinkBody",
          response="DashboardLinkAnswer", models=MODELS, errors=("NOT_A_PARTNER",),
          summary="A 5-minute link that opens the partner's own board without a header (the mini-program's web-view)")
def my_board_link(call: Call) -> s.DashboardLinkAnswer:
    ticket, expires = partner_board.issue_ticket(call.user_id, call.deps)
    url = "/v1/partner-board?" + urlencode({"ticket": ticket, "days": call.body.days})
    return s.DashboardLinkAnswer(url=url, expires_at=clock.iso(expires))


@endpoint(bp, "/v1/partner-board", auth="public", tag="distributors", query="DashboardTicketQuery", models=MODELS,
          produces=HTML, errors=("UNAUTHENTICATED", "NOT_A_PARTNER"),
          summary="The partner board opened by a ticket of POST /v1/me/board/links instead of a header")
def ticket_board(call: Call) -> Response:
    partner_id = partner_board.verify_ticket(call.query.ticket, call.deps)
    return html_response(partner_id, call.query.days, call)

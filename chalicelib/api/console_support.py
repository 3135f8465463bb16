"""The console's customer-service inbox: the queue (senior and partner distributors first, then
the longest waiting, as ``support.queue`` orders it) or every conversation, a conversation's page
(messages, WeChat's reply window and messages left, the user's orders and after-sales cases) and
the operator's reply and close, through the services of the API routes (docs/customer-service.md:
sent through WeChat, recorded and audited there). A refusal of the reply (REPLY_WINDOW_CLOSED,
REPLY_LIMIT_REACHED, TEXT_TOO_LONG...) re-renders the page with the server's code and message and
keeps the text typed."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint, Response

from chalicelib.api.console_http import PageCall, page
from chalicelib.api.http import validate
from chalicelib.domain.errors import DomainError
from chalicelib.lazy import lazy

if TYPE_CHECKING:
    from chalicelib.api import support_schemas as s
    from chalicelib.domain import support as rules
    from chalicelib.services import support
else:
    s, support = lazy("chalicelib.api.support_schemas"), lazy("chalicelib.services.support")
    rules = lazy("chalicelib.domain.support")

bp = Blueprint(__name__)
LISTS = (("waiting", "待处理"), ("all", "全部会话"))
STATUS = {"waiting": "待回复", "answered": "已回复", "closed": "已关闭"}
TIERS = {"regular": "普通用户", "senior": "高级分销商", "partner": "合伙人"}
ORDER_STATUS = {"pending_payment": "待付款", "paid": "待发货", "shipped": "已发货", "completed": "已完成",
                "cancelled": "已取消", "refunded": "已退款"}
CASE_KIND = {"refund_only": "仅退款", "return_refund": "退货退款"}
CASE_STATUS = {"requested": "待处理", "approved": "已同意", "awaiting_return": "待买家寄回", "returning": "退货中",
               "refunded": "已退款", "rejected": "已驳回", "cancelled": "已撤销"}
DONE = {"reply": "回复已发送。", "close": "会话已关闭。"}
PAGE = 50


@page(bp, "/console/support")
def inbox(call: PageCall) -> Response:
    q = validate(s.InboxQuery, {k: v for k, v in call.query.items() if k in ("status", "next") and v})
    listed = support.queue if q.status == "waiting" else support.conversations
    rows, next_cursor = listed(PAGE, q.next, call.deps)
    now = call.deps.clock()
    windows = {r.conversation.user_id: support.window_now(r.conversation, now) for r in rows}
    return call.render("support.html", rows=rows, windows=windows, next=next_cursor, status=q.status, lists=LISTS,
                       labels=STATUS, tiers=TIERS, done=DONE.get(call.query.get("done", ""), ""))


@page(bp, "/console/support/{user_id}")
def thread(call: PageCall) -> Response:
    return _thread(call)


@page(bp, "/console/support/{user_id}/reply", ("POST",))
def reply(call: PageCall) -> Response:
    user_id = call.params["user_id"]
    text = call.form.get("text") or ""
    try:
        support.reply(user_id, text, call.admin_id, call.deps)
    except DomainError as exc:
        if exc.code == "CONVERSATION_NOT_FOUND":
            raise
        from chalicelib.api.errors import STATUS

        return _thread(call, STATUS[exc.kind], error=exc, typed=text)
    return call.redirect(f"/console/support/{_quoted(user_id)}?done=reply")


@page(bp, "/console/support/{user_id}/close", ("POST",))
def close(call: PageCall) -> Response:
    user_id = call.params["user_id"]
    body = validate(s.CloseBody, {"reason": call.form.get("reason")})
    support.close(user_id, body.reason, call.admin_id, call.deps)
    return call.redirect("/console/support?done=close")


def _thread(call: PageCall, http_status: int = 200, error: DomainError | None = None, typed: str = "") -> Response:
    q = validate(s.ThreadQuery, {k: v for k, v in call.query.items() if k == "next" and v})
    found = support.conversation(call.params["user_id"], PAGE, q.next, call.deps)
    closes_at, left = support.window_now(found.conversation, call.deps.clock())
    return call.render("support_thread.html", http_status, t=found, closes_at=closes_at, left=left, error=error,
                       typed=typed, max_chars=rules.MAX_REPLY_CHARS, labels=STATUS, tiers=TIERS,
                       order_status=ORDER_STATUS, case_kind=CASE_KIND, case_status=CASE_STATUS,
                       done=DONE.get(call.query.get("done", ""), ""))


def _quoted(user_id: str) -> str:
    from urllib.parse import quote

    return quote(user_id, safe="")

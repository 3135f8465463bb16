"""The console's after-sales (售后): the queue (one status or every open case, newest or longest
waiting first), a case's page (its order, lines, amounts, reason, photos, return parcel and its
tracking) and the operator's decisions: approve with a refund amount, reject with a reason,
receive the returned goods. The services are the API's (``GET /v1/admin/after-sales``, the
approve / reject / receive routes), so both answer alike and audit alike."""
from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote

from chalice import Blueprint, Response

from chalicelib.api.console_http import PageCall, page
from chalicelib.api.console_orders import STATUSES as ORDER_STATUSES
from chalicelib.api.errors import STATUS
from chalicelib.api.http import validate
from chalicelib.domain.errors import DomainError, ValidationFailed
from chalicelib.lazy import lazy

if TYPE_CHECKING:
    from chalicelib.api import after_sales_schemas as s
    from chalicelib.domain import after_sales as rules
    from chalicelib.services import after_sales, case_refunds
else:
    s, rules = lazy("chalicelib.api.after_sales_schemas"), lazy("chalicelib.domain.after_sales")
    after_sales, case_refunds = lazy("chalicelib.services.after_sales"), lazy("chalicelib.services.case_refunds")

bp = Blueprint(__name__)
STATUSES = (("", "全部待处理"), ("requested", "待审核"), ("approved", "已同意"), ("awaiting_return", "待退货"),
            ("returning", "退货中"), ("refunded", "已退款"), ("rejected", "已驳回"), ("cancelled", "已撤销"))
KINDS = {"refund_only": "仅退款", "return_refund": "退货退款"}
ORDERS = (("newest", "最新在前"), ("oldest", "等待最久在前"))
AMOUNT_REFUSALS = ("VALIDATION_FAILED", "REFUND_EXCEEDS_PAID")
DONE = {"approve": "已同意。", "reject": "已驳回。", "receive": "已收货，退款已发起。"}


def _path(case_id: str) -> str:
    return f"/console/after-sales/{quote(case_id, safe='')}"


@page(bp, "/console/after-sales")
def queue(call: PageCall) -> Response:
    given = {k: v for k, v in call.query.items() if k in ("status", "next") and v}
    q = validate(s.QueueQuery, {**given, "limit": 50})
    oldest = call.query.get("order") == "oldest"
    status = rules.CaseStatus(q.status) if q.status else None
    items, next_cursor = after_sales.queue(status, q.limit, q.next, call.deps, oldest=oldest)
    orders = {o.order_id: o for o in (call.deps.orders.get(i) for i in sorted({c.order_id for c in items})) if o}
    rows = [s.CaseOut.of(c).model_dump() for c in items]
    return call.render("after_sales.html", rows=rows, next=next_cursor, filters={**given, "order": "oldest"}
                       if oldest else given, statuses=dict(STATUSES), status_options=STATUSES, kinds=KINDS,
                       order_options=ORDERS, names=_names(orders.values()), order_amounts={
                           i: o.amount_fen for i, o in orders.items()})


def _names(orders: object) -> dict[str, str]:
    """Product id → its name on the orders (a case's lines name products by id)."""
    return {line.product_id: line.name for o in orders for line in o.lines}  # type: ignore[attr-defined]


def _case_page(call: PageCall, case_id: str, http_status: int = 200, error: DomainError | None = None,
               amount: str = "") -> Response:
    case = after_sales.read_case(case_id, call.deps)
    order = call.deps.orders.get(case.order_id)
    detail = s.CaseDetailOut.detail(case, after_sales.return_tracking(case, call.deps)).model_dump()
    return call.render("after_sale.html", http_status, c=detail, order=order, names=_names([order] if order else []),
                       statuses=dict(STATUSES), order_statuses=dict(ORDER_STATUSES), kinds=KINDS,
                       under_way=case.refund_under_way, error=error,
                       amount=amount, done=DONE.get(call.query.get("done", ""), ""))


@page(bp, "/console/after-sales/{case_id}")
def case_detail(call: PageCall) -> Response:
    return _case_page(call, call.params["case_id"])


def _amount(text: str) -> int | None:
    """The refund field in yuan ("120", "99.5", "99.50") → fen; empty: the whole (None)."""
    text = text.strip().replace(",", "").removeprefix("¥")
    if not text:
        return None
    whole, _, cents = text.partition(".")
    if not whole.isdigit() or len(cents) > 2 or (cents and not cents.isdigit()):
        raise ValidationFailed("退款金额须为金额（元），最多两位小数", field="refund_yuan")
    return int(whole) * 100 + int(cents.ljust(2, "0") or 0)


@page(bp, "/console/after-sales/{case_id}/approve", ("POST",))
def approve(call: PageCall) -> Response:
    """The amount is checked by the API's body model then by the service (≤ the lines' paid
    amount): a refusal re-renders the case with the server's message beside the field."""
    case_id, given = call.params["case_id"], call.form.get("refund_yuan")
    try:
        fen = _amount(given)
        body = validate(s.CaseApproveBody, {} if fen is None else {"refund_fen": fen})
        case_refunds.approve(case_id, body.refund_fen, call.deps, call.admin_id)
    except DomainError as exc:
        if exc.code not in AMOUNT_REFUSALS:
            raise  # not about the field (a decided case, WeChat's refusal): the error page
        return _case_page(call, case_id, STATUS[exc.kind], exc, given)
    return call.redirect(_path(case_id) + "?done=approve")


@page(bp, "/console/after-sales/{case_id}/reject", ("POST",))
def reject(call: PageCall) -> Response:
    body = validate(s.CaseRejectBody, {"reason": call.form.get("reason").strip()})
    after_sales.reject(call.params["case_id"], body.reason, call.deps, call.admin_id)
    return call.redirect(_path(call.params["case_id"]) + "?done=reject")


@page(bp, "/console/after-sales/{case_id}/receive", ("POST",))
def receive(call: PageCall) -> Response:
    case_refunds.receive(call.params["case_id"], call.deps, call.admin_id)
    return call.redirect(_path(call.params["case_id"]) + "?done=receive")


@page(bp, "/console/orders/{order_id}/after-sales")
def order_cases(call: PageCall) -> Response:
    order_id = call.params["order_id"]
    cases = after_sales.cases_of_order(order_id, call.deps)
    order = call.deps.orders.get(order_id)
    rows = [s.CaseOut.of(c).model_dump() for c in cases]
    return call.render("order_after_sales.html", order_id=order_id, rows=rows, statuses=dict(STATUSES), kinds=KINDS,
                       names=_names([order] if order else []))

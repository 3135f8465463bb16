"""After-sales (售后) routes: the buyer's case and the operator's queue and decisions (API.md v1.1
"After-sales", docs/after-sales.md)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib.api.http import Call, endpoint
from chalicelib.lazy import lazy

M = "chalicelib.api.after_sales_schemas"
if TYPE_CHECKING:
    from chalicelib.api import after_sales_schemas as s
    from chalicelib.domain import after_sales as rules
    from chalicelib.domain import refunds
    from chalicelib.services import after_sales, case_refunds
else:
    s, rules, refunds = lazy(M), lazy("chalicelib.domain.after_sales"), lazy("chalicelib.domain.refunds")
    after_sales, case_refunds = lazy("chalicelib.services.after_sales"), lazy("chalicelib.services.case_refunds")

bp = Blueprint(__name__)
PHOTO_ERRORS = ("TOO_MANY_PHOTOS", "IMAGE_NOT_OURS", "IMAGE_NOT_UPLOADED", "IMAGE_INVALID")


@endpoint(bp, "/v1/orders/{order_id}/after-sales", "POST", tag="after-sales", status=201, models=M,
          body="OpenCaseBody", response="CaseOut",
          summary="The buyer opens a case on a shipped or completed order of theirs, within the window after "
                  "receipt: refund only, or return then refund, for lines and quantities not yet refunded",
          errors=("ORDER_NOT_FOUND", "WRONG_ORDER_STATUS", "AFTER_SALES_WINDOW_CLOSED", "CASE_OPEN",
                  "INVALID_LINES", *PHOTO_ERRORS))
def open_case(call: Call) -> s.CaseOut:
    body = call.body
    asked = after_sales.Opening(rules.CaseKind(body.kind),
                                [refunds.RefundLine(x.product_id, x.quantity, x.sku_id) for x in body.lines],
                                body.reason, tuple(body.photos))
    return s.CaseOut.of(after_sales.open_case(call.params["order_id"], call.caller, asked, call.deps))


@endpoint(bp, "/v1/after-sales/{case_id}", tag="after-sales", models=M, response="CaseDetailOut",
          summary="One case, for its buyer or an admin, with its return parcel's tracking",
          errors=("CASE_NOT_FOUND",))
def get_case(call: Call) -> s.CaseDetailOut:
    case = after_sales.get_case(call.params["case_id"], call.caller, call.deps)
    return s.CaseDetailOut.detail(case, after_sales.return_tracking(case, call.deps))


@endpoint(bp, "/v1/me/after-sales", tag="after-sales", models=M, query="CasesQuery", response="CasesPage",
          summary="The caller's cases, newest first", errors=("INVALID_CURSOR",))
def my_cases(call: Call) -> s.CasesPage:
    items, next_cursor = after_sales.my_cases(call.user_id, call.query.limit, call.query.next, call.deps)
    return s.CasesPage(items=[s.CaseOut.of(c) for c in items], next=next_cursor)


@endpoint(bp, "/v1/after-sales/{case_id}/return", "POST", tag="after-sales", models=M, body="ReturnBody",
          response="CaseOut",
          summary="The buyer's return shipment of an approved return: returning (the same shipment again "
                  "answers the case as it is)",
          errors=("CASE_NOT_FOUND", "WRONG_CASE_STATUS", "INVALID_CARRIER", "INVALID_TRACKING_NO"))
def ship_return(call: Call) -> s.CaseOut:
    body = call.body
    return s.CaseOut.of(after_sales.ship_return(call.params["case_id"], call.caller, body.carrier, body.tracking_no,
                                                call.deps))


@endpoint(bp, "/v1/after-sales/{case_id}/cancel", "POST", tag="after-sales", models=M, response="CaseOut",
          summary="The buyer withdraws a case not yet decided: cancelled (again: answered as it is)",
          errors=("CASE_NOT_FOUND", "WRONG_CASE_STATUS"))
def cancel_case(call: Call) -> s.CaseOut:
    return s.CaseOut.of(after_sales.cancel(call.params["case_id"], call.caller, call.deps))


@endpoint(bp, "/v1/admin/after-sales", auth="admin", tag="after-sales", models=M, query="QueueQuery",
          response="CasesPage",
          summary="The operator's queue, newest first: one status, or every open case", errors=("INVALID_CURSOR",))
def admin_queue(call: Call) -> s.CasesPage:
    q = call.query
    status = rules.CaseStatus(q.status) if q.status else None
    items, next_cursor = after_sales.queue(status, q.limit, q.next, call.deps)
    return s.CasesPage(items=[s.CaseOut.of(c) for c in items], next=next_cursor)


@endpoint(bp, "/v1/admin/orders/{order_id}/after-sales", auth="admin", tag="after-sales", models=M,
          response="OrderCasesOut", summary="Every case of an order, oldest first", errors=("ORDER_NOT_FOUND",))
def order_cases(call: Call) -> s.OrderCasesOut:
    return s.OrderCasesOut(items=[s.CaseOut.of(c) for c in after_sales.cases_of_order(call.params["order_id"],
                                                                                     call.deps)])


@endpoint(bp, "/v1/admin/after-sales/{case_id}/approve", "POST", auth="admin", tag="after-sales", models=M,
          body="ApproveBody", response="CaseOut",
          summary="Approve a requested case with a refund up to its lines' paid amount (default: all of it): "
                  "refund only → refunded through WeChat Pay; return then refund → awaiting_return",
          errors=("CASE_NOT_FOUND", "WRONG_CASE_STATUS", "REFUND_EXCEEDS_PAID", "WRONG_ORDER_STATUS", "PAY_REJECTED",
                  "REFUND_FAILED"))
def approve(call: Call) -> s.CaseOut:
    return s.CaseOut.of(case_refunds.approve(call.params["case_id"], call.body.refund_fen, call.deps, call.user_id))


@endpoint(bp, "/v1/admin/after-sales/{case_id}/receive", "POST", auth="admin", tag="after-sales", models=M,
          response="CaseOut",
          summary="The returned goods arrived: refunded through WeChat Pay; stock back for products that resell "
                  "returns (resell_returns)",
          errors=("CASE_NOT_FOUND", "WRONG_CASE_STATUS", "WRONG_ORDER_STATUS", "PAY_REJECTED", "REFUND_FAILED"))
def receive(call: Call) -> s.CaseOut:
    return s.CaseOut.of(case_refunds.receive(call.params["case_id"], call.deps, call.user_id))


@endpoint(bp, "/v1/admin/after-sales/{case_id}/reject", "POST", auth="admin", tag="after-sales", models=M,
          body="RejectBody", response="CaseOut",
          summary="Reject a case with a reason (requested, or a return not received)",
          errors=("CASE_NOT_FOUND", "WRONG_CASE_STATUS"))
def reject(call: Call) -> s.CaseOut:
    return s.CaseOut.of(after_sales.reject(call.params["case_id"], call.body.reason, call.deps, call.user_id))

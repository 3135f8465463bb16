"""The console's promotions (issue 19): every promotion with its state, claims and a loss
leader's spending; a form per kind to create one; end one. Through the API's own body model
and services (validated, margin-guarded and audited there)."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from chalicelib.api.console_http import PageCall, page
from chalicelib.api.http import validate
from chalicelib.domain.errors import DomainError
from chalicelib.lazy import lazy

if TYPE_CHECKING:
    from chalicelib.api import promotion_schemas as p
    from chalicelib.domain import clock
    from chalicelib.domain import promotions as domain
    from chalicelib.services import promotions
else:
    p, promotions = lazy("chalicelib.api.promotion_schemas"), lazy("chalicelib.services.promotions")
    clock, domain = lazy("chalicelib.domain.clock"), lazy("chalicelib.domain.promotions")

bp = Blueprint(__name__)
KINDS = {"coupon": "优惠券（领取）", "new_user_coupon": "新人红包", "full_gift": "满赠", "bundle": "套餐",
         "member_day": "会员日"}
STATUSES = {"scheduled": "未开始", "running": "进行中", "ended": "已结束"}
WEEKDAYS = {1: "周一", 2: "周二", 3: "周三", 4: "周四", 5: "周五", 6: "周六", 7: "周日"}
DONE = {"created": "促销已创建。", "ended": "促销已结束：不再发券、不再自动优惠；已领的券仍可在有效期内使用。"}
NUMBERS = ("amount_fen", "min_spend_fen", "valid_days", "total", "per_user", "price_fen", "weekday", "discount_bp",
           "budget_fen")


def _number(text: str) -> int | str:
    """A form's number as an int; anything else is left as text for the model to refuse."""
    text = text.strip()
    return int(text) if text.lstrip("-").isdigit() else text


def _when(text: str) -> str | None:
    """``datetime-local`` (Shanghai wall time, ``2026-11-11T00:00``) → ISO with its offset."""
    text = text.strip()
    if not text:
        return None
    try:
        return datetime.fromisoformat(text).replace(tzinfo=clock.SHANGHAI).isoformat()
    except ValueError:
        return text  # the model refuses it


def _items(text: str) -> list[dict[str, Any]] | str:
    """Lines ``商品ID*数量`` or ``商品ID:SKU*数量`` → bundle items; malformed text is left for the model."""
    items: list[dict[str, Any]] = []
    for line in text.replace("，", "\n").replace(",", "\n").splitlines():
        if not line.strip():
            continue
        ref, _, quantity = line.strip().partition("*")
        product_id, _, sku_id = ref.strip().partition(":")
        items.append({"product_id": product_id.strip(), "quantity": _number(quantity or "1"),
                      **({"sku_id": sku_id.strip()} if sku_id.strip() else {})})
    return items or text


def _variants(text: str) -> dict[str, Any] | str:
    """``A=500,B=1000`` → {"A": 500, "B": 1000}."""
    pairs = [x.split("=", 1) for x in text.replace("，", ",").split(",") if x.strip()]
    if any(len(x) != 2 for x in pairs):
        return text
    return {k.strip(): _number(v) for k, v in pairs}


def body_of(form: Any) -> dict[str, Any]:
    """The API body a kind's form describes (empty fields left out: the model's defaults)."""
    body: dict[str, Any] = {"kind": form.get("kind"), "title": form.get("title")}
    for name in NUMBERS:
        if form.get(name).strip():
            body[name] = _number(form.get(name))
    for name in ("starts_at", "ends_at"):
        if when := _when(form.get(name)):
            body[name] = when
    if form.get("loss_leader"):
        body["loss_leader"] = True
    if form.get("experiment").strip():
        body["experiment"] = form.get("experiment").strip()
        body["variant_amounts_fen"] = _variants(form.get("variant_amounts_fen"))
    if form.get("gift_product_id").strip():
        body["gift"] = {"product_id": form.get("gift_product_id").strip(),
                        "quantity": _number(form.get("gift_quantity") or "1"),
                        **({"sku_id": form.get("gift_sku_id").strip()} if form.get("gift_sku_id").strip() else {})}
    if form.get("items").strip():
        body["items"] = _items(form.get("items"))
    if form.get("categories").strip():
        body["categories"] = [c.strip() for c in form.get("categories").replace("，", ",").split(",") if c.strip()]
    return body


def _page(call: PageCall, status: int = 200, error: DomainError | None = None, kind: str = "") -> Response:
    q = validate(p.AdminPromotionsQuery, {k: v for k, v in call.query.items() if k == "next" and v})
    rows, next_cursor = promotions.admin_list(50, q.next, call.deps)
    now = call.deps.clock()
    items = [p.AdminPromotionOut.of_row(r.promotion, now, r.claimed, r.spent_fen).model_dump() for r in rows]
    return call.render("promotions.html", status, items=items, next=next_cursor, kinds=KINDS, statuses=STATUSES,
                       weekdays=WEEKDAYS, error=error, failed_kind=kind, values=call.form.fields if error else {},
                       done=DONE.get(call.query.get("done", ""), ""))


@page(bp, "/console/promotions")
def promotion_list(call: PageCall) -> Response:
    return _page(call)


@page(bp, "/console/promotions", ("POST",))
def create_promotion(call: PageCall) -> Response:
    try:
        body = validate(p.PromotionBody, body_of(call.form)).root
        draft = promotions.draft(domain.PromotionKind(body.kind), body.title, body.terms(), body.starts_at,
                                 body.ends_at, body.loss_leader, body.budget_fen, call.admin_id, call.deps)
        promotions.create(draft, call.admin_id, call.deps)
    except DomainError as exc:
        return _page(call, 422 if exc.kind.value == "invalid" else 409, exc, call.form.get("kind"))
    return call.redirect("/console/promotions?done=created")


@page(bp, "/console/promotions/{promotion_id}/end", ("POST",))
def end_promotion(call: PageCall) -> Response:
    promotions.end(call.params["promotion_id"], call.admin_id, call.deps)
    return call.redirect("/console/promotions?done=ended")

"""The console's products: the list, a new product (with SKUs), a product's page with its edit
form (fields, rates beside the margin guard's answer, SKUs, detail), listing and restock. Every
change goes through the catalogue's use cases and the API's own body models (``ProductBody``,
``ProductPatch``), so a rule (the margin guard, moderation, SKU rules) answers here as it does
on ``/v1/admin/products``."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from chalice import Blueprint, Response

from chalicelib.api.console_http import PageCall, page
from chalicelib.api.http import validate
from chalicelib.domain.errors import DomainError, NotFound, ValidationFailed
from chalicelib.lazy import lazy

if TYPE_CHECKING:
    from chalicelib.api import order_schemas as s
    from chalicelib.services import catalog, uploads
    from chalicelib.web.console.forms import Form
else:
    s, catalog = lazy("chalicelib.api.order_schemas"), lazy("chalicelib.services.catalog")
    uploads = lazy("chalicelib.services.uploads")

bp = Blueprint(__name__)
NEW_SKU_ROWS = 3
NUMBERS = ("cost_fen", "price_fen", "stock", "level1_rate_bp", "level2_rate_bp")


def _number(text: str) -> int | str:
    """A form's number as an int; anything else is left as text for the model to refuse."""
    text = text.strip()
    return int(text) if text.lstrip("-").isdigit() else text


def _specs(text: str) -> dict[str, str] | str:
    """``颜色=红;尺码=M`` → {"颜色": "红", "尺码": "M"}; malformed text is left for the model to refuse."""
    pairs = [p.split("=", 1) for p in text.replace("；", ";").split(";") if p.strip()]
    if not pairs or any(len(p) != 2 for p in pairs):
        return text
    return {k.strip(): v.strip() for k, v in pairs}


def _skus(form: Form, with_ids: bool) -> list[dict[str, Any]]:
    rows = []
    for i, specs in enumerate(form.all("sku_specs")):
        sku_id = form.all("sku_id")[i] if with_ids and i < len(form.all("sku_id")) else ""
        if not specs.strip() and not sku_id:
            continue
        row: dict[str, Any] = {"specs": _specs(specs)}
        if sku_id:
            row["sku_id"] = sku_id
        for name in ("price_fen", "cost_fen", "stock"):
            value = form.all(f"sku_{name}")[i] if i < len(form.all(f"sku_{name}")) else ""
            if value.strip():
                row[name] = _number(value)
        rows.append(row)
    return rows


def _fields(form: Form, names: tuple[str, ...]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for name in names:
        value = form.get(name)
        if value.strip():
            fields[name] = _number(value) if name in NUMBERS else value.strip()
    return fields


@page(bp, "/console/products")
def products(call: PageCall) -> Response:
    given = {k: v for k, v in call.query.items() if k in ("q", "listed", "next") and v}
    q = validate(s.AdminProductQuery, given)
    items, next_cursor = catalog.admin_products(q.listed, q.q, 50, q.next, call.deps)
    rows = [s.AdminProductOut.of(p, with_detail=False).model_dump() for p in items]
    return call.render("products.html", rows=rows, next=next_cursor, filters=given)


@page(bp, "/console/products/new")
def new_product(call: PageCall) -> Response:
    return call.render("product_new.html", values={}, sku_rows=NEW_SKU_ROWS, error=None)


@page(bp, "/console/products", ("POST",))
def create_product(call: PageCall) -> Response:
    fields = _fields(call.form, ("name", "category", *NUMBERS, "detail"))
    if skus := _skus(call.form, with_ids=False):
        fields["skus"] = skus
    try:
        body = validate(s.ProductBody, fields)
        product, _ = catalog.create_product(body.model_dump(exclude_none=True), call.admin_id, call.deps)
    except DomainError as exc:
        return call.render("product_new.html", 422 if exc.kind.value == "invalid" else 409,
                           values=call.form.fields, sku_rows=NEW_SKU_ROWS, error=exc)
    return call.redirect(f"/console/products/{quote(product.product_id, safe='')}?done=created")


def _product_page(call: PageCall, product_id: str, error: DomainError | None = None, status: int = 200) -> Response:
    product = call.deps.products.get(product_id)
    if product is None:
        raise NotFound("no such product")
    return call.render("product.html", status, p=s.AdminProductOut.of(product).model_dump(), error=error,
                       done=call.query.get("done", ""), sku_rows=NEW_SKU_ROWS)


@page(bp, "/console/products/{product_id}")
def product_detail(call: PageCall) -> Response:
    return _product_page(call, call.params["product_id"])


def _change(call: PageCall, changes: dict[str, Any], done: str) -> Response:
    product_id = call.params["product_id"]
    try:
        patch = validate(s.ProductPatch, changes)
        catalog.update_product(product_id, patch.model_dump(exclude_unset=True), call.admin_id, call.deps)
    except DomainError as exc:
        if exc.kind.value == "not_found":
            raise
        return _product_page(call, product_id, exc, 422 if exc.kind.value == "invalid" else 409)
    return call.redirect(f"/console/products/{quote(product_id, safe='')}?done={done}")


@page(bp, "/console/products/{product_id}", ("POST",))
def edit_product(call: PageCall) -> Response:
    changes = _fields(call.form, ("name", "category", "cost_fen", "price_fen", "level1_rate_bp", "level2_rate_bp"))
    changes["detail"] = call.form.get("detail")
    if "limit_per_user" in call.form.fields:  # the page's field; empty lifts the limit
        limit = call.form.get("limit_per_user").strip()
        changes["limit_per_user"] = _number(limit) if limit else None
    if skus := _skus(call.form, with_ids=True):
        changes["skus"] = skus
    return _change(call, changes, "saved")


@page(bp, "/console/products/{product_id}/listing", ("POST",))
def listing(call: PageCall) -> Response:
    return _change(call, {"listed": call.form.get("listed") == "true"}, "listed")


@page(bp, "/console/products/{product_id}/restock", ("POST",))
def restock(call: PageCall) -> Response:
    changes: dict[str, Any] = {"stock_delta": _number(call.form.get("stock_delta"))}
    if call.form.get("sku_id"):
        changes["sku_id"] = call.form.get("sku_id")
    return _change(call, changes, "restocked")


@page(bp, "/console/uploads", ("POST",))
def sign_upload(call: PageCall) -> Response:
    """The presigned form of one product image (``POST /v1/admin/uploads``'s use case, audited
    ``upload.create``), answered as JSON to ``console.js``."""
    import json

    try:
        size = _number(call.form.get("size_bytes"))
        if not isinstance(size, int):
            raise ValidationFailed("size_bytes is the file's size in bytes")
        made = uploads.create_upload(call.admin_id, call.form.get("content_type"), size, call.deps)
    except DomainError as exc:
        from chalicelib.api.errors import STATUS

        body = {"error": {"code": exc.code, "message": exc.message}}
        return call.respond(json.dumps(body, ensure_ascii=False), STATUS[exc.kind], "application/json")
    answer = {"upload": {"url": made.post.url, "fields": made.post.fields}, "image_url": made.image_url}
    return call.respond(json.dumps(answer), 201, "application/json")


@page(bp, "/console/products/{product_id}/images", ("POST",))
def images(call: PageCall) -> Response:
    """Add an uploaded image (``add``) or take one off (``remove``): the product's whole list, as
    ``PATCH images`` takes it (its images must be ours and uploaded; at most 9)."""
    product = call.deps.products.get(call.params["product_id"])
    if product is None:
        raise NotFound("no such product")
    now = list(product.images)
    if added := call.form.get("add"):
        now.append(added)
    if removed := call.form.get("remove"):
        now = [url for url in now if url != removed]
    return _change(call, {"images": now}, "images")

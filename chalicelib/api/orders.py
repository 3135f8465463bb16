"""Catalogue administration, checkout and the life of an order."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib.api.http import Call, endpoint
from chalicelib.domain.errors import ValidationFailed
from chalicelib.lazy import lazy

M = "chalicelib.api.order_schemas"
if TYPE_CHECKING:
    from chalicelib.api import fulfilment_schemas as f
    from chalicelib.api import order_schemas as s
    from chalicelib.services import catalog, delivery, orders, pricing, wallet
else:
    s, f = lazy(M), lazy("chalicelib.api.fulfilment_schemas")
    catalog, delivery, orders, pricing, wallet = (lazy(f"chalicelib.services.{m}")
                                                  for m in ("catalog", "delivery", "orders", "pricing", "wallet"))

bp = Blueprint(__name__)


@endpoint(bp, "/v1/admin/products", "POST", auth="admin", tag="catalog", status=201, models=M, body="ProductBody",
          response="AdminProductOut",
          summary="Create a product, with SKUs if given (rates default to its category's; copy held for review "
                  "leaves it unlisted); audited as product.create",
          errors=("COMMISSION_EXCEEDS_MARGIN", "CONTENT_BLOCKED", "INVALID_SKUS", "INVALID_IMAGES", "IMAGE_NOT_OURS",
                  "IMAGE_NOT_UPLOADED", "IMAGE_INVALID"))
def create_product(call: Call) -> s.AdminProductOut:
    fields = call.body.model_dump(exclude_none=True)
    return s.AdminProductOut.of(*catalog.create_product(fields, call.user_id, call.deps))


@endpoint(bp, "/v1/admin/products", auth="admin", tag="catalog", models=M, query="AdminProductQuery",
          response="AdminProductsPage",
          summary="Every product, listed or not, with cost, stock, rates and SKUs (by id; listed and q filter)",
          errors=("INVALID_CURSOR",))
def admin_products(call: Call) -> s.AdminProductsPage:
    q = call.query
    page, next_cursor = catalog.admin_products(q.listed, q.q, q.limit, q.next, call.deps)
    return s.AdminProductsPage(items=[s.AdminProductOut.of(p, with_detail=False) for p in page], next=next_cursor)


@endpoint(bp, "/v1/admin/products/{product_id}", "PATCH", auth="admin", tag="catalog", models=M, body="ProductPatch",
          response="AdminProductOut",
          summary="Edit a product: fields, listed, images, detail, SKUs (audited as product.update) and "
                  "stock_delta (audited as product.restock)",
          errors=("NOT_FOUND", "COMMISSION_EXCEEDS_MARGIN", "CONTENT_BLOCKED", "OUT_OF_STOCK", "SKU_REQUIRED",
                  "SKU_NOT_FOUND", "INVALID_SKUS", "INVALID_IMAGES", "IMAGE_NOT_OURS",
                  "IMAGE_NOT_UPLOADED", "IMAGE_INVALID"))
def edit_product(call: Call) -> s.AdminProductOut:
    changes = call.body.model_dump(exclude_unset=True)
    if any(value is None for key, value in changes.items() if key not in ("group_buy", "limit_per_user")):
        raise ValidationFailed("only group_buy and limit_per_user can be cleared with null")
    return s.AdminProductOut.of(*catalog.update_product(call.params["product_id"], changes, call.user_id, call.deps))


PRICING_ERRORS = ("OUT_OF_STOCK", "PRODUCT_NOT_FOUND", "INVALID_ORDER", "SKU_REQUIRED", "SKU_NOT_FOUND",
                  "COUPON_NOT_USABLE", "PURCHASE_LIMIT_REACHED")


@endpoint(bp, "/v1/orders", "POST", tag="orders", status=201, models=M, body="OrderBody", response="CheckoutAnswer",
          summary="Place an order (Idempotency-Key header required), priced with the promotions running now and the "
                  "coupon named, exactly as POST /v1/orders/quote answers; answers the wx.requestPayment parameters",
          errors=("IDEMPOTENCY_KEY_REQUIRED", "IDEMPOTENCY_KEY_REUSED", *PRICING_ERRORS, "PROMOTION_BUDGET_SPENT"),
          idempotent=True)
def place_order(call: Call) -> s.CheckoutAnswer:
    wanted = [(line.product_id, line.quantity, line.sku_id) for line in call.body.items]
    result = orders.place_order(call.user_id, wanted, call.body.model_dump(mode="json"), call.idempotency_key,
                                call.deps)
    order = result.order
    return s.CheckoutAnswer(order_id=order.order_id, status=order.status.value, amount_fen=order.amount_fen,
                            payment=s.PaymentOut(**result.payment) if result.payment else None,
                            pay_deadline=s.iso(order.pay_deadline), pricing=s.PricingOut.of_order(order))


@endpoint(bp, "/v1/orders/quote", "POST", tag="orders", models=M, body="OrderBody", response="QuoteAnswer",
          summary="What POST /v1/orders would charge for this body now (pricing, each line's paid amount, gifts) and "
                  "the caller's coupons the cart can use; writes nothing, needs no Idempotency-Key",
          errors=PRICING_ERRORS)
def quote(call: Call) -> s.QuoteAnswer:
    wanted = [(line.product_id, line.quantity, line.sku_id) for line in call.body.items]
    answer = pricing.quote(call.user_id, wanted, call.body.coupon_id, call.deps)
    lines, now = answer.priced.lines, call.deps.clock()
    return s.QuoteAnswer(pricing=s.PricingOut.of(lines, answer.priced.applied, answer.priced.coupon_id),
                         items=[s.QuoteLineOut.of(x) for x in lines],
                         applicable_coupons=[s.CouponOut.of(c, now) for c in answer.applicable_coupons])


@endpoint(bp, "/v1/orders/{order_id}", tag="orders", models=M, response="OrderOut",
          summary="An order (its buyer or an admin)", errors=("ORDER_NOT_FOUND",))
def get_order(call: Call) -> s.OrderOut:
    order = orders.get_order(call.params["order_id"], call.caller, call.deps)
    return s.OrderOut.of(order, tracking=delivery.order_trackings([order], call.deps).get(order.order_id))


@endpoint(bp, "/v1/me/orders", tag="orders", models=M, query="PageQueryOrders", response="OrdersPage",
          summary="The caller's orders, newest first", errors=("INVALID_CURSOR",))
def my_orders(call: Call) -> s.OrdersPage:
    page, next_cursor = orders.my_orders(call.user_id, call.query.limit, call.query.next, call.deps)
    tracked = delivery.order_trackings(page, call.deps)
    return s.OrdersPage(items=[s.OrderOut.of(o, tracking=tracked.get(o.order_id)) for o in page], next=next_cursor)


@endpoint(bp, "/v1/admin/orders/{order_id}/ship", "POST", auth="admin", tag="orders",
          models="chalicelib.api.fulfilment_schemas", body="ShipBody", response="AdminOrderOut",
          summary="Ship a paid order (audited; reported to WeChat: shipping_report); the same carrier and "
                  "tracking again answers the order as it is",
          errors=("ORDER_NOT_FOUND", "WRONG_ORDER_STATUS", "ALREADY_SHIPPED", "INVALID_CARRIER"))
def ship(call: Call) -> f.AdminOrderOut:
    order = orders.ship(call.params["order_id"], call.body.carrier, call.body.tracking_no, call.deps, call.user_id)
    return f.AdminOrderOut.admin(order)


@endpoint(bp, "/v1/orders/{order_id}/confirm", "POST", tag="orders", models=M, response="OrderOut",
          summary="Confirm receipt: the order completes and its commissions start the T+3 clock",
          errors=("ORDER_NOT_FOUND", "WRONG_ORDER_STATUS"))
def confirm(call: Call) -> s.OrderOut:
    return s.OrderOut.of(orders.confirm(call.params["order_id"], call.caller, call.deps))


@endpoint(bp, "/v1/orders/{order_id}/refund", "POST", tag="orders", models=M, body="RefundBody", response="OrderOut",
          summary="Refund a paid order not yet shipped through WeChat Pay (buyer or admin); commissions "
                  "reversed or clawed back. Shipped or completed: 409 AFTER_SALES_REQUIRED (open a case)",
          errors=("ORDER_NOT_FOUND", "WRONG_ORDER_STATUS", "AFTER_SALES_REQUIRED", "PAY_REJECTED", "REFUND_FAILED"))
def refund(call: Call) -> s.OrderOut:
    return s.OrderOut.of(orders.refund(call.params["order_id"], call.caller, call.body.reason, call.deps))


@endpoint(bp, "/v1/me/commissions", tag="wallet", models=M, query="CommissionQuery", response="CommissionsPage",
          summary="The caller's commission entries, by status", errors=("INVALID_CURSOR",))
def my_commissions(call: Call) -> s.CommissionsPage:
    items, next_cursor = wallet.commissions(call.user_id, call.query.status, call.query.limit, call.query.next,
                                            call.deps)
    return s.CommissionsPage(items=[s.CommissionEntryOut(
        order_id=c.order_id, level=c.level, amount_fen=c.amount_fen, reversed_fen=c.reversed_fen, status=c.status.value,
        available_at=s.iso(c.available_at) if c.available_at else None) for c in items], next=next_cursor)


@endpoint(bp, "/v1/me/wallet", tag="wallet", models=M, response="WalletOut", summary="The caller's balances")
def my_wallet(call: Call) -> s.WalletOut:
    return s.WalletOut(**{f"{bucket}_fen": fen for bucket, fen in wallet.balances(call.user_id, call.deps).items()})

"""The catalogue as a distributor sees it."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib.api.http import Call, endpoint
from chalicelib.lazy import lazy

M = "chalicelib.api.order_schemas"
if TYPE_CHECKING:
    from chalicelib.api import order_schemas as o
    from chalicelib.api import promotion_schemas
    from chalicelib.api import schemas as s
    from chalicelib.services import catalog, promotions
else:
    s, o, catalog = lazy("chalicelib.api.schemas"), lazy(M), lazy("chalicelib.services.catalog")
    promotion_schemas, promotions = lazy("chalicelib.api.promotion_schemas"), lazy("chalicelib.services.promotions")

bp = Blueprint(__name__)


@endpoint(bp, "/v1/products", tag="catalog", query="ProductQuery", response="ProductsAnswer",
          summary="Products by category, with the commission the caller would earn", errors=("INVALID_CURSOR",))
def products(call: Call) -> s.ProductsAnswer:
    page = catalog.list_products(call.user_id, call.query.category, call.query.limit, call.query.next, call.deps)
    items = [s.ProductOut(**s.ProductOut.fields_of(p, page.uplift_bp)) for p in page.products]
    return s.ProductsAnswer(items=items, next=page.next_cursor)


@endpoint(bp, "/v1/products/{product_id}", tag="catalog", models=M, response="ProductPageOut",
          summary="One listed product's page: images, detail, SKUs with stock, the promotions that apply now",
          errors=("PRODUCT_NOT_FOUND",))
def product_page(call: Call) -> o.ProductPageOut:
    product, uplift_bp = catalog.product_page(call.user_id, call.params["product_id"], call.deps)
    shown = [promotion_schemas.PromotionOut.of(x).model_dump(mode="json")
             for x in promotions.for_product(product, call.deps)]
    return o.ProductPageOut.of(product, uplift_bp, shown)

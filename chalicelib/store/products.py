"""The catalogue: products, listed by category or all together (a small, hot-read table)."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import PutError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex

from chalicelib.config import get_settings
from chalicelib.domain.catalog import GroupBuy, Product
from chalicelib.store.base import BaseMeta, StoreModel, condition_failed, paginate

CATALOG = "all"


class ByCategory(GlobalSecondaryIndex["ProductItem"]):
    """Sparse: listed products only (``shelf`` holds the category while listed)."""

    class Meta:
        index_name = "by_category"
        projection = AllProjection()

    shelf = UnicodeAttribute(hash_key=True)
    product_id = UnicodeAttribute(range_key=True)


class Listing(GlobalSecondaryIndex["ProductItem"]):
    """Sparse: listed products only carry ``catalog``."""

    class Meta:
        index_name = "listing"
        projection = AllProjection()

    catalog = UnicodeAttribute(hash_key=True)
    product_id = UnicodeAttribute(range_key=True)


class ProductItem(StoreModel):
    class Meta(BaseMeta):
        table_name = get_settings().products_table

    product_id = UnicodeAttribute(hash_key=True)
    catalog = UnicodeAttribute(null=True)
    shelf = UnicodeAttribute(null=True)
    name = UnicodeAttribute()
    category = UnicodeAttribute()
    cost_fen = NumberAttribute()
    price_fen = NumberAttribute()
    stock = NumberAttribute()
    level1_rate_bp = NumberAttribute()
    level2_rate_bp = NumberAttribute()
    group_size = NumberAttribute(null=True)
    group_discount_bp = NumberAttribute(null=True)
    group_ttl_hours = NumberAttribute(null=True)
    created_at = UTCDateTimeAttribute()

    by_category = ByCategory()
    listing = Listing()


def to_product(item: ProductItem) -> Product:
    group = None
    if item.group_size:
        group = GroupBuy(int(item.group_size), int(item.group_discount_bp or 0), int(item.group_ttl_hours or 24))
    return Product(item.product_id, item.name, item.category, int(item.cost_fen), int(item.price_fen),
                   int(item.stock), int(item.level1_rate_bp), int(item.level2_rate_bp), group,
                   listed=item.catalog is not None)


def _listing(product: Product) -> list[Any]:
    if product.listed:
        return [ProductItem.catalog.set(CATALOG), ProductItem.shelf.set(product.category)]
    return [ProductItem.catalog.remove(), ProductItem.shelf.remove()]


class ProductStore:
    def get(self, product_id: str) -> Product | None:
        try:
            return to_product(ProductItem.get(product_id, consistent_read=True))
        except ProductItem.DoesNotExist:
            return None

    def replace(self, product: Product, now: datetime) -> None:
        """Write an edited product, keeping its stock as it is now (checkouts move it)."""
        actions: list[Any] = [ProductItem.name.set(product.name), ProductItem.category.set(product.category),
                   ProductItem.cost_fen.set(product.cost_fen), ProductItem.price_fen.set(product.price_fen),
                   ProductItem.level1_rate_bp.set(product.level1_rate_bp),
                   ProductItem.level2_rate_bp.set(product.level2_rate_bp), *_listing(product)]
        group = product.group_buy
        actions += [ProductItem.group_size.set(group.size), ProductItem.group_discount_bp.set(group.discount_bp),
                    ProductItem.group_ttl_hours.set(group.ttl_hours)] if group else \
            [ProductItem.group_size.remove(), ProductItem.group_discount_bp.remove(), ProductItem.group_ttl_hours.remove()]
        ProductItem(product.product_id).update(actions=actions, condition=ProductItem.product_id.exists())

    def set_listed(self, product_id: str, listed: bool) -> None:
        product = self.get(product_id)
        if product is not None:
            ProductItem(product_id).update(actions=_listing(replace(product, listed=listed)),
                                           condition=ProductItem.product_id.exists())

    def put_if_absent(self, product: Product, now: datetime) -> bool:
        item = ProductItem(product.product_id, name=product.name, category=product.category,
                           cost_fen=product.cost_fen, price_fen=product.price_fen, stock=product.stock,
                           level1_rate_bp=product.level1_rate_bp, level2_rate_bp=product.level2_rate_bp,
                           created_at=now, catalog=CATALOG if product.listed else None,
                           shelf=product.category if product.listed else None)
        if product.group_buy:
            item.group_size = product.group_buy.size
            item.group_discount_bp = product.group_buy.discount_bp
            item.group_ttl_hours = product.group_buy.ttl_hours
        try:
            item.save(condition=ProductItem.product_id.does_not_exist())
        except PutError as exc:
            if condition_failed(exc):
                return False
            raise
        return True

    def list(self, category: str | None, limit: int, cursor: str | None) -> tuple[list[Product], str | None]:
        index = ProductItem.by_category if category else ProductItem.listing
        return paginate(index, category or CATALOG, cursor, to_product, limit=limit)

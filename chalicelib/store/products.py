"""The catalogue: products, listed by category or all together (a small, hot-read table), and
their stock, which may be split over cells (domain/stock.py).

Items: ``product_id`` (the product; its ``stock`` is cell 0) and ``"<product>#cell#<i>"`` (cell
i ≥ 1 of a split product: ``stock`` and ``cell_of``). Neither index carries ``stock``: a checkout
writes only the stock of the product item or a cell, so it writes no index partition at all
(``listing``'s partition key is the constant ``"all"``, shared by the whole mall); a list page
reads its stock with one BatchGetItem.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.connection import Connection
from pynamodb.exceptions import PutError, TransactWriteError
from pynamodb.indexes import GlobalSecondaryIndex, IncludeProjection
from pynamodb.transactions import TransactWrite

from chalicelib.config import get_settings
from chalicelib.domain.catalog import GroupBuy, Product
from chalicelib.domain.stock import resplit, split
from chalicelib.store.base import BaseMeta, StoreModel, condition_failed, paginate, transaction_failure

CATALOG = "all"
CELL = "#cell#"

# What a list shows and how it is sorted, never what an order changes (``stock``): an index
# entry is written only when a projected attribute of its item changes (an admin's edit).
DISPLAY = ["name", "category", "cost_fen", "price_fen", "level1_rate_bp", "level2_rate_bp", "group_size",
           "group_discount_bp", "group_ttl_hours", "created_at", "stock_cells", "cell_span"]


class ByCategory(GlobalSecondaryIndex["ProductItem"]):
    """Sparse: listed products only (``shelf`` holds the category while listed)."""

    class Meta:
        index_name = "by_category"
        projection = IncludeProjection(DISPLAY)

    shelf = UnicodeAttribute(hash_key=True)
    product_id = UnicodeAttribute(range_key=True)


class Listing(GlobalSecondaryIndex["ProductItem"]):
    """Sparse: listed products only carry ``catalog``. One partition (``"all"``), written only by
    admin edits (never by a checkout: ``stock`` is not projected): about 1,000 edits a second
    would fill it, far beyond what an operator makes, so it is not sharded."""

    class Meta:
        index_name = "listing"
        projection = IncludeProjection(DISPLAY)

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
    # flash sale (domain/stock.py): K, the cells checkout draws from (absent: 1), and the span,
    # every cell that may hold stock (absent: K); a cell item names its product in ``cell_of``
    stock_cells = NumberAttribute(null=True)
    cell_span = NumberAttribute(null=True)
    cell_of = UnicodeAttribute(null=True)

    by_category = ByCategory()
    listing = Listing()


def cell_key(product_id: str, cell: int) -> str:
    """The item holding a cell: cell 0 is the product item itself."""
    return product_id if cell == 0 else f"{product_id}{CELL}{cell}"


def stock_item(product_id: str, cell: int) -> ProductItem:
    return ProductItem(cell_key(product_id, cell))


def _cells(item: ProductItem) -> int:
    return int(item.stock_cells or 1)


def span(item: ProductItem) -> int:
    return max(int(item.cell_span or 1), _cells(item))


def to_product(item: ProductItem, total: int | None = None) -> Product:
    """The product of its item. Its stock is the item's own when the product was never split;
    else ``total`` (the sum of its cells, read by the caller), None where nobody read them."""
    group = None
    if item.group_size:
        group = GroupBuy(int(item.group_size), int(item.group_discount_bp or 0), int(item.group_ttl_hours or 24))
    stock = int(item.stock) if span(item) == 1 and item.stock is not None else total
    return Product(item.product_id, item.name, item.category, int(item.cost_fen), int(item.price_fen),
                   stock, int(item.level1_rate_bp), int(item.level2_rate_bp), group,
                   listed=item.catalog is not None, stock_cells=_cells(item))


def is_product(raw_or_id: str) -> bool:
    """A product id (not a cell's key: a buyer naming one finds no product)."""
    return CELL not in raw_or_id


def _listing(product: Product) -> list[Any]:
    if product.listed:
        return [ProductItem.catalog.set(CATALOG), ProductItem.shelf.set(product.category)]
    return [ProductItem.catalog.remove(), ProductItem.shelf.remove()]


def _connection() -> Connection:
    return ProductItem._get_connection().connection


def cell_counts(items: Iterable[ProductItem], consistent: bool, with_items: bool = False) -> dict[str, list[int]]:
    """Every cell's count of these product items (index = cell, over each product's span), with
    one BatchGetItem (by 100 keys) of the cells ≥ 1 of split products; cell 0 is the item's own
    ``stock``, or read in the same batch with ``with_items`` (the items are index entries). A
    missing cell counts 0."""
    counts: dict[str, list[int]] = {}
    keys = []
    for item in items:
        counts[item.product_id] = [0 if with_items else int(item.stock or 0)] + [0] * (span(item) - 1)
        keys += [cell_key(item.product_id, cell) for cell in range(0 if with_items else 1, span(item))]
    if keys:
        for cell in ProductItem.batch_get(keys, consistent_read=consistent, attributes_to_get=["product_id", "stock"]):
            product_id, _, index = cell.product_id.rpartition(CELL)
            if not product_id:  # the product item: cell 0
                product_id, index = cell.product_id, "0"
            if product_id in counts and index.isdigit() and int(index) < len(counts[product_id]):
                counts[product_id][int(index)] = int(cell.stock or 0)
    return counts


class ProductStore:
    def get(self, product_id: str) -> Product | None:
        """A product with its whole stock (consistent: the item, then its other cells if split)."""
        if not is_product(product_id):
            return None
        try:
            item = ProductItem.get(product_id, consistent_read=True)
        except ProductItem.DoesNotExist:
            return None
        return to_product(item, sum(cell_counts([item], consistent=True)[product_id]))

    def cells(self, product_ids: Sequence[str]) -> dict[str, tuple[int, list[int]]]:
        """For checkout's fallback: each product's K and its cells' counts, read consistently
        (the product items, then the other cells of the split ones)."""
        wanted = [p for p in dict.fromkeys(product_ids) if is_product(p)]
        items = list(ProductItem.batch_get(wanted, consistent_read=True)) if wanted else []
        counts = cell_counts(items, consistent=True)
        return {item.product_id: (_cells(item), counts[item.product_id]) for item in items}

    def replace(self, product: Product, now: datetime) -> None:
        """Write an edited product, keeping its stock as it is now (checkouts move it; a change
        of its cells is :meth:`resplit`)."""
        actions: list[Any] = [ProductItem.name.set(product.name), ProductItem.category.set(product.category),
                   ProductItem.cost_fen.set(product.cost_fen), ProductItem.price_fen.set(product.price_fen),
                   ProductItem.level1_rate_bp.set(product.level1_rate_bp),
                   ProductItem.level2_rate_bp.set(product.level2_rate_bp), *_listing(product)]
        group = product.group_buy
        actions += [ProductItem.group_size.set(group.size), ProductItem.group_discount_bp.set(group.discount_bp),
                    ProductItem.group_ttl_hours.set(group.ttl_hours)] if group else \
            [ProductItem.group_size.remove(), ProductItem.group_discount_bp.remove(), ProductItem.group_ttl_hours.remove()]
        ProductItem(product.product_id).update(actions=actions, condition=ProductItem.product_id.exists())

    def resplit(self, product_id: str, cells: int) -> int:
        """Spread the product's stock over ``cells`` cells, keeping the total exact: one
        transaction sets every cell of the span, each conditioned on the count just read (a
        checkout meanwhile: TransactionFailed, the caller reads again). Returns the total."""
        item = ProductItem.get(product_id, consistent_read=True)
        counts = cell_counts([item], consistent=True)[product_id]
        target = resplit(counts, cells)
        try:
            with TransactWrite(connection=_connection()) as tx:
                tx.update(ProductItem(product_id), actions=[
                    ProductItem.stock.set(target[0]), ProductItem.stock_cells.set(cells),
                    ProductItem.cell_span.set(len(target))],
                    condition=(ProductItem.stock == counts[0]) & _cells_are(item))
                for cell in range(1, len(target)):
                    was = ProductItem.stock == counts[cell] if cell < span(item) else ProductItem.product_id.does_not_exist()
                    tx.update(stock_item(product_id, cell), actions=[
                        ProductItem.stock.set(target[cell]), ProductItem.cell_of.set(product_id)], condition=was)
        except TransactWriteError as exc:
            raise transaction_failure(exc, tx) from exc
        return sum(target)

    def set_listed(self, product_id: str, listed: bool) -> None:
        product = self.get(product_id)
        if product is not None:
            ProductItem(product_id).update(actions=_listing(replace(product, listed=listed)),
                                           condition=ProductItem.product_id.exists())

    def put_if_absent(self, product: Product, now: datetime) -> bool:
        """A new product; split (``stock_cells`` > 1): its cells with it, in one transaction."""
        counts = split(product.stock or 0, product.stock_cells)
        item = ProductItem(product.product_id, name=product.name, category=product.category,
                           cost_fen=product.cost_fen, price_fen=product.price_fen, stock=counts[0],
                           level1_rate_bp=product.level1_rate_bp, level2_rate_bp=product.level2_rate_bp,
                           created_at=now, catalog=CATALOG if product.listed else None,
                           shelf=product.category if product.listed else None)
        if product.group_buy:
            item.group_size = product.group_buy.size
            item.group_discount_bp = product.group_buy.discount_bp
            item.group_ttl_hours = product.group_buy.ttl_hours
        if product.stock_cells == 1:
            try:
                item.save(condition=ProductItem.product_id.does_not_exist())
            except PutError as exc:
                if condition_failed(exc):
                    return False
                raise
            return True
        item.stock_cells = item.cell_span = product.stock_cells
        try:
            with TransactWrite(connection=_connection()) as tx:
                tx.save(item, condition=ProductItem.product_id.does_not_exist())
                for cell in range(1, product.stock_cells):
                    tx.update(stock_item(product.product_id, cell), actions=[
                        ProductItem.stock.set(counts[cell]), ProductItem.cell_of.set(product.product_id)],
                        condition=ProductItem.product_id.does_not_exist())
        except TransactWriteError as exc:
            failure = transaction_failure(exc, tx)
            if failure.refused(ProductItem.Meta.table_name, product_id=product.product_id):
                return False
            raise failure from exc
        return True

    def with_stock(self, items: Sequence[ProductItem]) -> list[Product]:
        """Products of index entries (no stock), with their whole stock: one BatchGetItem of the
        items' and their cells' ``stock`` (eventually consistent, as the index itself)."""
        totals = {p: sum(c) for p, c in cell_counts(items, consistent=False, with_items=True).items()}
        return [to_product(item, totals[item.product_id]) for item in items]

    def stock_totals(self, product_ids: Sequence[str]) -> dict[str, tuple[str, int]]:
        """``{product_id: (name, whole stock now)}`` of the products that exist (eventually
        consistent: the metrics job's view after the day)."""
        wanted = [p for p in dict.fromkeys(product_ids) if is_product(p)]
        if not wanted:
            return {}
        items = list(ProductItem.batch_get(wanted, attributes_to_get=["product_id", "name", "stock", "stock_cells",
                                                                      "cell_span"]))
        counts = cell_counts(items, consistent=False)
        return {item.product_id: (item.name, sum(counts[item.product_id])) for item in items}


    def list(self, category: str | None, limit: int, cursor: str | None) -> tuple[list[Product], str | None]:
        """A page of listed products from the index (display fields), with their stock read by
        one BatchGetItem of the page's items (and the cells of split ones; eventually
        consistent, as the index itself)."""
        index = ProductItem.by_category if category else ProductItem.listing
        items, next_cursor = paginate(index, category or CATALOG, cursor, lambda item: item, limit=limit)
        return self.with_stock(items), next_cursor

def _cells_are(item: ProductItem) -> Any:
    return ProductItem.stock_cells.does_not_exist() if item.stock_cells is None \
        else ProductItem.stock_cells == int(item.stock_cells)

"""The catalogue: products, listed by category or all together (a small, hot-read table), and
their stock, which may be split over cells (domain/stock.py) or kept per SKU.

Items: ``product_id`` (the product; its ``stock`` is cell 0), ``"<product>#cell#<i>"`` (cell
i ≥ 1 of a split product: ``stock`` and ``cell_of``) and ``"<product>#sku#<sku>"`` (a SKU's
stock: ``stock`` and ``sku_of``; a product with SKUs keeps 0 in its own ``stock`` and its SKUs'
definitions in ``skus_json``). No index carries ``stock``: a checkout writes only the stock of
the product item, a cell or a SKU, so it writes no index partition at all (``listing``'s and
``all_products``' partition key is the constant ``"all"``, shared by the whole mall, written by
admin edits only); a list page reads its stock with one BatchGetItem.

Every admin change (create, edit, restock) commits its audit entry in its own transaction
(``store/audit.entry_put``).
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError
from pynamodb.indexes import GlobalSecondaryIndex, IncludeProjection
from pynamodb.transactions import TransactWrite

from chalicelib.config import get_settings
from chalicelib.domain.audit import AuditEntry
from chalicelib.domain.catalog import GroupBuy, Product, Sku
from chalicelib.domain.orders import OutOfStock
from chalicelib.domain.stock import Take, resplit, split, stock_id
from chalicelib.store.admin import AdminItem
from chalicelib.store.audit import entry_item, entry_put
from chalicelib.store.base import BaseMeta, StoreModel, TransactionFailed, paginate, transaction_failure

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


class AllProducts(GlobalSecondaryIndex["ProductItem"]):
    """Every product, listed or not (the admin's list): ``everything`` is ``"all"`` on every
    product item (never on a cell's or a SKU's). One partition, written by admin edits only."""

    class Meta:
        index_name = "all_products"
        projection = IncludeProjection([*DISPLAY, "catalog", "images_json", "skus_json"])

    everything = UnicodeAttribute(hash_key=True)
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
    everything = UnicodeAttribute(null=True)
    # SKUs: their definitions [{"sku_id","specs","price_fen","cost_fen"}] (their stock is in
    # their own items, which name their product in ``sku_of``); the product page's images and detail
    skus_json = UnicodeAttribute(null=True)
    sku_of = UnicodeAttribute(null=True)
    images_json = UnicodeAttribute(null=True)
    detail = UnicodeAttribute(null=True)
    resell_returns = BooleanAttribute(null=True)  # returned goods go back to stock (absent: no)
    limit_per_user = NumberAttribute(null=True)  # units one user may buy in all (absent: no limit)

    by_category = ByCategory()
    listing = Listing()
    all_products = AllProducts()


def cell_key(product_id: str, cell: int) -> str:
    """The item holding a cell: cell 0 is the product item itself."""
    return product_id if cell == 0 else f"{product_id}{CELL}{cell}"


def stock_item(product_id: str, cell: int) -> ProductItem:
    return ProductItem(cell_key(product_id, cell))


def _cells(item: ProductItem) -> int:
    return int(item.stock_cells or 1)


def span(item: ProductItem) -> int:
    return max(int(item.cell_span or 1), _cells(item))


def _sku_defs(item: ProductItem) -> list[dict[str, Any]]:
    return list(json.loads(item.skus_json or "[]"))


def stock_keys(item: ProductItem) -> list[str]:
    """The stock ids a product's units are counted in: each SKU's, else the product's own."""
    defs = _sku_defs(item)
    return [stock_id(item.product_id, d["sku_id"]) for d in defs] if defs else [item.product_id]


def to_product(item: ProductItem, counts: Mapping[str, Sequence[int]] | None = None) -> Product:
    """The product of its item. Its stock (and each SKU's) is what ``counts`` read (stock id →
    its cells' counts), else the item's own when the product was never split and has no SKUs;
    None where nobody read it (a split product, or a SKU, at checkout)."""
    def read(key: str) -> int | None:
        return sum(counts[key]) if counts is not None and key in counts else None

    group = None
    if item.group_size:
        group = GroupBuy(int(item.group_size), int(item.group_discount_bp or 0), int(item.group_ttl_hours or 24))
    skus = tuple(Sku(d["sku_id"], dict(d["specs"]), int(d["price_fen"]), int(d["cost_fen"]),
                     read(stock_id(item.product_id, d["sku_id"]))) for d in _sku_defs(item))
    if skus:
        stocks = [sku.stock for sku in skus]
        stock = None if None in stocks else sum(s or 0 for s in stocks)
    else:
        stock = read(item.product_id)
        if stock is None and span(item) == 1 and item.stock is not None:
            stock = int(item.stock)
    return Product(item.product_id, item.name, item.category, int(item.cost_fen), int(item.price_fen),
                   stock, int(item.level1_rate_bp), int(item.level2_rate_bp), group,
                   listed=item.catalog is not None, stock_cells=_cells(item), skus=skus,
                   images=tuple(json.loads(item.images_json or "[]")), detail=item.detail or "",
                   resell_returns=bool(item.resell_returns),
                   limit_per_user=int(item.limit_per_user) if item.limit_per_user is not None else None)


def is_product(raw_or_id: str) -> bool:
    """A product id (not a cell's or a SKU's key: a buyer naming one finds no product)."""
    return "#" not in raw_or_id


def is_stock_id(raw: str) -> bool:
    """A product's or a SKU's stock id (domain/stock.py ``stock_id``), not a cell's key."""
    return CELL not in raw


def _listing(product: Product) -> list[Any]:
    """The listing indexes' keys of a listed product (none while unlisted)."""
    if product.listed:
        return [ProductItem.catalog.set(CATALOG), ProductItem.shelf.set(product.category)]
    return [ProductItem.catalog.remove(), ProductItem.shelf.remove()]


def _connection() -> Connection:
    return ProductItem._get_connection().connection


def cell_counts(items: Iterable[ProductItem], consistent: bool, with_items: bool = False,
                skus_of: dict[str, str] | None = None) -> dict[str, list[int]]:
    """Every stock's cell counts of these product items (stock id → count per cell, over its
    span): a product's own (cell 0 is the item's ``stock``, or read in the same batch with
    ``with_items``: the items are index entries), or each of its SKUs' (one cell each), with one
    BatchGetItem (by 100 keys) of the cells ≥ 1 of split products and of the SKUs. A missing item
    counts 0. With ``skus_of``, the batch also reads the product items' ``skus_json`` into it
    (for index entries that do not project it)."""
    counts: dict[str, list[int]] = {}
    keys = []
    for item in items:
        if item.skus_json and _sku_defs(item):
            for key in stock_keys(item):
                counts[key] = [0]
                keys.append(key)
            continue
        counts[item.product_id] = [0 if with_items else int(item.stock or 0)] + [0] * (span(item) - 1)
        keys += [cell_key(item.product_id, cell) for cell in range(0 if with_items else 1, span(item))]
    if keys:
        wanted = ["product_id", "stock"] + (["skus_json"] if skus_of is not None else [])
        for cell in ProductItem.batch_get(keys, consistent_read=consistent, attributes_to_get=wanted):
            key, _, index = cell.product_id.rpartition(CELL)
            if not key:  # a product's or a SKU's own item: cell 0
                key, index = cell.product_id, "0"
                if skus_of is not None and cell.skus_json:
                    skus_of[key] = cell.skus_json
            if key in counts and index.isdigit() and int(index) < len(counts[key]):
                counts[key][int(index)] = int(cell.stock or 0)
    return counts


def _landed_before(failure: TransactionFailed, entry: AuditEntry) -> bool:
    """Whether the entry's own put was refused: it exists, so an earlier attempt of this very
    request committed the change it records (its answer lost: a timeout), and nothing is to do.
    A service keeps one entry id across the attempts of one request for this."""
    item = entry_item(entry)
    return failure.refused(AdminItem.Meta.table_name, pk=item.pk, sk=item.sk)


def _sku_json(product: Product) -> str | None:
    defs = [{"sku_id": s.sku_id, "specs": s.specs, "price_fen": s.price_fen, "cost_fen": s.cost_fen}
            for s in product.skus]
    return json.dumps(defs, ensure_ascii=False) if defs else None


def _sku_stock_put(tx: TransactWrite, product_id: str, sku: Sku) -> None:
    """A new SKU's stock item (never one that exists: a SKU id is never reused)."""
    tx.update(ProductItem(stock_id(product_id, sku.sku_id)), actions=[
        ProductItem.stock.set(sku.stock or 0), ProductItem.sku_of.set(product_id)],
        condition=ProductItem.product_id.does_not_exist())


class ProductStore:
    def get(self, product_id: str, consistent: bool = True) -> Product | None:
        """A product with its whole stock and each SKU's (the item, then its other cells or its
        SKUs in one BatchGetItem)."""
        if not is_product(product_id):
            return None
        try:
            item = ProductItem.get(product_id, consistent_read=consistent)
        except ProductItem.DoesNotExist:
            return None
        return to_product(item, cell_counts([item], consistent=consistent))

    def cells(self, stock_ids: Sequence[str]) -> dict[str, tuple[int, list[int]]]:
        """For checkout's fallback: each stock's K and its cells' counts, read consistently (the
        product or SKU items, then the other cells of the split products). A SKU is one cell."""
        wanted = [p for p in dict.fromkeys(stock_ids) if is_stock_id(p)]
        items = list(ProductItem.batch_get(wanted, consistent_read=True)) if wanted else []
        found = {}
        for item in items:
            key = item.product_id
            if item.sku_of:
                found[key] = (1, [int(item.stock or 0)])
            else:
                found[key] = (_cells(item), cell_counts([item], consistent=True)[key])
        return found

    def replace(self, product: Product, was: Product, entry: AuditEntry, stock_sets: Mapping[str, int]) -> None:
        """Write an edited product with its audit entry, in one transaction, keeping its stock as
        it is now (checkouts move it; a change of its cells is :meth:`resplit`). A SKU that is
        new gets its stock item; ``stock_sets`` (SKU id → stock) sets existing SKUs' stock,
        each conditioned on the count in ``was``; the product is conditioned on its SKUs being
        those of ``was`` (another edit meanwhile: TransactionFailed, the caller reads again). A
        SKU dropped keeps its item (no longer sold or counted; a pending order's cancellation
        still returns its units there). An entry that exists already means an earlier attempt
        of this edit committed: done."""
        actions: list[Any] = [ProductItem.name.set(product.name), ProductItem.category.set(product.category),
                              ProductItem.cost_fen.set(product.cost_fen), ProductItem.price_fen.set(product.price_fen),
                              ProductItem.level1_rate_bp.set(product.level1_rate_bp),
                              ProductItem.level2_rate_bp.set(product.level2_rate_bp), *_listing(product),
                              ProductItem.everything.set(CATALOG)]
        group = product.group_buy
        actions += [ProductItem.group_size.set(group.size), ProductItem.group_discount_bp.set(group.discount_bp),
                    ProductItem.group_ttl_hours.set(group.ttl_hours)] if group else \
            [ProductItem.group_size.remove(), ProductItem.group_discount_bp.remove(), ProductItem.group_ttl_hours.remove()]
        skus = _sku_json(product)
        actions.append(ProductItem.skus_json.set(skus) if skus else ProductItem.skus_json.remove())
        actions.append(ProductItem.images_json.set(json.dumps(list(product.images))) if product.images
                       else ProductItem.images_json.remove())
        actions.append(ProductItem.detail.set(product.detail) if product.detail else ProductItem.detail.remove())
        actions.append(ProductItem.resell_returns.set(True) if product.resell_returns
                       else ProductItem.resell_returns.remove())
        actions.append(ProductItem.limit_per_user.set(product.limit_per_user) if product.limit_per_user
                       else ProductItem.limit_per_user.remove())
        old = _sku_json(was)
        same_skus = ProductItem.skus_json == old if old else ProductItem.skus_json.does_not_exist()
        existing = {sku.sku_id: sku for sku in was.skus}
        try:
            with TransactWrite(connection=_connection()) as tx:
                tx.update(ProductItem(product.product_id), actions=actions,
                          condition=ProductItem.product_id.exists() & same_skus)
                for sku in product.skus:
                    if sku.sku_id not in existing:
                        _sku_stock_put(tx, product.product_id, sku)
                    elif sku.sku_id in stock_sets:
                        tx.update(ProductItem(stock_id(product.product_id, sku.sku_id)),
                                  actions=[ProductItem.stock.set(stock_sets[sku.sku_id])],
                                  condition=ProductItem.stock == (existing[sku.sku_id].stock or 0))
                entry_put(tx, entry)
        except TransactWriteError as exc:
            failure = transaction_failure(exc, tx)
            if not _landed_before(failure, entry):
                raise failure from exc

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

    def restock(self, product_id: str, stock: str, takes: Sequence[Take], adds: Sequence[Take],
                entry: AuditEntry) -> None:
        """Move one stock (a product's or a SKU's, domain/stock.py ``stock_id``) with the audit
        entry, in one transaction: ``adds`` (cell, units) added to cells that exist, ``takes``
        removed from cells conditioned on holding them. Raises OutOfStock when a take is refused
        (the caller decides whether that is final: the cells as read may have moved). An entry
        that exists already means an earlier attempt committed: done."""
        try:
            with TransactWrite(connection=_connection()) as tx:
                for cell, units in adds:
                    tx.update(ProductItem(cell_key(stock, cell)), actions=[ProductItem.stock.add(units)],
                              condition=ProductItem.product_id.exists())
                for cell, units in takes:
                    tx.update(ProductItem(cell_key(stock, cell)), actions=[ProductItem.stock.add(-units)],
                              condition=ProductItem.stock >= units)
                entry_put(tx, entry)
        except TransactWriteError as exc:
            failure = transaction_failure(exc, tx)
            if _landed_before(failure, entry):
                return
            if any(failure.refused(ProductItem.Meta.table_name, product_id=cell_key(stock, cell)) for cell, _ in takes):
                raise OutOfStock("the stock would go below 0", product_id=product_id) from exc
            raise failure from exc

    def set_listed(self, product_id: str, listed: bool) -> None:
        """List a product whose copy was approved (the review decision records itself)."""
        product = self.get(product_id)
        if product is not None:
            ProductItem(product_id).update(actions=_listing(replace(product, listed=listed)),
                                           condition=ProductItem.product_id.exists())

    def put_if_absent(self, product: Product, now: datetime, entry: AuditEntry | None = None) -> bool:
        """A new product, in one transaction with its cells (split: ``stock_cells`` > 1) or its
        SKUs' stock items, and its audit entry (an admin's: None for the demo catalogue). False
        when the id exists."""
        counts = split(0 if product.skus else product.stock or 0, product.stock_cells)
        item = ProductItem(product.product_id, name=product.name, category=product.category,
                           cost_fen=product.cost_fen, price_fen=product.price_fen, stock=counts[0],
                           level1_rate_bp=product.level1_rate_bp, level2_rate_bp=product.level2_rate_bp,
                           created_at=now, catalog=CATALOG if product.listed else None,
                           shelf=product.category if product.listed else None, everything=CATALOG,
                           skus_json=_sku_json(product), detail=product.detail or None,
                           images_json=json.dumps(list(product.images)) if product.images else None,
                           resell_returns=True if product.resell_returns else None,
                           limit_per_user=product.limit_per_user)
        if product.group_buy:
            item.group_size = product.group_buy.size
            item.group_discount_bp = product.group_buy.discount_bp
            item.group_ttl_hours = product.group_buy.ttl_hours
        if product.stock_cells > 1:
            item.stock_cells = item.cell_span = product.stock_cells
        try:
            with TransactWrite(connection=_connection()) as tx:
                tx.save(item, condition=ProductItem.product_id.does_not_exist())
                for cell in range(1, product.stock_cells):
                    tx.update(stock_item(product.product_id, cell), actions=[
                        ProductItem.stock.set(counts[cell]), ProductItem.cell_of.set(product.product_id)],
                        condition=ProductItem.product_id.does_not_exist())
                for sku in product.skus:
                    _sku_stock_put(tx, product.product_id, sku)
                if entry is not None:
                    entry_put(tx, entry)
        except TransactWriteError as exc:
            failure = transaction_failure(exc, tx)
            if failure.refused(ProductItem.Meta.table_name, product_id=product.product_id):
                return False
            raise failure from exc
        return True

    def with_stock(self, items: Sequence[ProductItem]) -> list[Product]:
        """Products of index entries (no stock), with their whole stock and their SKUs': one
        BatchGetItem of the items' (or their SKUs') and their cells' ``stock`` (eventually
        consistent, as the index itself). The listing indexes, older than SKUs, do not project
        ``skus_json`` (changing a projection rebuilds an index, one per deploy): that batch reads
        it from the product items, and a page holding products with SKUs reads their SKUs'
        stock in a second one. ``all_products`` projects it: one batch."""
        skus: dict[str, str] = {}
        counts = cell_counts(items, consistent=False, with_items=True, skus_of=skus)
        late = [item for item in items if not item.skus_json and item.product_id in skus]
        for item in late:
            item.skus_json = skus[item.product_id]
        if late:
            counts.update(cell_counts(late, consistent=False))
        return [to_product(item, counts) for item in items]

    def stock_totals(self, product_ids: Sequence[str]) -> dict[str, tuple[str, int]]:
        """``{product_id: (name, whole stock now)}`` of the products that exist (eventually
        consistent: the metrics job's view after the day)."""
        wanted = [p for p in dict.fromkeys(product_ids) if is_product(p)]
        if not wanted:
            return {}
        items = list(ProductItem.batch_get(wanted, attributes_to_get=["product_id", "name", "stock", "stock_cells",
                                                                      "cell_span", "skus_json"]))
        counts = cell_counts(items, consistent=False)
        return {item.product_id: (item.name, sum(sum(counts[key]) for key in stock_keys(item))) for item in items}

    def admin_list(self, listed: bool | None, q: str | None, limit: int, cursor: str | None
                   ) -> tuple[list[Product], str | None]:
        """A page of every product (``all_products``, by id), listed or not, filtered on the
        index (``listed``; ``q``: a product id exactly, else a substring of the name), then its
        stock as :meth:`list`. A product id is looked up by key (DynamoDB filters no key
        attribute): the product alone when it exists and passes ``listed``. A filtered page
        reads index pages until it holds ``limit`` products or the index ends (DynamoDB filters
        after reading: a rare ``q`` reads more of the index)."""
        if q and cursor is None and is_product(q):
            found = self.get(q, consistent=False)
            if found is not None:
                return ([found] if listed is None or found.listed == listed else []), None
        condition: Any = None
        if listed is not None:
            condition = ProductItem.catalog.exists() if listed else ProductItem.catalog.does_not_exist()
        if q:
            match = ProductItem.name.contains(q)
            condition = match if condition is None else condition & match
        items, next_cursor = paginate(ProductItem.all_products, CATALOG, cursor, lambda item: item, limit=limit,
                                      filter_condition=condition)
        return self.with_stock(items), next_cursor

    def backfill_all_products(self) -> int:
        """Once, after the deploy that added ``all_products``: mark the products written before
        it (``everything`` absent) so the admin list shows them. A Scan, the one of this store:
        a migration run by hand (docs/catalogue.md) and by ``make dev``'s seeding, never by a
        request. Returns how many it marked."""
        marked = 0
        missing = ProductItem.name.exists() & ProductItem.everything.does_not_exist()
        for item in ProductItem.scan(filter_condition=missing, attributes_to_get=["product_id"]):
            ProductItem(item.product_id).update(actions=[ProductItem.everything.set(CATALOG)],
                                                condition=ProductItem.product_id.exists())
            marked += 1
        return marked

    def list(self, category: str | None, limit: int, cursor: str | None) -> tuple[list[Product], str | None]:
        """A page of listed products from the index (display fields), with their stock read by
        one BatchGetItem of the page's items (and the cells of split ones, the SKUs of others;
        eventually consistent, as the index itself)."""
        index = ProductItem.by_category if category else ProductItem.listing
        items, next_cursor = paginate(index, category or CATALOG, cursor, lambda item: item, limit=limit)
        return self.with_stock(items), next_cursor


def _cells_are(item: ProductItem) -> Any:
    return ProductItem.stock_cells.does_not_exist() if item.stock_cells is None \
        else ProductItem.stock_cells == int(item.stock_cells)

"""The operator's catalogue on moto: SKUs end to end (create, checkout, cancellation, refund,
group-buy), restocks (plain, split, SKU; never below 0), edits of SKUs, images and detail, the
admin list and the product page, each admin change with its audit entry."""
from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from chalicelib.bootstrap import Deps
from chalicelib.domain.catalog import Product
from chalicelib.domain.errors import DomainError, NotFound
from chalicelib.domain.orders import Order
from chalicelib.services import catalog, groups, orders, payments
from chalicelib.services.sessions import Caller
from chalicelib.store.admin import AdminItem
from chalicelib.store.products import ProductItem
from tests import order_jobs
from tests.images import uploaded
from tests.service.test_orders import ADDRESS, login

SHIRT = {"name": "衬衫 Shirt", "category": "apparel", "cost_fen": 3_000, "price_fen": 10_000, "stock": 4,
         "group_buy": {"size": 2, "discount_bp": 2_000, "ttl_hours": 24},
         "skus": [{"specs": {"颜色": "红", "尺码": "M"}},
                  {"specs": {"颜色": "红", "尺码": "L"}, "price_fen": 12_000, "cost_fen": 4_000, "stock": 2}]}


def audits(action: str | None = None) -> list[dict[str, Any]]:
    entries = [item for item in AdminItem.scan() if item.action and (action is None or item.action == action)]
    return [{"actor": e.actor, "action": e.action, "target": e.target, **json.loads(e.state or "{}")}
            for e in sorted(entries, key=lambda e: e.sk)]


@pytest.fixture
def admin(deps: Deps) -> str:
    return login(deps, "admin")


def shirt(deps: Deps, admin: str, **fields: Any) -> Product:
    product, review = catalog.create_product({**SHIRT, **fields}, admin, deps)
    assert review is None
    return product


def stocks(deps: Deps, product_id: str) -> dict[str, int | None]:
    product = deps.products.get(product_id)
    assert product is not None
    return {sku.specs["尺码"]: sku.stock for sku in product.skus}


def buy(deps: Deps, buyer: str, product_id: str, sku_id: str | None, quantity: int = 1) -> Order:
    body = {"items": [{"product_id": product_id, "sku_id": sku_id, "quantity": quantity}], "address": ADDRESS}
    return orders.place_order(buyer, [(product_id, quantity, sku_id)], body, uuid.uuid4().hex, deps).order


def pay(deps: Deps, order: Order) -> None:
    headers, raw = deps.pay.build_payment_notification(order.order_id, deps.clock(), amount_fen=order.amount_fen)
    assert payments.handle_notification(headers, raw, deps).outcome == "paid"


def test_a_product_with_skus_is_created_with_the_products_fields_as_their_defaults_and_its_audit_entry(deps, admin):
    product = shirt(deps, admin)
    medium, large = product.skus
    assert (medium.price_fen, medium.cost_fen, medium.stock) == (10_000, 3_000, 4)  # the product's defaults
    assert (large.price_fen, large.cost_fen, large.stock) == (12_000, 4_000, 2)
    assert medium.sku_id != large.sku_id and medium.sku_id.startswith("s")
    read = deps.products.get(product.product_id)
    assert read == product and read.stock == 6
    assert ProductItem.get(f"{product.product_id}#sku#{medium.sku_id}").sku_of == product.product_id
    entry, = audits("product.create")
    assert (entry["actor"], entry["target"], entry["before"]) == (admin, f"product#{product.product_id}", None)
    assert entry["after"]["stock"] == 6 and [s["sku_id"] for s in entry["after"]["skus"]] == [medium.sku_id, large.sku_id]


def test_a_product_whose_sku_breaks_the_margin_or_repeats_specs_or_is_split_is_refused_and_nothing_is_written(
        deps, admin):
    thin = {"specs": {"颜色": "蓝"}, "price_fen": 10_000, "cost_fen": 9_000}
    for fields, code in (({"skus": [*SHIRT["skus"], thin]}, "COMMISSION_EXCEEDS_MARGIN"),
                         ({"skus": [SHIRT["skus"][0], {"specs": {"尺码": "M", "颜色": "红"}}]}, "INVALID_SKUS"),
                         ({"stock_cells": 2}, "INVALID_SKUS")):
        with pytest.raises(DomainError) as refused:
            catalog.create_product({**SHIRT, **fields}, admin, deps)
        assert refused.value.code == code
    assert list(ProductItem.scan()) == [] and audits() == []


def test_a_sku_checkout_takes_the_skus_stock_only_and_a_cancellation_returns_it_there(deps, clock, admin):
    product = shirt(deps, admin)
    large = product.skus[1]
    buyer = login(deps, "buyer")
    order = buy(deps, buyer, product.product_id, large.sku_id, 2)
    assert order.amount_fen == 24_000 and (order.lines[0].sku_id, order.lines[0].specs) == (large.sku_id, large.specs)
    assert deps.orders.get(order.order_id).lines == order.lines  # the SKU and specs are kept on the order
    assert stocks(deps, product.product_id) == {"M": 4, "L": 0}
    with pytest.raises(DomainError) as short:
        buy(deps, buyer, product.product_id, large.sku_id)
    assert (short.value.code, short.value.details.get("sku_id")) == ("OUT_OF_STOCK", large.sku_id)
    clock.advance(minutes=16)
    assert order_jobs.cancel_unpaid(clock(), deps)["cancelled"] == 1
    assert stocks(deps, product.product_id) == {"M": 4, "L": 2}
    assert ProductItem.get(product.product_id).stock == 0  # the product's own stock is never touched


def test_an_order_of_two_skus_and_a_plain_product_prices_each_line_and_a_refund_returns_each(deps, admin):
    product = shirt(deps, admin)
    medium, large = product.skus
    deps.products.put_if_absent(Product("p1", "面膜", "beauty", 1_500, 5_000, 9, 2_000, 500), deps.clock())
    buyer = login(deps, "buyer")
    body = {"items": [], "address": ADDRESS}
    order = orders.place_order(buyer, [(product.product_id, 1, medium.sku_id), (product.product_id, 2, large.sku_id), ("p1", 3)],
                               body, uuid.uuid4().hex, deps).order
    assert [line.unit_price_fen for line in order.lines] == [10_000, 12_000, 5_000]
    assert stocks(deps, product.product_id) == {"M": 3, "L": 0} and deps.products.get("p1").stock == 6
    pay(deps, order)
    orders.refund(order.order_id, Caller(buyer, "user"), "不要了", deps)
    assert stocks(deps, product.product_id) == {"M": 4, "L": 2} and deps.products.get("p1").stock == 9


def test_a_group_buys_one_sku_and_its_failure_returns_the_skus_stock(deps, clock, admin):
    product = shirt(deps, admin)
    medium, _ = product.skus
    leader, joiner = login(deps, "leader"), login(deps, "joiner")
    with pytest.raises(DomainError, match="SKU") as refused:
        groups.open_group(leader, product.product_id, {}, uuid.uuid4().hex, deps)
    assert refused.value.code == "SKU_REQUIRED"
    opened = groups.open_group(leader, product.product_id, {"sku_id": medium.sku_id}, uuid.uuid4().hex, deps,
                               sku_id=medium.sku_id)
    assert opened.order.amount_fen == 8_000 and opened.order.lines[0].sku_id == medium.sku_id  # 20% off the SKU's price
    joined = groups.join_group(joiner, opened.group.group_id, {}, uuid.uuid4().hex, deps)
    assert joined.order.lines == opened.order.lines  # every member buys the same SKU
    assert stocks(deps, product.product_id)["M"] == 2
    pay(deps, opened.order)
    clock.advance(hours=25)
    assert order_jobs.expire_groups(clock(), deps) == {"failed": 1, "refunded": 1, "cancelled": 1}
    assert stocks(deps, product.product_id)["M"] == 4


def test_a_restock_adds_or_removes_atomically_never_below_zero_with_its_audit_entry(deps, admin):
    deps.products.put_if_absent(Product("p1", "面膜", "beauty", 1_500, 5_000, 5, 2_000, 500), deps.clock())
    assert catalog.update_product("p1", {"stock_delta": 7}, admin, deps)[0].stock == 12
    assert catalog.update_product("p1", {"stock_delta": -12}, admin, deps)[0].stock == 0
    with pytest.raises(DomainError) as refused:
        catalog.update_product("p1", {"stock_delta": -1}, admin, deps)
    assert refused.value.code == "OUT_OF_STOCK" and deps.products.get("p1").stock == 0
    entries = sorted(audits("product.restock"), key=lambda e: -e["after"]["stock_delta"])  # same time: any order
    assert [(e["before"], e["after"]) for e in entries] == [
        ({"stock": 5}, {"stock": 12, "stock_delta": 7}), ({"stock": 12}, {"stock": 0, "stock_delta": -12})]


def test_a_restock_of_a_split_product_lands_on_its_cells_in_one_transaction_and_keeps_the_total(deps, admin):
    deps.products.put_if_absent(Product("pf", "秒杀", "beauty", 1_500, 5_000, 8, 2_000, 500, stock_cells=4),
                                deps.clock())
    catalog.update_product("pf", {"stock_delta": 6}, admin, deps)
    assert deps.products.cells(["pf"])["pf"][1] == [4, 4, 3, 3]
    catalog.update_product("pf", {"stock_delta": -13}, admin, deps)
    assert sum(deps.products.cells(["pf"])["pf"][1]) == 1
    with pytest.raises(DomainError, match="below 0"):
        catalog.update_product("pf", {"stock_delta": -2}, admin, deps)
    assert sum(deps.products.cells(["pf"])["pf"][1]) == 1 and len(audits("product.restock")) == 2


def test_a_restock_of_a_product_with_skus_names_its_sku(deps, admin):
    product = shirt(deps, admin)
    medium, _ = product.skus
    for changes, code in (({"stock_delta": 3}, "SKU_REQUIRED"), ({"stock_delta": 3, "sku_id": "snope"}, "SKU_NOT_FOUND"),
                          ({"sku_id": medium.sku_id}, "INVALID_SKUS"),
                          ({"stock_delta": -5, "sku_id": medium.sku_id}, "OUT_OF_STOCK")):
        with pytest.raises(DomainError) as refused:
            catalog.update_product(product.product_id, changes, admin, deps)
        assert refused.value.code == code
    updated, _ = catalog.update_product(product.product_id, {"stock_delta": 3, "sku_id": medium.sku_id}, admin, deps)
    assert stocks(deps, product.product_id) == {"M": 7, "L": 2} and updated.stock == 9
    entry, = audits("product.restock")
    assert entry["after"] == {"stock": 7, "sku_id": medium.sku_id, "stock_delta": 3}
    with pytest.raises(NotFound):
        catalog.update_product("pnope", {"stock_delta": 1}, admin, deps)


def test_editing_skus_keeps_stock_unless_given_adds_new_ones_and_drops_the_left_out(deps, admin):
    product = shirt(deps, admin)
    medium, large = product.skus
    changes = {"skus": [{"sku_id": medium.sku_id, "price_fen": 11_000}, {"sku_id": large.sku_id, "stock": 9},
                        {"specs": {"颜色": "白", "尺码": "S"}}]}
    edited, _ = catalog.update_product(product.product_id, changes, admin, deps)
    new = edited.skus[2]
    assert [(s.price_fen, s.stock) for s in edited.skus] == [(11_000, 4), (12_000, 9), (10_000, 0)]
    assert deps.products.get(product.product_id) == edited
    entry, = audits("product.update")
    assert set(entry["before"]) == set(entry["after"]) == {"skus"}
    catalog.update_product(product.product_id, {"skus": [{"sku_id": new.sku_id}]}, admin, deps)
    assert [s.sku_id for s in deps.products.get(product.product_id).skus] == [new.sku_id]
    assert ProductItem.get(f"{product.product_id}#sku#{medium.sku_id}").stock == 4  # kept, no longer sold
    with pytest.raises(DomainError) as refused:
        buy(deps, login(deps, "buyer"), product.product_id, medium.sku_id)
    assert refused.value.code == "SKU_NOT_FOUND"
    with pytest.raises(DomainError) as unknown:
        catalog.update_product(product.product_id, {"skus": [{"sku_id": medium.sku_id}]}, admin, deps)
    assert unknown.value.code == "SKU_NOT_FOUND"


def test_a_product_without_skus_gains_them_only_with_its_own_stock_at_zero(deps, admin):
    deps.products.put_if_absent(Product("p1", "面膜", "beauty", 1_500, 5_000, 2, 2_000, 500), deps.clock())
    skus = {"skus": [{"specs": {"容量": "50ml"}, "stock": 5}]}
    with pytest.raises(DomainError, match="stock at 0"):
        catalog.update_product("p1", skus, admin, deps)
    catalog.update_product("p1", {"stock_delta": -2}, admin, deps)
    product, _ = catalog.update_product("p1", skus, admin, deps)
    assert product.stock == 5 and deps.products.get("p1").stock == 5


def test_listed_images_and_detail_are_edited_with_their_audit_entry(deps, admin):
    deps.products.put_if_absent(Product("p1", "面膜", "beauty", 1_500, 5_000, 2, 2_000, 500), deps.clock())
    images = [uploaded(deps), uploaded(deps)]
    product, _ = catalog.update_product("p1", {"listed": False, "images": images, "detail": "<p>补水</p>"}, admin, deps)
    assert (product.listed, product.images, product.detail) == (False, tuple(images), "<p>补水</p>")
    assert deps.products.get("p1") == product
    entry, = audits("product.update")
    assert entry["before"] == {"listed": True, "images": [], "detail": ""}
    never_uploaded = images[0].replace(".png", ".jpg")
    for bad, code in (([images[0]] * 10, "INVALID_IMAGES"), (["https://x.com/a.jpg"], "IMAGE_NOT_OURS"),
                      (["ftp://x"], "IMAGE_NOT_OURS"), ([images[1], never_uploaded], "IMAGE_NOT_UPLOADED"),
                      ([uploaded(deps, b"<html>not an image")], "IMAGE_INVALID")):
        with pytest.raises(DomainError) as refused:
            catalog.update_product("p1", {"images": bad}, admin, deps)
        assert refused.value.code == code
    assert deps.products.get("p1") == product and len(audits()) == 1


def test_a_detail_that_moderation_blocks_is_refused_and_nothing_changes(deps, admin):
    deps.products.put_if_absent(Product("p1", "面膜", "beauty", 1_500, 5_000, 2, 2_000, 500), deps.clock())
    before = deps.products.get("p1")
    with pytest.raises(DomainError) as refused:
        catalog.update_product("p1", {"detail": "<p>躺赚攻略</p>"}, admin, deps)
    assert refused.value.code == "CONTENT_BLOCKED"
    assert deps.products.get("p1") == before and audits() == []


def test_the_admin_list_shows_every_product_with_filters_and_pages(deps, admin):
    made = [shirt(deps, admin, name=f"衬衫 {n}") for n in range(3)]
    catalog.update_product(made[1].product_id, {"listed": False}, admin, deps)
    page, cursor = catalog.admin_products(None, None, 2, None, deps)
    rest, end = catalog.admin_products(None, None, 2, cursor, deps)
    assert end is None and sorted(p.product_id for p in page + rest) == sorted(p.product_id for p in made)
    assert all(p.stock == 6 and len(p.skus) == 2 and p.skus[0].stock == 4 for p in page + rest)
    assert [p.product_id for p in catalog.admin_products(False, None, 20, None, deps)[0]] == [made[1].product_id]
    assert len(catalog.admin_products(True, None, 20, None, deps)[0]) == 2
    assert [p.name for p in catalog.admin_products(None, "衬衫 2", 20, None, deps)[0]] == ["衬衫 2"]
    assert [p.product_id for p in catalog.admin_products(None, made[0].product_id, 20, None, deps)[0]] == [
        made[0].product_id]
    assert catalog.admin_products(None, "nothing", 20, None, deps)[0] == []


def test_the_product_page_shows_a_listed_product_with_its_skus_stock_and_hides_an_unlisted_one(deps, admin):
    product = shirt(deps, admin, images=[uploaded(deps)], detail="<p>纯棉</p>")
    buyer = login(deps, "buyer")
    shown, _ = catalog.product_page(buyer, product.product_id, deps)
    assert (shown.images, shown.detail, [s.stock for s in shown.skus]) == (product.images, "<p>纯棉</p>", [4, 2])
    catalog.update_product(product.product_id, {"listed": False}, admin, deps)
    for product_id in (product.product_id, "pnope", f"{product.product_id}#sku#{product.skus[0].sku_id}"):
        with pytest.raises(DomainError) as refused:
            catalog.product_page(buyer, product_id, deps)
        assert (refused.value.code, refused.value.kind.value) == ("PRODUCT_NOT_FOUND", "not_found")


def test_the_public_listing_shows_a_sku_products_stock_as_the_sum_of_its_skus(deps, admin):
    product = shirt(deps, admin)
    listed = catalog.list_products(login(deps, "buyer"), None, 20, None, deps)
    assert [(p.product_id, p.stock) for p in listed.products] == [(product.product_id, 6)]
    assert deps.products.stock_totals([product.product_id]) == {product.product_id: ("衬衫 Shirt", 6)}


def test_products_written_before_the_admin_list_are_marked_once_and_then_listed(deps, admin):
    shirt(deps, admin)
    ProductItem("pold", name="旧", category="food", cost_fen=1, price_fen=5, stock=3, level1_rate_bp=0,
                level2_rate_bp=0, created_at=deps.clock(), catalog="all", shelf="food").save()
    assert [p.product_id for p in catalog.admin_products(None, "旧", 20, None, deps)[0]] == []
    assert deps.products.backfill_all_products() == 1  # neither the new product nor its SKU items
    assert deps.products.backfill_all_products() == 0
    assert [(p.product_id, p.stock) for p in catalog.admin_products(None, "旧", 20, None, deps)[0]] == [("pold", 3)]

"""The order jobs on the job engine: planned over the 16 shards of their due index, walked a page
at a time with cursors. ``slice_budget=0`` (every slice does one page and hands back its cursor)
reaches the same end state as a run whose slices finish their parts at once."""
from __future__ import annotations

import uuid
from collections import Counter

import pytest

from chalicelib.bootstrap import Deps
from chalicelib.domain.catalog import GroupBuy, Product
from chalicelib.jobs import run_job
from chalicelib.services import due, groups, orders
from tests.service.test_groups import join, open_, pay
from tests.service.test_orders import ADDRESS, login

BUDGETS = pytest.mark.parametrize("budget", [None, 0], ids=["whole-slices", "one-page-slices"])


@pytest.fixture(autouse=True)
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two ids a page, so a shard holding a few orders takes several pages (and slices)."""
    monkeypatch.setattr(due, "PAGE", 2)


@pytest.fixture
def stocked(deps: Deps) -> None:
    deps.products.put_if_absent(Product("p1", "面膜", "beauty", 1_500, 5_000, 100, 2_000, 500), deps.clock())
    deps.products.put_if_absent(Product("pflash", "秒杀", "beauty", 1_500, 5_000, 40, 2_000, 500, stock_cells=4),
                                deps.clock())
    deps.products.put_if_absent(Product("pg", "坚果", "food", 2_000, 5_000, 30, 1_600, 500, GroupBuy()), deps.clock())


def buy(deps: Deps, buyer: str, product_id: str, quantity: int = 1) -> str:
    body = {"items": [{"product_id": product_id, "quantity": quantity}], "address": ADDRESS}
    return orders.place_order(buyer, [(product_id, quantity)], body, uuid.uuid4().hex, deps).order.order_id


def statuses(deps: Deps, order_ids: list[str]) -> Counter[str]:
    return Counter(deps.orders.get(o).status.value for o in order_ids)


@BUDGETS
def test_cancel_unpaid_cancels_every_shards_orders_once_and_returns_their_stock(deps, clock, stocked, budget):
    buyer = login(deps, "buyer")
    unpaid = [buy(deps, buyer, "p1" if n % 2 else "pflash", 2) for n in range(24)]
    paid = buy(deps, buyer, "p1")
    pay(deps, paid)
    assert len({o[-1] for o in unpaid}) > 4  # spread over shards
    clock.advance(minutes=16)
    summary = run_job("cancel_unpaid", clock(), deps, slice_budget=budget)
    assert (summary["cancelled"], summary["parts"]) == (24, 16)
    assert summary["slices"] >= (16 * 8 if budget == 0 else 16)  # one page (≤ one day) a slice, or a part each
    assert statuses(deps, unpaid) == Counter({"cancelled": 24}) and statuses(deps, [paid])["paid"] == 1
    assert (deps.products.get("p1").stock, deps.products.get("pflash").stock) == (99, 40)
    assert run_job("cancel_unpaid", clock(), deps, slice_budget=budget)["cancelled"] == 0


@BUDGETS
def test_auto_confirm_completes_every_shards_shipped_orders_once(deps, clock, stocked, budget):
    buyer = login(deps, "buyer")
    shipped = []
    for _ in range(12):
        order_id = buy(deps, buyer, "p1")
        pay(deps, order_id)
        orders.ship(order_id, "SF", "SF123456", deps)
        shipped.append(order_id)
    kept = buy(deps, buyer, "p1")
    pay(deps, kept)  # paid, never shipped: not due
    clock.advance(days=deps.rules.delivery.confirm_fallback_days, minutes=1)  # never reported delivered
    summary = run_job("auto_confirm", clock(), deps, slice_budget=budget)
    assert (summary["confirmed"], summary["parts"]) == (12, 16)
    assert statuses(deps, shipped) == Counter({"completed": 12}) and statuses(deps, [kept])["paid"] == 1
    assert run_job("auto_confirm", clock(), deps, slice_budget=budget)["confirmed"] == 0


@BUDGETS
def test_expire_groups_fails_every_shards_late_groups_refunding_and_cancelling_once(deps, clock, stocked, budget):
    opened = []
    for n in range(6):
        group = open_(deps, login(deps, f"leader{n}"))
        pay(deps, group.order.order_id)
        member = join(deps, login(deps, f"member{n}"), group.group.group_id).order.order_id
        opened.append((group.group.group_id, group.order.order_id, member))
    clock.advance(hours=24, minutes=1)
    summary = run_job("expire_groups", clock(), deps, slice_budget=budget)
    assert ({k: summary[k] for k in ("failed", "refunded", "cancelled")}, summary["parts"]) == (
        {"failed": 6, "refunded": 6, "cancelled": 6}, 16)
    assert {groups.get_group(g, deps).status.value for g, _, _ in opened} == {"failed"}
    assert statuses(deps, [leader for _, leader, _ in opened]) == Counter({"refunded": 6})
    assert statuses(deps, [member for _, _, member in opened]) == Counter({"cancelled": 6})
    assert deps.products.get("pg").stock == 30
    again = run_job("expire_groups", clock(), deps, slice_budget=budget)
    assert {k: again[k] for k in ("failed", "refunded", "cancelled")} == {"failed": 0, "refunded": 0, "cancelled": 0}

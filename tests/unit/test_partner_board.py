"""The partner board's figures (domain/partner_board.py): only the partner's team's paid orders
count, by the Shanghai day they were paid, refunds taken off; conversion never exceeds 100%."""
from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from chalicelib.domain.orders import Line, Order, OrderStatus, Upline
from chalicelib.domain.partner_board import conversion_bp, team_figures, value_fen

PAID_AT = datetime(2026, 11, 10, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai, 2026-11-10
DAY = date(2026, 11, 10)


def an_order(order_id: str, buyer: str, level1: str | None, level2: str | None = None, amount: int = 10_000,
             product: str = "p1", quantity: int = 1, **fields: object) -> Order:
    line = Line(product, f"name-{product}", quantity, amount // quantity, 1_000, 1_000, 500)
    made = Order(order_id, buyer, OrderStatus.PAID, [line], amount, PAID_AT, PAID_AT + timedelta(minutes=30),
                 Upline(level1, level2), paid_at=PAID_AT)
    return replace(made, **fields)  # type: ignore[arg-type]


def test_only_the_partners_team_orders_count_at_either_level() -> None:
    orders = [an_order("o1", "b1", "P"), an_order("o2", "b2", "x", "P", amount=5_000),
              an_order("o3", "b3", "Q", amount=99_999)]
    figures = team_figures(orders, "P", DAY, DAY)
    assert (figures.gmv_fen, figures.orders, figures.paying_buyers) == (15_000, 2, 2)
    assert [p.product_id for p in figures.top_products] == ["p1"]


def test_unpaid_cancelled_and_refunded_orders_bring_nothing_and_partial_refunds_are_taken_off() -> None:
    orders = [an_order("o1", "b1", "P", status=OrderStatus.PENDING_PAYMENT, paid_at=None),
              an_order("o2", "b1", "P", status=OrderStatus.CANCELLED, paid_at=None),
              an_order("o3", "b1", "P", status=OrderStatus.REFUNDED),
              an_order("o4", "b2", "P", status=OrderStatus.COMPLETED, refunded_fen=4_000)]
    assert [value_fen(o) for o in orders] == [0, 0, 0, 6_000]
    figures = team_figures(orders, "P", DAY, DAY)
    assert (figures.gmv_fen, figures.orders, figures.paying_buyers) == (6_000, 1, 1)


def test_each_day_of_the_period_has_a_row_and_orders_land_on_their_shanghai_payment_day() -> None:
    late = PAID_AT.replace(hour=16, minute=30)  # 00:30 the next day in Shanghai
    orders = [an_order("o1", "b1", "P"), an_order("o2", "b2", "P", paid_at=late),
              an_order("o3", "b3", "P", paid_at=PAID_AT - timedelta(days=30))]
    figures = team_figures(orders, "P", DAY - timedelta(days=1), DAY + timedelta(days=1))
    assert [(r["date"], r["gmv_fen"], r["orders"]) for r in figures.days] == [
        ("2026-11-09", 0, 0), ("2026-11-10", 10_000, 1), ("2026-11-11", 10_000, 1)]
    assert figures.orders == 2  # the one paid 30 days before is outside the period


def test_top_products_rank_by_units_then_value() -> None:
    orders = [an_order("o1", "b1", "P", product="cheap", quantity=3, amount=3_000),
              an_order("o2", "b2", "P", product="dear", quantity=3, amount=30_000),
              an_order("o3", "b3", "P", product="one", quantity=1)]
    ranked = team_figures(orders, "P", DAY, DAY, top=2).top_products
    assert [(p.product_id, p.units) for p in ranked] == [("dear", 3), ("cheap", 3)]


def test_conversion_is_paying_buyers_over_members_capped_and_none_for_no_team() -> None:
    assert conversion_bp(1, 3) == 3_333
    assert conversion_bp(5, 3) == 10_000
    assert conversion_bp(0, 0) is None

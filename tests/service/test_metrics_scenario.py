"""Must show (issue 7): three days of a small mall — events, logins, bindings, orders, payments,
refunds, shipments, deliveries, settlement, a withdrawal — and every metric of each day's row
against values computed by hand (the arithmetic is in the comments).

Cast: distributors A, B, C (shops); buyers u1 → A, u5 → C (bound on day 0), u2 → A, u3 → B
(bound on day 1), u4 unbound. Products P1 (150 yuan, cost 50, level 1 20%, stock 20) and
P2 (50 yuan, cost 20, level 1 16%, stock 10). Settlement hold: 1 day.
Day 0 = Fri 2026-10-30 (the month before), days 1–3 = 2026-11-02, -03, -04 (Shanghai).
Visitors: the scenario calls the services, not the API, so its visitors are those who logged in,
sent events or paid that day (an authenticated request's mark is the route decorator's:
tests/api/test_visitors_api.py).
"""
from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from chalicelib.bootstrap import Deps, set_default_deps
from chalicelib.config import OrderRules
from chalicelib.domain.activity import Event, EventType
from chalicelib.domain.catalog import Product
from chalicelib.domain.clock import SHANGHAI
from chalicelib.domain.metric_catalog import DAY_METRICS, PRODUCT_METRICS
from chalicelib.jobs import run_job
from chalicelib.services import auth, events, facts, orders, payments, referrals, shops
from chalicelib.services.sessions import Caller
from tests.conftest import MutableClock
from tests.service.test_delivery import deliver
from tests.service.test_settlement import settle

ADDRESS = {"name": "买家", "phone": "13800000000", "detail": "上海"}
DAY0, DAY1, DAY2, DAY3 = date(2026, 10, 30), date(2026, 11, 2), date(2026, 11, 3), date(2026, 11, 4)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """``hour:minute`` in Shanghai on ``day``."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


class Mall:
    def __init__(self, deps: Deps, clock: MutableClock) -> None:
        self.deps, self.clock, self.users = deps, clock, {}
        self.codes: dict[str, str] = {}

    def login(self, name: str) -> str:
        self.users[name] = auth.login(f"dev:{name}", self.deps).user.user_id
        return self.users[name]

    def shop(self, name: str) -> None:
        self.login(name)
        code = shops.open_shop(self.users[name], f"{name} shop", self.deps).invite_code
        assert code
        self.codes[name] = code

    def bind(self, buyer: str, distributor: str) -> None:
        referrals.bind(self.users[buyer], self.codes[distributor], self.deps)

    def pay(self, buyer: str, *lines: tuple[str, int]) -> str:
        body = {"items": [{"product_id": p, "quantity": q} for p, q in lines], "address": ADDRESS}
        order = orders.place_order(self.users[buyer], list(lines), body, uuid.uuid4().hex, self.deps).order
        headers, raw = self.deps.pay.build_payment_notification(order.order_id, self.clock(),
                                                                 amount_fen=order.amount_fen)
        assert payments.handle_notification(headers, raw, self.deps).outcome == "paid"
        return order.order_id

    def events(self, user: str, session: str, pages: int = 0, products: tuple[str, ...] = (),
               shares: tuple[str, ...] = ()) -> list[Event]:
        ts = self.clock() - timedelta(minutes=1)
        batch = [Event(EventType.PAGE_VIEW, session, ts + timedelta(seconds=i), f"/pages/p{i}") for i in range(pages)]
        batch += [Event(EventType.PRODUCT_VIEW, session, ts, product_id=p) for p in products]
        batch += [Event(EventType.SHARE, session, ts, product_id=p) for p in shares]
        assert events.record_events(self.users[user], batch, self.deps).accepted == len(batch)
        return batch

    def row(self, day: date) -> dict:
        self.clock.at = at(day + timedelta(days=1), 1)  # the schedule: 01:00 the next day
        run_job("compute_metrics", self.clock(), self.deps)
        [stored] = self.deps.analytics.rows(day, day)
        return stored


@pytest.fixture
def mall(deps: Deps, clock: MutableClock) -> Mall:
    rules = deps.settings.rules.model_copy(update={"orders": OrderRules(settlement_hold_days=1)})
    scenario = Deps(settings=deps.settings.model_copy(update={"rules": rules}), clock=clock)
    set_default_deps(scenario)
    for product in (Product("P1", "面膜", "beauty", 5_000, 15_000, 20, 2_000, 500),
                    Product("P2", "养生茶", "food", 2_000, 5_000, 10, 1_600, 500)):
        scenario.products.put_if_absent(product, clock())
    return Mall(scenario, clock)


def day0(m: Mall) -> dict[str, str]:
    m.clock.at = at(DAY0, 12)
    for name in ("A", "B", "C"):
        m.shop(name)
    m.login("u1"), m.login("u5")
    m.bind("u1", "A"), m.bind("u5", "C")
    m.events("u1", "s0", pages=1), m.events("u5", "s00", pages=1)
    placed = {"O0": m.pay("u1", ("P1", 1))}  # A earns 3,000
    m.pay("u5", ("P1", 1))  # C earns 3,000: A and C active in October
    return placed


def day1(m: Mall, placed: dict[str, str]) -> None:
    m.clock.at = at(DAY1, 10)
    m.login("u2"), m.login("u3"), m.login("u4")
    m.bind("u2", "A"), m.bind("u3", "B")
    m.events("u1", "s1", pages=2, products=("P1",))
    m.events("u2", "s2", pages=1, products=("P1", "P2"), shares=("P1",))
    m.events("u3", "s3", pages=1)
    m.events("u4", "s4", pages=2)
    placed["O1"] = m.pay("u1", ("P1", 1))  # 15,000, cost 5,000; A +3,000
    placed["O2"] = m.pay("u2", ("P1", 1), ("P2", 2))  # 25,000, cost 9,000; A +3,000 + 1,600
    placed["O3"] = m.pay("u3", ("P2", 1))  # 5,000, cost 2,000; B +800
    m.clock.at = at(DAY1, 12)
    for name in ("O0", "O1", "O2"):
        orders.ship(placed[name], "SF", "SF" + placed[name][-6:], m.deps)


def day2(m: Mall, placed: dict[str, str]) -> None:
    m.clock.at = at(DAY2, 11)
    deliver(m.deps, placed["O0"])  # the carrier: 95 h after payment (day 0, 12:00): late
    orders.confirm(placed["O0"], Caller(m.users["u1"], "user"), m.deps)  # 23 h after shipping
    m.clock.at = at(DAY2, 12)
    deliver(m.deps, placed["O1"])  # 26 h after payment: on time
    orders.confirm(placed["O1"], Caller(m.users["u1"], "user"), m.deps)  # 24 h
    replayed = m.events("u1", "s5", pages=1)
    assert events.record_events(m.users["u1"], replayed, m.deps).accepted == 0  # a batch sent twice
    m.events("u2", "s6", pages=3, products=("P2",))
    m.events("u4", "s7", pages=1)
    placed["O4"] = m.pay("u1", ("P2", 1))  # 5,000, cost 2,000; A +800
    placed["O5"] = m.pay("u4", ("P1", 2))  # 30,000, cost 10,000; unbound: no commission
    orders.refund(placed["O3"], Caller(m.users["u3"], "user"), "不想要了", m.deps)  # 5,000 back, stock back


def day3(m: Mall, placed: dict[str, str]) -> None:
    m.clock.at = at(DAY3, 0, 10)
    assert settle(m.clock(), m.deps)["settled_fen"] == 6_000  # O0 and O1: A's 3,000 each
    m.clock.at = at(DAY3, 13)
    deliver(m.deps, placed["O2"])  # 51 h after payment: late
    orders.confirm(placed["O2"], Caller(m.users["u2"], "user"), m.deps)  # 49 h after shipping
    facts.withdrawal_paid(m.deps, "w-1", m.users["A"], 2_000, at(DAY3, 14))
    m.clock.at = at(DAY3, 15)
    m.events("u3", "s8", pages=1)


EXPECTED_DAY1 = {
    "date": "2026-11-02",
    "gmv_fen": 45_000, "orders": 3, "paying_users": 3,
    "avg_order_value_fen": 15_000,  # 45,000 / 3
    # no order took a promotion (tests/service/test_promotion_metrics.py measures them)
    "promoted_orders": 0, "promotion_discount_fen": 0, "avg_order_value_promoted_fen": 0,
    "avg_order_value_unpromoted_fen": 15_000, "promotions": [],
    "refunds": 0, "refunded_fen": 0,
    "gross_margin_bp": 6_444,  # (45,000 − 16,000) / 45,000
    "visitors": 4, "page_views": 6, "product_views": 3, "shares": 1,
    "sessions": 4, "bounce_rate_bp": 5_000,  # s2 and s3 had one page: 2 / 4
    "conversion_bp": 7_500,  # 3 payers / 4 visitors
    "conversion_vs_7day_mean_bp": 3_500,  # day 0 alone had visitors: 2 / 5 = 4,000
    "new_users": 3,
    "new_user_conversion_bp": 5_000,  # registered Oct 27–Nov 2: 5 + 3; paid: u1, u5, u2, u3 → 4 / 8
    "repurchase_rate_bp": 3_333,  # u1 paid on day 0 too: 1 / 3
    "bindings": 2,
    "active_distributors": 2,  # A, B
    "distributor_retention_bp": 5_000,  # October: A, C; November so far: A → 1 / 2
    "commission_accrued_fen": 8_400,  # 3,000 + 4,600 + 800
    "commission_settled_fen": 0, "withdrawn_fen": 0,
    "shipped_orders": 3, "completed_orders": 0, "delivered_orders": 0, "on_time_delivery_bp": 0,
    "products": [
        # P2: 3 sold, stock 10 − 3 = 7: ⌈7/3⌉ = 3 days; 3 / (3 + 7)
        {"product_id": "P2", "name": "养生茶", "units_sold": 3, "views": 1, "inventory_turnover_days": 3,
         "sell_through_bp": 3_000},
        # P1: 2 sold, stock 20 − 4 = 16: ⌈16/2⌉ = 8 days; 2 / 18
        {"product_id": "P1", "name": "面膜", "units_sold": 2, "views": 2, "inventory_turnover_days": 8,
         "sell_through_bp": 1_111},
    ],
}

EXPECTED_DAY2 = {
    "date": "2026-11-03",
    "gmv_fen": 30_000,  # 35,000 paid − 5,000 refunded
    "orders": 2, "paying_users": 2,
    "avg_order_value_fen": 17_500,  # 35,000 / 2
    "promoted_orders": 0, "promotion_discount_fen": 0, "avg_order_value_promoted_fen": 0,
    "avg_order_value_unpromoted_fen": 17_500, "promotions": [],
    "refunds": 1, "refunded_fen": 5_000,
    "gross_margin_bp": 6_666,  # net sales 30,000; net cost 12,000 − 2,000 = 10,000
    "visitors": 3, "page_views": 5, "product_views": 1, "shares": 0,
    "sessions": 3, "bounce_rate_bp": 6_666,  # s5, s7 one page; s6 three: 2 / 3
    "conversion_bp": 6_666,  # u1, u4 paid / u1, u2, u4 visited
    "conversion_vs_7day_mean_bp": 916,  # 6,666 − (4,000 + 7,500) / 2
    "new_users": 0,
    "new_user_conversion_bp": 6_250,  # + u4 (registered day 1, paid day 2): 5 / 8
    "repurchase_rate_bp": 5_000,  # u1 (paid day 1) of u1, u4
    "bindings": 0,
    "active_distributors": 1,  # A
    "distributor_retention_bp": 5_000,
    "commission_accrued_fen": 800,
    "commission_settled_fen": 0, "withdrawn_fen": 0,
    "shipped_orders": 0, "completed_orders": 2, "delivered_orders": 2,
    "on_time_delivery_bp": 5_000,  # delivered 95 h (late) and 26 h (on time) after payment
    "products": [
        # P1: 2 sold, stock 16 − 2 = 14: 7 days (a hot item at DOMAIN.md's target); 2 / 16
        {"product_id": "P1", "name": "面膜", "units_sold": 2, "views": 0, "inventory_turnover_days": 7,
         "sell_through_bp": 1_250},
        # P2: 1 sold, stock 7 − 1 + 1 (O3's refund, unshipped) = 7: 7 days; 1 / 8
        {"product_id": "P2", "name": "养生茶", "units_sold": 1, "views": 1, "inventory_turnover_days": 7,
         "sell_through_bp": 1_250},
    ],
}

EXPECTED_DAY3 = {
    "date": "2026-11-04",
    "gmv_fen": 0, "orders": 0, "paying_users": 0, "avg_order_value_fen": 0, "refunds": 0, "refunded_fen": 0,
    "promoted_orders": 0, "promotion_discount_fen": 0, "avg_order_value_promoted_fen": 0,
    "avg_order_value_unpromoted_fen": 0, "promotions": [],
    "gross_margin_bp": 0,
    "visitors": 1, "page_views": 1, "product_views": 0, "shares": 0, "sessions": 1, "bounce_rate_bp": 10_000,
    "conversion_bp": 0,
    "conversion_vs_7day_mean_bp": -6_055,  # 0 − (4,000 + 7,500 + 6,666) / 3, floored
    "new_users": 0,
    "new_user_conversion_bp": 6_250,  # registered Oct 29–Nov 4: still 8, of whom 5 paid
    "repurchase_rate_bp": 0, "bindings": 0, "active_distributors": 0,
    "distributor_retention_bp": 5_000,
    "commission_accrued_fen": 0,
    "commission_settled_fen": 6_000,  # completed on day 2, hold 1 day: settled at 00:10 on day 3
    "withdrawn_fen": 2_000,
    "shipped_orders": 0, "completed_orders": 1, "delivered_orders": 1,
    "on_time_delivery_bp": 0,  # O2: delivered 51 h after payment
    "products": [],
}


def test_three_days_of_a_mall_give_the_hand_computed_metrics(mall: Mall):
    placed = day0(mall)
    # the baseline of day 1: u1, u5 paid / A, B, C, u1, u5 logged in (a login makes a visitor)
    assert (mall.row(DAY0)["visitors"], mall.row(DAY0)["conversion_bp"]) == (5, 4_000)
    day1(mall, placed)
    assert mall.row(DAY1) == EXPECTED_DAY1
    day2(mall, placed)
    assert mall.row(DAY2) == EXPECTED_DAY2
    day3(mall, placed)
    assert mall.row(DAY3) == EXPECTED_DAY3


def test_a_row_has_exactly_the_catalogue_fields(mall: Mall):
    day0(mall)
    row = mall.row(DAY0)
    assert set(row) - {"date", "products", "promotions"} == set(DAY_METRICS)
    assert row["products"] and all(set(p) - {"product_id", "name"} == set(PRODUCT_METRICS) for p in row["products"])

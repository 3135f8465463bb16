"""Conversion never exceeds 100% (issue 13, DOMAIN.md §9): for any sequence of logins,
authenticated requests, events, orders placed and orders paid over days (midnight crossed
between placing and paying, processes restarted with a cold cache), every paying user of a day
is a visitor of that day, so a day's paying users ≤ its visitors.

A hypothesis state machine on moto, through the services. An authenticated request is what the
route decorator calls (``visits.visited``, wired in tests/api/test_visitors_api.py); placing an
order marks nothing here on purpose (as if that request's best-effort mark had failed): the
payment alone must make its buyer a visitor of the day it is paid.
"""
from __future__ import annotations

import uuid
from datetime import date, timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import initialize, invariant, precondition, rule

from chalicelib.bootstrap import Deps, set_default_deps
from chalicelib.domain.activity import Event, EventType
from chalicelib.domain.catalog import Product
from chalicelib.domain.clock import business_date
from chalicelib.domain.metrics import conversion_bp
from chalicelib.domain.orders import OrderStatus
from chalicelib.services import auth, events, orders, payments, visits
from tests.service.moto_machine import MotoMachine
from tests.service.test_orders import ADDRESS

USERS = ("u0", "u1", "u2")
user_index = st.integers(0, len(USERS) - 1)


class VisitorMachine(MotoMachine):
    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.pending: list[str] = []
        self.paid: list[tuple[str, date]] = []  # (buyer, day paid)
        self.days: set[date] = set()

    @initialize()
    def mall(self) -> None:
        """The users exist (registered the day before START, so they are no visitors of any day
        the machine sees unless a rule makes them one)."""
        self.deps.products.put_if_absent(Product("p1", "面膜", "beauty", 1_500, 5_000, 10_000, 2_000, 500),
                                         self.clock())
        for name in USERS:
            user, _ = self.deps.users.login(f"dev:{name}", name, self.clock() - timedelta(days=1))
            self.ids.append(user.user_id)

    def _today(self) -> date:
        day = business_date(self.clock())
        self.days.add(day)
        return day

    @rule(user=user_index)
    def login(self, user: int) -> None:
        self._today()
        auth.login(f"dev:{USERS[user]}", self.deps)

    @rule(user=user_index)
    def authenticated_request(self, user: int) -> None:
        self._today()
        visits.visited(self.deps, self.ids[user], self.clock())

    @rule(user=user_index)
    def page_view(self, user: int) -> None:
        self._today()
        event = Event(EventType.PAGE_VIEW, f"s-{uuid.uuid4().hex[:8]}", self.clock() - timedelta(seconds=1), "/p")
        events.record_events(self.ids[user], [event], self.deps)

    @rule(user=user_index)
    def place_order(self, user: int) -> None:
        body = {"items": [{"product_id": "p1", "quantity": 1}], "address": ADDRESS}
        checkout = orders.place_order(self.ids[user], [("p1", 1)], body, uuid.uuid4().hex, self.deps)
        self.pending.append(checkout.order.order_id)

    @precondition(lambda self: self.pending)
    @rule(which=st.integers(0, 100))
    def payment_notification(self, which: int) -> None:
        order_id = self.pending.pop(which % len(self.pending))
        order = self.deps.orders.get(order_id)
        assert order is not None
        headers, raw = self.deps.pay.build_payment_notification(order_id, self.clock(), amount_fen=order.amount_fen)
        payments.handle_notification(headers, raw, self.deps)
        order = self.deps.orders.get(order_id)
        if order is not None and order.status is not OrderStatus.PENDING_PAYMENT and order.paid_at is not None:
            self.paid.append((order.buyer_id, business_date(order.paid_at)))
            self.days.add(business_date(order.paid_at))

    @rule(minutes=st.integers(1, 36 * 60))
    def time_passes(self, minutes: int) -> None:
        self.clock.at = self.clock() + timedelta(minutes=minutes)

    @rule()
    def process_restarts(self) -> None:
        """A cold process: it remembers no mark."""
        self.deps = Deps(settings=self.deps.settings, clock=self.clock)
        set_default_deps(self.deps)

    @invariant()
    def every_paying_user_of_a_day_is_a_visitor_of_that_day(self) -> None:
        from chalicelib.store.analytics import visit_key

        keys = [visit_key(buyer, day) for buyer, day in self.paid]
        marks = self.deps.analytics.states(keys)
        assert all(marks[key].v > 0 for key in keys), [k for k in keys if marks[k].v == 0]
        for day, counts in self.deps.analytics.day_counts(sorted(self.days)).items():
            assert counts["paying_users"] <= counts["visitors"], (day, counts)
            assert conversion_bp(counts["paying_users"], counts["visitors"]) <= 10_000


VisitorMachine.TestCase.settings = settings(max_examples=15, stateful_step_count=25, deadline=None,
                                            suppress_health_check=[HealthCheck.too_slow])
TestConversionNeverAboveOneHundredPercent = VisitorMachine.TestCase

"""Analytics under concurrency, on DynamoDB Local: replays racing each other count once, distinct
visitors, sessions and paying users stay exact, and nothing is lost on the sharded counters."""
from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from chalicelib.bootstrap import Deps
from chalicelib.domain.activity import Event, EventType
from chalicelib.domain.clock import business_date
from chalicelib.domain.orders import Line, Order, OrderStatus, Share
from chalicelib.services import events, facts
from tests.race.concurrency import race

pytestmark = pytest.mark.race


@pytest.fixture
def day_deps(deps: Deps) -> Deps:
    """A clock on a day of its own (far in the future) so that the day's counters start at 0."""
    now = datetime(2040, 1, 1, 4, tzinfo=UTC) + timedelta(days=random.randrange(100_000))
    return Deps(settings=deps.settings, clock=lambda: now)


def counts(deps: Deps) -> dict[str, int]:
    day: date = business_date(deps.clock())
    return deps.analytics.day_counts([day])[day]


def test_twenty_copies_of_a_batch_racing_count_each_event_once(day_deps: Deps):
    user, now = uuid.uuid4().hex, day_deps.clock()
    shared = [Event(EventType.PAGE_VIEW, "s-race", now - timedelta(seconds=i), f"/p{i}") for i in range(10)]
    own = [[Event(EventType.PAGE_VIEW, "s-race", now - timedelta(milliseconds=100 * n + 1), "/own")]
           for n in range(20)]
    results = race([lambda n=n: events.record_events(user, shared + own[n], day_deps) for n in range(20)])
    assert [r for r in results if isinstance(r, str)] == []
    assert sum(r.accepted for r in results) == 30
    c = counts(day_deps)
    assert (c["page_views"], c["visitors"], c["sessions"], c["bounced"]) == (30, 1, 1, 0)


def test_thirty_visitors_at_once_are_thirty_one_page_sessions(day_deps: Deps):
    now = day_deps.clock()
    users = [uuid.uuid4().hex for _ in range(30)]
    race([lambda u=u: events.record_events(u, [Event(EventType.PAGE_VIEW, f"s-{u}", now, "/")], day_deps)
          for u in users])
    c = counts(day_deps)
    assert (c["visitors"], c["sessions"], c["bounced"], c["page_views"]) == (30, 30, 30, 30)


def _order(buyer: str, distributor: str, now: datetime) -> tuple[Order, list[Share]]:
    line = Line("p-race", "面膜", 1, 15_000, 5_000, 2_000, 500)
    order = Order(f"o{uuid.uuid4().hex[:12]}", buyer, OrderStatus.PAID, [line], 15_000, now, now, paid_at=now)
    return order, [Share(distributor, 1, 3_000)]


def test_one_buyers_orders_paid_at_once_make_one_paying_user_and_their_replays_count_nothing(day_deps: Deps):
    buyer, distributor, now = uuid.uuid4().hex, uuid.uuid4().hex, day_deps.clock()
    paid = [_order(buyer, distributor, now) for _ in range(6)]
    race([lambda o=o, s=s: facts.order_paid(day_deps, o, s, now) for o, s in paid for _ in range(3)])  # each 3 times
    c = counts(day_deps)
    assert (c["orders"], c["paid_fen"], c["paying_users"], c["repeat_buyers"]) == (6, 90_000, 1, 1)
    assert (c["commission_accrued_fen"], c["active_distributors"]) == (18_000, 1)
    day = business_date(now)
    assert day_deps.analytics.product_day_counts(day)["p-race"].units == 6
    assert len(list(day_deps.analytics.baskets(day))) == 6


def test_forty_buyers_of_one_distributor_paying_at_once_are_all_counted(day_deps: Deps):
    distributor, now = uuid.uuid4().hex, day_deps.clock()
    paid = [_order(uuid.uuid4().hex, distributor, now) for _ in range(40)]
    race([lambda o=o, s=s: facts.order_paid(day_deps, o, s, now) for o, s in paid])
    c = counts(day_deps)
    assert (c["orders"], c["paying_users"], c["active_distributors"], c["commission_accrued_fen"]) == \
        (40, 40, 1, 120_000)


def test_one_users_first_requests_of_the_day_in_many_processes_an_event_batch_and_a_payment_make_one_visitor(
        day_deps: Deps):
    from chalicelib.services import visits

    user, now = uuid.uuid4().hex, day_deps.clock()
    cold = [Deps(settings=day_deps.settings, clock=day_deps.clock) for _ in range(16)]  # 16 cold processes
    order, shares = _order(user, uuid.uuid4().hex, now)
    calls = [lambda d=d: visits.visited(d, user, now) for d in cold]
    calls.append(lambda: events.record_events(user, [Event(EventType.PAGE_VIEW, "s-v", now, "/")], day_deps))
    calls.append(lambda: facts.order_paid(day_deps, order, shares, now))
    results = race(calls)
    assert [r for r in results if isinstance(r, str)] == []
    c = counts(day_deps)
    assert (c["visitors"], c["paying_users"], c["page_views"]) == (1, 1, 1)
    assert all(visits.remembers(d, user, now) for d in cold)

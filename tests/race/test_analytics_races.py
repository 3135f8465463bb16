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


# The sharded keys and the jobs' parts --------------------------------------------------------
def test_one_products_views_and_sales_from_forty_requests_at_once_spread_over_its_shards_and_add_up(day_deps: Deps):
    """Each write lands on one of the product's 4 write partitions (``pday#<day>#<bucket>#<s>``)
    and each order's basket on one of 16; the merged read adds every one."""
    from chalicelib.store.analytics import PRODUCT_SHARDS, AnalyticsItem, product_bucket, product_partition

    now, hot = day_deps.clock(), f"hot{uuid.uuid4().hex[:8]}"
    day = business_date(now)
    viewers = [uuid.uuid4().hex for _ in range(30)]
    calls = [lambda u=u: events.record_events(u, [Event(EventType.PRODUCT_VIEW, f"s-{u}", now, product_id=hot),
                                                  Event(EventType.PRODUCT_VIEW, f"s-{u}", now, product_id=f"{hot}-2")],
                                              day_deps) for u in viewers]
    paid = [_order(uuid.uuid4().hex, uuid.uuid4().hex, now) for _ in range(10)]
    paid = [(Order(o.order_id, o.buyer_id, o.status, [Line(hot, "面膜", 2, 15_000, 5_000, 2_000, 500)], 30_000,
                   now, now, paid_at=now), s) for o, s in paid]
    calls += [lambda o=o, s=s: facts.order_paid(day_deps, o, s, now) for o, s in paid]
    assert [r for r in race(calls) if isinstance(r, str)] == []
    counts = day_deps.analytics.product_day_counts(day)
    assert (counts[hot].views, counts[hot].units, counts[f"{hot}-2"].views) == (30, 20, 30)
    used = [s for s in range(PRODUCT_SHARDS)
            if list(AnalyticsItem.query(product_partition(day, product_bucket(hot), s), AnalyticsItem.sk == f"p#{hot}"))]
    assert len(used) > 1  # 40 writes on one of 4 partitions each: all on one has odds 4^-39
    assert {b.order_id for b in day_deps.analytics.baskets(day)} == {o.order_id for o, _ in paid}
    c = counts_of(day_deps, day)
    assert (c["product_views"], c["orders"], c["visitors"]) == (60, 10, 40)


def counts_of(deps: Deps, day: date) -> dict[str, int]:
    return deps.analytics.day_counts([day])[day]


def test_two_runs_of_compute_metrics_at_once_store_each_product_once(day_deps: Deps, monkeypatch):
    """Two runs of the same night (a schedule and a manual run): their slices interleave on the
    same chunks; the day still lists each product once, with its figures."""
    from chalicelib.domain.catalog import Product
    from chalicelib.jobs import run_job
    from chalicelib.store import metric_rows
    from chalicelib.store.analytics import Tally, Write

    monkeypatch.setattr(metric_rows, "CHUNK_PRODUCTS", 4)
    now = day_deps.clock()
    day = business_date(now)
    ids = [f"m{uuid.uuid4().hex[:6]}{i:03d}" for i in range(60)]
    for product_id in ids:
        day_deps.products.put_if_absent(Product(product_id, "面膜", "beauty", 1_500, 5_000, 10, 2_000, 500), now)
    for start in range(0, len(ids), 30):
        tally = Tally()
        for n, product_id in enumerate(ids[start:start + 30]):
            tally.add_product(day, product_id, "units", 1 + n % 5)
            tally.add_product(day, product_id, "views", 2)
        assert day_deps.analytics.write(Write(tally=tally)) is None
    night = now + timedelta(days=1) - timedelta(hours=3)  # 01:00 the next day in Shanghai
    runs = race([lambda: run_job("compute_metrics", night, day_deps, slice_budget=0) for _ in range(2)])
    assert [r["products"] for r in runs] == [60, 60]
    [row] = day_deps.analytics.rows(day, day)
    assert sorted(p["product_id"] for p in row["products"]) == sorted(ids)
    assert sum(p["units_sold"] for p in row["products"]) == sum(1 + n % 5 for n in range(30)) * 2


def test_the_parts_of_a_recommendation_run_at_once_make_the_lists_one_worker_makes(day_deps: Deps, monkeypatch):
    """Eight workers, one per part, at once in one-step slices (the deployed queue): each takes
    its own share of the steps, then any left (both run it, under two nonces); the lists equal a
    run of the same data one slice after the other."""
    from chalicelib.domain.catalog import Product
    from chalicelib.jobs import run_job
    from chalicelib.services import recommendation_job
    from chalicelib.store.analytics import PRODUCT_BUCKETS, AnalyticsItem, Tally, Write, basket_item

    monkeypatch.setattr(recommendation_job, "PRODUCTS_PER_READ", 3)
    monkeypatch.setattr(recommendation_job, "BASKETS_PER_PAGE", 2)
    now = day_deps.clock()
    day, rnd = business_date(now), random.Random(5)
    category = f"c{uuid.uuid4().hex[:8]}"
    ids = [f"r{uuid.uuid4().hex[:6]}{i:02d}" for i in range(24)]
    for product_id in ids:
        day_deps.products.put_if_absent(Product(product_id, "x", category, 1_000, 5_000, 9, 1_000, 500), now)
    for back in (1, 2, 3):
        tally, baskets = Tally(), []
        for _ in range(12):
            baskets.append(basket_item(day - timedelta(days=back), uuid.uuid4().hex, "b", [(p, 1) for p in
                                       rnd.sample(ids, rnd.randint(1, 3))], now))
            tally.add(day - timedelta(days=back), "orders")
        for product_id in rnd.sample(ids, 10):
            tally.add_product(day - timedelta(days=back), product_id, "views", rnd.randint(1, 9))
            tally.add(day - timedelta(days=back), "product_views")
        assert day_deps.analytics.write(Write(tally=tally, puts=tuple(baskets))) is None

    def lists() -> dict[str, str]:
        keys = [(f"rec#p#{p}", "list") for p in ids] + [(f"rec#c#{category}", "list")]
        return {pk: item.data for pk, item in ((k[0], AnalyticsItem.get(*k)) for k in keys
                                              if AnalyticsItem.count(k[0]) > 0)}

    def worker(bucket: int) -> None:
        part, cursor = f"{day.isoformat()}#r{bucket}", None
        while True:
            cursor = recommendation_job.recommendation_part(part, cursor, now, day_deps, Deadline0()).cursor
            if cursor is None:
                return

    assert [r for r in race([lambda b=b: worker(b) for b in range(PRODUCT_BUCKETS)]) if r is not None] == []
    recommendation_job.recommendation_finish(now, day_deps, {})
    at_once = lists()
    for item in AnalyticsItem.scan(AnalyticsItem.pk.startswith("rec#")):
        if day.isoformat() in item.pk or any((day - timedelta(days=b)).isoformat() in item.pk for b in (1, 2, 3)):
            item.delete()  # every step's output and marker of this run and these days: summarise again
    run_job("compute_recommendations", now, day_deps)
    assert lists() == at_once and len(at_once) == len(ids) + 1


class Deadline0:
    def expired(self) -> bool:
        return True

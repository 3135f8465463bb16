"""Every item of the analytics table kept only for replays or for a job's next step expires (TTL),
and what is served or counted for good does not: a day of the mall's traffic (logins, a binding,
events, a paid and shipped order, a viewed product) and both daily jobs, then each item checked
against its prefix. A prefix no rule names fails the test, so a new one has to be placed."""
from __future__ import annotations

from datetime import timedelta

from bench.item_size import analytics_items
from chalicelib.domain.activity import Event, EventType
from chalicelib.domain.catalog import Product
from chalicelib.jobs import run_job
from chalicelib.services import events, orders, referrals, visits
from tests.service.test_orders import distributor, login, paid_order

# (pk prefix, sk prefix, expires?)
RULES = (
    ("evt#", "", True), ("fact#", "", True), ("uv#", "", True), ("sess#", "", True), ("basket#", "", True),
    ("rec#u#", "", True), ("rec#sum#", "", True), ("rec#day#", "", True), ("rec#win#", "", True),
    ("rec#run#", "", True), ("rec#lk#", "", True), ("rec#top#", "", True), ("metrics", "win#", True),
    ("day#", "", False), ("pday#", "", False), ("u#", "", False), ("mprod#", "", False), ("metrics", "day#", False),
    ("rec#p#", "", False), ("rec#c#", "", False), ("rec#hot", "", False), ("rec#run", "last", False),
    ("exp#", "", False),  # experiments: exposures and counters (store/experiments.py)
    # the repurchase cycle (store/repurchase_rows.py): gap counters, day summaries, run markers; figures kept
    ("rcy#", "", True), ("rcyd#", "", True), ("metrics", "rcys#", True), ("metrics", "rcy#", False),
)


def rule(pk: str, sk: str) -> bool | None:
    for pk_prefix, sk_prefix, expires in RULES:
        if pk.startswith(pk_prefix) and sk.startswith(sk_prefix):
            return expires
    return None


def test_what_is_kept_for_replays_expires_and_what_is_served_does_not(deps, clock):
    product = "p1"
    deps.products.put_if_absent(Product(product, "面膜", "beauty", 1_500, 5_000, 50, 2_000, 500), clock())
    _seller, code = distributor(deps, "seller")
    buyer = login(deps, "buyer")
    referrals.bind(buyer, code, deps)
    clock.advance(days=-1)
    paid_order(deps, buyer, product)  # the day before: today's order is a repurchase
    clock.advance(days=1)
    order_id = paid_order(deps, buyer, product)
    orders.ship(order_id, "SF", "SF1", deps)
    visits.visited(deps, buyer, clock())
    events.record_events(buyer, [Event(EventType.PAGE_VIEW, "s1", clock(), "/"),
                                 Event(EventType.PRODUCT_VIEW, "s1", clock(), product_id=product)], deps)
    clock.advance(days=1)
    run_job("compute_recommendations", clock(), deps)
    run_job("compute_metrics", clock() - timedelta(hours=11), deps)  # 01:00 in Shanghai
    seen: set[str] = set()
    for item in analytics_items():
        pk, sk = item["pk"]["S"], item["sk"]["S"]
        expires = rule(pk, sk)
        assert expires is not None, f"no TTL rule for {pk} / {sk}"
        assert ("expires_at" in item) == expires, (pk, sk)
        seen.add(next(p for p, s, _ in RULES if pk.startswith(p) and sk.startswith(s)))
    assert {"evt#", "fact#", "uv#", "sess#", "basket#", "rec#sum#", "rec#day#", "rec#win#", "rec#run#", "rec#lk#",
            "rec#top#", "day#", "pday#", "u#", "mprod#", "rec#p#", "rec#hot", "rec#run", "rcy#", "rcyd#"} <= seen

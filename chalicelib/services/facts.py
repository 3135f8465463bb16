"""Facts the mall produces, counted into the day's aggregates right after the business write
that made them true (docs/metrics.md).

Each function is called by the service that made the change, after its write succeeded, and
again on that service's replay path (a retried notification, a repeated refund): every fact is
counted once, keyed by its own id (``fact#<kind>#<id>``, put in the same transaction as the
counters), so a replay counts nothing and a crash between the business write and the fact is
healed by the retry. A fact never fails the business request: any error is logged and counted
as the metric ``analytics_fact_failed``, and the request goes on.

DynamoDB per fact: one TransactWriteItems; a paid order also reads its buyer's and payees'
analytics state and the buyer's visit of the day first (one BatchGetItem). A registration
assumes its user is new and reads nothing unless the write says otherwise.
"""
from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, ParamSpec

from chalicelib.domain.activity import BuyerState, DistributorState, distributor_active, paid, registered
from chalicelib.domain.clock import business_date, iso
from chalicelib.domain.promotion_metrics import paid_counts, taken
from chalicelib.domain.repurchase import gap_days, moves_last_paid
from chalicelib.domain.tracking import on_time
from chalicelib.services.retry import ReadAgain, run_until_committed

if TYPE_CHECKING:
    from chalicelib.bootstrap import Deps
    from chalicelib.domain.orders import Order, Share
    from chalicelib.store.analytics import AnalyticsItem, Key, State, StateChange, Tally

ATTEMPTS = 16  # one winner per round when many write the same entity (a session's concurrent batches)
MAX_PAUSE_SECONDS = 0.5
P = ParamSpec("P")


@dataclass
class Plan:
    """What a write will do, given the states read: changes, counters, extra items."""

    changes: list[StateChange] = field(default_factory=list)
    tally: Tally | None = None
    puts: list[AnalyticsItem] = field(default_factory=list)


Planner = Callable[["dict[Key, State]", list[int]], Plan]


def apply(deps: Deps, markers: Sequence[tuple[Key, datetime]], state_keys: Sequence[Key], planner: Planner,
          assume_absent: bool = False) -> list[int]:
    """Count once: write the markers (absent ones only) with what ``planner`` decides from the
    states, re-reading them when stale and dropping markers already present. ``planner`` gets the
    states and the indexes of the markers still to count. Returns the indexes counted."""
    from chalicelib.store.analytics import State, Write

    live = list(range(len(markers)))
    states = {k: State(k) for k in state_keys} if assume_absent or not state_keys else deps.analytics.states(state_keys)
    stale = False

    def step() -> list[int]:
        nonlocal live, states, stale
        if stale:
            states = deps.analytics.states(state_keys)
        if not live and markers:
            return []
        plan = planner(states, live)
        write = Write(tuple(markers[i] for i in live), tuple(plan.changes), plan.tally or _tally(), tuple(plan.puts))
        if write.size() == 0:
            return live
        refused = deps.analytics.write(write)
        if refused is None:
            return live
        live = [i for n, i in enumerate(live) if n not in refused.duplicates]  # counted already: drop
        stale = refused.stale
        raise ReadAgain("the counters changed", pause=refused.stale or refused.conflict)

    return run_until_committed(step, attempts=ATTEMPTS, what="the analytics counters", pause=_pause)


def _pause(attempt: int) -> None:
    """A jittered pause growing to half a second: a burst of writers on one counter spreads out."""
    time.sleep(random.uniform(0, min(MAX_PAUSE_SECONDS, 0.02 * 2 ** attempt)))  # noqa: S311 -- jitter, not a secret


def never_fails[**P](fact: Callable[P, Any]) -> Callable[P, None]:
    """Run a fact; on any error log it and count ``analytics_fact_failed``, never raise."""

    @functools.wraps(fact)
    def run(*args: P.args, **kwargs: P.kwargs) -> None:
        try:
            fact(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - a metric must never fail the business request
            from chalicelib.observability import logger, metrics

            logger().exception("analytics fact not counted", extra={"fact": fact.__name__, "error": repr(exc)})
            metrics().add_metric(name="analytics_fact_failed", unit="Count", value=1)

    return run


def _tally() -> Tally:
    from chalicelib.store.analytics import Tally

    return Tally()


def _markers(kind: str, ids: Sequence[str], at: datetime) -> list[tuple[Key, datetime]]:
    from chalicelib.store.analytics import FACT_TTL, fact_key

    return [(fact_key(kind, i), at + FACT_TTL) for i in ids]


def _count(deps: Deps, kind: str, fact_id: str, at: datetime, counts: dict[str, int]) -> None:
    """A fact that only adds to its day's counters."""
    day = business_date(at)

    def planner(states: dict[Key, State], live: list[int]) -> Plan:
        tally = _tally()
        for name, n in counts.items():
            tally.add(day, name, n)
        return Plan(tally=tally)

    apply(deps, _markers(kind, [fact_id], at), [], planner)


def _day(value: Any) -> date | None:
    return date.fromisoformat(value) if value else None


def _text(value: date | None) -> str | None:
    return value.isoformat() if value else None


def buyer_state(state: State) -> BuyerState:
    return BuyerState(_day(state.get("registered_day")), _day(state.get("first_paid_day")),
                      _day(state.get("pay_day")), int(state.get("pay_n") or 0), _day(state.get("prev_pay_day")))


def buyer_fields(state: BuyerState) -> dict[str, Any]:
    return {"registered_day": _text(state.registered_day), "first_paid_day": _text(state.first_paid_day),
            "pay_day": _text(state.pay_day), "pay_n": state.pay_n or None, "prev_pay_day": _text(state.prev_pay_day)}


def distributor_state(state: State) -> DistributorState:
    return DistributorState(_day(state.get("active_day")), state.get("active_month"), state.get("prev_active_month"))


@never_fails
def user_registered(deps: Deps, user_id: str, at: datetime) -> None:
    """A user logged in for the first time: a new user of the day; remembers the registration
    day for the 7-day new-user conversion."""
    from chalicelib.store.analytics import StateChange, buyer_key

    day, key = business_date(at), buyer_key(user_id)

    def planner(states: dict[Key, State], live: list[int]) -> Plan:
        state, counts = registered(buyer_state(states[key]), day)
        tally = _tally()
        for name, n in counts.items():
            tally.add(day, name, n)
        return Plan([StateChange(states[key], buyer_fields(state))] if counts else [], tally)

    apply(deps, _markers("user", [user_id], at), [key], planner, assume_absent=True)


@never_fails
def user_bound(deps: Deps, user_id: str, parent_id: str, at: datetime) -> None:
    """A user was bound to a distributor (each binding counts, a re-binding too)."""
    _count(deps, "bind", f"{user_id}#{parent_id}#{iso(at)}", at, {"bindings": 1})


def _paid_tally(order: Order, shares: Sequence[Share], day: date) -> Tally:
    """A paid order's day counters: orders, amount, cost, commission accrued, units per product;
    and each promotion it took (domain/promotion_metrics.py)."""
    tally = _tally()
    for name, n in (("orders", 1), ("paid_fen", order.amount_fen),
                    ("paid_cost_fen", sum(line.cost_fen for line in order.lines)),
                    ("commission_accrued_fen", sum(s.amount_fen for s in shares))):
        tally.add(day, name, n)
    for line in order.lines:
        tally.add_product(day, line.product_id, "units", line.quantity)
    per_promotion, promoted = paid_counts(order.promotions, order.amount_fen)
    for name, n in promoted.items():
        tally.add(day, name, n)
    kinds = taken(order.promotions)
    for promotion_id, counts in per_promotion.items():
        tally.add_promotion(day, promotion_id, kinds[promotion_id][0], counts)
    return tally


def _payees_active(states: dict[Key, State], payees: list[str], day: date, counts: dict[str, int]) -> list[StateChange]:
    """Each payee as an active distributor of ``day``: the changes of their states; what they
    count is added to ``counts``."""
    from chalicelib.store.analytics import StateChange, distributor_key

    changes = []
    for payee in payees:
        seen = states[distributor_key(payee)]
        new_payee, payee_counts = distributor_active(distributor_state(seen), day)
        for name, n in payee_counts.items():
            counts[name] = counts.get(name, 0) + n
        if payee_counts:
            changes.append(StateChange(seen, {"active_day": _text(new_payee.active_day),
                                              "active_month": new_payee.active_month,
                                              "prev_active_month": new_payee.prev_active_month}))
    return changes


@never_fails
def order_paid(deps: Deps, order: Order, shares: Sequence[Share], at: datetime) -> None:
    """An order was paid: orders, amount, cost, commission accrued, units per product; the buyer
    as a paying user (and repeat buyer, new-user conversion) and each payee as an active
    distributor; the basket of products for "bought together". The buyer is also a visitor of
    the day of the payment, in the same transaction as the paying user (DOMAIN.md §9: a
    notification is WeChat's request, not the buyer's, and the order may have been placed the day
    before), so a day's paying users are always among its visitors."""
    from chalicelib.store.analytics import (
        EVENT_TTL,
        StateChange,
        basket_item,
        buyer_key,
        category_key,
        distributor_key,
        visit_key,
    )

    day, buyer = business_date(at), buyer_key(order.buyer_id)
    visit = visit_key(order.buyer_id, day)
    payees = list(dict.fromkeys(s.user_id for s in shares))
    categories = _categories(deps, order)

    def planner(states: dict[Key, State], live: list[int]) -> Plan:
        tally = _paid_tally(order, shares, day)
        old_buyer = buyer_state(states[buyer])
        new_buyer, counts = paid(old_buyer, day)
        counts = dict(counts)
        changes = [StateChange(states[buyer], buyer_fields(new_buyer))] if new_buyer != old_buyer else []
        changes += _payees_active(states, payees, day, counts)
        if states[visit].v == 0:  # the buyer's visit of the day, unless marked already
            counts["visitors"] = counts.get("visitors", 0) + 1
            changes.append(StateChange(states[visit], {}, at + EVENT_TTL))
        for name, n in counts.items():
            tally.add(day, name, n)
        changes += _repurchases(states, order.buyer_id, categories, day, tally)
        basket = basket_item(day, order.order_id, order.buyer_id,
                             [(line.product_id, line.quantity) for line in order.lines], at)
        return Plan(changes, tally, [basket])

    from chalicelib.services.experiments import order_paid as experiment_conversions

    experiment_conversions(deps, order, at)  # the buyer's A/B test conversions (never raises)
    apply(deps, _markers("paid", [order.order_id], at), [buyer, visit, *(distributor_key(p) for p in payees),
                                                         *(category_key(order.buyer_id, c) for c in categories)],
          planner)


def _categories(deps: Deps, order: Order) -> list[str]:
    """The categories of the order's products (gift lines aside: a gift is not a purchase), as
    its lines recorded them at checkout; an order placed before lines recorded it reads them (one
    BatchGetItem of the products' ``category``). The payment notification stays within its
    calls' time budget (config.py ``LONGEST_PATHS``: 6 DynamoDB calls)."""
    bought = [line for line in order.lines if not line.gift]
    if all(line.category is not None for line in bought):
        return sorted({line.category for line in bought if line.category is not None})
    found = deps.analytics.categories_of([line.product_id for line in bought])
    return sorted({found[line.product_id] for line in bought if line.product_id in found})


def _repurchases(states: dict[Key, State], buyer_id: str, categories: Sequence[str], day: date,
                 tally: Tally) -> list[StateChange]:
    """The buyer's last paid day in each category moves to ``day``; a repurchase adds its gap in
    days to the day's histogram of the category (domain/repurchase.py)."""
    from chalicelib.store.analytics import StateChange, category_key

    changes = []
    for category in categories:
        seen = states[category_key(buyer_id, category)]
        last = _day(seen.get("pay_day"))
        gap = gap_days(last, day)
        if gap is not None:
            tally.add_gap(day, category, gap)
        if moves_last_paid(last, day):
            changes.append(StateChange(seen, {"pay_day": day.isoformat()}))
    return changes


@never_fails
def order_shipped(deps: Deps, order_id: str, at: datetime) -> None:
    _count(deps, "ship", order_id, at, {"shipped": 1})


@never_fails
def order_completed(deps: Deps, order_id: str, at: datetime) -> None:
    """Receipt confirmed (by the buyer or automatically): completed on its day."""
    _count(deps, "complete", order_id, at, {"completed": 1})


@never_fails
def order_delivered(deps: Deps, order_id: str, paid_at: datetime | None, delivered_at: datetime, hours: int) -> None:
    """The carrier delivered an order: delivered on the day of the delivery, and on time when
    within ``hours`` of its payment (``delivery.on_time_hours``; docs/delivery.md)."""
    _count(deps, "deliver", order_id, delivered_at,
           {"delivered": 1, "delivered_on_time": int(on_time(paid_at, delivered_at, hours))})


@never_fails
def withdrawal_paid(deps: Deps, withdrawal_id: str, user_id: str, amount_fen: int, at: datetime) -> None:
    """A withdrawal was paid out to ``user_id`` (WeChat transfer succeeded): withdrawn on its day."""
    _count(deps, "withdrawal", withdrawal_id, at, {"withdrawn_fen": amount_fen, "withdrawals": 1})

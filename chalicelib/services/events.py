"""Behaviour events from the mini-program (``POST /v1/events``): page views, product views and
shares, counted into the day's aggregates as they arrive (docs/metrics.md).

An event's id is derived from what it is (``activity.event_id``), so a batch sent again counts
nothing twice. Per day of the batch and per chunk of at most 49 events, one consistent
BatchGetItem (the user's visit of the day, the sessions' page counts) and one TransactWriteItems
(the events' markers, the visit, the sessions, the day's and the products' counters).
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from chalicelib.domain.activity import (
    DAY_COUNTER_OF,
    Event,
    EventType,
    check_event_time,
    event_id,
    session_change,
    session_pages,
)
from chalicelib.services.facts import Plan, apply

if TYPE_CHECKING:
    from chalicelib.bootstrap import Deps
    from chalicelib.store.analytics import Key, State

# A chunk of n events writes n markers, the visit, the day's counters and one item per session or
# product (at most n): 2n + 2 ≤ 100 items, DynamoDB's limit for a transaction.
CHUNK = 49


@dataclass(frozen=True)
class Ingested:
    accepted: int
    duplicates: int


def record_events(user_id: str, events: Sequence[Event], deps: Deps) -> Ingested:
    """Count a batch of the caller's events once each. Every event's ``ts`` is checked first (bad
    input changes nothing); repeats inside the batch and events counted before are skipped."""
    now = deps.clock()
    for event in events:
        check_event_time(event.ts, now)
    unique = {event_id(user_id, e): e for e in events}
    by_day: dict[date, list[tuple[str, Event]]] = {}
    for eid, event in unique.items():
        by_day.setdefault(event.day, []).append((eid, event))
    accepted = 0
    for day, day_events in sorted(by_day.items()):
        for chunk in _chunks(day_events):
            accepted += _record_chunk(user_id, day, chunk, deps)
    from chalicelib.services.recommendations import remember_views

    remember_views(user_id, events, deps)  # the latest product views, for the home list (never raises)
    return Ingested(accepted, len(events) - accepted)


def _chunks(events: list[tuple[str, Event]]) -> list[list[tuple[str, Event]]]:
    return [events[i:i + CHUNK] for i in range(0, len(events), CHUNK)]


def _record_chunk(user_id: str, day: date, chunk: list[tuple[str, Event]], deps: Deps) -> int:
    from chalicelib.store.analytics import EVENT_TTL, StateChange, Tally, event_key, session_key, visit_key

    now = deps.clock()
    expires = now + EVENT_TTL
    visit = visit_key(user_id, day)
    sessions = sorted({e.session_id for _, e in chunk if e.type is EventType.PAGE_VIEW})

    def planner(states: dict[Key, State], live: list[int]) -> Plan:
        events = [chunk[i][1] for i in live]
        tally, changes = Tally(), []
        if states[visit].v == 0:
            tally.add(day, "visitors")
            changes.append(StateChange(states[visit], {}, expires))
        for event in events:
            tally.add(day, DAY_COUNTER_OF[event.type])
            if event.type is EventType.PRODUCT_VIEW and event.product_id:
                tally.add_product(day, event.product_id, "views")
        pages = Counter(e.session_id for e in events if e.type is EventType.PAGE_VIEW)
        for session_id, added in sorted(pages.items()):
            seen = states[session_key(session_id, day)]
            before = int(seen.get("pages") or 0)
            for name, n in session_change(before, added).items():
                tally.add(day, name, n)
            if session_pages(before, added) != before:
                changes.append(StateChange(seen, {"pages": session_pages(before, added)}, expires))
        return Plan(changes, tally)

    markers = [(event_key(eid), expires) for eid, _ in chunk]
    counted = apply(deps, markers, [visit, *(session_key(s, day) for s in sessions)], planner)
    return len(counted)

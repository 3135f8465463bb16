"""Visitors of a day (DOMAIN.md §9): a login or any authenticated request makes the user a
visitor of its Asia/Shanghai day, as an event does (docs/metrics.md "Visitors").

The mark is the events' own: the item ``uv#<user>``/``<day>`` put only if absent, in one
TransactWriteItems with the day's ``visitors`` counter, so a user counts once a day whichever
path (login, request, event, payment) marks them first.

Cheap on the request path: each process remembers the (user, day) pairs it has marked (per
store and analytics table, today's only), so a user costs one write per day per warm process; a mark
another process made already costs one refused write, no read. Best effort: a failure is logged
and counted as ``analytics_fact_failed``, never raised, and the next request tries again.
"""
from __future__ import annotations

import threading
import weakref
from datetime import date, datetime
from typing import TYPE_CHECKING

from chalicelib.domain.clock import business_date
from chalicelib.services.facts import never_fails
from chalicelib.services.retry import ReadAgain, run_until_committed

if TYPE_CHECKING:
    from chalicelib.bootstrap import Deps
    from chalicelib.store.analytics import AnalyticsStore

ATTEMPTS = 3  # a transaction conflict (the same user's concurrent event batch) is tried again
MAX_REMEMBERED = 200_000  # users remembered per process and day; past it, forget (marks are idempotent)


class _Marked:
    """The users a store has marked on a day, in the table it writes now."""

    def __init__(self) -> None:
        self.key: tuple[str, date] | None = None  # (table, day)
        self.users: set[str] = set()
        self.lock = threading.Lock()

    def known(self, user_id: str, key: tuple[str, date]) -> bool:
        return self.key == key and user_id in self.users

    def remember(self, user_id: str, key: tuple[str, date]) -> None:
        with self.lock:
            if self.key != key or len(self.users) >= MAX_REMEMBERED:
                self.key, self.users = key, set()
            self.users.add(user_id)


# Per store object (a new Deps starts afresh) and per table: a mark remembered for one table says
# nothing of another (fresh tables under the same store, as the fault harness makes them).
_MARKED: weakref.WeakKeyDictionary[AnalyticsStore, _Marked] = weakref.WeakKeyDictionary()
_MARKED_LOCK = threading.Lock()


def _marked(store: AnalyticsStore) -> _Marked:
    with _MARKED_LOCK:
        marked = _MARKED.get(store)
        if marked is None:
            marked = _MARKED[store] = _Marked()
        return marked


def remembers(deps: Deps, user_id: str, at: datetime) -> bool:
    """Whether this process knows ``user_id`` is a visitor of ``at``'s day (no write needed)."""
    return _marked(deps.analytics).known(user_id, (deps.analytics.table, business_date(at)))


def forget_all() -> None:
    """Forget every mark this process remembers, as a cold start does."""
    with _MARKED_LOCK:
        _MARKED.clear()


def visited(deps: Deps, user_id: str, at: datetime) -> None:
    """``user_id`` opened the mini-program at ``at``: a visitor of its day, once. Free when this
    process marked them today already; else one TransactWriteItems. Never raises."""
    if not remembers(deps, user_id, at):
        _mark(deps, user_id, business_date(at), at)


@never_fails
def _mark(deps: Deps, user_id: str, day: date, at: datetime) -> None:
    from chalicelib.store.analytics import EVENT_TTL, State, StateChange, Tally, Write, visit_key

    tally = Tally()
    tally.add(day, "visitors")
    write = Write(changes=(StateChange(State(visit_key(user_id, day)), {}, at + EVENT_TTL),), tally=tally)

    def step() -> None:
        refused = deps.analytics.write(write)
        if refused is not None and not refused.stale:  # a conflict: neither marked now nor before
            raise ReadAgain("the visit's transaction conflicted")
        _marked(deps.analytics).remember(user_id, (deps.analytics.table, day))  # marked now, or marked already (by any path)

    run_until_committed(step, attempts=ATTEMPTS, what="this visit")

"""Visitors of a day (DOMAIN.md §9): a login or any authenticated request makes the user a
visitor of its Asia/Shanghai day, as an event does (docs/metrics.md "Visitors").

The mark is the events' own: the item ``uv#<user>``/``<day>`` put only if absent, in one
TransactWriteItems with the day's ``visitors`` counter, so a user counts once a day whichever
path (login, request, event, payment) marks them first.

Cheap on the request path: each process remembers the (user, day) pairs it has marked (per
analytics table, today's only), so a user costs one write per day per warm process; a mark
another process made already costs one refused write, no read. Best effort: a failure is logged
and counted as ``analytics_fact_failed``, never raised, and the next request tries again.
"""
from __future__ import annotations

import threading
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
    """The users a process has marked on ``day``."""

    def __init__(self) -> None:
        self.day: date | None = None
        self.users: set[str] = set()
        self.lock = threading.Lock()

    def known(self, user_id: str, day: date) -> bool:
        return self.day == day and user_id in self.users

    def remember(self, user_id: str, day: date) -> None:
        with self.lock:
            if self.day != day or len(self.users) >= MAX_REMEMBERED:
                self.day, self.users = day, set()
            self.users.add(user_id)


# By the table the marks are in: a mark remembered for one table says nothing of another (a test's
# fresh tables under the same store, a stage switched in the same process).
_MARKED: dict[str, _Marked] = {}
_MARKED_LOCK = threading.Lock()


def _marked(store: AnalyticsStore) -> _Marked:
    with _MARKED_LOCK:
        marked = _MARKED.get(store.table)
        if marked is None:
            marked = _MARKED[store.table] = _Marked()
        return marked


def visited(deps: Deps, user_id: str, at: datetime) -> None:
    """``user_id`` opened the mini-program at ``at``: a visitor of its day, once. Free when this
    process marked them today already; else one TransactWriteItems. Never raises."""
    day = business_date(at)
    if _marked(deps.analytics).known(user_id, day):
        return
    _mark(deps, user_id, day, at)


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
        _marked(deps.analytics).remember(user_id, day)  # marked now, or marked already (by any path)

    run_until_committed(step, attempts=ATTEMPTS, what="this visit")

"""What a fact or an event adds to the day's counters, decided from what was known before it.

Distinct counts (visitors, sessions, paying users, active distributors) and the window counts
(repurchase within 30 days, new users paying within 7, retention month over month) are decided
here, purely, from a small per-entity state (a buyer's registration and recent payment days, a
distributor's active day and months, a session's page count); the store keeps that state and
makes the decision stick only if the state did not change meanwhile (docs/metrics.md).

A state changes only when a count depends on it (a buyer's second order of a day, a distributor's
first activity of a day, a session's first two pages): the hottest entities (a distributor in a
flash sale, a busy session) are written once or twice a day, not once per fact.

Facts are taken in the order of their day: a fact dated before the entity's last one (possible
only around midnight between two hosts) is counted in its day's totals but not as distinct.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum

from chalicelib.domain.clock import business_date, previous_month
from chalicelib.domain.errors import Kind, error
from chalicelib.domain.invariants import present
from chalicelib.domain.metrics import NEW_USER_WINDOW_DAYS, REPURCHASE_WINDOW_DAYS

MAX_EVENTS = 100
MAX_EVENT_AGE = timedelta(hours=24)  # older events are refused: their day may be computed already
MAX_EVENT_SKEW = timedelta(minutes=5)  # a phone's clock ahead of ours

EventTimeOutOfRange = error("EVENT_TIME_OUT_OF_RANGE", Kind.INVALID,
                            "An event's ts is more than 24 hours old or more than 5 minutes ahead.")

Counts = dict[str, int]


class EventType(StrEnum):
    PAGE_VIEW = "page_view"
    PRODUCT_VIEW = "product_view"
    SHARE = "share"


DAY_COUNTER_OF = {EventType.PAGE_VIEW: "page_views", EventType.PRODUCT_VIEW: "product_views",
                  EventType.SHARE: "shares"}


@dataclass(frozen=True)
class Event:
    type: EventType
    session_id: str
    ts: datetime
    page: str | None = None
    product_id: str | None = None

    @property
    def day(self) -> date:
        return business_date(self.ts)


def event_id(user_id: str, event: Event) -> str:
    """The identity of an event: the same user, session, type, page, product and instant (to the
    millisecond) is the same event, however often a batch is sent."""
    instant = event.ts.timestamp()
    parts = (user_id, event.session_id, event.type.value, event.page or "", event.product_id or "",
             f"{instant:.3f}")
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def check_event_time(ts: datetime, now: datetime) -> None:
    if not now - MAX_EVENT_AGE <= ts <= now + MAX_EVENT_SKEW:
        raise EventTimeOutOfRange("an event's ts must be within the last 24 hours", ts=ts.isoformat())


def session_pages(pages_before: int, added: int) -> int:
    """A session's page count as kept: up to 2 (a bounce is a session of exactly one page), so that
    a busy session's state stops changing after its second page."""
    return min(pages_before + added, 2)


def session_change(pages_before: int, added: int) -> Counts:
    """A session's page views went from ``pages_before`` to ``pages_before + added`` on a day:
    a new session counts once; a session of exactly one page is a bounce until a second page."""
    if added <= 0:
        return {}
    after = pages_before + added
    return {"sessions": int(pages_before == 0), "bounced": int(after == 1) - int(pages_before == 1)}


@dataclass(frozen=True)
class BuyerState:
    registered_day: date | None = None
    first_paid_day: date | None = None
    pay_day: date | None = None  # the buyer's latest day with a paid order
    pay_n: int = 0  # paid orders on ``pay_day``, counted up to 2 (all the rules need)
    prev_pay_day: date | None = None  # the day with a paid order before ``pay_day``


def registered(state: BuyerState, day: date) -> tuple[BuyerState, Counts]:
    """A user registered (first login) on ``day``: a new user, once."""
    if state.registered_day is not None:
        return state, {}
    return replace(state, registered_day=day), {"new_users": 1}


def _within(earlier: date | None, day: date, window_days: int) -> bool:
    return earlier is not None and 0 <= (day - earlier).days < window_days


def paid(state: BuyerState, day: date) -> tuple[BuyerState, Counts]:
    """A buyer paid an order on ``day``. Counts a paying user once per day; a repeat buyer once per
    day when this makes the second paid order in the 30 days ending with ``day``; and a new-user
    conversion (``nucK``, K = days since registration) at the first payment within 7 days."""
    counts: Counts = {}
    if state.first_paid_day is None:
        if _within(state.registered_day, day, NEW_USER_WINDOW_DAYS):
            registered = present(state.registered_day, "a new user's registration day")
            counts[f"nuc{(day - registered).days}"] = 1
        state = replace(state, first_paid_day=day)
    if state.pay_day == day:
        if state.pay_n >= 2:  # nothing more to learn today: the state stays as it is (no write)
            return state, counts
        if not _within(state.prev_pay_day, day, REPURCHASE_WINDOW_DAYS):
            counts["repeat_buyers"] = 1
        return replace(state, pay_n=2), counts
    if state.pay_day is not None and state.pay_day > day:
        return state, counts  # out of order: not distinct
    counts["paying_users"] = 1
    if _within(state.pay_day, day, REPURCHASE_WINDOW_DAYS):
        counts["repeat_buyers"] = 1
    return replace(state, pay_day=day, pay_n=1, prev_pay_day=state.pay_day), counts


@dataclass(frozen=True)
class DistributorState:
    active_day: date | None = None
    active_month: str | None = None  # YYYY-MM of ``active_day``
    prev_active_month: str | None = None  # the active month before ``active_month``


def distributor_active(state: DistributorState, day: date) -> tuple[DistributorState, Counts]:
    """A distributor was active (credited with a commission) on ``day``: an active distributor of
    the day once; the first activity of a month counts for the month (``dist_month_first``) and,
    if they were active the month before, as retained (``dist_retained``)."""
    if state.active_day is not None and state.active_day >= day:
        return state, {}
    month = day.strftime("%Y-%m")
    counts = {"active_distributors": 1}
    if state.active_month != month:
        counts["dist_month_first"] = 1
        if state.active_month == previous_month(month):
            counts["dist_retained"] = 1
        state = replace(state, prev_active_month=state.active_month, active_month=month)
    return replace(state, active_day=day), counts

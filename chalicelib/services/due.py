"""Walking a sparse due-day index partitioned by day and shard (``"<day>#<shard>"``, 16 shards a
day): the plan and the worker the order jobs share (``cancel_unpaid``, ``auto_confirm``,
``expire_groups``; docs/orders.md "Jobs").

A run's parts are the 16 shards, each over the days of the job's look-back: ``"<first day>..<last
day>#<shard>"``. A slice walks its part's days oldest first, one index page at a time, and hands
its handler each page's ids; after each page it stops if its time is up, handing back the cursor
``{"day", "page"}`` (the day it reached and the index's LastEvaluatedKey). Handling is
idempotent (every change is conditioned on the status it leaves), so a slice run twice, or a
page seen again, changes nothing twice.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Protocol

from chalicelib.domain.clock import business_date
from chalicelib.domain.shards import SHARDS

PAGE = 50  # ids per page: one BatchGetItem of the page's items, then one transaction each

# (partition, now, cursor, limit) -> (ids, next cursor): the store's page of a due index
Page = Callable[[str, datetime, "str | None", int], tuple[list[str], "str | None"]]


class Deadline(Protocol):
    """When a slice must stop (the engine's ``Deadline``)."""

    def expired(self) -> bool: ...


@dataclass(frozen=True)
class Walked:
    """What a slice did and where its part resumes (None: the part is done)."""

    counts: dict[str, int] = field(default_factory=dict)
    cursor: str | None = None


def day_parts(now: datetime, lookback_days: int) -> list[str]:
    """The parts of a run as of ``now``: one per shard, over the days from ``lookback_days``
    before today to today (a late run still finds what an earlier one missed)."""
    today = business_date(now)
    first = today - timedelta(days=lookback_days)
    return [f"{first.isoformat()}..{today.isoformat()}#{shard}" for shard in SHARDS]


def parse_part(part: str) -> tuple[list[date], str]:
    """The days and the shard a part names; ValueError for anything else."""
    days, _, shard = part.partition("#")
    first, _, last = days.partition("..")
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    if shard not in SHARDS or not start <= end or (end - start).days > 366:
        raise ValueError(f"not a part of a due-day job: {part!r}")
    return [start + timedelta(days=n) for n in range((end - start).days + 1)], shard


def walk(part: str, cursor: str | None, now: datetime, page: Page, handle: Callable[[list[str]], dict[str, int]],
         deadline: Deadline, zero: dict[str, int]) -> Walked:
    """One slice of a part: pages of its partitions, oldest day first, each page's ids handled,
    until the part is done or the deadline expired (after at least one page)."""
    days, shard = parse_part(part)
    day, after = days[0], None
    if cursor:
        at = json.loads(cursor)
        day, after = date.fromisoformat(str(at["day"])), at["page"]
    counts = dict(zero)
    while True:
        ids, after = page(f"{day.isoformat()}#{shard}", now, after, PAGE)
        if ids:
            for name, value in handle(ids).items():
                counts[name] = counts.get(name, 0) + value
        if after is None:
            if day >= days[-1]:
                return Walked(counts, None)
            day += timedelta(days=1)
        if deadline.expired():
            return Walked(counts, json.dumps({"day": day.isoformat(), "page": after}))

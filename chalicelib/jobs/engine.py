"""Jobs as plans and workers (docs/jobs.md).

A job is a ``JobDef``: ``plan`` names the parts of a run (shards, days, pages: cheap, it reads no
data), ``work`` does one *slice* of a part (from a cursor, until the part is done or its
``Deadline`` says stop, handing back the cursor it reached), and ``finish`` runs once when every
part is done (the fan-in: a month marked paid, a day's row assembled).

A slice travels as a message (``Slice``) on a ``JobQueue``: deployed, an SQS queue whose
``on_sqs_message`` workers each take one message (``app.py``); in ``make dev``, the tests and
the bench, ``LocalQueue``, drained in-process by ``chalicelib.jobs.run_job``. The same
``work_slice`` runs either way.

Delivery is at least once (SQS redelivers a message whose worker failed or timed out), so the
engine asks of ``work`` what SQS asks of any consumer: a slice run twice changes nothing the
second time, and the engine counts it once (``store/jobs.py``: slice and part markers). A worker
sends the continuation of its part *before* it records its slice: a crash in between runs the
slice again (harmless) rather than losing the rest of the part.
"""
from __future__ import annotations

import json
import time
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from chalicelib.domain.clock import iso, parse_iso
from chalicelib.domain.invariants import holds, present
from chalicelib.domain.slices import Progress

if TYPE_CHECKING:
    from chalicelib.bootstrap import Deps
    from chalicelib.store.jobs import JobStore

MAX_PART_CHARS = 256
MAX_PARTS = 10_000  # a plan names shards, days or pages, never items


class Deadline:
    """When a slice must stop and hand back its cursor: less than ``margin`` seconds left."""

    def __init__(self, remaining_seconds: Callable[[], float], margin_seconds: float = 0.0) -> None:
        self._remaining = remaining_seconds
        self._margin = margin_seconds

    def expired(self) -> bool:
        return self._remaining() <= self._margin

    def remaining(self) -> float:
        return self._remaining() - self._margin

    @classmethod
    def after(cls, seconds: float, clock: Callable[[], float] = time.monotonic) -> Deadline:
        """``seconds`` from now (0: expired at once, so each slice does one page: tests)."""
        end = clock() + seconds
        return cls(lambda: end - clock())

    @classmethod
    def of_lambda(cls, context: Any, margin_seconds: float) -> Deadline:
        """The invocation's own clock (``context.get_remaining_time_in_millis()``), less a margin
        for recording the slice and sending its continuation."""
        return cls(lambda: context.get_remaining_time_in_millis() / 1000, margin_seconds)


Plan = Callable[[datetime, "Deps"], list[str]]
Work = Callable[[str, "str | None", datetime, "Deps", Deadline], Progress]
Finish = Callable[[datetime, "Deps", dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class JobDef:
    name: str
    plan: Plan
    work: Work
    finish: Finish | None = None


class StrayMessage(ValueError):
    """A message on the jobs' queue that is not a slice of a job we have."""


@dataclass(frozen=True)
class Slice:
    """A message: a part of a run of a job, as of ``now``, to resume from ``cursor``, under the
    runtime rules' version ``rules`` (the one in force when the run was planned: a run uses one
    version throughout, however long it takes and whatever is saved meanwhile)."""

    job: str
    run_id: str
    part: str
    now: datetime
    cursor: str | None = None
    rules: int | None = None  # None: a message sent before versions (the version in force)

    def to_json(self) -> str:
        return json.dumps({"job": self.job, "run": self.run_id, "part": self.part,
                           "now": self.now.astimezone(UTC).isoformat(),  # to the microsecond: the job's instant
                           "cursor": self.cursor, "rules": self.rules}, separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def from_json(cls, body: str) -> Slice:
        """A message as sent by ``to_json``; StrayMessage for anything else."""
        try:
            raw = json.loads(body)
            if not isinstance(raw, dict) or not all(isinstance(raw.get(k), str) for k in ("job", "run", "part", "now")):
                raise StrayMessage("not a job slice")
            cursor, rules = raw.get("cursor"), raw.get("rules")
            if cursor is not None and not isinstance(cursor, str):
                raise StrayMessage("not a job slice: its cursor is not text")
            if rules is not None and (not isinstance(rules, int) or isinstance(rules, bool) or rules < 1):
                raise StrayMessage("not a job slice: its rules version is not a positive integer")
            return cls(raw["job"], raw["run"], raw["part"], parse_iso(raw["now"]), cursor, rules)
        except ValueError as exc:
            raise StrayMessage(f"not a job slice: {exc}") from exc


class JobQueue(Protocol):
    def send(self, slices: Sequence[Slice]) -> None: ...


class LocalQueue:
    """The in-process queue: first in, first out, drained by its caller."""

    def __init__(self) -> None:
        self._waiting: deque[Slice] = deque()

    def send(self, slices: Sequence[Slice]) -> None:
        self._waiting.extend(slices)

    def take(self) -> Slice | None:
        return self._waiting.popleft() if self._waiting else None


def start(job: JobDef, now: datetime, deps: Deps, queue: JobQueue) -> str:
    """Plan a run of ``job`` as of ``now``, record it and send its parts; returns its id. A run
    with no parts is finished here. The run keeps the rules in force now (every slice names them)."""
    version, _ = deps.rules_in_force()
    deps = deps.pinned(version)
    parts = job.plan(now, deps)
    holds(len(set(parts)) == len(parts), f"a plan names each part once ({job.name})")
    holds(len(parts) <= MAX_PARTS, f"a plan names shards, days or pages, not items ({job.name}: {len(parts)})")
    holds(all(0 < len(p) <= MAX_PART_CHARS for p in parts), "a part is a short name")
    run_id = f"{job.name}#{iso(now)}#{uuid.uuid4().hex[:12]}"
    deps.jobs.start(run_id, job.name, len(parts), deps.clock())
    queue.send([Slice(job.name, run_id, part, now, rules=version) for part in parts])
    if not parts:
        _maybe_finish(job, run_id, now, deps)
    return run_id


def work_slice(job: JobDef, piece: Slice, deps: Deps, deadline: Deadline, queue: JobQueue) -> Progress:
    """Run one slice: the work, then its continuation sent (if any), then the slice recorded
    once, and when the part is done, the part counted and the run finished if it was the last.
    The slice runs under its run's rules version."""
    if piece.rules is not None:
        deps = deps.pinned(piece.rules)
    progress = job.work(piece.part, piece.cursor, piece.now, deps, deadline)
    holds(progress.cursor is None or progress.cursor != piece.cursor,
          f"a slice moves its part on ({job.name}, part {piece.part})")
    if progress.cursor is not None:
        queue.send([replace(piece, cursor=progress.cursor)])
    store = deps.jobs
    store.record_slice(piece.run_id, piece.part, piece.cursor, progress.counts, deps.clock())
    if progress.cursor is None:
        store.finish_part(piece.run_id, piece.part, deps.clock())
        _maybe_finish(job, piece.run_id, piece.now, deps)
    return progress


def _maybe_finish(job: JobDef, run_id: str, now: datetime, deps: Deps) -> None:
    """Run ``finish`` if every part is done and no one else is finishing (or finished) the run.
    The run is read first (one consistent GetItem): every part but the last finds parts left, and
    a claim it would make is a conditional write known to fail (billed all the same)."""
    store = deps.jobs
    run = store.run(run_id)
    if run is None or run.parts_left or run.finished_at is not None:
        return
    if not store.claim_finish(run_id, deps.clock()):
        return
    try:
        fields = job.finish(now, deps, summed(store.slices(run_id))) if job.finish is not None else {}
    except BaseException:
        store.release_finish(run_id)
        raise
    store.mark_finished(run_id, fields, deps.clock())
    from chalicelib.observability import metrics

    metrics().add_metric(name=f"{job.name}_runs", unit="Count", value=1)  # a run finished (its alarm: docs/ops.md)


def summed(counts: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The slices' counts as one summary: integers add, lists extend, other values: the last."""
    total: dict[str, Any] = {}
    for one in counts:
        for name, value in one.items():
            before = total.get(name)
            adds = (isinstance(value, int) and not isinstance(value, bool) and isinstance(before, int)) or (
                isinstance(value, list) and isinstance(before, list))
            if adds:
                total[name] = before + value
            else:
                total[name] = value
    return total


def summary(store: JobStore, run_id: str) -> dict[str, Any]:
    """A run's summary as it stands: the slices' counts, what ``finish`` added, its parts and
    slices, and whether it finished."""
    run = present(store.run(run_id), f"the run {run_id}")
    slices = store.slices(run_id)
    return {**summed(slices), **run.finished, "parts": run.parts, "slices": len(slices),
            "finished": run.finished_at is not None}

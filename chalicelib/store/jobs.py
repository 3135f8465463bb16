"""The runs of the jobs (``chalicelib/jobs/engine.py``), in their own small table (setting
``jobs_table``, env ``JOBS_TABLE``). A run is one partition:

=====================  ====================  ===================================================
pk                     sk                    what
=====================  ====================  ===================================================
``<job>#<now>#<id>``   ``run``               the run: its parts, how many are left, when it
                                             finished and what ``finish`` added to its summary
``<job>#<now>#<id>``   ``slice#<part>#<h>``  a slice done: what it counted (JSON); ``h`` is a
                                             hash of the cursor it started from
``<job>#<now>#<id>``   ``done#<part>``       a part finished (put once: the run's count of parts
                                             left moves with it)
=====================  ====================  ===================================================

Exactly once: a slice's counts are put only if its marker is absent, and a part is counted
finished only with the put of its own marker, so a message delivered twice (SQS is at least
once) or a slice run again after a crash adds nothing. Every item expires after
``RUN_TTL`` (a run is kept for inspection, not forever). Items stay small: a slice's counts are a
few integers, never the data the slice went over.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import PutError, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from chalicelib.config import get_settings
from chalicelib.store.base import BaseMeta, StoreModel, condition_failed, transaction_failure

RUN = "run"
RUN_TTL = timedelta(days=30)
FINISH_LEASE = timedelta(minutes=15)  # a finisher that died is replaced after this


class JobItem(StoreModel):
    class Meta(BaseMeta):
        table_name = get_settings().jobs_table

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    expires_at = TTLAttribute(null=True)
    job = UnicodeAttribute(null=True)
    parts = NumberAttribute(null=True)  # the run's parts (planned)
    parts_left = NumberAttribute(null=True)
    started_at = UTCDateTimeAttribute(null=True)
    claimed_at = UTCDateTimeAttribute(null=True)  # when a worker took the run's ``finish``
    finished_at = UTCDateTimeAttribute(null=True)
    data = UnicodeAttribute(null=True)  # JSON: a slice's counts, or the run's fields from ``finish``


@dataclass(frozen=True)
class Run:
    run_id: str
    job: str
    parts: int
    parts_left: int
    started_at: datetime
    finished_at: datetime | None
    finished: dict[str, Any]  # what ``finish`` added (empty until then)


def slice_key(part: str, cursor: str | None) -> str:
    return f"slice#{part}#{hashlib.sha256((cursor or '').encode()).hexdigest()[:20]}"


class JobStore:
    def start(self, run_id: str, job: str, parts: int, now: datetime) -> None:
        """A new run of ``parts`` parts (a run id is never reused)."""
        JobItem(run_id, RUN, job=job, parts=parts, parts_left=parts, started_at=now,
                expires_at=now + RUN_TTL).save(condition=JobItem.pk.does_not_exist())

    def run(self, run_id: str) -> Run | None:
        try:
            item = JobItem.get(run_id, RUN, consistent_read=True)
        except JobItem.DoesNotExist:
            return None
        return Run(run_id, item.job or "", int(item.parts or 0), int(item.parts_left or 0), item.started_at,
                   item.finished_at, json.loads(item.data or "{}"))

    def record_slice(self, run_id: str, part: str, cursor: str | None, counts: dict[str, Any],
                     now: datetime) -> bool:
        """What the slice of ``part`` that started at ``cursor`` counted, once; False when it was
        recorded before (a message delivered again)."""
        try:
            JobItem(run_id, slice_key(part, cursor), data=json.dumps(counts, separators=(",", ":")),
                    expires_at=now + RUN_TTL).save(condition=JobItem.pk.does_not_exist())
        except PutError as exc:
            if condition_failed(exc):
                return False
            raise
        return True

    def finish_part(self, run_id: str, part: str, now: datetime) -> bool:
        """``part`` is finished: its marker and one part less to go, in one transaction; False
        when it was finished before."""
        try:
            with TransactWrite(connection=JobItem._get_connection().connection) as tx:
                tx.save(JobItem(run_id, f"done#{part}", expires_at=now + RUN_TTL),
                        condition=JobItem.pk.does_not_exist())
                tx.update(JobItem(run_id, RUN), actions=[JobItem.parts_left.add(-1)],
                          condition=JobItem.parts_left > 0)
        except TransactWriteError as exc:
            if transaction_failure(exc).failed_at(0):
                return False
            raise
        return True

    def claim_finish(self, run_id: str, now: datetime) -> bool:
        """Whether this caller runs the run's ``finish``: every part done, not finished, and
        nobody holding the finish (or its holder's lease of ``FINISH_LEASE`` ran out: a worker
        that died while finishing is replaced by the next delivery). ``finish`` is idempotent."""
        free = JobItem.claimed_at.does_not_exist() | (JobItem.claimed_at < now - FINISH_LEASE)
        try:
            JobItem(run_id, RUN).update(actions=[JobItem.claimed_at.set(now)],
                                        condition=(JobItem.parts_left == 0) & JobItem.finished_at.does_not_exist()
                                        & free)
        except UpdateError as exc:
            if condition_failed(exc):
                return False
            raise
        return True

    def release_finish(self, run_id: str) -> None:
        """``finish`` failed after ``claim_finish``: the next delivery may claim it at once."""
        JobItem(run_id, RUN).update(actions=[JobItem.claimed_at.remove()])

    def mark_finished(self, run_id: str, fields: dict[str, Any], now: datetime) -> None:
        JobItem(run_id, RUN).update(actions=[JobItem.finished_at.set(now),
                                             JobItem.data.set(json.dumps(fields, separators=(",", ":"), default=str))])

    def slices(self, run_id: str) -> list[dict[str, Any]]:
        """The counts of every slice of the run (one Query over the run's partition)."""
        return [json.loads(item.data or "{}")
                for item in JobItem.query(run_id, JobItem.sk.startswith("slice#"), consistent_read=True)]

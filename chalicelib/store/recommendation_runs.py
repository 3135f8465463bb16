"""What ``compute_recommendations`` keeps between its steps, in the analytics table (prefix
``rec#``; docs/experiments.md "The daily job"). Every item is a chunk of at most ``CHUNK_BYTES``
of JSON or a small marker: nothing grows with the catalogue, the orders of a day or the history.
``r`` is the job's bucket of a product (crc32 mod 64), ``pb`` its day counters' (crc32 mod 8),
``bp`` a basket partition (crc32(order) mod 16).

==========================  ==============================================  =====================================
pk                          sk                                              what
==========================  ==============================================  =====================================
``rec#sum#<D>#<r>``         ``v#<nonce>#<seq>#<i>``                         bucket ``r``'s products' views on day D:
                                                                            ``[[product, views], ...]``
``rec#sum#<D>#<r>``         ``o#<bp>#<nonce>#<seq>#<i>``                    paid orders holding each of r's
                                                                            products, from basket partition bp:
                                                                            ``[[product, orders], ...]``
``rec#sum#<D>#<r>``         ``b#<bp>#<nonce>#<seq>#<i>``                    pairs bought together, r's product
                                                                            first: ``[[product, other, orders]]``
``rec#day#<D>``             ``v<pb>`` / ``b<bp>``                           that step of day D is done: ``ref`` its
                                                                            nonce, ``n`` the baskets read (``b``),
                                                                            ``data`` the buckets it wrote to (bits)
``rec#day#<D>``             ``done``                                        day D is summarised (put once):
                                                                            ``data`` every step's marker
``rec#win#<T>``             ``<r>#<nonce>#<i>``                             the run of day T's window totals of r's
                                                                            products: ``[[product, orders, views]]``
``rec#run#<T>``             ``w<r>`` / ``c<r>``                             the run's step done: ``ref`` its nonce
``rec#lk#<T>``              ``<r>#<nonce>#<i>``                             the products of r the run gave a list
``rec#top#<T>``             ``<r>#<nonce>#<i>``                             r's most popular products per category
                                                                            (``""``: any): ``[[category, p, score]]``
``rec#run``                 ``last``                                        the last finished run: ``ref`` its day,
                                                                            ``data`` its category lists' keys
==========================  ==============================================  =====================================

A step's output is the chunks under the nonce its marker names: a step run twice at once (a
message delivered twice, a worker taking over another's step) writes two sets under two nonces and
readers take the one the marker names, never a mix. A set no marker names is left to its TTL.
Day summaries live 97 days (no window is longer than 90), a run's window totals and popular
products 3 days (read by the same run), its list keys 40 days (read by the next run).
"""
from __future__ import annotations

import json
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from pynamodb.exceptions import PutError

from chalicelib.store.analytics_item import AnalyticsItem, Key, batch_get

BUCKETS = 64  # the job's product buckets: crc32(product) mod 64, a refinement of the counters' 8
CHUNK_BYTES = 32_000
SUMMARY_TTL = timedelta(days=97)
RUN_TTL = timedelta(days=40)
SCRATCH_TTL = timedelta(days=3)
LAST: Key = ("rec#run", "last")
DONE = "done"


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def chunked(entries: Sequence[Any], max_bytes: int = CHUNK_BYTES) -> list[list[Any]]:
    """``entries`` cut in order into runs whose JSON stays under ``max_bytes`` (the same cut for
    the same entries)."""
    chunks: list[list[Any]] = []
    current: list[Any] = []
    size = 2
    for entry in entries:
        length = len(_dumps(entry).encode()) + 1
        if current and size + length > max_bytes:
            chunks.append(current)
            current, size = [], 2
        current.append(entry)
        size += length
    if current:
        chunks.append(current)
    return chunks


@dataclass(frozen=True)
class Step:
    """A step's marker: the nonce naming its output, what it counted, the buckets it wrote to."""

    nonce: str
    n: int = 0
    buckets: frozenset[int] = frozenset()


def _mask(buckets: Iterable[int]) -> int:
    """Buckets as the bits of one number (a marker stays small: 64 buckets fit in 20 digits)."""
    return sum(1 << bucket for bucket in set(buckets))


def _buckets(mask: int) -> frozenset[int]:
    return frozenset(bucket for bucket in range(BUCKETS) if mask >> bucket & 1)


def bucket_of(product_id: str) -> int:
    """The job's bucket of a product; ``bucket_of(p) % 8`` is the bucket of its day counters."""
    return zlib.crc32(product_id.encode()) % BUCKETS


def summary_pk(day: date, bucket: int) -> str:
    return f"rec#sum#{day.isoformat()}#{bucket}"


def day_pk(day: date) -> str:
    return f"rec#day#{day.isoformat()}"


def run_pk(kind: str, run_day: date) -> str:
    """``rec#win#<T>``, ``rec#run#<T>``, ``rec#lk#<T>``, ``rec#top#<T>``."""
    return f"rec#{kind}#{run_day.isoformat()}"


class RecommendationRuns:
    """The job's steps and their outputs: mixed into ``RecommendationStore``."""

    def write_chunks(self, sets: Sequence[tuple[str, str, Sequence[Any]]], expires_at: datetime) -> int:
        """Each ``(pk, prefix, entries)`` as chunks ``<prefix>#<i>`` (i = 0000, 0001, …), all in
        BatchWriteItem (25 items a call); returns how many chunks."""
        written = 0
        with AnalyticsItem.batch_write() as batch:
            for pk, prefix, entries in sets:
                for index, chunk in enumerate(chunked(entries)):
                    batch.save(AnalyticsItem(pk, f"{prefix}#{index:04d}", data=_dumps(chunk), expires_at=expires_at))
                    written += 1
        return written

    def chunks(self, pk: str, begins: str = "", after: str | None = None) -> Iterator[tuple[str, list[Any]]]:
        """(sk, entries) of the chunks under ``pk`` whose sk starts with ``begins`` (or, with
        ``after``, sorts after it), in sk order (one Query, paged)."""
        condition = AnalyticsItem.sk > after if after is not None else AnalyticsItem.sk.startswith(begins)
        for item in AnalyticsItem.query(pk, condition if (begins or after is not None) else None):
            yield item.sk, json.loads(item.data or "[]")

    def mark(self, pk: str, step: str, nonce: str, expires_at: datetime, n: int = 0,
             buckets: Sequence[int] = ()) -> None:
        """The step is done and its output is the set named ``nonce`` (the last marker wins);
        ``n`` what it counted, ``buckets`` the buckets it wrote to (at most ``BUCKETS``)."""
        AnalyticsItem(pk, step, ref=nonce, n=n, data=_dumps(_mask(buckets)), expires_at=expires_at).save()

    def mark_day(self, day: date, steps: dict[str, Step], expires_at: datetime) -> bool:
        """Day ``day`` is summarised by ``steps`` (every step it needed): put only if absent, so
        True for the one caller that put it."""
        data = {name: [step.nonce, step.n, _mask(step.buckets)] for name, step in steps.items()}
        try:
            AnalyticsItem(day_pk(day), DONE, data=_dumps(data), expires_at=expires_at).save(
                condition=AnalyticsItem.pk.does_not_exist())
        except PutError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def summarised(self, days: Sequence[date]) -> dict[date, dict[str, Step]]:
        """The days among ``days`` that are summarised, with their steps (one consistent
        BatchGetItem per 100 days)."""
        found = {}
        for raw in batch_get([(day_pk(day), DONE) for day in dict.fromkeys(days)], consistent=True):
            item = AnalyticsItem.from_raw_data(raw)
            found[date.fromisoformat(item.pk.rsplit("#", 1)[1])] = {
                name: Step(nonce, int(n), _buckets(mask)) for name, (nonce, n, mask) in json.loads(item.data or "{}").items()}
        return found

    def markers(self, keys: Sequence[Key]) -> dict[Key, Step]:
        """The markers present among ``keys`` (one BatchGetItem per 100 keys, consistent: a step
        just marked by another worker is seen)."""
        found = {}
        for raw in batch_get(list(dict.fromkeys(keys)), consistent=True):
            item = AnalyticsItem.from_raw_data(raw)
            found[(item.pk, item.sk)] = Step(item.ref or "", int(item.n or 0), _buckets(json.loads(item.data or "0")))
        return found

    def run_markers(self, run_day: date) -> dict[str, Step]:
        """The run's steps done (one consistent Query)."""
        return {item.sk: Step(item.ref or "", int(item.n or 0), _buckets(json.loads(item.data or "0")))
                for item in AnalyticsItem.query(run_pk("run", run_day), consistent_read=True)}

    def last_run(self) -> tuple[date | None, list[Key]]:
        """The day of the last finished run and the category lists it wrote."""
        for raw in batch_get([LAST], consistent=True):
            item = AnalyticsItem.from_raw_data(raw)
            return (date.fromisoformat(item.ref) if item.ref else None,
                    [(pk, sk) for pk, sk in json.loads(item.data or "[]")])
        return None, []

    def save_last_run(self, run_day: date, category_lists: Sequence[Key]) -> None:
        AnalyticsItem(*LAST, ref=run_day.isoformat(), data=_dumps(sorted(category_lists))).save()

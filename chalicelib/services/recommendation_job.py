"""``compute_recommendations`` as a plan of parts (docs/experiments.md "The daily job").

Bought together needs, for a product, the window's orders of every product it was bought with,
wherever those live; popularity per category needs every product's score. So a run goes through
three steps, each storing what it found in fixed-size chunks (store/recommendation_runs.py), cut
by the job's product bucket ``r`` (crc32(product) mod 64), the day counters' bucket ``pb``
(crc32 mod 8) or the basket partition ``bp`` (crc32(order) mod 16):

1. **summarise** each day of the window not summarised yet, once: ``v`` (day, pb), the views of
   pb's products; ``b`` (day, bp), the paid orders of one basket partition: per product the orders
   holding it and per pair the orders holding both; each sent to its products' buckets ``r``;
2. **window** ``w`` (r): r's products' orders and views added up over the window's days;
3. **lists** ``c`` (r): r's products' bought-together lists (a pair's score needs the other
   product's window orders: every bucket's step 2 output, ~25 bytes a product), written; the
   lists of r that the previous run wrote and this one did not, deleted; r's most popular
   products per category and overall, for ``finish``.

``finish`` merges the popular products into the category lists and the hot list.

The plan is one part per day-counter bucket (``<day>#r<pb>``, 8 parts); part p's own steps are the
summarising steps dealt round the parts and the buckets ``r`` with ``r mod 8 = p``. The engine runs
parts in any order, at once when deployed, and has no stages, so a part makes its own way through
them: it takes the first step not done yet, its own first, then any other part's (a part ahead of
the others helps, one whose worker died is replaced), and its own step 3 once every bucket's step
2 is done. Each step's output is named by its marker (a nonce), so two workers on one step never
mix their outputs; whichever marks last is read. A slice stops after the page or batch during
which its deadline passed and hands back where it was (its cursor: the step and its position).
"""
from __future__ import annotations

import json
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import islice
from typing import TYPE_CHECKING, Any

from chalicelib.domain.clock import business_date
from chalicelib.domain.recommendations import Scored, Window, cosine_bp, pairs_of, popularity, ranked
from chalicelib.domain.slices import Progress

if TYPE_CHECKING:
    from chalicelib.bootstrap import Deps
    from chalicelib.jobs.engine import Deadline
    from chalicelib.store.analytics import Basket
    from chalicelib.store.recommendation_runs import Step
    from chalicelib.store.recommendations import Key, RecommendationStore

PRODUCTS_PER_READ = 1_000  # products of a day-counter bucket read per batch (step v)
BASKETS_PER_PAGE = 500  # baskets per Query page (step b)
FLUSH_ENTRIES = 20_000  # a step b writes what it has gathered past this many entries
LISTS_PER_BATCH = 100  # lists written between two looks at the deadline (step c)
ANY_CATEGORY = ""  # the hot list's entries among a bucket's popular products
Cursor = dict[str, Any]


def _parts() -> int:
    from chalicelib.store.analytics import PRODUCT_BUCKETS

    return PRODUCT_BUCKETS


def _buckets() -> int:
    from chalicelib.store.recommendation_runs import BUCKETS

    return BUCKETS


def _partitions() -> int:
    from chalicelib.store.analytics import BASKET_PARTITIONS

    return BASKET_PARTITIONS


def _bucket_of(product_id: str) -> int:
    from chalicelib.store.recommendation_runs import bucket_of

    return bucket_of(product_id)


def _nonce() -> str:
    return uuid.uuid4().hex[:10]


# The plan --------------------------------------------------------------------------------------
def window_days(now: datetime, deps: Deps) -> list[date]:
    """The complete days a run at ``now`` adds up: the ``window_days`` Shanghai days before today,
    newest first."""
    today = business_date(now)
    return [today - timedelta(days=k) for k in range(1, deps.rules.recommendations.window_days + 1)]


def recommendation_parts(now: datetime, deps: Deps) -> list[str]:
    day = business_date(now).isoformat()
    return [f"{day}#r{part}" for part in range(_parts())]


# A part's way through the steps ---------------------------------------------------------------
@dataclass
class Run:
    """One slice's view of the run: the part, the window, what it read once, its counts."""

    deps: Deps
    now: datetime
    part: int
    day: date = field(init=False)
    days: list[date] = field(init=False)
    counts: Counter[str] = field(default_factory=Counter)
    needs: dict[date, list[str]] = field(default_factory=dict)  # the summarising steps of a day
    left: list[tuple[date, str]] | None = None  # the summarising steps not done, as this slice saw them
    summaries: dict[date, dict[str, Step]] | None = None  # once every day is summarised
    marked: dict[str, Step] | None = None  # the run's steps 2 and 3 done, as this slice knows them
    window: Window | None = None  # every bucket's window totals, once every step 2 is done
    previous: dict[date, dict[str, Step]] | None = None  # the steps of the runs since the last finished one

    def __post_init__(self) -> None:
        self.day = business_date(self.now)
        self.days = window_days(self.now, self.deps)

    @property
    def store(self) -> RecommendationStore:
        return self.deps.recommendations

    def expires(self, ttl: timedelta) -> datetime:
        return self.now + ttl

    def summarised(self) -> dict[date, dict[str, Step]]:
        """The window's days and their steps (read once a slice, after step 1 is done)."""
        if self.summaries is None:
            self.summaries = self.store.summarised(self.days)
        return self.summaries

    def run_marked(self, fresh: bool = False) -> dict[str, Step]:
        """The run's steps 2 and 3 done: read once a slice (again when ``fresh``), then kept up
        to date with this slice's own."""
        if self.marked is None or fresh:
            self.marked = self.store.run_markers(self.day)
        return self.marked

    def mark(self, name: str, nonce: str, n: int) -> None:
        from chalicelib.store.recommendation_runs import RUN_TTL, Step, run_pk

        self.store.mark(run_pk("run", self.day), name, nonce, self.expires(RUN_TTL), n=n)
        self.run_marked()[name] = Step(nonce, n)

    def previous_runs(self) -> dict[date, dict[str, Step]]:
        """The steps of every run since the last finished one (that one included; read once a slice)."""
        from chalicelib.store.recommendation_runs import RUN_TTL

        if self.previous is None:
            last, _ = self.store.last_run()
            self.previous = {}
            day = max(last, self.day - RUN_TTL) if last is not None else self.day  # a run's list keys live that long
            while day < self.day:
                self.previous[day] = self.store.run_markers(day)
                day += timedelta(days=1)
        return self.previous


def _own_first(indexed: list[tuple[int, Any]], part: int) -> list[Any]:
    """Item ``i`` is part ``i mod 8``'s: this part's first, then the others' from the next part on."""
    parts = _parts()
    return [item for _, item in sorted(indexed, key=lambda entry: ((entry[0] % parts - part) % parts, entry[0]))]


def _needs(run: Run, days: list[date]) -> dict[date, list[str]]:
    """The summarising steps each of these days needs: ``v<pb>`` when products were viewed that
    day, ``b<bp>`` when orders were paid (the day's counters, written in the same transactions
    as the views and baskets, say so). Read once per slice and day."""
    unknown = [day for day in days if day not in run.needs]
    if unknown:
        counters = run.deps.analytics.day_counts(unknown)
        for day in unknown:
            steps = [f"v{pb}" for pb in range(_parts())] if counters[day]["product_views"] else []
            run.needs[day] = steps + ([f"b{bp}" for bp in range(_partitions())] if counters[day]["orders"] else [])
    return {day: run.needs[day] for day in days}


def _complete(run: Run, day: date, marked: dict[Key, Step] | None = None) -> None:
    """Mark ``day`` summarised if every step it needs is done (whoever does its last step sees
    them all); the one caller that marks it counts ``days_summarised``."""
    from chalicelib.store.recommendation_runs import SUMMARY_TTL, day_pk

    needed = _needs(run, [day])[day]
    keys = [(day_pk(day), step) for step in needed]
    marked = run.store.markers(keys) if marked is None else marked
    if all(key in marked for key in keys) and run.store.mark_day(
            day, {step: marked[(day_pk(day), step)] for step in needed}, run.expires(SUMMARY_TTL)):
        run.counts["days_summarised"] += 1


def _summarising_left(run: Run) -> list[tuple[date, str]]:
    """The summarising steps not done, this part's share first. A day whose steps are all done
    (none, on a day without views or orders) is marked summarised here."""
    from chalicelib.store.recommendation_runs import day_pk

    done = run.store.summarised(run.days)
    open_days = [day for day in run.days if day not in done]
    if not open_days:
        run.summaries = done
        return []
    needed = _needs(run, open_days)
    marked = run.store.markers([(day_pk(day), step) for day in open_days for step in needed[day]])
    left: list[tuple[date, str]] = []
    for day in open_days:
        missing = [step for step in needed[day] if (day_pk(day), step) not in marked]
        if not missing:
            _complete(run, day, marked)
        left += [(day, step) for step in missing]
    return _own_first(list(enumerate(left)), run.part)


def _next_step(run: Run) -> Cursor | None:
    """The step this part takes next; None when its own steps 3 are done (the part is finished).
    A summarising step another part has done since this slice looked is skipped; step 2 starts
    only once a fresh look finds every day of the window summarised, step 3 once every bucket's
    step 2 is done."""
    from chalicelib.store.recommendation_runs import day_pk

    while True:
        if run.left is None:
            run.left = _summarising_left(run)  # empty: every day of the window is marked summarised
        if not run.left:
            break
        while run.left:
            day, step = run.left.pop(0)
            if run.store.markers([(day_pk(day), step)]):
                continue
            kind, number = step[0], int(step[1:])
            if kind == "v":
                return {"s": "v", "day": day.isoformat(), "pb": number, "nonce": _nonce(), "after": None, "seq": 0,
                        "t": []}
            return {"s": "b", "day": day.isoformat(), "bp": number, "nonce": _nonce(), "page": None, "seq": 0, "n": 0,
                    "t": []}
        run.left = None  # all taken or done: look again (a day whose last step's worker died is marked here)
    for fresh in (False, True):  # what this slice knows; before step 3, a fresh look
        marked = run.run_marked(fresh)
        windows = [(r, r) for r in range(_buckets()) if f"w{r}" not in marked]
        if windows:
            return {"s": "w", "r": _own_first(windows, run.part)[0]}
    own = [r for r in range(run.part, _buckets(), _parts()) if f"c{r}" not in marked]
    return {"s": "c", "r": own[0], "nonce": _nonce(), "after": None} if own else None


def recommendation_part(part: str, cursor: str | None, now: datetime, deps: Deps, deadline: Deadline) -> Progress:
    """One slice of part ``<day>#r<p>``: steps, each until it is done or the deadline passed,
    until the part's own steps 3 are done (then the part is finished)."""
    run = Run(deps, now, int(part.rsplit("#r", 1)[1]))
    state: Cursor = json.loads(cursor) if cursor else {"n": 0, "step": None}
    steps: int = state["n"]
    step: Cursor | None = state["step"]
    while True:
        if step is None:
            step = _next_step(run)
            if step is None:
                return Progress(dict(run.counts))
        step = STEPS[step["s"]](run, step, deadline)
        steps += 1
        if deadline.expired():
            return Progress(dict(run.counts), json.dumps({"n": steps, "step": step}, separators=(",", ":")))


# Step 1: summarise a day ----------------------------------------------------------------------
def _summarise_views(run: Run, step: Cursor, deadline: Deadline) -> Cursor | None:
    """Step ``v`` (day, pb): the views of the day counters' bucket pb, a batch at a time, sent to
    the products' buckets."""
    from chalicelib.store.recommendation_runs import SUMMARY_TTL, day_pk, summary_pk

    day, counters, nonce = date.fromisoformat(step["day"]), step["pb"], step["nonce"]
    products = run.deps.analytics.product_totals(day, counters, step["after"])
    step = {**step, "t": list(step["t"])}
    while True:
        batch = list(islice(products, PRODUCTS_PER_READ))
        by_bucket: dict[int, list[list[Any]]] = defaultdict(list)
        for product_id, counts in batch:
            if counts.views:
                by_bucket[_bucket_of(product_id)].append([product_id, counts.views])
        prefix = f"v#{nonce}#{step['seq']:04d}"
        run.store.write_chunks([(summary_pk(day, r), prefix, views) for r, views in sorted(by_bucket.items())],
                               run.expires(SUMMARY_TTL))
        step["t"] = sorted(set(step["t"]) | set(by_bucket))
        step["seq"] += 1
        if len(batch) < PRODUCTS_PER_READ:
            run.store.mark(day_pk(day), f"v{counters}", nonce, run.expires(SUMMARY_TTL), buckets=step["t"])
            _complete(run, day)
            return None
        step["after"] = batch[-1][0]
        if deadline.expired():
            return step


@dataclass
class Gathered:
    """What a batch of baskets adds: orders per product, orders per pair."""

    orders: Counter[str] = field(default_factory=Counter)
    pairs: Counter[tuple[str, str]] = field(default_factory=Counter)

    def add(self, baskets: Iterable[Basket]) -> None:
        for basket in baskets:
            products = [product_id for product_id, _ in basket.items]
            self.orders.update(set(products))
            self.pairs.update(pairs_of(products))

    def size(self) -> int:
        return len(self.orders) + 2 * len(self.pairs)

    def by_bucket(self) -> dict[int, tuple[list[list[Any]], list[list[Any]]]]:
        """``{r: (orders, pairs)}``: each pair under both its products' buckets, that product first."""
        out: dict[int, tuple[list[list[Any]], list[list[Any]]]] = defaultdict(lambda: ([], []))
        for product_id, n in sorted(self.orders.items()):
            out[_bucket_of(product_id)][0].append([product_id, n])
        for (a, b), n in sorted(self.pairs.items()):
            out[_bucket_of(a)][1].append([a, b, n])
            out[_bucket_of(b)][1].append([b, a, n])
        return out


def _flush(run: Run, step: Cursor, gathered: Gathered) -> None:
    from chalicelib.store.recommendation_runs import SUMMARY_TTL, summary_pk

    day = date.fromisoformat(step["day"])
    prefix = f"{step['bp']:02d}#{step['nonce']}#{step['seq']:04d}"
    sets = []
    by_bucket = gathered.by_bucket()
    for bucket, (orders, pairs) in sorted(by_bucket.items()):
        sets += [(summary_pk(day, bucket), f"o#{prefix}", orders), (summary_pk(day, bucket), f"b#{prefix}", pairs)]
    run.store.write_chunks([s for s in sets if s[2]], run.expires(SUMMARY_TTL))
    step["t"] = sorted(set(step["t"]) | set(by_bucket))
    step["seq"] += 1


def _summarise_baskets(run: Run, step: Cursor, deadline: Deadline) -> Cursor | None:
    """Step ``b`` (day, bp): one basket partition of the day, a page at a time; what it gathers
    is written past ``FLUSH_ENTRIES`` entries, at its end and before it hands back."""
    from chalicelib.store.recommendation_runs import SUMMARY_TTL, day_pk

    day, partition = date.fromisoformat(step["day"]), step["bp"]
    gathered, page_key = Gathered(), step["page"]
    step = {**step, "t": list(step["t"])}
    while True:
        baskets, page_key = run.deps.analytics.basket_page(day, partition, page_key, BASKETS_PER_PAGE)
        gathered.add(baskets)
        step["n"] += len(baskets)
        stopping = page_key is None or deadline.expired()
        if stopping or gathered.size() >= FLUSH_ENTRIES:
            _flush(run, step, gathered)
            gathered = Gathered()
        if page_key is None:
            run.store.mark(day_pk(day), f"b{partition}", step["nonce"], run.expires(SUMMARY_TTL), n=step["n"],
                           buckets=step["t"])
            _complete(run, day)
            return None
        step["page"] = page_key
        if stopping:
            return step


# Step 2: a bucket's window totals -------------------------------------------------------------
def _summary_chunks(run: Run, bucket: int, kinds: str) -> Iterator[tuple[str, list[Any]]]:
    """(kind, entries) of bucket r's day summaries over the window, of the kinds given (``o``
    orders and ``v`` views, or ``b`` pairs), only the chunks named by the day's ``done`` marker.
    A day none of whose steps wrote to r is not read."""
    from chalicelib.store.recommendation_runs import summary_pk

    views_step = f"v{bucket % _parts()}"
    for day, steps in run.summarised().items():
        wanted = {name for name, step in steps.items() if bucket in step.buckets
                  and (name[0] == "b" or (kinds != "b" and name == views_step))}
        if not wanted:
            continue
        begins, after = ("b#", None) if kinds == "b" else ("", "o")  # "o#…" and "v#…" sort after "o", "b#…" before
        for sk, entries in run.store.chunks(summary_pk(day, bucket), begins, after):
            kind, rest = sk.split("#", 1)
            if kind not in kinds:
                continue
            if kind == "v":
                name, nonce = views_step, rest.split("#", 1)[0]
            else:
                partition, nonce = rest.split("#")[:2]
                name = f"b{int(partition)}"
            if name in wanted and steps[name].nonce == nonce:
                yield kind, entries


def _window(run: Run, step: Cursor, deadline: Deadline) -> None:
    """Step ``w`` (r): r's products' orders and views over the window (one go: ~25 bytes a
    product and day read)."""
    from chalicelib.store.recommendation_runs import SCRATCH_TTL, run_pk

    bucket, nonce = step["r"], _nonce()
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for kind, entries in _summary_chunks(run, bucket, "ov"):
        for product_id, n in entries:
            totals[product_id][0 if kind == "o" else 1] += n
    rows = [[product_id, orders, views] for product_id, (orders, views) in sorted(totals.items())]
    run.store.write_chunks([(run_pk("win", run.day), f"{bucket:02d}#{nonce}", rows)], run.expires(SCRATCH_TTL))
    run.mark(f"w{bucket}", nonce, len(rows))


# Step 3: a bucket's lists ---------------------------------------------------------------------
def _all_windows(run: Run) -> Window:
    """Every bucket's window totals (read once a slice, after every step 2 is done)."""
    from chalicelib.store.recommendation_runs import run_pk

    if run.window is None:
        marked = run.run_marked()
        window = Window()
        if any(step.n for name, step in marked.items() if name[0] == "w"):
            for sk, entries in run.store.chunks(run_pk("win", run.day)):
                bucket, nonce = sk.split("#")[:2]
                if marked[f"w{int(bucket)}"].nonce == nonce:
                    for product_id, orders, views in entries:
                        window.orders[product_id] += orders
                        window.views[product_id] += views
        run.window = window
    return run.window


@dataclass(frozen=True)
class Lists:
    """What step c of bucket r computes, the same in every slice of it."""

    mine: list[str]  # r's products with orders or views in the window
    lists: dict[str, list[Scored]]  # r's catalogue products: bought together
    category_of: dict[str, str]
    pairs: int


def _lists(run: Run, bucket: int) -> Lists:
    rules = run.deps.rules.recommendations
    window = _all_windows(run)
    mine = sorted(p for p in set(window.orders) | set(window.views) if _bucket_of(p) == bucket)
    together: dict[str, Counter[str]] = defaultdict(Counter)
    for _, entries in _summary_chunks(run, bucket, "b"):
        for product_id, other, n in entries:
            together[product_id][other] += n
    category_of = {p: product.category for p, product in run.store.products(mine).items()} if mine else {}
    lists = {p: ranked({q: cosine_bp(n, window.orders[p], window.orders[q]) for q, n in together[p].items()},
                       rules.stored) for p in category_of}
    pairs = sum(1 for p, others in together.items() for q in others if p < q)
    return Lists(mine, lists, category_of, pairs)


def _previous_lists(run: Run, bucket: int) -> set[str]:
    """r's products given a list by the runs since the last finished one (that one included):
    what this run must delete if it does not write them again."""
    from chalicelib.store.recommendation_runs import run_pk

    previous: set[str] = set()
    for day, steps in run.previous_runs().items():
        step = steps.get(f"c{bucket}")
        if step is not None and step.n:
            for _, entries in run.store.chunks(run_pk("lk", day), f"{bucket:02d}#{step.nonce}#"):
                previous.update(entries)
    return previous


def _popular(run: Run, computed: Lists) -> list[list[Any]]:
    """r's most popular products of each category and of all (``ANY_CATEGORY``), for ``finish``."""
    rules = run.deps.rules.recommendations
    scores = popularity(_all_windows(run), rules.purchase_weight, rules.view_weight)
    mine = {p: scores[p] for p in computed.category_of}
    by_category: dict[str, dict[str, int]] = defaultdict(dict)
    for product_id, score in mine.items():
        by_category[computed.category_of[product_id]][product_id] = score
    by_category[ANY_CATEGORY] = mine
    return [[category, s.product_id, s.score] for category, products in sorted(by_category.items())
            for s in ranked(products, rules.stored)]


def _write_lists(run: Run, step: Cursor, deadline: Deadline) -> Cursor | None:
    """Step ``c`` (r): r's lists written a batch at a time from ``after``; at the end, the
    previous run's lists of r not written now deleted, the list keys and popular products kept,
    the step marked."""
    from chalicelib.store.recommendation_runs import RUN_TTL, SCRATCH_TTL, run_pk
    from chalicelib.store.recommendations import product_list_key

    bucket, nonce = step["r"], step["nonce"]
    computed = _lists(run, bucket)
    ids = sorted(computed.category_of)
    start = 0 if step["after"] is None else next((i for i, p in enumerate(ids) if p > step["after"]), len(ids))
    while start < len(ids):
        batch = ids[start:start + LISTS_PER_BATCH]
        run.store.put_lists({product_list_key(p): (computed.lists[p], computed.category_of[p]) for p in batch},
                            run.day)
        run.counts["lists"] += len(batch)
        start += len(batch)
        if start < len(ids) and deadline.expired():
            return {**step, "after": batch[-1]}
    stale = sorted(_previous_lists(run, bucket) - set(ids))
    run.store.delete_lists([product_list_key(p) for p in stale])
    run.store.write_chunks([(run_pk("lk", run.day), f"{bucket:02d}#{nonce}", ids)], run.expires(RUN_TTL))
    run.store.write_chunks([(run_pk("top", run.day), f"{bucket:02d}#{nonce}", _popular(run, computed))],
                           run.expires(SCRATCH_TTL))
    run.mark(f"c{bucket}", nonce, len(ids))
    run.counts.update({"lists_removed": len(stale), "products": len(computed.mine), "pairs": computed.pairs})
    return None


STEPS = {"v": _summarise_views, "b": _summarise_baskets, "w": _window, "c": _write_lists}


# The fan-in ----------------------------------------------------------------------------------
def recommendation_finish(now: datetime, deps: Deps, totals: dict[str, Any]) -> dict[str, Any]:
    """Once every part is done: the category lists and the hot list from every bucket's popular
    products; the previous run's category lists not written now deleted; the run recorded as the
    last finished one; the run's summary."""
    from chalicelib.store.recommendation_runs import run_pk
    from chalicelib.store.recommendations import HOT, category_list_key

    run = Run(deps, now, 0)
    stored = deps.rules.recommendations.stored
    marked = run.store.run_markers(run.day)
    popular: dict[str, dict[str, int]] = defaultdict(dict)
    for sk, entries in run.store.chunks(run_pk("top", run.day)):
        bucket, nonce = sk.split("#")[:2]
        if f"c{int(bucket)}" in marked and marked[f"c{int(bucket)}"].nonce == nonce:
            for category, product_id, score in entries:
                popular[category][product_id] = score
    hot = popular.pop(ANY_CATEGORY, {})
    lists: dict[Key, tuple[list[Scored], str | None]] = {
        category_list_key(c): (ranked(products, stored), None) for c, products in popular.items()}
    lists[HOT] = (ranked(hot, stored), None)
    deps.recommendations.put_lists(lists, run.day)
    _, previous = deps.recommendations.last_run()
    stale = sorted(set(previous) - set(lists))
    deps.recommendations.delete_lists(stale)
    deps.recommendations.save_last_run(run.day, list(lists))
    baskets = sum(step.n for steps in run.summarised().values() for name, step in steps.items() if name[0] == "b")
    return {"from": run.days[-1].isoformat(), "to": run.days[0].isoformat(),
            "days_summarised": totals.get("days_summarised", 0), "orders": baskets,
            "products": totals.get("products", 0), "pairs": totals.get("pairs", 0),
            "lists": totals.get("lists", 0) + len(lists), "lists_removed": totals.get("lists_removed", 0) + len(stale)}

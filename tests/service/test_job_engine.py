"""The job engine on moto: plans and slices, cursors handed back, messages delivered twice,
``finish`` once, the SQS queue and the worker's entry point (docs/jobs.md)."""
from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib import jobs
from chalicelib.bootstrap import Deps
from chalicelib.domain.invariants import InvariantBroken
from chalicelib.jobs.engine import Deadline, JobDef, LocalQueue, Progress, Slice, StrayMessage, start, summary, work_slice

NOW = datetime(2026, 11, 10, 16, 5, 0, 123456, tzinfo=UTC)
ITEMS = {"a": list(range(7)), "b": list(range(3)), "c": []}  # a toy job's parts and their items


class Toy:
    """A job over ``ITEMS``: a page is two items; what it did is remembered (idempotent, like a
    conditioned write: an item done twice counts once in ``done``)."""

    def __init__(self) -> None:
        self.done: Counter[tuple[str, int]] = Counter()
        self.finished: list[dict[str, Any]] = []

    def plan(self, now: datetime, deps: Deps) -> list[str]:
        return list(ITEMS)

    def work(self, part: str, cursor: str | None, now: datetime, deps: Deps, deadline: Deadline) -> Progress:
        position, counted = int(cursor or 0), 0
        while True:
            page = ITEMS[part][position:position + 2]
            for item in page:
                counted += self.done[(part, item)] == 0
                self.done[(part, item)] += 1
            position += len(page)
            if position >= len(ITEMS[part]):
                return Progress({"items": counted, "last": part})
            if deadline.expired():
                return Progress({"items": counted, "last": part}, str(position))

    def finish(self, now: datetime, deps: Deps, totals: dict[str, Any]) -> dict[str, Any]:
        self.finished.append(totals)
        return {"total": totals.get("items", 0)}

    def job(self) -> JobDef:
        return JobDef("toy", self.plan, self.work, self.finish)


def run(toy: Toy, deps: Deps, budget: float) -> tuple[str, int]:
    queue, slices = LocalQueue(), 0
    run_id = start(toy.job(), NOW, deps, queue)
    while (piece := queue.take()) is not None:
        work_slice(toy.job(), piece, deps, Deadline.after(budget), queue)
        slices += 1
    return run_id, slices


@pytest.mark.parametrize("budget", [60.0, 0.0])
def test_a_run_does_every_part_once_and_finishes_once_whatever_the_slice_budget(deps, budget):
    toy = Toy()
    run_id, slices = run(toy, deps, budget)
    assert set(toy.done) == {(p, i) for p, items in ITEMS.items() for i in items}
    assert slices == (3 if budget else 4 + 2 + 1)  # one page per slice when the budget is 0
    assert len(toy.finished) == 1 and toy.finished[0]["items"] == 10
    result = summary(deps.jobs, run_id)
    assert (result["items"], result["total"], result["parts"], result["finished"]) == (10, 10, 3, True)


def test_a_slice_delivered_twice_counts_once_and_the_run_finishes_once(deps):
    toy, queue = Toy(), LocalQueue()
    run_id = start(toy.job(), NOW, deps, queue)
    delivered = []
    while (piece := queue.take()) is not None:
        delivered.append(piece)
        work_slice(toy.job(), piece, deps, Deadline.after(0), queue)
    for piece in delivered:  # SQS delivers every message again, after the run finished
        again = LocalQueue()
        work_slice(toy.job(), piece, deps, Deadline.after(0), again)
        while (more := again.take()) is not None:  # their continuations too
            work_slice(toy.job(), more, deps, Deadline.after(0), LocalQueue())
    assert len(toy.finished) == 1
    result = summary(deps.jobs, run_id)
    assert (result["items"], result["parts"], result["slices"]) == (10, 3, 7)


def test_a_plan_with_no_parts_finishes_at_once(deps):
    toy = Toy()
    job = JobDef("empty", lambda now, deps: [], toy.work, toy.finish)
    run_id = start(job, NOW, deps, LocalQueue())
    assert summary(deps.jobs, run_id) == {"total": 0, "parts": 0, "slices": 0, "finished": True}
    assert len(toy.finished) == 1


def test_a_finish_that_fails_is_claimed_again_by_the_next_delivery(deps):
    toy, calls = Toy(), []

    def failing_once(now: datetime, deps: Deps, totals: dict[str, Any]) -> dict[str, Any]:
        calls.append(totals)
        if len(calls) == 1:
            raise RuntimeError("the finish's database call failed")
        return {"total": totals["items"]}

    job = JobDef("toy", toy.plan, toy.work, failing_once)
    queue = LocalQueue()
    run_id = start(job, NOW, deps, queue)
    pieces = [queue.take() for _ in range(3)]
    for piece in pieces[:2]:
        assert piece is not None
        work_slice(job, piece, deps, Deadline.after(60), queue)
    last = pieces[2]
    assert last is not None
    with pytest.raises(RuntimeError, match="failed"):
        work_slice(job, last, deps, Deadline.after(60), queue)  # the last part: its finish fails
    assert not summary(deps.jobs, run_id)["finished"]
    work_slice(job, last, deps, Deadline.after(60), LocalQueue())  # SQS delivers the failed message again
    assert summary(deps.jobs, run_id)["total"] == 10 and len(calls) == 2


def test_a_slice_that_hands_back_its_own_cursor_is_a_bug_not_a_loop(deps):
    job = JobDef("stuck", lambda now, deps: ["x"], lambda part, cursor, now, deps, deadline: Progress({}, "same"))
    queue = LocalQueue()
    start(job, NOW, deps, queue)
    piece = queue.take()
    assert piece is not None
    work_slice(job, piece, deps, Deadline.after(0), queue)  # from no cursor to "same": progress
    again = queue.take()
    assert again is not None and again.cursor == "same"
    with pytest.raises(InvariantBroken):
        work_slice(job, again, deps, Deadline.after(0), queue)


def test_a_plan_naming_a_part_twice_is_a_bug(deps):
    with pytest.raises(InvariantBroken):
        start(JobDef("twice", lambda now, deps: ["a", "a"], Toy().work), NOW, deps, LocalQueue())


def test_a_slice_message_keeps_the_instant_to_the_microsecond_and_refuses_strays():
    piece = Slice("settle_commissions", "run-1", "2026-11-10#a", NOW, '{"k": 1}')
    assert Slice.from_json(piece.to_json()) == piece
    for stray in ("[]", "{}", json.dumps({"job": "x", "run": "r", "part": "p", "now": "2026-11-10T00:00:00Z",
                                          "cursor": 5}), "not json"):
        with pytest.raises(StrayMessage):
            Slice.from_json(stray)


def test_every_scheduled_job_runs_whole_through_the_engine(deps):
    for name in jobs.JOBS:
        result = jobs.run_job(name, NOW, deps)
        assert result["finished"] and result["parts"] >= 0, name


def test_the_schedule_sends_the_parts_to_sqs_and_the_worker_takes_them_from_there(deps, monkeypatch):
    """Deployed: the schedule plans onto SQS (moto), each worker invocation runs the slice of its
    one message and sends the continuation to the same queue, until the queue is empty."""
    import boto3

    from chalicelib.bootstrap import set_default_deps
    from chalicelib.entrypoints import run_job_slice, run_scheduled

    toy = Toy()
    monkeypatch.setitem(jobs.JOBS, "toy", toy.job())
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="fenxiao-test-jobs")["QueueUrl"]
    deployed = Deps(settings=deps.settings.model_copy(update={"jobs_queue_url": url}), clock=deps.clock)
    set_default_deps(deployed)
    planned = run_scheduled("toy", object())
    assert planned["parts"] == 3 and not toy.done

    class Context:
        def get_remaining_time_in_millis(self) -> int:
            return 1_000  # under the margin: each slice does one page and hands back

    class Record:
        def __init__(self, message: dict[str, Any]) -> None:
            self.body, self.message_id = message["Body"], message["MessageId"]

        def to_dict(self) -> dict[str, Any]:
            return {"messageId": self.message_id, "body": self.body}

    class Event(list[Record]):
        context = Context()

    invocations = 0
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1).get("Messages", []):
        run_job_slice(Event([Record(messages[0])]))
        sqs.delete_message(QueueUrl=url, ReceiptHandle=messages[0]["ReceiptHandle"])
        invocations += 1
    assert invocations == 7 and len(toy.finished) == 1
    assert summary(deployed.jobs, planned["run"])["total"] == 10


def test_a_stray_message_fails_the_worker_so_sqs_retries_then_dead_letters_it(deps):
    for body in ('{"job": "nope", "run": "r", "part": "p", "now": "2026-11-10T00:00:00Z"}', "[1]"):
        with pytest.raises(StrayMessage):
            jobs.work_message(body, deps, Deadline.after(60), LocalQueue())

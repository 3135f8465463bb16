"""The one conflict-retry helper (services/retry.py) and how a store names the item that refused
a transaction (store/base.py)."""
from __future__ import annotations

from collections.abc import Callable

import pytest

from chalicelib.domain.errors import ConcurrentUpdate, Unavailable
from chalicelib.domain.orders import OutOfStock
from chalicelib.services.retry import ReadAgain, Reads, run_until_committed
from chalicelib.store.base import TransactionFailed


def losing(times: int, error: Exception | None = None) -> tuple[Callable[[], str], list[int]]:
    """A step that loses ``times`` races (or raises ``error`` that often), then commits."""
    calls: list[int] = []

    def step() -> str:
        calls.append(1)
        if len(calls) <= times:
            raise error or TransactionFailed(["None", "TransactionConflict"])
        return "committed"

    return step, calls


def test_a_step_that_loses_races_runs_again_until_it_commits() -> None:
    pauses: list[int] = []
    step, calls = losing(3)
    assert run_until_committed(step, attempts=8, pause=pauses.append) == "committed"
    assert len(calls) == 4 and pauses == [0, 1, 2]


def test_no_attempt_starts_once_the_time_budget_is_spent() -> None:
    """A commit that times out after 4 s each time (TransactionFailed without reasons) is tried
    twice within a 6-s budget, not eight times (32 s, past API Gateway's 29 s)."""
    now = [0.0]

    def slow_step() -> str:
        now[0] += 4.0
        raise TransactionFailed(["Unknown"])

    with pytest.raises(Unavailable):
        run_until_committed(slow_step, attempts=8, pause=lambda _: None, budget_seconds=6.0, clock=lambda: now[0])
    assert now[0] == 8.0


def test_a_step_that_loses_every_race_ends_in_try_again_without_a_last_pause() -> None:
    pauses: list[int] = []
    step, calls = losing(99)
    with pytest.raises(Unavailable) as raised:
        run_until_committed(step, attempts=5, what="this wallet", pause=pauses.append)
    assert len(calls) == 5 and pauses == [0, 1, 2, 3]
    assert raised.value.code == "TRY_AGAIN" and "this wallet" in raised.value.message


def test_a_domain_refusal_ends_the_use_case_at_once() -> None:
    step, calls = losing(99, OutOfStock("not enough stock", line=1))
    with pytest.raises(OutOfStock):
        run_until_committed(step, pause=lambda _: None)
    assert len(calls) == 1


def test_a_stale_read_without_contention_runs_again_at_once() -> None:
    pauses: list[int] = []
    step, calls = losing(2, ReadAgain("stale", pause=False))
    assert run_until_committed(step, pause=pauses.append) == "committed"
    assert len(calls) == 3 and pauses == []


def test_the_callers_read_serves_the_first_attempt_only() -> None:
    read = Reads("given", lambda: "fresh")
    assert (read(), read.from_caller) == ("given", True)
    assert (read(), read.from_caller) == ("fresh", False)
    assert read() == "fresh"


def test_the_store_names_a_refused_item_by_its_key_whatever_its_position() -> None:
    items = [{"TableName": "orders", "Item": {"order_id": {"S": "o1"}}},
             {"TableName": "products", "Key": {"product_id": {"S": "p1"}}},
             {"TableName": "products", "Key": {"product_id": {"S": "p2"}}}]
    failure = TransactionFailed(["None", "None", "ConditionalCheckFailed"], items)
    assert failure.refused("products", product_id="p2")
    assert not failure.refused("products", product_id="p1")
    assert not failure.refused("orders", order_id="o1")
    assert isinstance(failure, ConcurrentUpdate) and not failure.conflict

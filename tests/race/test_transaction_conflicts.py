"""A TransactionConflict at every write of checkout, payment, settlement and a withdrawal, on
DynamoDB Local (which never returns one itself): the request succeeds, the state equals a
fault-free run's.

DynamoDB cancels a transaction that meets another one in flight on an item, and refuses a plain
write to such an item with TransactionConflictException. ``tests/faults.py`` answers the first
send of one write call with DynamoDB's own bytes for that (kind ``conflict``); the client sends
the same request again after a jittered pause (``chalicelib/store/conflicts.py``). For each write
of each case: the act answers as the fault-free one, makes the same calls (no re-read), sends the
conflicted call twice with the same body, counts one ``transaction_conflicts`` metric, and
leaves every table as the fault-free run did (no recovery step).
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bench.settlement import seed_frozen
from chalicelib.bootstrap import Deps
from tests.faults import Case, restore, run_with_conflicts
from tests.race.test_faults import NOW, checkout, checkout_setup, deliver, payment_setup, settle, withdraw
from tests.service.test_withdrawals import verified

pytestmark = pytest.mark.race


@pytest.fixture
def deps(private_tables: None) -> Deps:
    restore({})
    return Deps(clock=lambda: NOW)


def unused(*_: Any) -> None:
    """No recovery: a conflict must not need one."""


def test_a_conflict_at_the_checkout_transaction_is_sent_again_and_places_the_order(deps, faults):
    calls = run_with_conflicts(Case(checkout_setup, checkout, unused), deps, faults)
    assert calls.count("TransactWriteItems") >= 1


def test_a_conflict_at_any_write_of_a_payment_is_sent_again_and_pays_once(deps, faults):
    calls = run_with_conflicts(Case(payment_setup, deliver, unused), deps, faults)
    assert calls.count("TransactWriteItems") >= 2  # the payment, then its facts


def test_a_conflict_at_any_settlement_transaction_is_sent_again_and_settles_each_commission_once(deps, faults):
    def setup(_: Deps) -> None:
        seed_frozen(60, users=3, prefix="C", available_at=NOW - timedelta(hours=1), shard="0")  # one part's batches

    calls = run_with_conflicts(Case(setup, settle, unused), deps, faults)
    assert calls.count("TransactWriteItems") == 2


def test_a_conflict_at_a_withdrawals_plain_update_is_sent_again_too(deps, faults):
    """The withdrawal's transaction, and the UpdateItem that records WeChat's transfer bill (a
    plain write to an item transactions write: TransactionConflictException)."""
    calls = run_with_conflicts(Case(lambda d: verified(d, "payee", 3_000), withdraw, unused), deps, faults)
    assert {"TransactWriteItems", "UpdateItem"} <= set(calls)

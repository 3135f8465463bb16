"""Mixed load on DynamoDB Local for a fixed time (``bench/mixed_load.py``), then the invariants.

Twelve threads run logins, binds, shop openings, checkouts, payment notifications (each one to
three times, and replays of old ones), group opens, joins and payments, shipping and receipt,
refunds, settlement runs, the cancellation job, withdrawals with their transfer notifications
and the polling job, racing each other for ``FENXIAO_LOAD_SECONDS`` (20 s by default; ``make
bench`` runs longer). Afterwards WeChat redelivers every notification once, and the tables must
show: money conserved per order and per wallet (wallets = ledgers = commissions less
withdrawals), no negative stock, no negative balance but by a clawback, no payout beyond level
2, no effect twice from any replay, every payment WeChat took either recorded or refunded.
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from bench import mixed_load
from chalicelib.bootstrap import Deps
from tests.faults import own_tables

pytestmark = pytest.mark.race


@pytest.fixture(scope="module")
def own(dynamodb_local: Any) -> Iterator[None]:
    """Tables of this module's own: what the run leaves (open groups, unpaid orders, withdrawals
    in flight, due commissions) is no other test's work, nor theirs this one's."""
    with own_tables(dynamodb_local.endpoint):
        yield


@pytest.fixture
def deps(own: None) -> Deps:
    return Deps()


SECONDS = float(os.environ.get("FENXIAO_LOAD_SECONDS", "20"))
THREADS = 12


def test_a_mixed_load_racing_every_operation_keeps_money_stock_and_levels_consistent(deps: Deps):
    world = mixed_load.setup(deps)
    wall = mixed_load.run(world, SECONDS, THREADS)
    assert not world.errors, "\n".join(world.errors[:3])
    mixed_load.drain(world)
    found = mixed_load.check(world)
    done = {op: n for op, n in world.outcomes.items() if not op.endswith((":idle", ":TRY_AGAIN"))}
    print(f"\nmixed load: {sum(world.outcomes.values())} operations in {wall:.0f} s on {THREADS} threads; {found}")
    print("  " + ", ".join(f"{op} {n}" for op, n in sorted(done.items())))
    for wanted in ("checkout:ordered", "pay:paid", "ship_and_confirm:completed", "settle:settled_1",
                   "replay_already_paid", "withdrawal_"):
        assert any(wanted in op for op in done), (wanted, sorted(done))
    assert found["orders"].get("paid", 0) + found["orders"].get("completed", 0) > 0

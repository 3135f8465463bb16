"""Settlement under concurrency, on DynamoDB Local: every commission is credited exactly once."""
from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bench.settlement import seed_frozen
from chalicelib.services import settlement
from chalicelib.services.deps import Deps
from chalicelib.store.ledger import LedgerItem
from tests.race.test_referral_races import race

pytestmark = pytest.mark.race


@pytest.fixture
def deps(local_env: Any) -> Deps:
    from chalicelib.store.tables import ensure_tables

    ensure_tables()
    return Deps()


def a_day_of_our_own() -> datetime:
    """A Shanghai midnight no other test uses (the settle_due index is shared by the session)."""
    return datetime(2031, 1, 1, 16, 0, tzinfo=UTC) + timedelta(days=40 * random.randrange(10_000))


def assert_credited_once(deps: Deps, frozen: dict[str, int], prefix: str) -> None:
    for user_id, fen in frozen.items():
        assert deps.ledger.wallet(user_id) == {"pending": 0, "frozen": 0, "available": fen, "withdrawing": 0,
                                               "withdrawn": 0}
        assert settlement.wallet_differences(user_id, deps) == {}  # wallet = sum of its entries
    commissions = [i for u in frozen for i in LedgerItem.query(u, LedgerItem.sk.startswith("commission#"))]
    assert len(commissions) == 150 and {c.status for c in commissions} == {"available"}
    assert all(c.settle_day is None for c in commissions)
    settled = [e for u in frozen for e in LedgerItem.query(u, LedgerItem.sk.startswith(f"entry#{prefix}"))
               if e.kind == "settlement"]
    assert len(settled) == 150


def test_two_settlement_runs_at_once_over_150_due_commissions_credit_each_exactly_once(deps):
    day, prefix = a_day_of_our_own(), f"r{uuid.uuid4().hex[:6]}"
    frozen = seed_frozen(150, users=9, prefix=prefix, available_at=day)
    now = day + timedelta(minutes=10)
    runs = race([lambda: settlement.settle_commissions(now, Deps(), lookback_days=1) for _ in range(2)])
    assert sum(r["settled"] for r in runs) == 150
    assert sum(r["settled_fen"] for r in runs) == sum(frozen.values())
    assert all(r["deferred"] == 0 for r in runs)
    assert_credited_once(deps, frozen, prefix)
    assert settlement.settle_commissions(now, deps, lookback_days=1)["settled"] == 0


def test_a_run_killed_half_way_then_two_runs_at_once_credit_each_exactly_once(deps):
    day, prefix = a_day_of_our_own(), f"k{uuid.uuid4().hex[:6]}"
    frozen = seed_frozen(150, users=9, prefix=prefix, available_at=day)
    due = list(deps.settlement.due(_shanghai_day(day), day))
    assert len(due) == 150
    deps.settlement.settle(due[:40], day)  # the killed run's only committed batch
    now = day + timedelta(hours=5)
    runs = race([lambda: settlement.settle_commissions(now, Deps(), lookback_days=1) for _ in range(2)])
    assert sum(r["settled"] for r in runs) == 110
    assert_credited_once(deps, frozen, prefix)


def _shanghai_day(at: datetime) -> str:
    from chalicelib.domain.clock import business_date

    return business_date(at).isoformat()

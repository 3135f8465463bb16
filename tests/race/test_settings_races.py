"""The runtime settings on DynamoDB Local: operators saving at once from the same version (one
wins, the others VERSION_CONFLICT, one audit entry), and a fault at every DynamoDB call of a save
(tests/faults.py) leaving the old version or the new one whole, never a part of either."""
from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest

from chalicelib.bootstrap import Deps
from chalicelib.config import Rules
from chalicelib.domain.errors import DomainError
from chalicelib.services import settings
from chalicelib.store.admin import AdminItem
from tests.faults import Crash, DynamoFaults, plans, restore, rules_just_read, snapshot
from tests.race.concurrency import race

pytestmark = pytest.mark.race

NOW = datetime(2026, 12, 6, 6, 0, tzinfo=UTC)
SEED = Rules().model_dump(mode="json")


def edition(n: int) -> dict[str, Any]:
    """A valid rules document of its own (payment minutes 20 + n)."""
    return {**SEED, "orders": {**SEED["orders"], "payment_minutes": 20 + n}}


@pytest.fixture
def deps(private_tables: None) -> Deps:
    restore({})
    return Deps(clock=lambda: NOW)


def stored(deps: Deps) -> dict[str, Any]:
    """Everything a save writes: the number in force, each version's rules, the audit entries."""
    items = list(AdminItem.query("settings", consistent_read=True))
    audits = [(i.action, i.target, json.loads(i.state or "{}")["after"]["orders"]["payment_minutes"])
              for i in AdminItem.scan(consistent_read=True) if i.pk.startswith("audit#")]
    return {"current": next((int(i.version or 0) for i in items if i.sk == "current"), 1),
            "versions": {int(i.version or 0): json.loads(i.data or "{}") for i in items if i.sk.startswith("v#")},
            "audit": sorted(audits)}


@pytest.mark.parametrize("operators", [2, 6])
def test_operators_saving_from_the_same_version_at_once_one_wins_the_others_conflict(
        deps: Deps, operators: int) -> None:
    for round_, base in enumerate((1, 2)):  # over the seed (the first save writes it too), then over a save
        outcomes = race([lambda n=n, r=round_, b=base: settings.save(edition(10 * r + n), b, f"admin{n}", deps)
                         for n in range(operators)])
        assert Counter(o if isinstance(o, str) else "saved" for o in outcomes) == Counter(
            {"saved": 1, "VERSION_CONFLICT": operators - 1}), outcomes
        assert [o for o in outcomes if not isinstance(o, str)] == [base + 1]
    winners = [deps.settings_store.version(v) for v in (2, 3)]
    state = stored(deps)
    assert state["current"] == 3 and sorted(state["versions"]) == [1, 2, 3]
    assert state["versions"][1] == SEED
    # one entry per save, naming the rules that won
    assert state["audit"] == [("settings.update", f"settings#{w.version}", w.rules["orders"]["payment_minutes"])
                              for w in winners if w is not None]
    assert settings.current(deps).rules == state["versions"][3]


def test_a_rollback_racing_a_save_both_land_one_after_the_other(deps: Deps) -> None:
    settings.save(edition(1), 1, "admin", deps)
    outcomes = race([lambda: settings.rollback(1, "admin-a", deps), lambda: settings.save(edition(2), 2, "admin-b", deps)])
    state = stored(deps)
    if outcomes[1] == "VERSION_CONFLICT":  # the rollback landed first: the save's base was stale
        assert outcomes[0] == 3 and state["current"] == 3 and state["versions"][3] == SEED
    else:  # the save first, then the rollback over it (it reads the version in force again)
        assert outcomes == [4, 3] and state["versions"][4] == SEED and state["versions"][3] == edition(2)
    assert len(state["audit"]) == state["current"] - 1


OLD_FIRST = {"current": 1, "versions": {}, "audit": []}
NEW_FIRST = {"current": 2, "versions": {1: SEED, 2: edition(1)}, "audit": [("settings.update", "settings#2", 21)]}
OLD_LATER = NEW_FIRST
NEW_LATER = {"current": 3, "versions": {1: SEED, 2: edition(1), 3: edition(2)},
             "audit": [("settings.update", "settings#2", 21), ("settings.update", "settings#3", 22)]}


@pytest.mark.parametrize(("earlier", "old", "new"), [(0, OLD_FIRST, NEW_FIRST), (1, OLD_LATER, NEW_LATER)],
                         ids=["first-save-with-the-seed", "a-later-save"])
def test_a_fault_at_every_call_of_a_save_leaves_the_old_or_the_new_version_whole(
        deps: Deps, faults: DynamoFaults, earlier: int, old: dict[str, Any], new: dict[str, Any]) -> None:
    for n in range(1, earlier + 1):
        settings.save(edition(n), n, "admin", deps)
    base = earlier + 1
    saved = snapshot()
    rules_just_read(deps)
    faults.arm()
    assert settings.save(edition(base), base, "admin", deps) == base + 1
    calls = faults.disarm()
    assert stored(deps) == new
    assert "TransactWriteItems" in calls
    endings: Counter[str] = Counter()
    for plan in plans(calls):
        restore(saved)
        rules_just_read(deps)
        faults.arm(plan)
        try:
            settings.save(edition(base), base, "admin", deps)
            endings["saved"] += 1
        except (Crash, DomainError, Exception) as exc:  # noqa: BLE001 (a failed call: the operator sends it again)
            endings[type(exc).__name__] += 1
        finally:
            faults.disarm()
        assert faults.fired, plan
        assert stored(deps) in (old, new), plan  # never a part of the change
        again = race([lambda: settings.save(edition(base), base, "admin", deps)])  # the operator sends it again
        assert again in ([base + 1], ["VERSION_CONFLICT"]), plan  # a conflict: the first one had landed
        assert stored(deps) == new, plan
    assert endings["saved"] >= 1 and endings["Crash"] >= 1, endings

"""The runtime rules are the only rules (docs/settings.md): no use case reads the environment's
seed directly, and the shared version cache re-reads and keeps versions as documented."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from chalicelib.services import versions
from chalicelib.services.versions import VersionCache

ROOT = Path(__file__).resolve().parents[2] / "chalicelib"
# ``settings.rules`` is the seed (FENXIAO_RULES); ``Deps.rules`` / ``Deps.rules_at`` the rules in force
SEED_READ = re.compile(r"\bsettings\s*\.\s*rules\b(?!_)")


def test_no_service_job_or_route_reads_the_seed_instead_of_the_rules_in_force() -> None:
    readers = [f"{path.relative_to(ROOT.parent)}:{n}" for layer in ("services", "jobs", "api", "web")
               for path in sorted((ROOT / layer).rglob("*.py"))
               for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if SEED_READ.search(line)]
    assert readers == [], f"read deps.rules (or deps.rules_at(order.rules_version)), not settings.rules: {readers}"


def test_the_check_catches_the_reads_it_is_for() -> None:
    assert SEED_READ.search("rate = deps.settings.rules.commission.team_bonus_bp")
    assert SEED_READ.search("rules = run.deps.settings.rules")
    assert not SEED_READ.search("deps.settings.rules_refresh_seconds")
    assert not SEED_READ.search("deps.rules.orders.payment_minutes")


class Source:
    def __init__(self) -> None:
        self.number, self.reads, self.loads = 1, 0, []  # type: ignore[var-annotated]

    def current(self) -> int:
        self.reads += 1
        return self.number

    def load(self, number: int) -> str:
        self.loads.append(number)
        return f"v{number}"


@pytest.fixture
def ticking(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    now = [1_000.0]
    monkeypatch.setattr(versions.time, "monotonic", lambda: now[0])
    return now


def test_the_number_in_force_is_read_again_only_once_the_refresh_interval_passed(ticking: list[float]) -> None:
    cache, source = VersionCache[str](keep=2), Source()
    assert cache.current(5, source.current) == 1
    source.number = 2
    ticking[0] += 4.9
    assert (cache.current(5, source.current), source.reads) == (1, 1)
    ticking[0] += 0.1
    assert (cache.current(5, source.current), source.reads) == (2, 2)
    cache.invalidate()
    source.number = 3
    assert (cache.current(5, source.current), source.reads) == (3, 3)
    assert cache.current(0, source.current) == 3 and source.reads == 4  # 0: every call reads


def test_a_version_is_built_once_and_the_oldest_is_dropped_past_keep() -> None:
    cache, source = VersionCache[str](keep=2), Source()
    assert [cache.value(n, source.load) for n in (1, 2, 1, 2, 3, 1)] == ["v1", "v2", "v1", "v2", "v3", "v1"]
    assert source.loads == [1, 2, 3, 1]  # 1 was the least recently used when 3 came in


def test_a_slice_carries_its_runs_rules_version_and_a_bad_one_is_a_stray_message() -> None:
    from datetime import UTC, datetime

    from chalicelib.jobs.engine import Slice, StrayMessage

    piece = Slice("settle_commissions", "run-1", "2026-11-10#a", datetime(2026, 11, 10, tzinfo=UTC), "c", rules=7)
    assert Slice.from_json(piece.to_json()) == piece
    old = '{"job": "settle_commissions", "run": "r", "part": "p", "now": "2026-11-10T00:00:00+00:00"}'
    assert Slice.from_json(old).rules is None  # sent before versions: the version in force
    for bad in ('"7"', "0", "true", "1.5", "[1]"):
        with pytest.raises(StrayMessage):
            Slice.from_json(old[:-1] + f', "rules": {bad}}}')

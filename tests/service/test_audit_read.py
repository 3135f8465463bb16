"""Reading the audit log on moto (services/audit_log.py, store/audit.entries_page): Shanghai days
bound the range whatever the UTC date, newest first, pages over day partitions and indexes cover
every entry once."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.domain.audit import Action, audit
from chalicelib.domain.errors import DomainError
from chalicelib.services import audit_log
from chalicelib.store.audit import record_alone

# 23:30 on 5 December in Shanghai is 15:30 UTC; 00:30 on the 6th is 16:30 UTC on the 5th.
LATE_5TH = datetime(2026, 12, 5, 15, 30, tzinfo=UTC)
EARLY_6TH = datetime(2026, 12, 5, 16, 30, tzinfo=UTC)


def put(actor: str, action: Action, at: datetime, reason: str) -> None:
    record_alone(audit(actor, action, f"user#{reason}", at, None, None, reason))


@pytest.fixture
def log(aws: None) -> None:
    put("a1", Action.USER_FREEZE, LATE_5TH - timedelta(days=1), "4th")
    put("a1", Action.USER_FREEZE, LATE_5TH, "5th-late")
    put("a2", Action.USER_TIER, EARLY_6TH, "6th-early")
    put("a1", Action.USER_TIER, EARLY_6TH + timedelta(hours=1), "6th")
    put("a2", Action.USER_FREEZE, EARLY_6TH + timedelta(days=2), "8th")


def read_all(deps, limit: int, **filters) -> list[str]:
    args = {"actor": None, "action": None, "from_day": None, "to_day": None, **filters}
    seen, cursor = [], None
    for _ in range(50):
        page, cursor = audit_log.entries(args["actor"], args["action"], args["from_day"], args["to_day"], limit,
                                         cursor, deps)
        seen += [e.reason for e in page]
        if cursor is None:
            return seen
    raise AssertionError("the log never ended")


def test_days_are_shanghai_days_and_pages_cover_each_entry_once(deps, log, clock):
    clock.at = EARLY_6TH + timedelta(days=3)
    everything = ["8th", "6th", "6th-early", "5th-late", "4th"]
    for limit in (1, 2, 100):
        assert read_all(deps, limit, from_day="2026-12-01", to_day="2026-12-09") == everything
    assert read_all(deps, 1, from_day="2026-12-06", to_day="2026-12-06") == ["6th", "6th-early"]
    assert read_all(deps, 1, from_day="2026-12-05", to_day="2026-12-05") == ["5th-late"]
    for limit in (1, 100):
        assert read_all(deps, limit, actor="a1", from_day="2026-12-01", to_day="2026-12-09") == \
            ["6th", "5th-late", "4th"]
        assert read_all(deps, limit, action="user.tier", from_day="2026-12-01", to_day="2026-12-09") == \
            ["6th", "6th-early"]
        assert read_all(deps, limit, actor="a2", action="user.freeze", from_day="2026-12-01",
                        to_day="2026-12-09") == ["8th"]
    assert read_all(deps, 5, actor="a1", from_day="2026-12-06", to_day="2026-12-06") == ["6th"]


def test_bad_ranges_and_actions_are_refused(deps, log):
    for args, code in ((("2026-12-09", "2026-12-01"), "INVALID_DATE_RANGE"),
                       (("2026-01-01", "2026-12-01"), "INVALID_DATE_RANGE"),
                       (("2026-02-30", "2026-03-01"), "INVALID_DATE")):
        with pytest.raises(DomainError) as caught:
            audit_log.entries(None, None, *args, 20, None, deps)
        assert caught.value.code == code
    with pytest.raises(DomainError) as caught:
        audit_log.entries(None, "user.explode", None, None, 20, None, deps)
    assert caught.value.code == "VALIDATION_FAILED"

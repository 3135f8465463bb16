"""Time: an injected clock, and business dates in Asia/Shanghai."""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def fixed_clock(at: datetime) -> Clock:
    return lambda: at


def business_date(at: datetime) -> date:
    """The Asia/Shanghai calendar day of an instant."""
    return at.astimezone(SHANGHAI).date()


def business_month(at: datetime) -> str:
    """The Asia/Shanghai calendar month of an instant, as ``YYYY-MM``."""
    return at.astimezone(SHANGHAI).strftime("%Y-%m")


def previous_month(month: str) -> str:
    year, mon = (int(p) for p in month.split("-"))
    return f"{year - 1}-12" if mon == 1 else f"{year}-{mon - 1:02d}"


def iso(at: datetime) -> str:
    """ISO-8601 in UTC with ``Z`` (API.md conventions)."""
    return at.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def parse_iso(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError("a time needs a zone")
    return value.astimezone(UTC)

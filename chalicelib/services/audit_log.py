"""Reading the audit log (``GET /v1/admin/audit``, docs/audit.md): every admin action, newest
first, over a range of Asia/Shanghai days (default the last 7, at most ``MAX_DAYS``), by actor
and/or action."""
from __future__ import annotations

import base64
import binascii
import json
import re
from datetime import date, timedelta
from typing import TYPE_CHECKING

from chalicelib.domain.audit import Action, AuditEntry
from chalicelib.domain.clock import business_date, parse_iso
from chalicelib.domain.metrics import InvalidDate, InvalidDateRange
from chalicelib.store.base import InvalidCursor

if TYPE_CHECKING:
    from chalicelib.bootstrap import Deps

MAX_DAYS = 92  # a page reads at most one Query a day (no filter) or one Query of an index
DEFAULT_DAYS = 7
_SORT_KEY = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z#[0-9a-f]{1,64}$")  # store/audit.sort_time


def entries(actor: str | None, action: str | None, from_day: str | None, to_day: str | None, limit: int,
            cursor: str | None, deps: Deps) -> tuple[list[AuditEntry], str | None]:
    """A page of entries and the next cursor. INVALID_DATE / INVALID_DATE_RANGE (422) for days
    that are not calendar days, ``from`` after ``to`` or more than ``MAX_DAYS`` days;
    VALIDATION_FAILED for an action that is not one of ``Action``; INVALID_CURSOR (400)."""
    from chalicelib.domain.errors import ValidationFailed
    from chalicelib.store.audit import entries_page

    today = business_date(deps.clock())
    last = _day(to_day, "to") if to_day else today
    first = _day(from_day, "from") if from_day else last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last or (last - first).days >= MAX_DAYS:
        raise InvalidDateRange(f"from must not be after to, and the range is at most {MAX_DAYS} days",
                               max_days=MAX_DAYS)
    try:
        kind = Action(action) if action else None
    except ValueError as exc:
        raise ValidationFailed("no such action", fields=[{"field": "action", "problem": "one of the actions"}],
                               actions=[a.value for a in Action]) from exc
    page, after = entries_page(first, last, actor, kind, _after(cursor), limit)
    return page, _cursor(after)


def _day(text: str, name: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise InvalidDate(f"{name} is not a calendar day written YYYY-MM-DD", field=name) from exc


def _cursor(sort_key: str | None) -> str | None:
    if sort_key is None:
        return None
    return base64.urlsafe_b64encode(json.dumps({"list": "audit", "after": sort_key}).encode()).decode().rstrip("=")


def _after(cursor: str | None) -> str | None:
    if not cursor:
        return None
    try:
        value = json.loads(base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()))
    except (ValueError, binascii.Error) as exc:
        raise InvalidCursor("the cursor is not one we issued") from exc
    if not (isinstance(value, dict) and value.get("list") == "audit" and isinstance(value.get("after"), str)
            and _SORT_KEY.match(value["after"])):
        raise InvalidCursor("the cursor does not belong to this list")
    try:
        parse_iso(value["after"].partition("#")[0])
    except ValueError as exc:
        raise InvalidCursor("the cursor is not one we issued") from exc
    return str(value["after"])

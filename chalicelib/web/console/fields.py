"""Form text the console's pages turn into values before the API's models validate them (the
models are strict, as JSON is: a number sent as text is refused, so a page converts it first)."""
from __future__ import annotations

from datetime import datetime

from chalicelib.domain.errors import ValidationFailed


def whole_number(text: str, name: str) -> int:
    """A non-negative integer of a form field; VALIDATION_FAILED naming the field otherwise."""
    text = text.strip()
    if not text.isascii() or not text.isdigit():
        raise ValidationFailed("the form is incomplete", fields=[{"field": name, "problem": "须为整数"}])
    return int(text)


def shanghai_time(text: str, name: str) -> datetime:
    """An ``<input type="datetime-local">`` value (``2026-11-20T09:00``) read as Asia/Shanghai
    wall-clock time; VALIDATION_FAILED naming the field otherwise."""
    from chalicelib.domain.clock import SHANGHAI

    try:
        at = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValidationFailed("the form is incomplete", fields=[{"field": name, "problem": "须为日期时间"}]) from None
    return at.replace(tzinfo=SHANGHAI) if at.tzinfo is None else at

"""Where a WeChat simulator keeps what WeChat itself would remember (payments, refunds, transfer
bills), so that a restart of the local stack forgets nothing the mall's data still refers to.

``SimulatorState`` is the port: JSON-able records by key. ``MemoryState`` keeps them for the life
of the object (unit tests, a bare simulator); ``store.simulators.SimulatorStore`` keeps them in
DynamoDB next to the mall's data (``make dev``: DynamoDB Local under ``.local/``).
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Protocol

Record = dict[str, Any]


class SimulatorState(Protocol):
    def load(self, key: str) -> Record | None:
        """The record saved under ``key``, or None."""
        ...

    def save(self, key: str, record: Record) -> None:
        """Replace the record under ``key``."""
        ...


class MemoryState:
    """Records in a dict, copied in and out (a caller's later change never leaks in)."""

    def __init__(self) -> None:
        self._records: dict[str, str] = {}

    def load(self, key: str) -> Record | None:
        text = self._records.get(key)
        return None if text is None else json.loads(text)  # type: ignore[no-any-return]

    def save(self, key: str, record: Record) -> None:
        self._records[key] = json.dumps(record)


def time_text(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def time_of(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)

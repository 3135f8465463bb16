"""The WeChat simulators' memory (simulator mode only): what WeChat Pay would remember of our
payments, refunds and transfer bills, kept with the mall's data so that a ``make dev`` restart
can still refund an order paid before it (``wechat/simulator_state.py``).

Items of the analytics table under their own prefix, one per record, the record as JSON in
``data``: ``sim#<kind>#<key>``/``state`` (``kind``: ``pay`` per out_trade_no, ``transfer`` per
out_bill_no). Load: GetItem (consistent); save: PutItem. The simulator serialises its own calls
with a lock, and one process runs the local API.
"""
from __future__ import annotations

import json
from typing import Any

from chalicelib.store.analytics import AnalyticsItem

SORT_KEY = "state"


class SimulatorStore:
    """``SimulatorState`` over DynamoDB, records of one ``kind``."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def _pk(self, key: str) -> str:
        return f"sim#{self.kind}#{key}"

    def load(self, key: str) -> dict[str, Any] | None:
        try:
            item = AnalyticsItem.get(self._pk(key), SORT_KEY, consistent_read=True)
        except AnalyticsItem.DoesNotExist:
            return None
        return json.loads(item.data or "{}")  # type: ignore[no-any-return]

    def save(self, key: str, record: dict[str, Any]) -> None:
        AnalyticsItem(self._pk(key), SORT_KEY, data=json.dumps(record, ensure_ascii=False, separators=(",", ":"))).save()

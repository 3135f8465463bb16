"""The WeChat simulators' memory (simulator mode only): what WeChat Pay would remember of our
payments, refunds and transfer bills, kept with the mall's data so that a ``make dev`` restart
can still refund an order paid before it (``wechat/simulator_state.py``).

A table of its own (setting ``simulator_state``, env ``SIMULATOR_STATE_TABLE``), created by
``tables.ensure_tables`` in simulator mode only: it is WeChat's memory, not ours, so it is not
among ``base.all_models()`` (never deployed, never snapshotted or faulted by tests/faults.py).
One item per record, the record as JSON in ``data``: ``pk`` = ``<kind>#<key>`` (``pay#<out_trade_no>``,
``transfer#<out_bill_no>``). Load: GetItem (consistent); save: PutItem. The simulator serialises
its own calls with a lock, and one process runs the local API.
"""
from __future__ import annotations

import json
from typing import Any

from pynamodb.attributes import UnicodeAttribute

from chalicelib.config import get_settings
from chalicelib.store.base import BaseMeta, StoreModel


class SimulatorItem(StoreModel):
    class Meta(BaseMeta):
        table_name = get_settings().simulator_state

    pk = UnicodeAttribute(hash_key=True)
    data = UnicodeAttribute(null=True)  # JSON


class SimulatorStore:
    """``SimulatorState`` over DynamoDB, the records of one ``kind``."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def load(self, key: str) -> dict[str, Any] | None:
        try:
            item = SimulatorItem.get(f"{self.kind}#{key}", consistent_read=True)
        except SimulatorItem.DoesNotExist:
            return None
        return json.loads(item.data or "{}")  # type: ignore[no-any-return]

    def save(self, key: str, record: dict[str, Any]) -> None:
        SimulatorItem(f"{self.kind}#{key}", data=json.dumps(record, ensure_ascii=False, separators=(",", ":"))).save()

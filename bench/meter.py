"""Count DynamoDB round trips and consumed capacity through botocore's event hooks.

PynamoDB keeps one botocore client per model connection (``Model._get_connection().connection
.client``); the meter registers on each distinct client's ``meta.events``:

* ``before-parameter-build.dynamodb.*``: sets ``ReturnConsumedCapacity`` (the member name
  botocore's input shapes use; checked against each operation's shape) to ``INDEXES`` on every
  operation that has it. PynamoDB itself asks for ``TOTAL``, but DynamoDB Local's ``TOTAL``
  leaves out index units on some transactions (a bind under a root distributor: TOTAL 4 WCU,
  INDEXES 8 = 4 table + 2 ``distributors`` (an index since removed) + 2 ``by_parent``); ``INDEXES`` returns the same
  aggregate ``CapacityUnits`` that ``TOTAL`` documents, plus the per-index split. It also
  counts the items a transaction or batch carries;
* ``before-call.dynamodb.*``: one logical call (a round trip, unless botocore retries);
* ``before-send.dynamodb.*``: one HTTP attempt (more than calls means retries);
* ``after-call.dynamodb.*``: sums ``ConsumedCapacity`` (a dict, or a list for transactions and
  batches) and the time spent in the call, and counts error answers by code.

DynamoDB Local answers with ``CapacityUnits`` only (no read/write split), so units count as read
or write units by the operation that consumed them.
"""
from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

RCC = "ReturnConsumedCapacity"
CAPACITY_MODE = "INDEXES"  # not TOTAL: see the module docstring
READ_OPERATIONS = frozenset({"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"})
# Operations that carry several items: reported as "TransactWriteItems×1 (4 items)".
_ITEM_LISTS = {"TransactWriteItems": "TransactItems", "TransactGetItems": "TransactItems"}


@dataclass
class Snapshot:
    """What the meter saw between two resets."""

    calls: Counter[str] = field(default_factory=Counter)
    attempts: int = 0
    items: Counter[str] = field(default_factory=Counter)  # items carried by multi-item operations
    rcu: float = 0.0
    wcu: float = 0.0
    index_rcu: float = 0.0  # the part of rcu / wcu consumed by secondary indexes
    index_wcu: float = 0.0
    errors: Counter[str] = field(default_factory=Counter)
    seconds_in_calls: float = 0.0

    @property
    def round_trips(self) -> int:
        return sum(self.calls.values())

    def describe_calls(self) -> str:
        """E.g. ``BatchGetItem×1 (2 items), GetItem×1, TransactWriteItems×1 (3 items)``."""
        parts = []
        for name in sorted(self.calls):
            text = f"{name}×{self.calls[name]}"
            if self.items.get(name):
                text += f" ({self.items[name]} items)"
            parts.append(text)
        return ", ".join(parts) or "none"

    def as_dict(self) -> dict[str, Any]:
        return {"calls": dict(self.calls), "round_trips": self.round_trips, "http_attempts": self.attempts,
                "items": dict(self.items), "rcu": self.rcu, "wcu": self.wcu,
                "index_rcu": self.index_rcu, "index_wcu": self.index_wcu, "errors": dict(self.errors),
                "seconds_in_calls": self.seconds_in_calls}


class DynamoMeter:
    """Attach to every distinct botocore client, then ``reset()`` / ``take()`` around a request."""

    def __init__(self) -> None:
        self._clients: dict[int, Any] = {}
        self._current = Snapshot()

    # -- wiring ----------------------------------------------------------------------------
    def attach_models(self, models: Iterable[Any]) -> int:
        """Hook the client of each model's connection; returns how many distinct clients exist."""
        for model in models:
            self.attach(model._get_connection().connection.client)
        return len(self._clients)

    def attach(self, client: Any) -> None:
        if id(client) in self._clients:
            return
        self._clients[id(client)] = client  # keeps it alive, so the id stays unique
        events = client.meta.events
        events.register("before-parameter-build.dynamodb.*", self._before_parameter_build)
        events.register("before-call.dynamodb.*", self._before_call)
        events.register("before-send.dynamodb.*", self._before_send)
        events.register("after-call.dynamodb.*", self._after_call)

    def check_hooked(self, models: Iterable[Any]) -> None:
        """Fail loudly if a model's client was replaced (its calls would go uncounted)."""
        for model in models:
            client = model._get_connection().connection.client
            if id(client) not in self._clients:
                raise RuntimeError(f"{model.__name__}'s botocore client is not hooked (was it recreated?)")

    # -- reading ---------------------------------------------------------------------------
    def reset(self) -> None:
        self._current = Snapshot()

    def take(self) -> Snapshot:
        snapshot, self._current = self._current, Snapshot()
        return snapshot

    # -- hooks -----------------------------------------------------------------------------
    def _before_parameter_build(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        """Ask for capacity, and count the items of multi-item operations (``before-call`` only
        sees the serialised request)."""
        shape = model.input_shape
        if shape is not None and RCC in shape.members and params.get(RCC) in (None, "NONE", "TOTAL"):
            params[RCC] = CAPACITY_MODE
        name = model.name
        if name in _ITEM_LISTS:
            self._current.items[name] += len(params.get(_ITEM_LISTS[name], ()))
        elif name == "BatchGetItem":
            self._current.items[name] += sum(len(t.get("Keys", ())) for t in params.get("RequestItems", {}).values())
        elif name == "BatchWriteItem":
            self._current.items[name] += sum(len(reqs) for reqs in params.get("RequestItems", {}).values())

    def _before_call(self, model: Any, context: dict[str, Any], **_: Any) -> None:
        self._current.calls[model.name] += 1
        context["bench_started"] = time.perf_counter()

    def _before_send(self, **_: Any) -> None:
        self._current.attempts += 1
        return None  # a value here would replace the HTTP request

    def _after_call(self, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        started = context.get("bench_started")
        if started is not None:
            self._current.seconds_in_calls += time.perf_counter() - started
        error = (parsed or {}).get("Error", {}).get("Code")
        if error:
            self._current.errors[error] += 1
        units, index_units = capacity_units(parsed.get("ConsumedCapacity") if parsed else None)
        if model.name in READ_OPERATIONS:
            self._current.rcu += units
            self._current.index_rcu += index_units
        else:
            self._current.wcu += units
            self._current.index_wcu += index_units


def _units(entry: dict[str, Any]) -> float:
    if "CapacityUnits" in entry:
        return float(entry["CapacityUnits"])
    return float(entry.get("ReadCapacityUnits", 0)) + float(entry.get("WriteCapacityUnits", 0))


def capacity_units(consumed: Any) -> tuple[float, float]:
    """(all units, units of secondary indexes) of a ``ConsumedCapacity`` answer: one dict, or a
    list (one per table) for transactions and batches."""
    if not consumed:
        return 0.0, 0.0
    total = index = 0.0
    for entry in consumed if isinstance(consumed, list) else [consumed]:
        total += _units(entry)
        for kind in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
            index += sum(_units(i) for i in (entry.get(kind) or {}).values())
    return total, index

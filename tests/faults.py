"""Fault injection at DynamoDB calls, through botocore's event hooks, and table snapshots.

``DynamoFaults`` registers on the botocore client of every model's connection (PynamoDB keeps
one per model; the same hooks ``bench/meter.py`` uses) and, while armed, numbers each DynamoDB
call of the code under test. A plan makes call ``n`` fail one way, once:

* ``throttle``: ``ProvisionedThroughputExceededException`` instead of the call (what the caller
  sees when botocore's own retries are spent); the call changes nothing;
* ``cancel``: ``TransactionCanceledException`` with one item in ``TransactionConflict`` (only
  for ``TransactWriteItems``) as the call's final answer, past the client's own retries (a
  conflict that outlasted them); the call changes nothing;
* ``conflict``: DynamoDB's answer to a write that meets another transaction in flight, to the
  call's first HTTP send only (``before-send``, the bytes DynamoDB sends, parsed by botocore):
  ``TransactionCanceledException`` with ``CancellationReasons`` naming ``TransactionConflict`` for
  ``TransactWriteItems``, ``TransactionConflictException`` for PutItem, UpdateItem and DeleteItem.
  The client sends the same request again (``chalicelib/store/conflicts.py``); ``sends`` keeps
  the body of every send of the call, so a test sees it was the same;
* ``timeout``: the call goes through and its changes stay, then the caller gets ``ReadTimeoutError``
  (also where the call was refused: a cancelled transaction's answer lost on its way back);
* ``crash``: the process dies before call ``n``, raised as ``Crash``, a ``BaseException`` that
  no ``except Exception`` swallows; ``crash_after``: it dies once call ``n`` went through (used
  after the last call: a crash after any other is a crash before the next).

Two more plans interleave another caller at a precise point instead of failing: ``run_before``
and ``run_after`` run ``Fault.action`` (unarmed: its own calls are neither counted nor faulted)
right before call ``n`` is sent, or right after it succeeded and before its caller sees the answer.

Nothing in the business code is patched: the failures come from the client, as a real one would.

``snapshot`` reads every table (a raw Scan) and ``restore`` puts a snapshot back, so that each
faulted run starts from the same state; ``normalised`` renders a snapshot without timestamps and
with generated ids (orders, groups, invite codes, WeChat transaction ids) replaced by what
identifies them (buyer and kind, leader, owner), so a faulted run compares with a fault-free one.
"""
from __future__ import annotations

import json
import re
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.exceptions import ReadTimeoutError

KINDS = ("throttle", "cancel", "conflict", "timeout", "crash", "crash_after")
WRITES = ("TransactWriteItems", "PutItem", "UpdateItem", "DeleteItem")  # what a conflict can refuse


class Crash(BaseException):
    """The process died here (a BaseException: no ``except Exception`` in the code under test catches it)."""


@dataclass(frozen=True)
class Fault:
    kind: str
    at: int  # the index of the call (0-based) among the calls made while armed
    action: Callable[[], Any] | None = None  # for "run_before" / "run_after": what happens right there

    def __str__(self) -> str:
        return f"{self.kind}@{self.at}"


class DynamoFaults:
    """Counts the DynamoDB calls made while armed and injects at most one fault among them."""

    def __init__(self) -> None:
        self._clients: dict[int, Any] = {}
        self.armed = False
        self.calls: list[str] = []
        self.plan: Fault | None = None
        self.fired = False
        self.conflicting: str | None = None  # the operation whose next send answers a conflict
        self.sends: list[bytes] = []  # the bodies of every send of the call the conflict was planned at

    def attach(self, models: Iterable[Any]) -> None:
        for model in models:
            client = model._get_connection().connection.client
            if id(client) in self._clients:
                continue
            self._clients[id(client)] = client
            client.meta.events.register("before-call.dynamodb.*", self._before_call)
            client.meta.events.register("before-send.dynamodb.*", self._before_send)
            client.meta.events.register("after-call.dynamodb.*", self._after_call)

    def arm(self, plan: Fault | None = None) -> None:
        self.armed, self.calls, self.plan, self.fired = True, [], plan, False
        self.conflicting, self.sends = None, []

    def disarm(self) -> list[str]:
        self.armed = False
        return self.calls

    def _due(self, index: int, *kinds: str) -> bool:
        plan = self.plan
        if self.fired or plan is None or plan.kind not in kinds or plan.at != index:
            return False
        self.fired = True
        return True

    def _before_call(self, model: Any, params: dict[str, Any], context: dict[str, Any], **_: Any) -> Any:
        if not self.armed:
            return None
        index = len(self.calls)
        context["fault_index"] = index
        self.calls.append(model.name)
        if self._due(index, "run_before"):
            self._run_action()
        if self._due(index, "crash"):
            raise Crash(f"crashed before call {index} ({model.name})")
        if self._due(index, "throttle"):
            return parsed_answer(model, json.dumps({
                "__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
                "message": "The level of configured provisioned throughput for the table was exceeded."}).encode())
        if model.name == "TransactWriteItems" and self._due(index, "cancel"):
            return parsed_answer(model, conflict_body(model.name, json.loads(params["body"])))
        if model.name in WRITES and self._due(index, "conflict"):
            self.conflicting = model.name
            context["fault_sends"] = self.sends
        return None

    def _before_send(self, request: Any, **_: Any) -> AWSResponse | None:
        if not self.armed or self.conflicting is None:
            return None
        self.sends.append(bytes(request.body or b""))
        if len(self.sends) > 1:
            return None  # the client's retry goes through to the database
        return raw_answer(conflict_body(self.conflicting, json.loads(request.body)))

    def _after_call(self, model: Any, context: dict[str, Any], http_response: Any, **_: Any) -> None:
        index = context.get("fault_index")
        if context.get("fault_sends") is self.sends:
            self.conflicting = None  # the planned call is over: later calls go through
        if not self.armed or index is None:
            return
        if http_response.status_code >= 300:
            # a call refused (a transaction cancelled by its conditions) changed nothing; a timeout
            # there loses the refusal on its way back: the caller sees the timeout instead
            if self._due(index, "timeout"):
                raise ReadTimeoutError(endpoint_url=f"dynamodb {model.name} (after it was refused)")
            return
        if self._due(index, "run_after"):
            self._run_action()
        if self._due(index, "crash_after"):
            raise Crash(f"crashed after call {index} ({model.name})")
        if self._due(index, "timeout"):
            raise ReadTimeoutError(endpoint_url=f"dynamodb {model.name} (after it succeeded)")

    def _run_action(self) -> None:
        assert self.plan is not None and self.plan.action is not None
        self.armed = False
        try:
            self.plan.action()
        finally:
            self.armed = True


CONFLICT_MESSAGE = "Transaction is ongoing for the item"


def conflict_body(operation: str, request: dict[str, Any], at: int = -1) -> bytes:
    """The body DynamoDB answers a write with when another transaction is in flight on one of its
    items (the item at ``at`` of a transaction): the JSON error shape of its API, as sent."""
    if operation != "TransactWriteItems":
        return json.dumps({"__type": "com.amazonaws.dynamodb.v20120810#TransactionConflictException",
                           "message": CONFLICT_MESSAGE}).encode()
    reasons: list[dict[str, str]] = [{"Code": "None"} for _ in request["TransactItems"]]
    reasons[at] = {"Code": "TransactionConflict", "Message": CONFLICT_MESSAGE}
    codes = ", ".join(reason["Code"] for reason in reasons)
    return json.dumps({"__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
                       "CancellationReasons": reasons,
                       "Message": f"Transaction cancelled, please refer cancellation reasons for specific reasons "
                                  f"[{codes}]"}).encode()


class _Raw:
    """The raw HTTP body botocore reads an answer from (``AWSResponse.content`` streams it)."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


def raw_answer(body: bytes, status: int = 400) -> AWSResponse:
    """An HTTP answer with DynamoDB's headers (its CRC32 checksum included), for ``before-send``:
    botocore parses and retries it as one from the network."""
    headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": "FAULT" * 8,
               "x-amz-crc32": str(zlib.crc32(body))}
    return AWSResponse("https://dynamodb.fault", status, headers, _Raw(body))


def parsed_answer(operation: Any, body: bytes, status: int = 400) -> tuple[AWSResponse, dict[str, Any]]:
    """``(http, parsed)`` for ``before-call``: the body parsed as botocore's endpoint parses an
    answer, its error's modelled fields (``CancellationReasons``) included."""
    from botocore.parsers import create_parser

    http = raw_answer(body, status)
    parser = create_parser(operation.service_model.resolved_protocol)
    response = {"status_code": status, "headers": http.headers, "body": body}
    parsed: dict[str, Any] = parser.parse(response, operation.output_shape)
    shape = operation.service_model.shape_for_error_code(parsed.get("Error", {}).get("Code"))
    if shape is not None:
        parsed.update(parser.parse(response, shape))
    return http, parsed


def plans(calls: list[str]) -> list[Fault]:
    """Every fault at every call of a fault-free run's ``calls``: throttle, timeout and a crash
    before each call, a cancellation at each transaction, and a crash after the last call."""
    out = []
    for index, name in enumerate(calls):
        out += [Fault("throttle", index), Fault("timeout", index), Fault("crash", index)]
        if name == "TransactWriteItems":
            out.append(Fault("cancel", index))
    if calls:
        out.append(Fault("crash_after", len(calls) - 1))
    return out


# Snapshots of every table ---------------------------------------------------------------------

Snapshot = dict[str, list[dict[str, Any]]]  # table name → raw items (DynamoDB JSON)
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?")
# A paid order's basket lands on the partition of its order id's hash: an act that places the
# order again (a new generated id) may land elsewhere; the basket itself is compared whole.
_BASKET_PARTITION = re.compile(r"(basket#\d{4}-\d{2}-\d{2})#\d+")
_WECHAT_TRANSACTION = re.compile(r"4200\d{8}[0-9a-f]{16}")


@contextmanager
def own_tables(endpoint: str) -> Iterator[None]:
    """Every model's table under a name of its own (the setting's name and a suffix) on the
    session's DynamoDB Local, created here and dropped at the end: a test that saves and restores
    whole tables, or leaves work for the jobs (open groups, unpaid orders, withdrawals in flight),
    touches no other test's data and no other test touches its own."""
    import uuid

    import pytest

    from chalicelib.store.tables import all_models, ensure_tables, reset_connections

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ENDPOINT_URL_DYNAMODB", endpoint)
        for name, value in (("AWS_ACCESS_KEY_ID", "local"), ("AWS_SECRET_ACCESS_KEY", "local"),
                            ("AWS_DEFAULT_REGION", "cn-north-1")):
            patch.setenv(name, value)
        suffix = uuid.uuid4().hex[:8]
        for model in all_models():
            patch.setattr(model.Meta, "table_name", f"{model.Meta.table_name}-own-{suffix}")
        reset_connections()
        ensure_tables()
        keep_expired_items()
        try:
            yield
        finally:
            for model in all_models():
                model.delete_table()
            reset_connections()
    reset_connections()


def keep_expired_items() -> None:
    """Turn the tables' TTL off. DynamoDB Local deletes expired items within seconds (AWS within
    days), and the tests run on clocks fixed in the past: a visit mark, fact marker or claim put
    "3 days before" the real date would vanish at a random moment of the test (it made the
    duplicate-notification fault test count a visitor twice, once in 15 runs)."""
    from chalicelib.store.tables import local_models

    for model in local_models():
        client = model._get_connection().connection.client
        table = model.Meta.table_name
        described = client.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
        if described.get("TimeToLiveStatus") in ("ENABLED", "ENABLING"):
            client.update_time_to_live(TableName=table, TimeToLiveSpecification={
                "Enabled": False, "AttributeName": described["AttributeName"]})


def _tables() -> list[tuple[Any, str, list[str]]]:
    """(client, table name, key attribute names) of every model."""
    from chalicelib.store.tables import all_models, table_spec

    out = []
    for model in all_models():
        spec = table_spec(model)
        out.append((model._get_connection().connection.client, spec["TableName"],
                    [k["AttributeName"] for k in spec["KeySchema"]]))
    return out


def _scan(client: Any, table: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    request: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    while True:
        page = client.scan(**request)
        items += page.get("Items", [])
        if not page.get("LastEvaluatedKey"):
            return items
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def snapshot() -> Snapshot:
    """Every item of every table (tables of the test's own: see tests/race/test_faults.py)."""
    return {table: _scan(client, table) for client, table, _ in _tables()}


def restore(saved: Snapshot) -> None:
    """Make every table hold exactly ``saved`` again, and forget what this process remembers of
    them (the visit marks it made: rolled back with the tables, as after a restart)."""
    from chalicelib.services import visits

    visits.forget_all()
    for client, table, keys in _tables():
        stale = [{"DeleteRequest": {"Key": {k: item[k] for k in keys}}} for item in _scan(client, table)]
        fresh = [{"PutRequest": {"Item": item}} for item in saved.get(table, [])]
        for requests in (stale, fresh):
            for start in range(0, len(requests), 25):
                pending: dict[str, Any] = {table: requests[start:start + 25]}
                while pending:
                    pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}


def _text(item: dict[str, Any], name: str) -> str | None:
    value = item.get(name)
    return value.get("S") if isinstance(value, dict) else None


def _labels(saved: Snapshot) -> dict[str, str]:
    """Generated ids → what identifies them in the test: an order by its buyer and kind, a group
    by its leader, an invite code by its owner."""
    from chalicelib.store.order_items import OrderItem
    from chalicelib.store.users import UserItem

    labels: dict[str, str] = {}
    for item in saved.get(OrderItem.Meta.table_name, []):
        key = _text(item, "order_id") or ""
        if key.startswith("group#"):
            labels[key.removeprefix("group#")] = f"group[{_text(item, 'leader_id')}]"
        elif not key.startswith("idem#") and _text(item, "status"):
            labels[key] = f"order[{_text(item, 'buyer_id')}/{_text(item, 'kind')}]"
    for item in saved.get(UserItem.Meta.table_name, []):
        code = _text(item, "invite_code")
        if code:
            labels[code] = f"code[{_text(item, 'pk')}]"
    assert len(set(labels.values())) == len(labels), "two generated ids share a label: the comparison would be blind"
    return labels


_SHARDED = re.compile(r"^(day#[0-9-]+|pday#[0-9-]+#\d+)#(\d+)$")


def _merge_shards(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Counters the analytics table spreads over random write shards, which are the last part
    of the partition key (``day#<day>#<s>``/``counts``, ``pday#<day>#<bucket>#<s>``/``p#<id>``),
    compared by their sums: one item per counter group, shard number left out."""
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    out = []
    for item in items:
        match = _SHARDED.match(_text(item, "pk") or "")
        if not match:
            out.append(item)
            continue
        sk = _text(item, "sk") or ""
        group = merged.setdefault((match.group(1), sk), {"pk": {"S": f"{match.group(1)}#<shard>"}, "sk": item["sk"]})
        for name, value in item.items():
            if name not in ("pk", "sk") and isinstance(value, dict) and "N" in value:
                total = float(group.get(name, {"N": "0"})["N"]) + float(value["N"])
                group[name] = {"N": f"{total:g}"}
    return out + list(merged.values())


# A due index's partition, "<day>#<shard>": the shard is the generated id's last digit (the id is
# labelled; domain.orders.due_partition is tested on its own). The admin list's keys too
# ("<day>#<shard>", "<status>#<day>#<shard>", "<report state>#<shard>").
_DUE_SHARD = re.compile(r'("(?:unpaid_day|confirm_day|group_day|day_shard|status_day|report_key|track_key)": \{"S": '
                        r'"(?:[a-z_]+#)?(?:\d{4}-\d{2}-\d{2}#)?)[0-9a-f]"')
# An audit entry's sort key, "<time>#<entry id>": the id is random, new each run.
_AUDIT_ENTRY = re.compile(r"<time>#[0-9a-f]{16}")


def normalised(saved: Snapshot) -> dict[str, list[str]]:
    """Each table's items as sorted JSON lines, without timestamps, with generated ids labelled
    and sharded counters summed."""
    from chalicelib.store.analytics import AnalyticsItem

    labels = _labels(saved)
    ids = re.compile("|".join(re.escape(i) for i in sorted(labels, key=len, reverse=True))) if labels else None
    out = {}
    for table, items in saved.items():
        lines = []
        for item in _merge_shards(items) if table == AnalyticsItem.Meta.table_name else items:
            if table == AnalyticsItem.Meta.table_name and (_text(item, "pk") or "").startswith("uv#"):
                continue  # a visit's mark: best effort (a failed one is made by the next request), not exact
            text = json.dumps(item, sort_keys=True, ensure_ascii=False)
            text = _TIMESTAMP.sub("<time>", _WECHAT_TRANSACTION.sub("<wechat-transaction>", text))
            text = _BASKET_PARTITION.sub(r"\1#<partition>", text)  # a hash of the order id, new each run
            text = _DUE_SHARD.sub(r'\1<shard>"', text)
            text = _AUDIT_ENTRY.sub("<time>#<entry>", text)
            lines.append(ids.sub(lambda m: labels[m.group(0)], text) if ids else text)
        out[table] = sorted(lines)
    return out


def differences(expected: dict[str, list[str]], actual: dict[str, list[str]]) -> list[str]:
    """Human-readable lines that differ between two normalised snapshots (empty when equal)."""
    out = []
    for table in sorted(set(expected) | set(actual)):
        want, got = Counter(expected.get(table, [])), Counter(actual.get(table, []))
        out += [f"{table}: missing {line}" for line in sorted((want - got).elements())]
        out += [f"{table}: extra {line}" for line in sorted((got - want).elements())]
    return out


# Running a case under every fault ---------------------------------------------------------------

def _failed_call_errors() -> tuple[type[BaseException], ...]:
    from botocore.exceptions import BotoCoreError, ClientError
    from pynamodb.exceptions import PynamoDBException

    from chalicelib.domain.errors import DomainError

    return DomainError, PynamoDBException, BotoCoreError, ClientError


# What a request under a fault may end in: a refusal or 503 of ours, or the failed call's own error
# (a 5xx the caller retries). Anything else (an AttributeError, a KeyError...) is a bug.
FAILED_CALL = _failed_call_errors()

@dataclass
class Case:
    setup: Callable[[Any], Any]  # fault-free; returns what act and recover need
    act: Callable[[Any, Any], Any]  # the operation under fault
    recover: Callable[[Any, Any], Any]  # what the world does next: the same request again, the next job run


def rules_just_read(deps: Any) -> None:
    """Read the number of the business rules in force now, so that an act started at once makes
    no read of its own: the per-process cache reads it again only once it is
    ``rules_refresh_seconds`` old (docs/settings.md), and a read that came and went with the time
    would shift the calls of one run against another's."""
    deps.rules_cache.invalidate()
    deps.rules_in_force()
    deps.promotions.invalidate()  # the running promotions: a per-process list, read like the rules
    deps.promotions.running(deps.clock())


def interleavings(action: Callable[[], Any], calls: list[str]) -> list[Fault]:
    """Plans that run ``action`` (another caller: a duplicate request, a redelivered notification)
    right before and right after each of ``calls``."""
    return [Fault(kind, index, action) for index in range(len(calls)) for kind in ("run_before", "run_after")]


def run_with_faults(case: Case, deps: Any, faults: DynamoFaults, ignore: Iterable[Any] = (),
                    duplicate: Callable[[Any, Any], Any] | None = None,
                    ignore_items: Callable[[str, str], bool] | None = None) -> tuple[list[str], Counter[str]]:
    """Set up, save every table, run ``case.act`` fault-free counting its calls, recover, and take
    the result as the expectation; then every fault at every call of the act (with ``duplicate``:
    instead, that other caller run right before and right after each call), each from the saved
    state and followed by the recovery. Returns the calls and how each act ended (its answer if a
    string, or the exception's name); fails listing each plan whose recovered state differs from
    the expectation in any table but the models in ``ignore``, and in any item but those
    ``ignore_items(table, pk)`` names (a job's scratch work, named by a nonce of each attempt)."""
    from chalicelib.services import visits

    ignored = {model.Meta.table_name for model in ignore}

    def kept(table: str, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [i for i in items if ignore_items is None or not ignore_items(table, _text(i, "pk") or "")]

    def state() -> dict[str, list[str]]:
        saved = {t: kept(t, items) for t, items in snapshot().items()}
        return {t: items for t, items in normalised(saved).items() if t not in ignored}

    context = case.setup(deps)
    saved = snapshot()
    visits.forget_all()  # each act starts as the plans' do: the saved tables, nothing remembered of them
    rules_just_read(deps)
    faults.arm()
    case.act(deps, context)
    calls = faults.disarm()
    case.recover(deps, context)
    expected = state()
    endings: Counter[str] = Counter()
    failures = []
    chosen = plans(calls) if duplicate is None else interleavings(lambda: duplicate(deps, context), calls)
    for plan in chosen:
        restore(saved)
        rules_just_read(deps)
        faults.arm(plan)
        try:
            answer = case.act(deps, context)
            endings[answer if isinstance(answer, str) else "answered"] += 1
        except Crash:
            endings["crashed"] += 1
        except Exception as exc:  # noqa: BLE001 (the request failed, a 5xx or 503: the client or WeChat retries)
            endings[type(exc).__name__] += 1
            if not isinstance(exc, FAILED_CALL):
                failures.append(f"{plan}: the request ended in {exc!r}, not in a failed call's error")
        finally:
            faults.disarm()
        assert faults.fired, (plan, faults.calls)
        case.recover(deps, context)
        diff = differences(expected, state())
        if diff:
            failures.append(f"{plan}: {diff[:3]}")
    assert not failures, "\n".join(failures)
    return calls, endings


def conflicts_counted() -> int:
    """How many ``transaction_conflicts`` this process added to the metrics not yet flushed."""
    from chalicelib.observability import metrics
    from chalicelib.store.conflicts import METRIC

    return int(sum(metrics().metric_set.get(METRIC, {}).get("Value", [])))


def run_with_conflicts(case: Case, deps: Any, faults: DynamoFaults) -> list[str]:
    """Set up, save every table, run ``case.act`` fault-free counting its calls, and keep the
    state it leaves (and its answer, when a string or a dict) as the expectation. Then for each
    write call of the act (``WRITES``), from the saved state: the call's first send is answered
    with a conflict (kind ``conflict``). The act must answer as the fault-free one did, without
    an error and without a call more (the same write sent again, not a re-read), send that call
    twice with the same body, count one ``transaction_conflicts``, and leave the same state (no
    recovery step runs). Fails listing each call where it did not; returns the calls."""
    from chalicelib.services import visits

    context = case.setup(deps)
    saved = snapshot()
    visits.forget_all()
    rules_just_read(deps)
    faults.arm()
    answer = case.act(deps, context)
    calls = faults.disarm()
    expected = normalised(snapshot())
    failures = []
    writes = [index for index, name in enumerate(calls) if name in WRITES]
    for index in writes:
        plan = Fault("conflict", index)
        restore(saved)
        counted = conflicts_counted()
        rules_just_read(deps)
        faults.arm(plan)
        try:
            got = case.act(deps, context)
        except Exception as exc:  # noqa: BLE001 -- reported below with the call it happened at
            failures.append(f"{plan} ({calls[index]}): the request ended in {exc!r}")
            continue
        finally:
            faults.disarm()
        assert faults.fired, (plan, faults.calls)
        if faults.calls != calls:
            failures.append(f"{plan}: calls {faults.calls} instead of {calls}")
        if len(faults.sends) != 2 or faults.sends[0] != faults.sends[1]:
            failures.append(f"{plan}: {len(faults.sends)} sends of the call, the same body: "
                            f"{len(set(faults.sends)) == 1}")
        if conflicts_counted() - counted != 1:
            failures.append(f"{plan}: {conflicts_counted() - counted} conflicts counted, not 1")
        if isinstance(answer, (str, dict)) and got != answer:
            failures.append(f"{plan}: answered {got!r}, not {answer!r}")
        diff = differences(expected, normalised(snapshot()))
        if diff:
            failures.append(f"{plan}: {diff[:3]}")
    assert writes, "the act made no write to conflict with"
    assert not failures, "\n".join(failures)
    return calls

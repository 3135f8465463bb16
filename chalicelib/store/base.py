"""What every store module shares: model defaults, cursors and transaction failures."""
from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from pynamodb.connection import TableConnection
from pynamodb.exceptions import PynamoDBException, QueryError, TransactWriteError
from pynamodb.indexes import Index
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.config import get_settings
from chalicelib.domain.errors import ConcurrentUpdate, Kind, error
from chalicelib.store.conflicts import watch

# The earliest instant, aware like every time the tables hold: stands for a time an old item lacks.
NEVER = datetime.min.replace(tzinfo=UTC)

InvalidCursor = error("INVALID_CURSOR", Kind.BAD_REQUEST, "The pagination cursor is not one we issued.")


def region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or get_settings().region


class BaseMeta:
    """Every model's table settings. The time budget of each call (docs/ops.md "Time budgets"):
    PynamoDB 6 has no retry loop of its own; it hands botocore ``connect_timeout``,
    ``read_timeout`` and ``retries={"mode": "standard", "total_max_attempts": 1 + max_retry_attempts}``
    (``base_backoff_ms`` is gone since PynamoDB 6; botocore's standard mode backs off itself)."""

    billing_mode = "PAY_PER_REQUEST"
    region = region()
    connect_timeout_seconds = get_settings().budgets.dynamodb_connect_seconds
    read_timeout_seconds = get_settings().budgets.dynamodb_read_seconds
    max_retry_attempts = get_settings().budgets.dynamodb_attempts - 1


class StoreModel(Model):
    """The base of every table's model: its botocore client sends a write that met another
    transaction in flight (TransactionConflict) again after a jittered pause, and counts it
    (``store/conflicts.py``). PynamoDB makes the client lazily and may replace it, so the
    handler is checked for on each use of the connection (a set lookup)."""

    @classmethod
    def _get_connection(cls) -> TableConnection:
        connection = super()._get_connection()
        watch(connection.connection.client)
        return connection


def encode_cursor(last_key: dict[str, Any] | None) -> str | None:
    if not last_key:
        return None
    return base64.urlsafe_b64encode(json.dumps(last_key, sort_keys=True).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> dict[str, Any] | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error) as exc:
        raise InvalidCursor("the cursor is not one we issued") from exc
    if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
        raise InvalidCursor("the cursor is not one we issued")
    return value


T = TypeVar("T")


def paginate[T](source: Any, hash_key: str, cursor: str | None, convert: Callable[[Any], T],
             **kwargs: Any) -> tuple[list[T], str | None]:
    """One page of ``source.query(hash_key, ...)`` (a model or an index) starting at ``cursor``,
    and the cursor of the next page.

    A cursor is checked against the key schema it must fit (the table's keys, plus the index's):
    a cursor of another list is bad input (INVALID_CURSOR), never a request DynamoDB refuses."""
    start = decode_cursor(cursor)
    if start is not None and not _fits(start, _key_names(source)):
        raise InvalidCursor("the cursor does not belong to this list")
    page = source.query(hash_key, last_evaluated_key=start, **kwargs)
    try:
        items = [convert(item) for item in page]
    except QueryError as exc:
        if cursor and cause_code(exc) == "ValidationException":
            raise InvalidCursor("the cursor does not belong to this list") from exc
        raise
    return items, encode_cursor(page.last_evaluated_key)


def _key_names(source: Any) -> set[str]:
    """The attributes of a start key: the table's key, and an index's own key when querying one."""
    if isinstance(source, Index):
        model, own = source._model, source.Meta.attributes.values()
    else:
        model, own = source, []
    keys = list(model.get_attributes().values()) + list(own)
    return {a.attr_name for a in keys if a.is_hash_key or a.is_range_key}


def _fits(start: dict[str, Any], names: set[str]) -> bool:
    return set(start) == names and all(
        len(v) == 1 and next(iter(v)) in ("S", "N", "B") and isinstance(next(iter(v.values())), str)
        for v in start.values())


class TransactionFailed(ConcurrentUpdate):
    """A transaction was cancelled; ``reasons`` holds one code per item ('None' where fine) and,
    when the store passed its transaction, ``items`` the items in the same order."""

    def __init__(self, reasons: list[str], items: Sequence[Mapping[str, Any]] = ()) -> None:
        super().__init__("the change conflicted with another one; retry")
        self.reasons = reasons
        self.items = list(items)

    @property
    def conflict(self) -> bool:
        """Cancelled by a concurrent transaction rather than by a condition: a
        ``TransactionConflict`` the client already sent again ``conflicts.ATTEMPTS`` times, or
        another reason no condition explains (the caller runs its step again)."""
        return "ConditionalCheckFailed" not in self.reasons
    def failed_at(self, index: int) -> bool:
        return index < len(self.reasons) and self.reasons[index] == "ConditionalCheckFailed"

    def refused(self, table: str, **key: str) -> bool:
        """Whether an item of ``table`` with these (string) key attributes failed its condition:
        the store names the item it means, not its position in the transaction."""
        for reason, item in zip(self.reasons, self.items, strict=False):
            if reason != "ConditionalCheckFailed" or item.get("TableName") != table:
                continue
            values = item.get("Key") or item.get("Item") or {}
            if all(values.get(name, {}).get("S") == value for name, value in key.items()):
                return True
        return False


def sent_items(tx: TransactWrite) -> list[dict[str, Any]]:
    """A transaction's items in the order DynamoDB gives its cancellation reasons: PynamoDB sends
    the condition checks, deletes, puts and then updates, whatever order they were added in."""
    return [*tx._condition_check_items, *tx._delete_items, *tx._put_items, *tx._update_items]


def transaction_failure(exc: TransactWriteError, tx: TransactWrite | None = None) -> TransactionFailed:
    reasons = [(r.code if r is not None else "None") for r in (exc.cancellation_reasons or [])]
    return TransactionFailed(reasons or ["Unknown"], sent_items(tx) if tx is not None else ())


def cause_code(exc: PynamoDBException) -> str | None:
    """DynamoDB's error code behind a PynamoDB error; None when the call got no answer (a timeout,
    a broken connection). PynamoDB's own ``cause_response_code`` raises AttributeError then: the
    botocore error's ``response`` is None."""
    response = getattr(exc.cause, "response", None)
    code = response.get("Error", {}).get("Code") if isinstance(response, dict) else None
    return code if isinstance(code, str) else None


def condition_failed(exc: PynamoDBException) -> bool:
    return cause_code(exc) == "ConditionalCheckFailedException"


def batch_get_across(model: type[Model], request: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """One BatchGetItem over several tables (``RequestItems`` as DynamoDB takes it), through
    ``model``'s client, sending the unprocessed keys again (at most 10 times); the raw items
    found, by table."""
    found: dict[str, list[dict[str, Any]]] = {name: [] for name in request}
    if not request:
        return found
    client = model._get_connection().connection.client
    for _ in range(10):
        answer = client.batch_get_item(RequestItems=request)
        for name, items in answer.get("Responses", {}).items():
            found[name] += items
        request = answer.get("UnprocessedKeys") or {}
        if not request:
            break
    return found

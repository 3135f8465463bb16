"""TransactionConflict: the same write again, after a jittered pause, inside the client.

DynamoDB refuses a write that meets another transaction in flight on one of its items:
TransactWriteItems (and TransactGetItems) is cancelled with ``TransactionCanceledException``
whose ``CancellationReasons`` name ``TransactionConflict`` for that item (``None`` for the
others), and a plain PutItem, UpdateItem or DeleteItem fails with ``TransactionConflictException``.
Nothing was written, no condition was found false, and what was read is not known to be stale:
the write is right, only its moment was wrong. botocore's retry modes retry neither (they are not
throttling errors), and DynamoDB Local never returns them, so without this a conflict reached
the services as a lost race (re-read, re-decide) or, for a plain write, as a 500.

``watch(client)`` registers ``retry_conflict`` on botocore's ``needs-retry`` event of a DynamoDB
client: on a conflict-only answer botocore sends the very same request again after the pause
returned here (full jitter, doubling from 20 ms, at most 250 ms), up to ``ATTEMPTS`` sends in
all (at most 0.3 s of pauses; none after a send that got no answer, so a call stays within its
time budget). Every conflict is counted as the EMF metric ``transaction_conflicts``
(alarmed in infra/observability.py). A cancellation that names a failed condition (or any other
reason) next to the conflict is a decision, not retried here: the store maps it as before. When
the last send still conflicts the error goes up as before: the stores raise ``TransactionFailed``
(a ``ConcurrentUpdate``) and ``services/retry.run_until_committed`` runs the step again.

The store's models (``store.base.StoreModel``) register it on every client they use.
"""
from __future__ import annotations

import random
import weakref
from collections.abc import Mapping, Sequence
from typing import Any

CONFLICT = "TransactionConflict"  # the cancellation reason of an item another transaction holds
CANCELLED = "TransactionCanceledException"
PLAIN_CONFLICT = "TransactionConflictException"  # a single-item write meeting a transaction
ATTEMPTS = 5  # sends of one request, the first included
FIRST_PAUSE_SECONDS = 0.02
MAX_PAUSE_SECONDS = 0.25
METRIC = "transaction_conflicts"
HANDLER_ID = "fenxiao-transaction-conflict"
UNANSWERED = "fenxiao_unanswered_send"  # set in the call's request context after a send got no answer


def only_conflicts(codes: Sequence[str | None]) -> bool:
    """Whether cancellation reason codes (one per item, "None" or None where fine) name a
    conflict and nothing else."""
    named = [code for code in codes if code not in (None, "None")]
    return bool(named) and all(code == CONFLICT for code in named)


def is_conflict(parsed: Mapping[str, Any]) -> bool:
    """Whether a parsed DynamoDB error answer (botocore's shape) is a conflict and only that."""
    code = (parsed.get("Error") or {}).get("Code")
    if code == PLAIN_CONFLICT:
        return True
    if code != CANCELLED:
        return False
    return only_conflicts([reason.get("Code") for reason in parsed.get("CancellationReasons") or []])


def pause(attempt: int) -> float:
    """Seconds before send ``attempt + 1``: uniform in [0, min(250 ms, 20 ms × 2^(attempt-1))]."""
    ceiling = min(MAX_PAUSE_SECONDS, FIRST_PAUSE_SECONDS * 2 ** max(attempt - 1, 0))
    return random.uniform(0, ceiling)  # noqa: S311 -- jitter, not a secret


def count_conflict(operation: str, attempt: int, final: bool) -> None:
    from chalicelib.observability import logger, metrics

    metrics().add_metric(name=METRIC, unit="Count", value=1)
    if final:
        logger().warning("transaction conflict after every retry", extra={"operation": operation, "sends": attempt})


def retry_conflict(response: Any = None, attempts: int = 1, operation: Any = None,
                   request_dict: Mapping[str, Any] | None = None, **_: Any) -> float | None:
    """botocore ``needs-retry`` handler (called after every send): the pause before sending the
    same request again when the answer is a conflict and sends remain; None (botocore's own
    handler decides) otherwise.

    No conflict is sent again once a send of the same call got no answer (a timeout: botocore's
    own retry spent the call's time budget, docs/ops.md "Time budgets"); the conflict then goes
    up to the service's round, which has a deadline of its own. So the conflict sends (answered
    at once; at most 0.3 s of pauses) never stretch a call past its budget."""
    context = request_dict.get("context") if request_dict is not None else None
    if response is None:  # no answer (a timeout, a broken connection): botocore's retry mode decides
        if isinstance(context, dict):
            context[UNANSWERED] = True
        return None
    _, parsed = response
    if not isinstance(parsed, Mapping) or not is_conflict(parsed):
        return None
    final = attempts >= ATTEMPTS or (isinstance(context, dict) and bool(context.get(UNANSWERED)))
    count_conflict(getattr(operation, "name", "?"), attempts, final)
    return None if final else pause(attempts)


_watched: weakref.WeakSet[Any] = weakref.WeakSet()  # clients already registered on (PynamoDB may make new ones)


def watch(client: Any) -> Any:
    """Register ``retry_conflict`` on a DynamoDB client, once (cheap to call before every use)."""
    if client not in _watched:
        client.meta.events.register("needs-retry.dynamodb", retry_conflict, unique_id=HANDLER_ID)
        _watched.add(client)
    return client


def watched(client: Any) -> bool:
    return client in _watched

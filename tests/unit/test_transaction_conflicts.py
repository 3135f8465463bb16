"""How a DynamoDB conflict is told from a refusal, and that the client sends the same write again
(chalicelib/store/conflicts.py), on the answers DynamoDB sends: each body below is the bytes of
its JSON API (``__type``, ``CancellationReasons``, ``Message``), answered to a real botocore
client at ``before-send`` and parsed by botocore itself. Nothing reaches a network or a database.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import botocore.session
import pytest
from botocore.exceptions import ClientError, ReadTimeoutError
from pynamodb.exceptions import TransactWriteError, UpdateError

from chalicelib.domain.errors import ConcurrentUpdate
from chalicelib.store import conflicts
from chalicelib.store.base import StoreModel, cause_code, transaction_failure
from chalicelib.store.tables import local_models, reset_connections
from tests.faults import conflict_body, conflicts_counted, raw_answer

CANCELLED = "com.amazonaws.dynamodb.v20120810#TransactionCanceledException"
TX_ITEMS = {"TransactItems": [
    {"Update": {"TableName": "t", "Key": {"pk": {"S": "a"}}, "UpdateExpression": "SET n = :n",
                "ExpressionAttributeValues": {":n": {"N": "1"}}}},
    {"Put": {"TableName": "t", "Item": {"pk": {"S": "b"}}}},
]}


def cancelled(*codes: str) -> bytes:
    """A TransactionCanceledException as DynamoDB words it, one reason per item."""
    reasons = [{"Code": c} if c == "None" else {"Code": c, "Message": f"{c} message"} for c in codes]
    return json.dumps({"__type": CANCELLED, "CancellationReasons": reasons,
                       "Message": f"Transaction cancelled, please refer cancellation reasons for specific reasons "
                                  f"[{', '.join(codes)}]"}).encode()


def error(code: str, message: str = "refused") -> bytes:
    return json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message}).encode()


TIMEOUT = b"timeout"  # an answer that never comes: the send raises ReadTimeoutError


class Answers:
    """Answers each HTTP send of a client from a list (the last one repeats) and keeps the bodies sent."""

    def __init__(self, *bodies: bytes) -> None:
        self.bodies = list(bodies)
        self.sent: list[bytes] = []

    def __call__(self, request: Any, **_: Any) -> Any:
        self.sent.append(bytes(request.body))
        body = self.bodies[min(len(self.sent), len(self.bodies)) - 1]
        if body == TIMEOUT:
            raise ReadTimeoutError(endpoint_url="dynamodb (test)")
        return raw_answer(body, 400 if b"__type" in body else 200)


@pytest.fixture(autouse=True)
def no_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(conflicts, "pause", lambda attempt: 0.0)


def client_answering(answers: Answers, watched: bool = True) -> Any:
    client = botocore.session.get_session().create_client(
        "dynamodb", "cn-north-1", aws_access_key_id="x", aws_secret_access_key="x",
        config=botocore.config.Config(retries={"mode": "standard", "total_max_attempts": 3}))
    client.meta.events.register("before-send.dynamodb.*", answers)
    return conflicts.watch(client) if watched else client


def parsed(body: bytes, call: Callable[[Any], Any] | None = None) -> dict[str, Any]:
    """botocore's parse of ``body`` as the answer to a TransactWriteItems (or ``call``)."""
    client = client_answering(Answers(body), watched=False)
    with pytest.raises(ClientError) as caught:
        (call or (lambda c: c.transact_write_items(**TX_ITEMS)))(client)
    return caught.value.response


def update(client: Any) -> Any:
    return client.update_item(TableName="t", Key={"pk": {"S": "a"}}, UpdateExpression="SET n = :n",
                              ExpressionAttributeValues={":n": {"N": "1"}})


@pytest.mark.parametrize(("body", "conflict"), [
    (cancelled("None", "TransactionConflict"), True),
    (cancelled("TransactionConflict", "TransactionConflict"), True),
    (cancelled("TransactionConflict", "ConditionalCheckFailed"), False),  # a refusal: the store decides
    (cancelled("None", "ConditionalCheckFailed"), False),
    (cancelled("ThrottlingError", "None"), False),
    (cancelled("ValidationError", "TransactionConflict"), False),
    (error("ProvisionedThroughputExceededException"), False),
    (error("ValidationException"), False),
], ids=["conflict-on-second", "conflict-on-both", "condition-and-conflict", "condition", "throttled-item",
        "invalid-and-conflict", "throughput", "validation"])
def test_a_transaction_answer_is_a_conflict_only_when_every_named_reason_is_one(body: bytes, conflict: bool) -> None:
    answer = parsed(body)
    assert answer["Error"]["Code"] in ("TransactionCanceledException", "ProvisionedThroughputExceededException",
                                       "ValidationException")
    assert conflicts.is_conflict(answer) is conflict


def test_botocore_keeps_the_cancellation_reasons_in_the_order_of_the_items() -> None:
    answer = parsed(cancelled("None", "TransactionConflict"))
    assert answer["CancellationReasons"] == [{"Code": "None"},
                                             {"Code": "TransactionConflict", "Message": "TransactionConflict message"}]


@pytest.mark.parametrize(("body", "conflict"), [
    (error("TransactionConflictException", "Transaction is ongoing for the item"), True),
    (error("ConditionalCheckFailedException", "The conditional request failed"), False),
])
def test_a_plain_write_meeting_a_transaction_is_a_conflict(body: bytes, conflict: bool) -> None:
    assert conflicts.is_conflict(parsed(body, update)) is conflict


def test_the_client_sends_the_same_transaction_again_after_a_conflict_and_counts_it() -> None:
    answers = Answers(conflict_body("TransactWriteItems", TX_ITEMS), b"{}")
    counted = conflicts_counted()
    client_answering(answers).transact_write_items(**TX_ITEMS)
    assert len(answers.sent) == 2 and answers.sent[0] == answers.sent[1]
    assert conflicts_counted() - counted == 1


def test_the_client_sends_the_same_plain_update_again_after_a_conflict() -> None:
    answers = Answers(error("TransactionConflictException", "Transaction is ongoing for the item"), b"{}")
    update(client_answering(answers))
    assert len(answers.sent) == 2 and answers.sent[0] == answers.sent[1]


def test_a_refusal_or_a_conflict_beside_a_refusal_is_sent_once() -> None:
    for body in (cancelled("ConditionalCheckFailed", "TransactionConflict"), cancelled("None", "ConditionalCheckFailed")):
        answers = Answers(body, b"{}")
        counted = conflicts_counted()
        with pytest.raises(ClientError):
            client_answering(answers).transact_write_items(**TX_ITEMS)
        assert len(answers.sent) == 1 and conflicts_counted() == counted


def test_a_conflict_that_outlasts_every_send_goes_up_and_each_one_is_counted() -> None:
    answers = Answers(conflict_body("TransactWriteItems", TX_ITEMS))
    counted = conflicts_counted()
    with pytest.raises(ClientError) as caught:
        client_answering(answers).transact_write_items(**TX_ITEMS)
    assert caught.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert len(answers.sent) == conflicts.ATTEMPTS and len(set(answers.sent)) == 1
    assert conflicts_counted() - counted == conflicts.ATTEMPTS


def test_no_conflict_is_sent_again_after_a_send_that_got_no_answer() -> None:
    """A timed-out send spent the call's time budget (botocore retried it): the conflict that
    answers the retry goes up to the service's round instead of being sent a third time."""
    answers = Answers(TIMEOUT, conflict_body("TransactWriteItems", TX_ITEMS), b"{}")
    counted = conflicts_counted()
    with pytest.raises(ClientError) as caught:
        client_answering(answers).transact_write_items(**TX_ITEMS)
    assert caught.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert len(answers.sent) == 2 and conflicts_counted() - counted == 1


def test_without_the_handler_botocore_would_not_retry_a_conflict() -> None:
    """Why the handler exists: botocore's standard mode counts neither answer as retryable."""
    for call, body in ((lambda c: c.transact_write_items(**TX_ITEMS), conflict_body("TransactWriteItems", TX_ITEMS)),
                       (update, error("TransactionConflictException"))):
        answers = Answers(body, b"{}")
        with pytest.raises(ClientError):
            call(client_answering(answers, watched=False))
        assert len(answers.sent) == 1


@pytest.mark.parametrize("attempt", [1, 2, 3, 4, 5, 9])
def test_the_pause_is_jittered_under_a_doubling_ceiling(attempt: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.undo()  # the real pause
    ceiling = min(conflicts.MAX_PAUSE_SECONDS, conflicts.FIRST_PAUSE_SECONDS * 2 ** (attempt - 1))
    pauses = [conflicts.pause(attempt) for _ in range(200)]
    assert all(0 <= p <= ceiling for p in pauses) and len(set(pauses)) > 100


# Through the store's models (PynamoDB) ------------------------------------------------------------

@pytest.fixture
def user_model(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[StoreModel]]:
    """UserItem on a client of its own, answered by the test (fresh connections before and after)."""
    from chalicelib.store.users import UserItem

    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:9")
    reset_connections()
    yield UserItem
    reset_connections()


def answer_model(model: type[StoreModel], *bodies: bytes) -> Answers:
    answers = Answers(*bodies)
    model._get_connection().connection.client.meta.events.register("before-send.dynamodb.*", answers)
    return answers


def commit(tx: Any) -> None:
    """Send a transaction built beforehand, as leaving its ``with`` block does."""
    with tx:
        pass


def test_every_model_is_a_store_model_whose_client_retries_conflicts(user_model: Any) -> None:
    for model in local_models():
        assert issubclass(model, StoreModel), model
        assert conflicts.watched(model._get_connection().connection.client), model


def test_a_conflict_outlasting_the_retries_is_a_concurrent_update_the_service_runs_again(user_model: Any) -> None:
    from pynamodb.transactions import TransactWrite

    answers = answer_model(user_model, cancelled("None", "TransactionConflict"))
    tx = TransactWrite(connection=user_model._get_connection().connection)
    tx.update(user_model("u1", "profile"), actions=[user_model.paid_order_count.add(1)])
    tx.save(user_model("u2", "profile"), condition=user_model.pk.does_not_exist())
    with pytest.raises(TransactWriteError) as caught:
        commit(tx)
    failure = transaction_failure(caught.value, tx)
    assert len(answers.sent) == conflicts.ATTEMPTS
    assert isinstance(failure, ConcurrentUpdate) and failure.conflict
    assert failure.reasons == ["None", "TransactionConflict"]
    assert not failure.refused(user_model.Meta.table_name, pk="u2", sk="profile")


def test_a_refused_condition_next_to_a_conflict_is_named_after_one_send(user_model: Any) -> None:
    from pynamodb.transactions import TransactWrite

    answers = answer_model(user_model, cancelled("ConditionalCheckFailed", "TransactionConflict"))
    tx = TransactWrite(connection=user_model._get_connection().connection)
    tx.save(user_model("u2", "profile"), condition=user_model.pk.does_not_exist())
    tx.update(user_model("u1", "profile"), actions=[user_model.paid_order_count.add(1)])
    with pytest.raises(TransactWriteError) as caught:
        commit(tx)
    failure = transaction_failure(caught.value, tx)
    assert len(answers.sent) == 1 and not failure.conflict
    assert failure.refused(user_model.Meta.table_name, pk="u2", sk="profile")


def test_a_plain_update_conflicting_on_every_send_names_its_cause(user_model: Any) -> None:
    answers = answer_model(user_model, error("TransactionConflictException", "Transaction is ongoing for the item"))
    with pytest.raises(UpdateError) as caught:
        user_model("u1", "profile").update(actions=[user_model.paid_order_count.add(1)])
    assert cause_code(caught.value) == "TransactionConflictException"
    assert len(answers.sent) == conflicts.ATTEMPTS

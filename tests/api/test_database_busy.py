"""DynamoDB throttling, transient AWS errors and timed-out calls answer 503 TRY_AGAIN (the client
retries the same request), never a 500; other crashes stay 500."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ReadTimeoutError

from chalicelib.api.errors import database_busy
from chalicelib.store.products import ProductItem


@pytest.fixture
def product_calls(deps) -> Iterator[dict[str, Any]]:
    """Every DynamoDB call of the products table answers as ``fault["answer"]`` says."""
    fault: dict[str, Any] = {"answer": None}
    client = ProductItem._get_connection().connection.client

    def before_call(**_: Any) -> Any:
        answer = fault["answer"]
        if answer == "timeout":
            raise ReadTimeoutError(endpoint_url="dynamodb (test)")
        if answer:
            http = AWSResponse("https://dynamodb.test", 400, {}, None)
            return http, {"Error": {"Code": answer, "Message": "test"}, "ResponseMetadata": {"HTTPStatusCode": 400}}
        return None

    client.meta.events.register("before-call.dynamodb.*", before_call)
    yield fault
    client.meta.events.unregister("before-call.dynamodb.*", before_call)


@pytest.mark.parametrize("answer", ["ProvisionedThroughputExceededException", "ThrottlingException",
                                    "RequestLimitExceeded", "TransactionConflictException", "timeout"])
def test_a_busy_or_unanswered_database_is_a_503_with_retry_after(api, product_calls, answer):
    token = api.login("busy")[0]
    product_calls["answer"] = answer
    response = api.client.http.get("/v1/products", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 503 and response.headers["Retry-After"] == "1"
    status, body = api.call("GET", "/v1/products", token=token)
    assert (status, body["error"]["code"]) == (503, "TRY_AGAIN")
    product_calls["answer"] = None
    assert api.call("GET", "/v1/products", token=token)[0] == 200


def test_a_refusal_that_is_not_about_load_stays_a_500(api, product_calls):
    token = api.login("denied")[0]
    product_calls["answer"] = "AccessDeniedException"
    status, body = api.call("GET", "/v1/products", token=token)
    assert (status, body["error"]["code"]) == (500, "INTERNAL_ERROR")


def test_busy_is_judged_along_the_chain_of_causes():
    class Wrapped(Exception):
        pass

    outer = Wrapped("store failed")
    outer.__cause__ = ReadTimeoutError(endpoint_url="x")  # raise Wrapped(...) from ReadTimeoutError(...)
    assert database_busy(outer)
    assert not database_busy(ValueError("bad"))

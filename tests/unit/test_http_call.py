"""The route decorator's own rules: the caller of a call, the one Idempotency-Key parser."""
from __future__ import annotations

from typing import Any

import pytest
from chalice import Blueprint

from chalicelib.api.http import Call, endpoint, idempotency_key
from chalicelib.domain.errors import DomainError, Unauthenticated


def anonymous_call() -> Call:
    deps: Any = None
    return Call(None, {}, deps)


def test_asking_the_caller_of_a_call_nobody_authenticated_is_a_401_not_an_assertion() -> None:
    with pytest.raises(Unauthenticated):
        _ = anonymous_call().caller
    with pytest.raises(Unauthenticated):
        _ = anonymous_call().user_id


@pytest.mark.parametrize("key", ["k-1", "A_b-9", "x" * 64, "0f8fad5b-d9cb-469f-a165-70867728950e"])
def test_a_well_formed_idempotency_key_is_handed_over_as_sent(key: str) -> None:
    assert idempotency_key({"idempotency-key": key}) == key


@pytest.mark.parametrize("headers", [{}, {"idempotency-key": ""}, {"idempotency-key": "x" * 65},
                                     {"idempotency-key": "no spaces"}, {"idempotency-key": "ключ"}])
def test_a_missing_or_malformed_idempotency_key_is_refused_with_the_contract_code(headers: dict[str, str]) -> None:
    with pytest.raises(DomainError) as refused:
        idempotency_key(headers)
    assert refused.value.code == "IDEMPOTENCY_KEY_REQUIRED"
    assert refused.value.message == "send an Idempotency-Key header (letters, digits, - and _; up to 64)"


def test_a_route_is_declared_idempotent_exactly_when_it_lists_idempotency_key_required() -> None:
    bp = Blueprint("declarations")
    with pytest.raises(ValueError, match="idempotent"):
        endpoint(bp, "/x", "POST", summary="x", tag="x", idempotent=True)
    with pytest.raises(ValueError, match="idempotent"):
        endpoint(bp, "/x", "POST", summary="x", tag="x", errors=("IDEMPOTENCY_KEY_REQUIRED",))

"""Input no caller could mean, answered 4xx before anything is read or written (a 5xx is a bug):
bodies nested past the parser's depth, path ids longer than any id we issue (DynamoDB refuses
keys over 1,024/2,048 bytes with an error that is not the caller's), and the simulator routes
when the simulator cannot sign."""
from __future__ import annotations

import re
from typing import Any

import pytest
from botocore.client import BaseClient

import app  # noqa: F401  (registers every route in ROUTES)
from chalicelib.api.http import MAX_PATH_ID_CHARS, ROUTES, RouteSpec
from tests.api.test_withdrawals_api import admin, earner, shop, withdraw  # noqa: F401  (fixtures)

PARAM = re.compile(r"{(\w+)}")
WITH_IDS = [r for r in ROUTES if PARAM.search(r.path)]


@pytest.mark.parametrize("raw", ["[" * 30_000, '{"a":' * 10_000], ids=["30k-arrays", "10k-objects"])
def test_a_body_nested_past_the_parser_is_400_malformed_json(api: Any, raw: str) -> None:
    status, body = api.call("POST", "/v1/auth/login", raw=raw)
    assert status == 400
    assert body["error"]["code"] == "MALFORMED_JSON"


@pytest.mark.parametrize("depth", [500, 5_000, 20_000])
def test_a_deep_but_closed_body_is_judged_by_its_schema_or_the_parser_never_a_5xx(api: Any, depth: int) -> None:
    status, body = api.call("POST", "/v1/auth/login", raw='{"code": ' + "[" * depth + "]" * depth + "}")
    assert (status, body["error"]["code"]) in {(422, "VALIDATION_FAILED"), (400, "MALFORMED_JSON")}


@pytest.fixture
def database_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real = BaseClient._make_api_call

    def counted(self: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        calls.append(operation)
        return real(self, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", counted)
    return calls


def label(route: RouteSpec) -> str:
    return f"{route.method} {route.path}"


@pytest.mark.parametrize("route", WITH_IDS, ids=label)
@pytest.mark.parametrize("impossible", ["x" * 3_000, "订" * (MAX_PATH_ID_CHARS + 1), "o1\x00"],
                         ids=["3000-ascii", "129-hanzi", "control"])
def test_every_route_refuses_an_impossible_path_id_before_any_database_call(api: Any, route: RouteSpec,
                                                                             impossible: str,
                                                                             database_calls: list[str]) -> None:
    token = api.login("admin")[0] if route.auth in ("admin", "user") else None
    path = PARAM.sub(lambda _: impossible, route.path)
    database_calls.clear()
    status, body = api.call(route.method, path, {}, token, headers={"Idempotency-Key": "k-1"})
    assert (status, database_calls) == (404, []), body
    not_found = [code for code in route.errors if code.endswith("NOT_FOUND")]
    assert body["error"]["code"] == (not_found[0] if not_found else "NOT_FOUND")


def test_the_transfer_simulator_that_cannot_sign_answers_409_not_500(api: Any, earner: str, deps: Any) -> None:  # noqa: F811
    from chalicelib.wechat.pay_crypto import generate_rsa_key, public_key_of

    real_platform_key = {"wechat_pay_platform_public_key": public_key_of(generate_rsa_key()),
                         "wechat_pay_platform_key_id": "PUB_KEY_ID_0114" + "7" * 24}
    deps.settings = deps.settings.model_copy(update=real_platform_key)
    deps.__dict__.pop("transfers", None)  # the client is rebuilt from the new settings
    status, w = withdraw(api, earner, {"amount_fen": 1_000})
    assert status == 201, w
    status, body = api.call("POST", f"/v1/dev/transfers/{w['withdrawal_id']}", {"outcome": "success"})
    assert status == 409
    assert body["error"]["code"] == "SIMULATOR_CANNOT_SIGN"

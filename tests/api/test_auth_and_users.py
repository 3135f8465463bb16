from __future__ import annotations

import base64
import json
from datetime import timedelta

import jwt
import pytest

from chalicelib.services.sessions import Caller, issue_token


def test_login_answers_a_token_the_user_and_whether_they_are_new(api):
    status, body = api.call("POST", "/v1/auth/login", {"code": "dev:alice"})
    assert status == 200 and body["new_user"] is True and body["token"]
    assert body["user"] == {"user_id": body["user"]["user_id"], "nickname": "alice", "role": "user", "tier": "regular",
                            "parent_id": None, "invite_code": None, "real_name_verified": False, "shop": None}
    assert api.call("POST", "/v1/auth/login", {"code": "dev:alice"})[1]["new_user"] is False


def test_a_refused_login_code_is_401_wechat_login_failed(api):
    status, body = api.call("POST", "/v1/auth/login", {"code": "not-a-dev-code"})
    assert status == 401 and body["error"]["code"] == "WECHAT_LOGIN_FAILED"


def test_the_admin_openid_logs_in_as_admin(api):
    token, _ = api.login("admin")
    assert api.call("GET", "/v1/me", token=token)[1]["role"] == "admin"


def test_me_shows_the_shop_after_one_click_opening(api):
    token, user_id, code = api.distributor("alice")
    status, me = api.call("GET", "/v1/me", token=token)
    assert status == 200 and me["user_id"] == user_id and me["invite_code"] == code
    assert me["shop"]["name"] == "alice shop" and me["shop"]["opened_at"].endswith("Z")


def test_a_second_shop_is_409_and_a_blocked_name_is_422_with_hits(api):
    token, _, _ = api.distributor("alice")
    assert api.call("POST", "/v1/me/distributor", {"shop_name": "again"}, token)[1]["error"]["code"] == "ALREADY_DISTRIBUTOR"
    other, _ = api.login("bob")
    status, body = api.call("POST", "/v1/me/distributor", {"shop_name": "月入百万 躺赚"}, other)
    assert status == 422 and body["error"]["code"] == "CONTENT_BLOCKED"
    assert [h["word"] for h in body["error"]["hits"]] == ["月入百万", "躺赚"]
    assert api.call("GET", "/v1/me", token=other)[1]["invite_code"] is None


@pytest.mark.parametrize(("raw", "status", "code"), [
    ("{not json", 400, "MALFORMED_JSON"),
    ("[1, 2]", 422, "VALIDATION_FAILED"),
    ('"text"', 422, "VALIDATION_FAILED"),
    ("{}", 422, "VALIDATION_FAILED"),
    ('{"code": 42}', 422, "VALIDATION_FAILED"),
    ('{"code": null}', 422, "VALIDATION_FAILED"),
    ('{"code": "dev:a", "extra": 1}', 422, "VALIDATION_FAILED"),
    ('{"code": "' + "x" * 200 + '"}', 422, "VALIDATION_FAILED"),
    ("\xff\xfe", 400, "MALFORMED_JSON"),
])
def test_bad_login_bodies_are_4xx_with_a_stable_code(api, raw, status, code):
    got_status, body = api.call("POST", "/v1/auth/login", raw=raw)
    assert (got_status, body["error"]["code"]) == (status, code)


def test_an_oversized_body_is_413(api):
    status, body = api.call("POST", "/v1/auth/login", raw=json.dumps({"code": "x" * 70_000}))
    assert status == 413 and body["error"]["code"] == "BODY_TOO_LARGE"


def test_a_validation_error_names_the_field(api):
    token, _ = api.login("alice")
    status, body = api.call("POST", "/v1/me/distributor", {"shop_name": 5}, token)
    assert status == 422 and body["error"]["fields"][0]["field"] == "shop_name"


def _none_token(claims: dict[str, object]) -> str:
    def part(obj: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")
    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


@pytest.mark.parametrize("kind", ["missing", "garbage", "expired", "forged", "alg_none", "wrong_scheme"])
def test_routes_refuse_missing_expired_forged_and_unsigned_tokens(api, deps, clock, kind):
    _, user_id = api.login("alice")
    now = clock()
    good = issue_token(Caller(user_id, "admin"), deps.settings, now)
    headers = {}
    token = {
        "missing": None,
        "garbage": "abc.def.ghi",
        "expired": issue_token(Caller(user_id, "user"), deps.settings, now - timedelta(days=30)),
        "forged": jwt.encode({"sub": user_id, "role": "admin", "iss": "fenxiao", "iat": int(now.timestamp()),
                              "exp": int(now.timestamp()) + 600}, "another-key-another-key-another-key!", "HS256"),
        "alg_none": _none_token({"sub": user_id, "role": "admin", "iss": "fenxiao", "iat": int(now.timestamp()),
                                 "exp": int(now.timestamp()) + 600}),
        "wrong_scheme": None,
    }[kind]
    if kind == "wrong_scheme":
        headers = {"Authorization": f"Basic {good}"}
    status, body = api.call("GET", "/v1/me", token=token, headers=headers)
    assert status == 401 and body["error"]["code"] == "UNAUTHENTICATED"


def test_admin_routes_refuse_a_user_token_and_accept_an_admin(api):
    user_token, user_id = api.login("alice")
    status, body = api.call("POST", f"/v1/admin/users/{user_id}/promoter", token=user_token)
    assert status == 403 and body["error"]["code"] == "FORBIDDEN"
    admin_token, _ = api.login("admin")
    assert api.call("POST", f"/v1/admin/users/{user_id}/promoter", token=admin_token)[0] == 200
    assert api.call("POST", "/v1/admin/users/u-nobody/promoter", token=admin_token)[1]["error"]["code"] == "NOT_FOUND"


def test_an_unknown_method_is_a_4xx_in_our_error_shape(api):
    status, body = api.call("DELETE", "/v1/me")
    assert status == 405 and body["error"]["code"] == "METHOD_NOT_ALLOWED"

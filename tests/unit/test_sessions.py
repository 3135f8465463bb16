"""Our session tokens (chalicelib/services/sessions.py): HS256 only, our issuer, an expiry."""
from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from chalicelib.config import settings_from_env
from chalicelib.domain.errors import Unauthenticated
from chalicelib.services.sessions import Caller, issue_token, role_of, verify_token

SETTINGS = settings_from_env({"JWT_SECRET": "s" * 40, "ADMIN_OPENIDS": "dev:boss", "TOKEN_TTL_SECONDS": "3600"})
NOW = datetime(2026, 1, 5, tzinfo=UTC)  # before the wall clock: PyJWT checks "iat" against it


def claims(**changes: object) -> dict[str, object]:
    base = {"sub": "u1", "role": "user", "iss": "fenxiao", "iat": int(NOW.timestamp()),
            "exp": int((NOW + timedelta(hours=1)).timestamp())}
    return {**base, **changes}


def b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


@pytest.mark.parametrize("role", ["user", "admin"])
def test_an_issued_token_verifies_to_the_same_caller(role):
    token = issue_token(Caller("u1", role), SETTINGS, NOW)
    assert verify_token(token, SETTINGS, NOW + timedelta(seconds=3599)) == Caller("u1", role)


def test_the_role_comes_from_the_admin_openids():
    assert (role_of("dev:boss", SETTINGS), role_of("dev:alice", SETTINGS)) == ("admin", "user")


def test_a_token_is_refused_from_the_second_it_expires():
    token = issue_token(Caller("u1", "user"), SETTINGS, NOW)
    with pytest.raises(Unauthenticated):
        verify_token(token, SETTINGS, NOW + timedelta(seconds=3600))


@pytest.mark.parametrize("token", [
    jwt.encode(claims(), "another-key-another-key-another-key", algorithm="HS256"),
    f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims())}.",
    jwt.encode(claims(iss="someone-else"), "s" * 40, algorithm="HS256"),
    jwt.encode(claims(role="root"), "s" * 40, algorithm="HS256"),
    jwt.encode({k: v for k, v in claims().items() if k != "exp"}, "s" * 40, algorithm="HS256"),
    jwt.encode(claims(sub=42), "s" * 40, algorithm="HS256"),
    "garbage",
    "",
    "a.b.c",
], ids=["forged-with-another-key", "alg-none", "wrong-issuer", "bad-role", "no-expiry", "non-string-subject",
        "garbage", "empty", "three-garbage-parts"])
def test_a_token_we_did_not_issue_as_is_is_refused(token):
    with pytest.raises(Unauthenticated):
        verify_token(token, SETTINGS, NOW)


def test_a_token_issued_and_verified_by_an_injected_clock_ahead_of_the_wall_clock_verifies():
    later = datetime.now(UTC) + timedelta(days=30)
    assert verify_token(issue_token(Caller("u1", "user"), SETTINGS, later), SETTINGS, later) == Caller("u1", "user")


def test_a_token_issued_in_the_future_beyond_the_tolerated_skew_is_refused():
    now = datetime.now(UTC)
    with pytest.raises(Unauthenticated):
        verify_token(issue_token(Caller("u1", "user"), SETTINGS, now + timedelta(minutes=5)), SETTINGS, now)

"""Our own session tokens: HS256 JWTs with an expiry, signed with the configured key."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from chalicelib.domain.errors import Unauthenticated

if TYPE_CHECKING:
    from chalicelib.config import Settings

ISSUER = "fenxiao"
ALGORITHM = "HS256"
CLOCK_SKEW_SECONDS = 60  # tolerated difference between the clocks of two Lambda hosts


@dataclass(frozen=True)
class Caller:
    user_id: str
    role: str  # "user" or "admin"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def role_of(openid: str, settings: Settings) -> str:
    return "admin" if openid in settings.admin_openids else "user"


def issue_token(caller: Caller, settings: Settings, now: datetime) -> str:
    import jwt

    claims = {"sub": caller.user_id, "role": caller.role, "iss": ISSUER, "iat": int(now.timestamp()),
              "exp": int((now + timedelta(seconds=settings.token_ttl_seconds)).timestamp())}
    return jwt.encode(claims, settings.jwt_secret, algorithm=ALGORITHM)


def verify_token(token: str, settings: Settings, now: datetime) -> Caller:
    """The caller a token names; Unauthenticated when it is forged, expired or malformed."""
    import jwt

    try:
        claims = jwt.decode(token, settings.jwt_secret, algorithms=[ALGORITHM], issuer=ISSUER,
                            options={"require": ["exp", "iat", "sub", "iss"], "verify_exp": False, "verify_iat": False})
    except jwt.PyJWTError as exc:
        raise Unauthenticated("the session token is invalid") from exc
    # Times are judged by our injected clock, not PyJWT's wall clock.
    if not isinstance(claims.get("exp"), int) or claims["exp"] <= now.timestamp():
        raise Unauthenticated("the session token has expired; log in again")
    if not isinstance(claims.get("iat"), int) or claims["iat"] > now.timestamp() + CLOCK_SKEW_SECONDS:
        raise Unauthenticated("the session token is not valid yet")
    if claims.get("role") not in ("user", "admin") or not isinstance(claims["sub"], str):
        raise Unauthenticated("the session token is invalid")
    return Caller(claims["sub"], claims["role"])

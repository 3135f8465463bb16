"""The console's sign-in and sessions, as rules (docs/console.md "Sign-in" and "Sessions").

A browser signs in by a **login scene**: a random string the console draws as a mini-program code
(``getwxacodeunlimit``'s ``scene``: at most 32 visible characters of ``SCENE_CHARS``). It lives
2 minutes and is used once: ``waiting`` → ``confirmed`` (an admin scanned it and confirmed in the
mini-program) → ``used`` (the browser that asked for it turned it into a session). Only that
browser can: it holds the scene's secret in a cookie, and the scene keeps the secret's hash.

A **session** ends 30 minutes after its last request (idle expiry), 12 hours after it began
whatever happens, or when its admin signs out. Its last request is written at most once a minute,
so a page's burst of requests is one write, not one each.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

# getwxacodeunlimit: "最大32个可见字符，只支持数字，大小写英文以及部分特殊字符：!#$&'()*+,/:;=?@-._~"
SCENE_MAX_CHARS = 32
SCENE_CHARS = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ!#$&'()*+,/:;=?@-._~")
# A console login scene: this prefix, then 128 random bits in base64url (22 characters): 28 in all.
LOGIN_SCENE_PREFIX = "cl."
LOGIN_TTL = timedelta(minutes=2)
IDLE_TIMEOUT = timedelta(minutes=30)
SESSION_MAX_AGE = timedelta(hours=12)
TOUCH_EVERY = timedelta(minutes=1)


def valid_scene(scene: str) -> bool:
    """What WeChat accepts as a ``scene`` (it answers 40129/40169 otherwise)."""
    return 0 < len(scene) <= SCENE_MAX_CHARS and all(c in SCENE_CHARS for c in scene)


def new_login_scene() -> str:
    return LOGIN_SCENE_PREFIX + secrets.token_urlsafe(16)


def is_login_scene(scene: str) -> bool:
    return scene.startswith(LOGIN_SCENE_PREFIX) and valid_scene(scene)


def new_secret() -> str:
    """A browser's secret (session cookie, login-scene cookie, CSRF token): 256 random bits."""
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    """What the store keeps of a secret: a copy of the table signs nobody in."""
    return hashlib.sha256(secret.encode()).hexdigest()


class SceneStatus(StrEnum):
    WAITING = "waiting"
    CONFIRMED = "confirmed"
    USED = "used"


@dataclass(frozen=True)
class LoginScene:
    scene: str
    browser_hash: str  # digest of the secret of the browser that asked for it
    status: SceneStatus
    created_at: datetime
    admin_id: str | None = None  # who confirmed it

    @property
    def expires_at(self) -> datetime:
        return self.created_at + LOGIN_TTL

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at


@dataclass(frozen=True)
class Session:
    session_hash: str  # digest of the cookie's secret: the store's key
    admin_id: str
    csrf_token: str
    created_at: datetime
    last_seen: datetime

    def idle_expired(self, now: datetime) -> bool:
        return now - self.last_seen >= IDLE_TIMEOUT

    def too_old(self, now: datetime) -> bool:
        return now - self.created_at >= SESSION_MAX_AGE

    def ended(self, now: datetime) -> bool:
        return self.idle_expired(now) or self.too_old(now)

    def touch_due(self, now: datetime) -> bool:
        return now - self.last_seen >= TOUCH_EVERY

    def expires_at(self) -> datetime:
        """When it ends if no request comes: the TTL the store gives its item."""
        return min(self.last_seen + IDLE_TIMEOUT, self.created_at + SESSION_MAX_AGE)

"""The console's sign-in and sessions (docs/console.md): a login scene drawn as a mini-program
code, confirmed by an admin in the mini-program, turned into a session by the browser that
asked for it; in simulator mode a development sign-in names the admin instead.

Every function here is what a console route calls; the rules (lifetimes, one use, which browser)
are ``domain/console.py``'s, the writes ``store/console.py``'s.
"""
from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from chalicelib.domain.audit import Action, audit
from chalicelib.domain.console import (
    LoginScene,
    SceneStatus,
    Session,
    digest,
    is_login_scene,
    new_login_scene,
    new_secret,
)
from chalicelib.domain.errors import Forbidden, LoginSceneExpired, LoginSceneNotFound, LoginSceneUsed, NotFound
from chalicelib.services.sessions import Caller, role_of

if TYPE_CHECKING:
    from chalicelib.bootstrap import Deps


@dataclass(frozen=True)
class Started:
    """A sign-in begun: the scene, the secret its browser keeps in a cookie, and its code."""

    scene: str
    browser_secret: str
    expires_at: datetime


@dataclass(frozen=True)
class Opened:
    """A session begun: the cookie's secret (only the browser has it) and the session."""

    cookie: str
    session: Session


def _target(scene: str) -> str:
    """How the audit log names a scene: by a digest, never the scene itself."""
    return f"console_login#{digest(scene)[:16]}"


def start_sign_in(deps: Deps) -> Started:
    """A new login scene, waiting for 2 minutes, for the browser that will hold the secret."""
    secret, now = new_secret(), deps.clock()
    scene = LoginScene(new_login_scene(), digest(secret), SceneStatus.WAITING, now)
    deps.console.put_scene(scene)
    return Started(scene.scene, secret, scene.expires_at)


def code_image(scene: str, deps: Deps) -> str:
    """The scene's mini-program code as a ``data:`` URL (the page embeds it: no binary route)."""
    from chalicelib.wechat.wxacode import CodeRequest

    request = CodeRequest(scene, deps.settings.console_login_page, env_version=deps.settings.console_code_env,
                          check_path=deps.settings.console_code_env == "release")
    kind, image = deps.mini_program_codes.unlimited(request)
    return f"data:{kind};base64,{base64.b64encode(image).decode()}"


def confirm_sign_in(scene: str, caller: Caller, deps: Deps) -> None:
    """An admin confirms the scene they scanned (``POST /v1/console/logins/{scene}/confirm``).
    The same admin confirming again (a retry) is answered as the first time."""
    if not caller.is_admin:
        raise Forbidden("this needs an admin")
    if not is_login_scene(scene):
        raise LoginSceneNotFound("no console sign-in is waiting for this code", scene=scene[:40])
    now = deps.clock()
    entry = audit(caller.user_id, Action.CONSOLE_SIGN_IN, _target(scene), now,
                  before={"status": SceneStatus.WAITING.value}, after={"status": SceneStatus.CONFIRMED.value})
    if deps.console.confirm(scene, caller.user_id, now, entry):
        return
    found = deps.console.scene(scene)
    if found is None:
        raise LoginSceneNotFound("no console sign-in is waiting for this code")
    if found.status is SceneStatus.CONFIRMED and found.admin_id == caller.user_id:
        return
    if found.status is not SceneStatus.WAITING:
        raise LoginSceneUsed("this sign-in code was confirmed or used already; reload the console's sign-in page")
    raise LoginSceneExpired("this sign-in code is older than 2 minutes; reload the console's sign-in page")


@dataclass(frozen=True)
class Poll:
    """What the waiting page learns: ``waiting``, ``expired``, ``refused`` (not this browser's,
    or gone), or ``signed_in`` with the new session."""

    status: str
    opened: Opened | None = None


def poll_sign_in(scene: str, browser_secret: str, deps: Deps) -> Poll:
    """The waiting browser asks whether its scene was confirmed; if so it gets the session, once."""
    if not (is_login_scene(scene) and browser_secret):
        return Poll("refused")
    found, now = deps.console.scene(scene), deps.clock()
    if found is None or found.browser_hash != digest(browser_secret):
        return Poll("refused")
    if found.status is SceneStatus.WAITING:
        return Poll("expired" if found.expired(now) else "waiting")
    if found.status is SceneStatus.USED or found.admin_id is None:
        return Poll("refused")
    opened = _new_session(found.admin_id, now)
    if not deps.console.redeem(scene, found.browser_hash, opened.session):
        return Poll("refused")
    return Poll("signed_in", opened)


def dev_sign_in(name: str, deps: Deps) -> Opened:
    """Simulator mode only: sign in as the user ``dev:<name>`` logs in, if an admin (the admin
    openids of the settings, ``dev:admin`` by default)."""
    if not deps.settings.simulator:
        raise NotFound("no such page")
    identity = deps.wechat_login.exchange(f"dev:{name}")
    if role_of(identity.openid, deps.settings) != "admin":
        raise Forbidden("only an admin may sign in to the console")
    now = deps.clock()
    user, _ = deps.users.login(identity.openid, identity.nickname or name, now)
    opened = _new_session(user.user_id, now)
    deps.console.open_session(opened.session, audit(user.user_id, Action.CONSOLE_SIGN_IN, "console_login#dev", now,
                                                    after={"status": SceneStatus.USED.value}))
    return opened


def _new_session(admin_id: str, now: datetime) -> Opened:
    cookie = new_secret()
    return Opened(cookie, Session(digest(cookie), admin_id, new_secret(), now, now))


def current_session(cookie: str | None, deps: Deps) -> Session | None:
    """The live session a cookie names (its last request recorded), or None: no cookie, an
    unknown one, or a session ended by idleness, age or sign-out."""
    if not cookie:
        return None
    session = deps.console.session(digest(cookie))
    if session is None:
        return None
    now = deps.clock()
    if session.ended(now):
        deps.console.end(session.session_hash, None)
        return None
    if session.touch_due(now) and not deps.console.touch(session, now):
        return None
    return session


def sign_out(session: Session, deps: Deps) -> None:
    deps.console.end(session.session_hash, audit(session.admin_id, Action.CONSOLE_SIGN_OUT,
                                                 f"console_session#{session.session_hash[:16]}", deps.clock()))

"""The console's sign-in and sessions (services/console.py) on moto: the scene's one use and
2 minutes, the browser that asked for it, the session's idle expiry, age and sign-out."""
from __future__ import annotations

from typing import Any

import pytest

from chalicelib.domain.console import digest
from chalicelib.domain.errors import Forbidden, LoginSceneExpired, LoginSceneNotFound, LoginSceneUsed
from chalicelib.services import console
from chalicelib.services.sessions import Caller
from chalicelib.store.admin import AdminItem
from chalicelib.store.users import user_id_for

ADMIN, OTHER_ADMIN = Caller("u-admin", "admin"), Caller("u-admin-2", "admin")


def audit_actions() -> list[str]:
    return sorted(i.action for i in AdminItem.scan() if i.pk.startswith("audit#"))


def test_a_confirmed_scene_signs_in_the_browser_that_asked_for_it_once(deps: Any) -> None:
    started = console.start_sign_in(deps)
    assert console.poll_sign_in(started.scene, started.browser_secret, deps).status == "waiting"
    console.confirm_sign_in(started.scene, ADMIN, deps)
    poll = console.poll_sign_in(started.scene, started.browser_secret, deps)
    assert poll.status == "signed_in" and poll.opened is not None
    session = console.current_session(poll.opened.cookie, deps)
    assert session is not None and session.admin_id == ADMIN.user_id
    assert console.poll_sign_in(started.scene, started.browser_secret, deps).status == "refused"  # once
    assert audit_actions() == ["console.sign_in"]


def test_another_browser_holding_the_scene_but_not_its_secret_gets_nothing(deps: Any) -> None:
    started = console.start_sign_in(deps)
    console.confirm_sign_in(started.scene, ADMIN, deps)
    assert console.poll_sign_in(started.scene, "a-stolen-look-at-the-code", deps).status == "refused"
    assert console.poll_sign_in(started.scene, started.browser_secret, deps).status == "signed_in"


def test_a_scene_older_than_two_minutes_cannot_be_confirmed(deps: Any, clock: Any) -> None:
    started = console.start_sign_in(deps)
    clock.advance(seconds=120)
    with pytest.raises(LoginSceneExpired):
        console.confirm_sign_in(started.scene, ADMIN, deps)
    assert console.poll_sign_in(started.scene, started.browser_secret, deps).status == "expired"
    assert audit_actions() == []


def test_a_scene_confirmed_by_one_admin_is_refused_to_another_and_repeated_for_the_same(deps: Any) -> None:
    started = console.start_sign_in(deps)
    console.confirm_sign_in(started.scene, ADMIN, deps)
    console.confirm_sign_in(started.scene, ADMIN, deps)  # the mini-program's retry: the same answer
    with pytest.raises(LoginSceneUsed):
        console.confirm_sign_in(started.scene, OTHER_ADMIN, deps)
    assert audit_actions() == ["console.sign_in"]


def test_a_user_who_is_not_an_admin_cannot_confirm(deps: Any) -> None:
    started = console.start_sign_in(deps)
    with pytest.raises(Forbidden):
        console.confirm_sign_in(started.scene, Caller("u-user", "user"), deps)
    assert console.poll_sign_in(started.scene, started.browser_secret, deps).status == "waiting"


@pytest.mark.parametrize("scene", ["cl.never-made-xxxxxxxxxxxxx", "not-a-login-scene", "cl.%%%", "x" * 40])
def test_an_unknown_or_impossible_scene_is_not_found(deps: Any, scene: str) -> None:
    with pytest.raises(LoginSceneNotFound):
        console.confirm_sign_in(scene, ADMIN, deps)


def test_a_session_ends_after_thirty_idle_minutes_and_lives_while_used(deps: Any, clock: Any) -> None:
    opened = console.dev_sign_in("admin", deps)
    for _ in range(4):  # a request every 29 minutes keeps it alive
        clock.advance(minutes=29)
        assert console.current_session(opened.cookie, deps) is not None
    clock.advance(minutes=30)
    assert console.current_session(opened.cookie, deps) is None
    assert deps.console.session(digest(opened.cookie)) is None  # deleted, not just refused


def test_a_session_ends_twelve_hours_after_it_began_however_busy(deps: Any, clock: Any) -> None:
    opened = console.dev_sign_in("admin", deps)
    for _ in range(24):
        clock.advance(minutes=29)
        console.current_session(opened.cookie, deps)
    clock.advance(minutes=29)  # 12 h 5 min
    assert console.current_session(opened.cookie, deps) is None


def test_requests_within_a_minute_write_nothing(deps: Any, clock: Any) -> None:
    opened = console.dev_sign_in("admin", deps)
    seen = deps.console.session(digest(opened.cookie)).last_seen
    clock.advance(seconds=59)
    console.current_session(opened.cookie, deps)
    assert deps.console.session(digest(opened.cookie)).last_seen == seen
    clock.advance(seconds=1)
    console.current_session(opened.cookie, deps)
    assert deps.console.session(digest(opened.cookie)).last_seen == clock()


def test_sign_out_ends_the_session_on_the_server_with_its_audit_entry(deps: Any) -> None:
    opened = console.dev_sign_in("admin", deps)
    console.sign_out(opened.session, deps)
    assert console.current_session(opened.cookie, deps) is None
    assert audit_actions() == ["console.sign_in", "console.sign_out"]


def test_the_development_sign_in_refuses_a_user_who_is_not_an_admin_and_writes_nothing(deps: Any) -> None:
    with pytest.raises(Forbidden):
        console.dev_sign_in("mallory", deps)
    assert list(AdminItem.scan()) == []
    assert deps.users.get(user_id_for("dev:mallory")) is None


def test_the_store_keeps_only_digests_of_the_browsers_secrets(deps: Any) -> None:
    started = console.start_sign_in(deps)
    console.confirm_sign_in(started.scene, ADMIN, deps)
    opened = console.poll_sign_in(started.scene, started.browser_secret, deps).opened
    assert opened is not None
    stored = " ".join(str(i.attribute_values) for i in AdminItem.scan())
    assert started.browser_secret not in stored and opened.cookie not in stored

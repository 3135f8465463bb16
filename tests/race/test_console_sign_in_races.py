"""The console's sign-in under concurrency, on DynamoDB Local: one scene, racing confirmations by
five admins, confirms once (one audit entry); five racing polls of the confirmed scene by its
browser open exactly one session; a sign-out racing requests of the session ends it for good."""
from __future__ import annotations

from typing import Any

import pytest

from chalicelib.domain.console import digest
from chalicelib.services import console
from chalicelib.services.sessions import Caller
from chalicelib.store.admin import AdminItem
from tests.race.concurrency import race

pytestmark = pytest.mark.race


def _entries(target_prefix: str) -> list[AdminItem]:
    return [i for i in AdminItem.scan() if i.pk.startswith("audit#") and (i.target or "").startswith(target_prefix)]


def test_five_admins_racing_to_confirm_one_scene_confirm_it_once(deps: Any) -> None:
    started = console.start_sign_in(deps)
    admins = [Caller(f"u-race-admin-{n}", "admin") for n in range(5)]
    outcomes = race([lambda a=a: console.confirm_sign_in(started.scene, a, deps) for a in admins])
    assert sorted(map(str, outcomes)) == ["LOGIN_SCENE_USED"] * 4 + ["None"]
    scene = deps.console.scene(started.scene)
    winner = admins[outcomes.index(None)].user_id
    assert scene.admin_id == winner
    mine = [e for e in _entries("console_login#") if e.actor in {a.user_id for a in admins}]
    assert [e.actor for e in mine] == [winner]


def test_five_racing_polls_of_a_confirmed_scene_open_one_session(deps: Any) -> None:
    started = console.start_sign_in(deps)
    console.confirm_sign_in(started.scene, Caller("u-race-admin", "admin"), deps)
    polls = race([lambda: console.poll_sign_in(started.scene, started.browser_secret, deps) for _ in range(5)])
    opened = [p.opened for p in polls if p.opened is not None]
    assert len(opened) == 1 and sorted(p.status for p in polls) == ["refused"] * 4 + ["signed_in"]
    sessions = [i for i in AdminItem.scan() if i.pk.startswith("console#session#") and i.admin_id == "u-race-admin"]
    assert [i.pk for i in sessions] == [f"console#session#{digest(opened[0].cookie)}"]


def test_a_sign_out_racing_the_sessions_requests_ends_it_for_good(deps: Any, monkeypatch: Any) -> None:
    opened = console.dev_sign_in("admin", deps)
    later = deps.clock() + __import__("datetime").timedelta(minutes=2)  # every request is due to touch
    monkeypatch.setattr(deps, "clock", lambda: later)
    outcomes = race([lambda: console.sign_out(opened.session, deps)]
                    + [lambda: console.current_session(opened.cookie, deps) for _ in range(4)])
    assert outcomes[0] is None
    assert console.current_session(opened.cookie, deps) is None
    assert deps.console.session(digest(opened.cookie)) is None  # no touch brought it back

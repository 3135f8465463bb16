"""The operator pages of the console over HTTP (chalice's test client): every state-changing
form refuses a request without the session's CSRF token (403) and bad input (a stable code),
changing nothing; the settings' preview saves nothing and the save writes one audited version;
rollback, lexicon edits, moderation decisions and materials go through their services."""
from __future__ import annotations

from typing import Any

import pytest

from chalicelib.bootstrap import Deps
from chalicelib.services import auth, materials, moderation, settings, shops
from tests.api.console_client import ConsoleClient, text
from tests.api.test_authorization import snapshot


@pytest.fixture
def browser(client: Any) -> ConsoleClient:
    b = ConsoleClient(client)
    b.sign_in()
    return b


@pytest.fixture
def seller(deps: Deps) -> str:
    user_id = auth.login("dev:seller", deps).user.user_id
    shops.open_shop(user_id, "小店", deps)
    return user_id


def forms(seller: str) -> list[tuple[str, dict[str, str]]]:
    return [
        (f"/console/distributors/{seller}/tier", {"tier": "senior", "reason": "签约"}),
        (f"/console/distributors/{seller}/freeze", {"reason": "刷单"}),
        (f"/console/distributors/{seller}/unfreeze", {"reason": "复核"}),
        ("/console/withdrawals/w1/approve", {}),
        ("/console/withdrawals/w1/reject", {"reason": "资料不全"}),
        ("/console/moderation/r1/approve", {}),
        ("/console/lexicon/edit", {"base_version": "1", "word": "躺赚钱", "verdict": "block"}),
        ("/console/materials", {"title": "本周", "text": "文案"}),
        ("/console/settings/preview", {"expected_version": "1"}),
        ("/console/settings/save", {"expected_version": "1", "rules_json": "{}"}),
        ("/console/settings/rollback", {"version": "1"}),
    ]


@pytest.mark.parametrize("token", [None, "forged"])
def test_every_form_without_the_csrf_token_is_403_and_changes_nothing(browser: ConsoleClient, seller: str,
                                                                      token: str | None) -> None:
    before = snapshot()
    for path, fields in forms(seller):
        sent = fields if token is None else {**fields, "csrf_token": token}
        response = browser.post(path, sent)
        assert response.status_code == 403, (path, response.status_code)
    assert snapshot() == before


@pytest.mark.parametrize(("path", "fields", "status", "code"), [
    ("/console/distributors/{seller}/tier", {"tier": "emperor", "reason": "x"}, 422, "VALIDATION_FAILED"),
    ("/console/distributors/{seller}/freeze", {"reason": ""}, 422, "VALIDATION_FAILED"),
    ("/console/distributors/{seller}/unfreeze", {"reason": "x"}, 409, "NOT_FROZEN"),
    ("/console/distributors/nobody/freeze", {"reason": "x"}, 404, "DISTRIBUTOR_NOT_FOUND"),
    ("/console/withdrawals/nope/approve", {}, 404, "WITHDRAWAL_NOT_FOUND"),
    ("/console/moderation/nope/approve", {}, 404, "REVIEW_NOT_FOUND"),
    ("/console/moderation/nope/publish", {}, 404, "NOT_FOUND"),
    ("/console/lexicon/edit", {"base_version": "one", "word": "x", "verdict": "block"}, 422, "VALIDATION_FAILED"),
    ("/console/lexicon/edit", {"base_version": "1", "word": "x", "verdict": "maybe"}, 422, "VALIDATION_FAILED"),
    ("/console/materials", {"title": "", "text": "文案"}, 422, "VALIDATION_FAILED"),
    ("/console/settings/save", {"expected_version": "1", "rules_json": "{not json"}, 422, "VALIDATION_FAILED"),
    ("/console/settings/save", {"expected_version": "7", "rules_json": "{}"}, 409, "VERSION_CONFLICT"),
    ("/console/settings/save", {"expected_version": "1", "rules_json": '{"orders": {"payment_minutes": "15"}}'},
     422, "INVALID_RULES"),
    ("/console/settings/rollback", {"version": "9"}, 404, "SETTINGS_VERSION_NOT_FOUND"),
    ("/console/settings/rollback", {"version": "-1"}, 422, "VALIDATION_FAILED"),
])
def test_bad_input_is_refused_with_a_stable_code_and_changes_nothing(browser: ConsoleClient, seller: str, path: str,
                                                                     fields: dict[str, str], status: int,
                                                                     code: str) -> None:
    token = browser.csrf()
    before = snapshot()
    response = browser.post(path.format(seller=seller), {**fields, "csrf_token": token})
    assert (response.status_code, code in text(response)) == (status, True), text(response)[:600]
    assert snapshot() == before


def test_a_preview_saves_nothing_and_the_save_writes_one_version(browser: ConsoleClient, deps: Deps) -> None:
    token = browser.csrf("/console/settings")
    before = snapshot()
    preview = browser.post("/console/settings/preview", {
        "csrf_token": token, "expected_version": "1", "reason": "节日", "f.orders.auto_confirm_days": "10"})
    assert preview.status_code == 200 and "orders.auto_confirm_days" in text(preview)
    assert snapshot() == before
    saved = browser.post("/console/settings/save", {"csrf_token": token, "expected_version": "1", "reason": "节日",
                                                     "rules_json": _hidden(text(preview), "rules_json")})
    assert saved.status_code == 303 and saved.headers["Location"] == "/console/settings?saved=2"
    deps.rules_cache.invalidate()
    assert deps.rules.orders.auto_confirm_days == 10
    back = browser.post("/console/settings/rollback", {"csrf_token": token, "version": "1", "reason": "撤回"})
    assert back.status_code == 303
    deps.rules_cache.invalidate()
    assert settings.current(deps).version == 3 and deps.rules.orders.auto_confirm_days == 7


def test_a_field_that_is_not_a_number_comes_back_named(browser: ConsoleClient) -> None:
    token = browser.csrf("/console/settings")
    before = snapshot()
    answer = browser.post("/console/settings/preview", {"csrf_token": token, "expected_version": "1",
                                                        "f.orders.auto_confirm_days": "ten"})
    assert answer.status_code == 422 and 'id="f-orders-auto_confirm_days-err"' in text(answer)
    assert snapshot() == before


def test_lexicon_moderation_and_materials(browser: ConsoleClient, deps: Deps) -> None:
    admin = auth.login("dev:admin", deps).user.user_id
    held = materials.publish(admin, "新品 模拟审核", "文案", None, (), deps)
    token = browser.csrf("/console/lexicon")
    added = browser.post("/console/lexicon/edit", {"csrf_token": token, "base_version": "1", "word": "稳赚不赔",
                                                   "category": "exaggeration", "verdict": "block"})
    assert added.status_code == 303 and added.headers["Location"] == "/console/lexicon?saved=2"
    assert "稳赚不赔" in {e.word for e in moderation.get_lexicon(None, deps).entries}
    approved = browser.post(f"/console/moderation/{held.review_id}/approve", {"csrf_token": token})
    assert approved.status_code == 303 and moderation.pending_reviews(10, None, deps)[0] == []
    again = browser.post(f"/console/moderation/{held.review_id}/approve", {"csrf_token": token})
    assert again.status_code == 409 and "ALREADY_DECIDED" in text(again)
    posted = browser.post("/console/materials", {"csrf_token": token, "title": "周末", "text": "周末特惠"})
    assert posted.status_code == 303 and posted.headers["Location"] == "/console/materials?done=published"
    page = browser.get("/console/materials")
    assert "周末特惠" in text(page) and "新品 模拟审核" in text(page)


def _hidden(html: str, name: str) -> str:
    import html as entities
    import re

    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, html[:500]
    return entities.unescape(found.group(1))


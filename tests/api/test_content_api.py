"""Content endpoints through the HTTP layer: moderation check, materials, reviews, lexicon."""
from __future__ import annotations

import pytest

ADMIN = "admin"


@pytest.fixture
def admin_token(api):
    return api.login(ADMIN)[0]


# POST /v1/moderation/check


def test_check_answers_the_verdict_hits_with_positions_and_the_suggested_text(api):
    token, _ = api.login("alice")
    status, body = api.call("POST", "/v1/moderation/check", {"text": "在家躺*赚，月入百万"}, token)
    assert status == 200
    assert body["verdict"] == "block" and body["suggested_text"] == "在家分享奖励，收益因人而异"
    assert [(h["word"], h["start"], h["end"], h["category"], h["matched"]) for h in body["hits"]] == [
        ("躺赚", 2, 5, "income_promise", "躺*赚"), ("月入百万", 6, 10, "income_promise", "月入百万")]
    assert body["wechat"] == "skipped" and body["lexicon_version"] == 1


def test_check_runs_wechat_for_texts_the_lexicon_does_not_block(api):
    token, _ = api.login("alice")
    for text, verdict, wechat in [("补水面膜", "pass", "pass"), ("模拟审核", "review", "review"),
                                  ("模拟违规", "block", "risky"), ("销量第一", "review", "pass")]:
        body = api.call("POST", "/v1/moderation/check", {"text": text}, token)[1]
        assert (body["verdict"], body["wechat"]) == (verdict, wechat), text


BAD_CHECKS = [
    ({}, 422, "VALIDATION_FAILED"),
    ({"text": ""}, 422, "VALIDATION_FAILED"),
    ({"text": "   "}, 422, "VALIDATION_FAILED"),
    ({"text": 42}, 422, "VALIDATION_FAILED"),
    ({"text": ["躺赚"]}, 422, "VALIDATION_FAILED"),
    ({"text": "好", "lang": "zh"}, 422, "VALIDATION_FAILED"),
    ({"text": "好" * 5001}, 422, "TEXT_TOO_LONG"),
    ({"text": "好" * 30000}, 413, "BODY_TOO_LARGE"),
]  # missing, empty, blank, number, list, unknown field, too long, body too large


def test_check_refuses_bad_input(api):
    token, _ = api.login("alice")
    for payload, status, code in BAD_CHECKS:
        answer = api.call("POST", "/v1/moderation/check", payload, token)
        assert (answer[0], answer[1]["error"]["code"]) == (status, code), payload


def test_check_needs_a_session(api):
    assert api.call("POST", "/v1/moderation/check", {"text": "好"})[0] == 401


# Shop names


def test_a_shop_name_held_for_review_opens_the_shop_under_a_placeholder(api, admin_token):
    token, _ = api.login("bob")
    status, body = api.call("POST", "/v1/me/distributor", {"shop_name": "模拟审核小店"}, token)
    assert status == 201 and body["shop"]["name"] == f"小店{body['invite_code']}"
    review = body["name_review"]
    assert review["requested_name"] == "模拟审核小店" and review["status"] == "pending"
    status, _ = api.call("POST", f"/v1/admin/reviews/{review['review_id']}/approve", {}, admin_token)
    assert status == 200 and api.call("GET", "/v1/me", token=token)[1]["shop"]["name"] == "模拟审核小店"


def test_a_blocked_shop_name_is_422_with_the_hits(api):
    token, _ = api.login("bob")
    status, body = api.call("POST", "/v1/me/distributor", {"shop_name": "稳賺不賠小店"}, token)
    assert status == 422 and body["error"]["code"] == "CONTENT_BLOCKED"
    assert body["error"]["hits"][0]["word"] == "稳赚不赔"


# Materials


def material(**fields):
    return {"title": "面膜上新", "text": "补水面膜买二送一", "product_id": "p-1",
            "media_urls": ["https://cdn.example.com/1.jpg"], **fields}


def test_an_admin_publishes_a_material_and_a_distributor_lists_and_shares_it(api, admin_token):
    status, created = api.call("POST", "/v1/admin/materials", material(), admin_token)
    assert status == 201 and created["status"] == "published" and created["review_id"] is None
    token, _, code = api.distributor("carol")
    status, page = api.call("GET", "/v1/materials", token=token)
    assert status == 200 and [m["material_id"] for m in page["items"]] == [created["material_id"]]
    status, share = api.call("GET", f"/v1/materials/{created['material_id']}/share", token=token)
    assert status == 200 and share["invite_code"] == code and code in share["invite_link"]
    assert share["text"] == "补水面膜买二送一" and share["media_urls"] == ["https://cdn.example.com/1.jpg"]


def test_a_held_material_is_202_and_appears_once_approved_exactly_once(api, admin_token):
    status, held = api.call("POST", "/v1/admin/materials", material(text="全网最好的面膜"), admin_token)
    assert status == 202 and held["status"] == "pending_review"
    reviews = api.call("GET", "/v1/admin/reviews", token=admin_token)[1]["items"]
    assert [(r["kind"], r["ref"], r["reason"]) for r in reviews] == [("material", held["material_id"], "lexicon")]
    path = f"/v1/admin/reviews/{held['review_id']}/approve"
    assert api.call("POST", path, {}, admin_token)[0] == 200
    status, body = api.call("POST", path, {}, admin_token)
    assert status == 409 and body["error"]["code"] == "ALREADY_DECIDED"
    status, body = api.call("POST", f"/v1/admin/reviews/{held['review_id']}/reject", {"note": "late"}, admin_token)
    assert status == 409
    token, _, _ = api.distributor("carol")
    assert [m["material_id"] for m in api.call("GET", "/v1/materials", token=token)[1]["items"]] == [held["material_id"]]


BAD_MATERIALS = [
    ({"text": "躺赚攻略"}, 422, "CONTENT_BLOCKED"),
    ({"title": "躺赚攻略"}, 422, "CONTENT_BLOCKED"),
    ({"text": "好" * 2001}, 422, "TEXT_TOO_LONG"),
    ({"title": "好" * 61}, 422, "TEXT_TOO_LONG"),
    ({"text": ""}, 422, "VALIDATION_FAILED"),
    ({"title": None}, 422, "VALIDATION_FAILED"),
    ({"media_urls": "https://x"}, 422, "VALIDATION_FAILED"),
    ({"media_urls": ["http://insecure.example.com/a.jpg"]}, 422, "VALIDATION_FAILED"),
    ({"media_urls": [f"https://cdn.example.com/{i}.jpg" for i in range(10)]}, 422, "VALIDATION_FAILED"),
    ({"price": 1}, 422, "VALIDATION_FAILED"),
]


def test_bad_materials_are_refused_and_nothing_is_published(api, admin_token):
    for fields, status, code in BAD_MATERIALS:
        answer = api.call("POST", "/v1/admin/materials", material(**fields), admin_token)
        assert (answer[0], answer[1]["error"]["code"]) == (status, code), fields
        if code == "CONTENT_BLOCKED":
            assert answer[1]["error"]["hits"]
    assert api.call("GET", "/v1/materials", token=admin_token)[1]["items"] == []
    assert api.call("GET", "/v1/admin/reviews", token=admin_token)[1]["items"] == []


def test_the_library_is_for_distributors_and_sharing_needs_a_published_material(api, admin_token):
    created = api.call("POST", "/v1/admin/materials", material(), admin_token)[1]
    shopper, _ = api.login("dave")
    for path in ("/v1/materials", f"/v1/materials/{created['material_id']}/share"):
        status, body = api.call("GET", path, token=shopper)
        assert status == 403 and body["error"]["code"] == "NOT_A_DISTRIBUTOR"
    token, _, _ = api.distributor("erin")
    status, body = api.call("GET", "/v1/materials/unknown/share", token=token)
    assert status == 404 and body["error"]["code"] == "MATERIAL_NOT_FOUND"


def test_bad_library_queries_are_4xx(api):
    token, _, _ = api.distributor("carol")
    for query, code in [("week=last", "VALIDATION_FAILED"), ("week=2026-W99", "VALIDATION_FAILED"),
                        ("limit=0", "VALIDATION_FAILED"), ("limit=101", "VALIDATION_FAILED"),
                        ("next=garbage", "INVALID_CURSOR"), ("colour=red", "VALIDATION_FAILED")]:
        status, body = api.call("GET", f"/v1/materials?{query}", token=token)
        assert status in (400, 422) and body["error"]["code"] == code, query


# Admin routes


ADMIN_ROUTES = [
    ("POST", "/v1/admin/materials", material()),
    ("GET", "/v1/admin/reviews", None),
    ("POST", "/v1/admin/reviews/x/approve", {}),
    ("POST", "/v1/admin/reviews/x/reject", {}),
    ("GET", "/v1/admin/lexicon", None),
    ("PUT", "/v1/admin/lexicon", {"base_version": 1, "entries": []}),
    ("POST", "/v1/admin/lexicon/edits", {"base_version": 1}),
]


def test_admin_routes_refuse_other_users(api):
    token, _ = api.login("mallory")
    for method, path, body in ADMIN_ROUTES:
        status, answer = api.call(method, path, body, token)
        assert status == 403 and answer["error"]["code"] == "FORBIDDEN", path


def test_deciding_an_unknown_review_is_404(api, admin_token):
    status, body = api.call("POST", "/v1/admin/reviews/nope/approve", {}, admin_token)
    assert status == 404 and body["error"]["code"] == "REVIEW_NOT_FOUND"


# Lexicon


def test_lexicon_edits_make_versions_and_take_effect_without_a_deploy(api, admin_token):
    current = api.call("GET", "/v1/admin/lexicon", token=admin_token)[1]
    assert current["version"] == current["current_version"] == 1 and len(current["entries"]) > 50
    add = [{"word": "神仙水", "category": "custom", "verdict": "block", "suggestion": "爽肤水"}]
    status, saved = api.call("POST", "/v1/admin/lexicon/edits", {"base_version": 1, "add": add}, admin_token)
    assert status == 201 and saved == {"version": 2, "entries": len(current["entries"]) + 1}
    token, _ = api.login("alice")
    body = api.call("POST", "/v1/moderation/check", {"text": "神仙水"}, token)[1]
    assert (body["verdict"], body["suggested_text"], body["lexicon_version"]) == ("block", "爽肤水", 2)

    status, body = api.call("POST", "/v1/admin/lexicon/edits", {"base_version": 1, "remove": ["躺赚"]}, admin_token)
    assert status == 409 and body["error"]["code"] == "LEXICON_CHANGED"
    status, saved = api.call("PUT", "/v1/admin/lexicon", {"base_version": 2, "entries": add}, admin_token)
    assert status == 200 and saved == {"version": 3, "entries": 1}
    assert api.call("GET", "/v1/admin/lexicon?version=2", token=admin_token)[1]["version"] == 2
    assert api.call("GET", "/v1/admin/lexicon?version=9", token=admin_token)[0] == 404


BAD_LEXICONS = [
    [{"word": "", "category": "x", "verdict": "block"}],
    [{"word": "赚", "category": "x", "verdict": "block"}, {"word": "賺", "category": "x", "verdict": "review"}],
    [{"word": "词", "category": "BAD", "verdict": "block"}],
]  # empty word, duplicate after normalisation, bad category


def test_invalid_lexicons_are_422_and_save_nothing(api, admin_token):
    for entries in BAD_LEXICONS:
        status, body = api.call("PUT", "/v1/admin/lexicon", {"base_version": 1, "entries": entries}, admin_token)
        assert status == 422 and body["error"]["code"] == "INVALID_LEXICON", entries
    for body in [{"entries": []}, {"base_version": 0, "entries": []}, {"base_version": "1", "entries": []},
                 {"base_version": 1, "entries": [{"word": "x", "category": "x", "verdict": "maybe"}]}]:
        assert api.call("PUT", "/v1/admin/lexicon", body, admin_token)[1]["error"]["code"] == "VALIDATION_FAILED", body
    assert api.call("GET", "/v1/admin/lexicon", token=admin_token)[1]["current_version"] == 1

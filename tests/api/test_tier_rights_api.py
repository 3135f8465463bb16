"""Tier rights over HTTP (docs/tier-rights.md): training and event materials with a minimum
tier are listed locked below it (title and kind, the tier that unlocks them, no text or media),
open at or above it and to admins; sharing a locked one is 403 TIER_REQUIRED with nothing
written; early access opens to all at ``open_from``; the console's materials page sets them."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from chalicelib.domain.clock import iso
from chalicelib.store.admin import AdminItem
from tests.api.console_client import ConsoleClient
from tests.api.test_authorization import snapshot

COURSE = {"title": "面膜上新课", "text": "补水面膜买二送一", "kind": "training", "min_tier": "senior",
          "media_urls": ["https://cdn.example.com/course.jpg"]}


@pytest.fixture
def admin(api: Any) -> str:
    return api.login("admin")[0]


def publish(api: Any, admin: str, **fields: Any) -> dict[str, Any]:
    status, created = api.call("POST", "/v1/admin/materials", {**COURSE, **fields}, admin)
    assert status == 201, created
    return dict(created)


def listed(api: Any, token: str) -> dict[str, dict[str, Any]]:
    status, page = api.call("GET", "/v1/materials", token=token)
    assert status == 200, page
    return {m["material_id"]: m for m in page["items"]}


def make_tier(api: Any, admin: str, user_id: str, tier: str) -> None:
    status, body = api.call("POST", f"/v1/admin/users/{user_id}/tier", {"tier": tier, "reason": "签约"}, admin)
    assert status == 200, body


def test_a_regular_distributor_sees_the_course_locked_with_the_tier_that_unlocks_it(api: Any, admin: str) -> None:
    course = publish(api, admin)
    open_post = publish(api, admin, title="本周素材", kind="post", min_tier=None)
    token, _, _ = api.distributor("regular")
    items = listed(api, token)
    locked = items[course["material_id"]]
    assert (locked["locked"], locked["unlock_tier"], locked["kind"], locked["title"]) == \
        (True, "senior", "training", "面膜上新课")
    assert (locked["text"], locked["media_urls"]) == ("", [])
    assert (items[open_post["material_id"]]["locked"], items[open_post["material_id"]]["unlock_tier"]) == (False, None)


@pytest.mark.parametrize("tier", ["senior", "partner"])
def test_at_or_above_the_tier_the_course_is_open_and_shared(api: Any, admin: str, tier: str) -> None:
    course = publish(api, admin)
    token, user_id, code = api.distributor("climber")
    make_tier(api, admin, user_id, tier)
    shown = listed(api, token)[course["material_id"]]
    assert (shown["locked"], shown["text"], shown["min_tier"]) == (False, "补水面膜买二送一", "senior")
    status, shared = api.call("GET", f"/v1/materials/{course['material_id']}/share", token=token)
    assert status == 200 and shared["text"] == "补水面膜买二送一" and shared["invite_code"] == code


def test_an_admin_sees_every_material_open(api: Any, admin: str) -> None:
    course = publish(api, admin, min_tier="partner")
    assert listed(api, admin)[course["material_id"]]["locked"] is False


def test_sharing_a_locked_material_is_403_tier_required_and_changes_nothing(api: Any, admin: str) -> None:
    course = publish(api, admin, min_tier="partner")
    token, user_id, _ = api.distributor("regular")
    make_tier(api, admin, user_id, "senior")
    before = snapshot()
    status, body = api.call("GET", f"/v1/materials/{course['material_id']}/share", token=token)
    assert (status, body["error"]["code"], body["error"]["tier"]) == (403, "TIER_REQUIRED", "partner")
    assert snapshot() == before


def test_early_access_opens_the_event_to_every_tier_at_its_instant(api: Any, admin: str, clock: Any) -> None:
    opens = clock() + timedelta(days=3)
    event = publish(api, admin, kind="event", title="双十一预售", open_from=iso(opens))
    token, _, _ = api.distributor("regular")
    assert listed(api, token)[event["material_id"]]["unlock_tier"] == "senior"
    clock.advance(days=3)
    assert listed(api, token)[event["material_id"]]["locked"] is False


@pytest.mark.parametrize(("fields", "field"), [({"min_tier": "gold"}, "min_tier"), ({"kind": "video"}, "kind"),
                                               ({"open_from": "2026-11-20T09:00:00"}, "open_from"),
                                               ({"min_tier": 2}, "min_tier")])
def test_bad_rights_are_422_and_publish_nothing(api: Any, admin: str, fields: dict[str, Any], field: str) -> None:
    before = snapshot()
    status, body = api.call("POST", "/v1/admin/materials", {**COURSE, **fields}, admin)
    assert (status, body["error"]["code"]) == (422, "VALIDATION_FAILED")
    assert field in {f["field"] for f in body["error"]["fields"]}
    assert snapshot() == before


def test_the_audit_entry_records_the_rights(api: Any, admin: str) -> None:
    course = publish(api, admin)
    import json

    (entry,) = [i for i in AdminItem.scan() if i.target == f"material#{course['material_id']}"]
    after = json.loads(entry.state or "{}")["after"]
    assert (after["min_tier"], after["kind"], after["open_from"]) == ("senior", "training", None)


def test_the_console_materials_page_sets_the_minimum_tier(client: Any, deps: Any) -> None:
    from chalicelib.services import materials

    browser = ConsoleClient(client)
    browser.sign_in()
    token = browser.csrf("/console/materials")
    posted = browser.post("/console/materials", {"csrf_token": token, "title": "合伙人闭门会", "text": "议程",
                                                 "kind": "event", "min_tier": "partner", "open_from": "2026-11-20T09:00"})
    assert posted.status_code == 303, posted.body
    page = materials.week_materials("admin", True, "current", 10, None, deps)
    (made,) = page.materials
    assert made.open_from is not None and made.min_tier is not None
    assert (made.kind.value, made.min_tier.value, iso(made.open_from)) == ("event", "partner", "2026-11-20T01:00:00Z")
    assert "合伙人" in browser.get("/console/materials").body.decode()
    refused = browser.post("/console/materials", {"csrf_token": token, "title": "x", "text": "y", "min_tier": "gold"})
    assert refused.status_code == 422

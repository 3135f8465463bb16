"""The console's promotions page over HTTP (issue 19): each kind's form creates its promotion
through the API's body model and service (margin guard, audit), a refusal re-renders the form
with the server's reasons and changes nothing, end stops one."""
from __future__ import annotations

from typing import Any

import pytest

from tests.api.console_client import ConsoleClient, text
from tests.api.test_authorization import snapshot


@pytest.fixture
def console(client: Any, api: Any) -> ConsoleClient:
    admin = api.login("admin")[0]
    status, made = api.call("POST", "/v1/admin/products", {"name": "精华", "category": "beauty", "cost_fen": 5_000,
                                                            "price_fen": 15_000, "stock": 5}, admin)
    assert status == 201, made
    c = ConsoleClient(client)
    c.sign_in()
    c.product_id = made["product_id"]  # type: ignore[attr-defined]
    return c


def form(c: ConsoleClient, **fields: Any) -> dict[str, Any]:
    return {"csrf_token": c.csrf("/console/promotions"), **fields}


def test_each_kind_is_created_from_its_form_and_listed(console, deps):
    pid = console.product_id  # type: ignore[attr-defined]
    forms = [
        {"kind": "coupon", "title": "满100减10", "amount_fen": "1000", "min_spend_fen": "10000", "valid_days": "7",
         "total": "100", "per_user": "1", "starts_at": "2026-11-10T00:00", "ends_at": "2026-11-20T00:00"},
        {"kind": "new_user_coupon", "title": "新人红包", "amount_fen": "500", "min_spend_fen": "5000", "valid_days": "3",
         "experiment": "home_layout", "variant_amounts_fen": "A=500,B=800"},
        {"kind": "full_gift", "title": "满300赠", "min_spend_fen": "30000", "gift_product_id": pid, "gift_quantity": "1"},
        {"kind": "bundle", "title": "两瓶装", "items": f"{pid}*2", "price_fen": "28000"},
        {"kind": "member_day", "title": "周三会员日", "weekday": "3", "discount_bp": "500", "categories": "beauty"},
    ]
    for fields in forms:
        answer = console.post("/console/promotions", form(console, **fields))
        assert answer.status_code == 303, text(answer)[:800]
    rows = deps.promotions.page(10, None)[0]
    assert sorted(r.promotion.kind.value for r in rows) == sorted(f["kind"] for f in forms)
    coupon = next(r.promotion for r in rows if r.promotion.kind.value == "coupon")
    assert coupon.starts_at.isoformat() == "2026-11-09T16:00:00+00:00"  # Shanghai midnight
    page = text(console.get("/console/promotions?done=created"))
    assert "促销已创建" in page and "两瓶装" in page and "A ¥5.00" in page


def test_a_promotion_below_cost_is_refused_on_the_form_and_nothing_changes(console):
    before = snapshot()
    answer = console.post("/console/promotions", form(console, kind="member_day", title="半价", weekday="2",
                                                      discount_bp="5000"))
    assert answer.status_code == 422
    assert "PROMOTION_BELOW_COST" in text(answer) and "<details open>" in text(answer)
    bad = console.post("/console/promotions", form(console, kind="coupon", title="券", amount_fen="abc"))
    assert bad.status_code == 422 and "VALIDATION_FAILED" in text(bad)
    assert snapshot() == before


def test_ending_from_the_console(console, deps):
    console.post("/console/promotions", form(console, kind="member_day", title="周三", weekday="3", discount_bp="500"))
    promotion = deps.promotions.page(10, None)[0][0].promotion
    answer = console.post(f"/console/promotions/{promotion.promotion_id}/end", form(console))
    assert answer.status_code == 303
    assert deps.promotions.get(promotion.promotion_id).ended_at is not None
    assert "已结束" in text(console.get("/console/promotions?done=ended"))

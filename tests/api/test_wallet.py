"""The wallet through HTTP: settlement before and after T+3, reconciliation, real name."""
from __future__ import annotations

import pytest

from chalicelib.domain.identity import check_char
from tests.api.test_orders import order, product
from tests.api.test_orders import shop as orders_shop

shop = pytest.fixture(orders_shop.__wrapped__)  # type: ignore[attr-defined]


@pytest.fixture
def admin(api):
    return api.login("admin")[0]

KNOWN = "11010519491231002X"


def with_check(first17: str) -> str:
    return first17 + check_char(first17)


def test_settlement_before_and_after_t_plus_3_through_the_api_and_three_runs_credit_once(api, admin, shop, clock):
    pid = product(api, admin, level2_rate_bp=0)["product_id"]
    oid = order(api, shop["buyer"], [{"product_id": pid, "quantity": 1}])[1]["order_id"]
    api.call("POST", f"/v1/dev/pay/{oid}")
    api.call("POST", f"/v1/admin/orders/{oid}/ship", {"carrier": "SF", "tracking_no": "SF1234567"}, admin)
    assert api.call("POST", f"/v1/orders/{oid}/confirm", token=shop["buyer"])[1]["status"] == "completed"
    # completed on 2026-11-10 (Shanghai): available from 2026-11-13 00:00 Shanghai = 11-12T16:00Z
    status, before = api.call("POST", "/v1/dev/jobs/settle_commissions", {"now": "2026-11-12T15:59:59Z"})
    assert status == 200 and before["settled"] == 0
    wallet = api.call("GET", "/v1/me/wallet", token=shop["level1_token"])[1]
    assert (wallet["frozen_fen"], wallet["available_fen"]) == (3_000, 0)
    runs = [api.call("POST", "/v1/dev/jobs/settle_commissions", {"now": "2026-11-12T16:10:00Z"})[1] for _ in range(3)]
    assert [r["settled"] for r in runs] == [1, 0, 0] and runs[0]["settled_fen"] == 3_000
    wallet = api.call("GET", "/v1/me/wallet", token=shop["level1_token"])[1]
    assert (wallet["pending_fen"], wallet["frozen_fen"], wallet["available_fen"]) == (0, 0, 3_000)
    [entry] = api.call("GET", "/v1/me/commissions?status=available", token=shop["level1_token"])[1]["items"]
    assert entry["order_id"] == oid and entry["status"] == "available" and entry["available_at"] == \
        "2026-11-12T16:00:00Z"
    assert api.call("GET", "/v1/me/commissions?status=frozen", token=shop["level1_token"])[1]["items"] == []
    status, reconciled = api.call("POST", "/v1/dev/jobs/reconcile_wallets", {"now": "2026-11-12T16:40:00Z"})
    assert status == 200 and reconciled["differences"] == 0 and reconciled["wallets"] >= 1


def test_real_name_verification_marks_the_profile_and_stores_no_number(api):
    token, user_id = api.login("realname")
    assert api.call("GET", "/v1/me", token=token)[1]["real_name_verified"] is False
    status, body = api.call("POST", "/v1/me/real-name", {"name": "张三", "id_number": KNOWN.lower()}, token)
    assert status == 200 and body == {"real_name_verified": True, "id_number_masked": "110***********002X"}
    assert api.call("GET", "/v1/me", token=token)[1]["real_name_verified"] is True
    from chalicelib.store.users import UserItem

    raw = UserItem.get(user_id, "profile").attribute_values
    assert KNOWN not in repr(raw) and KNOWN.lower() not in repr(raw) and "19491231" not in repr(raw)
    assert len(raw["id_number_hash"]) == 64 and raw["id_number_masked"] == "110***********002X"
    again = api.call("POST", "/v1/me/real-name", {"name": "张三", "id_number": KNOWN}, token)
    assert again[0] == 200
    other = api.call("POST", "/v1/me/real-name", {"name": "张三", "id_number": with_check("31010119900307123")}, token)
    assert other[0] == 409 and other[1]["error"]["code"] == "REAL_NAME_ALREADY_VERIFIED"


def test_one_identity_one_account_a_number_verified_on_another_account_is_refused(api):
    """DOMAIN.md §9: the same ID number on two accounts would spread withdrawals past the
    per-account limits; the second account is refused and nothing of it changes."""
    first, first_id = api.login("identity-first")
    second, _ = api.login("identity-second")
    assert api.call("POST", "/v1/me/real-name", {"name": "张三", "id_number": KNOWN}, first)[0] == 200
    answer = api.call("POST", "/v1/me/real-name", {"name": "张三", "id_number": KNOWN.lower()}, second)
    assert (answer[0], answer[1]["error"]["code"]) == (409, "ID_NUMBER_IN_USE")
    assert api.call("GET", "/v1/me", token=second)[1]["real_name_verified"] is False
    # bad input is refused as before, whoever holds the number
    answer = api.call("POST", "/v1/me/real-name", {"name": "张", "id_number": KNOWN}, second)
    assert (answer[0], answer[1]["error"]["code"]) == (422, "VALIDATION_FAILED")
    # the owner verifies their own number again (a corrected name): fine, and still theirs
    assert api.call("POST", "/v1/me/real-name", {"name": "张三丰", "id_number": KNOWN}, first)[0] == 200
    from chalicelib.config import get_settings
    from chalicelib.services.identity import id_number_hash
    from chalicelib.store.users import UserStore

    assert UserStore().id_number_owner(id_number_hash(KNOWN, get_settings().id_hash_key)) == first_id
    answer = api.call("POST", "/v1/me/real-name", {"name": "张三", "id_number": KNOWN}, second)
    assert answer[0] == 409
    # the refused account may verify its own number
    assert api.call("POST", "/v1/me/real-name", {"name": "李四", "id_number": with_check("31010119900307123")},
                    second)[0] == 200
    # both refusals at once (another number of its own, and the number another's): its own state first
    answer = api.call("POST", "/v1/me/real-name", {"name": "张三", "id_number": KNOWN}, second)
    assert (answer[0], answer[1]["error"]["code"]) == (409, "REAL_NAME_ALREADY_VERIFIED")
    doc = api.call("GET", "/v1/openapi.json")[1]
    assert "ID_NUMBER_IN_USE" in doc["paths"]["/v1/me/real-name"]["post"]["x-error-codes"]


def test_invalid_id_numbers_and_names_are_refused_and_change_nothing(api):
    token, _ = api.login("refused")
    refusals = [
        ({"name": "张三", "id_number": KNOWN[:17] + "1"}, 422, "INVALID_ID_NUMBER"),  # check digit
        ({"name": "张三", "id_number": with_check("10010519491231002")}, 422, "INVALID_ID_NUMBER"),  # region
        ({"name": "张三", "id_number": with_check("11010519490230002")}, 422, "INVALID_ID_NUMBER"),  # 30 Feb
        ({"name": "张三", "id_number": with_check("11010520991231002")}, 422, "INVALID_ID_NUMBER"),  # future
        ({"name": "张三", "id_number": "1101051949123100"}, 422, "INVALID_ID_NUMBER"),  # short
        ({"name": "张", "id_number": KNOWN}, 422, "VALIDATION_FAILED"),
        ({"name": "张" * 31, "id_number": KNOWN}, 422, "VALIDATION_FAILED"),
        ({"name": "张三"}, 422, "VALIDATION_FAILED"),
        ({"name": "张三", "id_number": 110105194912310020}, 422, "VALIDATION_FAILED"),
        ({"name": "张三", "id_number": KNOWN, "extra": 1}, 422, "VALIDATION_FAILED"),
    ]
    for body, status, code in refusals:
        answer = api.call("POST", "/v1/me/real-name", body, token)
        assert (answer[0], answer[1]["error"]["code"]) == (status, code), body
    assert api.call("GET", "/v1/me", token=token)[1]["real_name_verified"] is False


@pytest.mark.parametrize("token", [None, "nonsense"])
def test_real_name_needs_a_session(api, token):
    assert api.call("POST", "/v1/me/real-name", {"name": "张三", "id_number": KNOWN}, token)[0] == 401

"""GET /v1/me/poster (docs/posters.md): the PNG, its cache (a second request composes nothing,
a change of the product makes a new poster), every refusal with nothing stored; and the
binding route taking a poster's scene."""
from __future__ import annotations

import io
from typing import Any

import pytest
import zxingcpp
from PIL import Image

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PRODUCT = {"name": "补水面膜", "category": "beauty", "cost_fen": 1_500, "price_fen": 5_000, "stock": 10}


def get_poster(client: Any, token: str | None, query: str = "", accept: str = "image/png") -> Any:
    headers = {"Accept": accept, **({"Authorization": f"Bearer {token}"} if token else {})}
    return client.http.get(f"/v1/me/poster{query}", headers=headers)


def error_code(response: Any) -> tuple[int, str]:
    import json

    return response.status_code, json.loads(response.body)["error"]["code"]


def stored_posters(deps: Any) -> list[str]:
    listed = deps.media.client.list_objects_v2(Bucket=deps.settings.media_bucket, Prefix="posters/")
    return [o["Key"] for o in listed.get("Contents", [])]


@pytest.fixture
def shop(api: Any, deps: Any) -> tuple[str, str, str]:
    deps.media.ensure_bucket()
    return api.distributor("sharer")


@pytest.fixture
def product_id(api: Any) -> str:
    status, product = api.call("POST", "/v1/admin/products", PRODUCT, api.login("admin")[0])
    assert status == 201, product
    return str(product["product_id"])


def test_a_distributor_gets_a_png_whose_code_opens_the_product_with_their_invite_code(
        client: Any, shop: tuple[str, str, str], product_id: str, deps: Any) -> None:
    token, _, invite_code = shop
    response = get_poster(client, token, f"?product_id={product_id}")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/png"
    assert response.body.startswith(PNG_SIGNATURE)
    with Image.open(io.BytesIO(response.body)) as image:
        (code,) = zxingcpp.read_barcodes(image)
    assert code.text == f"{deps.settings.poster_product_page}?scene={invite_code}.{product_id}"


def test_the_second_request_is_the_cached_poster_and_a_renamed_product_a_new_one(
        api: Any, client: Any, shop: tuple[str, str, str], product_id: str, deps: Any) -> None:
    token = shop[0]
    first = get_poster(client, token, f"?product_id={product_id}")
    second = get_poster(client, token, f"?product_id={product_id}", accept="*/*")
    assert (first.headers["X-Poster-Cache"], second.headers["X-Poster-Cache"]) == ("miss", "hit")
    assert second.body == first.body and len(deps.mini_program_codes.requests) == 1
    assert len(stored_posters(deps)) == 1
    status, _ = api.call("PATCH", f"/v1/admin/products/{product_id}", {"name": "补水面膜 新版"}, api.login("admin")[0])
    assert status == 200
    renamed = get_poster(client, token, f"?product_id={product_id}")
    assert renamed.headers["X-Poster-Cache"] == "miss" and renamed.body != first.body
    assert len(stored_posters(deps)) == 2


def test_without_a_product_it_is_the_shop_poster(client: Any, shop: tuple[str, str, str], deps: Any) -> None:
    token, _, invite_code = shop
    response = get_poster(client, token)
    with Image.open(io.BytesIO(response.body)) as image:
        (code,) = zxingcpp.read_barcodes(image)
    assert code.text == f"{deps.settings.poster_shop_page}?scene={invite_code}"


@pytest.mark.parametrize("query", ["?product_id=p-nothing-here", "?product_id=" + "p" * 40, "?product_id=p%20mask",
                                   "?product_id=%E9%9D%A2%E8%86%9C"])
def test_a_bad_product_id_is_404_and_stores_nothing(client: Any, shop: tuple[str, str, str], deps: Any,
                                                    query: str) -> None:
    assert error_code(get_poster(client, shop[0], query)) == (404, "PRODUCT_NOT_FOUND")
    assert stored_posters(deps) == [] and deps.mini_program_codes.requests == []


def test_an_unlisted_product_is_404(api: Any, client: Any, shop: tuple[str, str, str], product_id: str,
                                    deps: Any) -> None:
    api.call("PATCH", f"/v1/admin/products/{product_id}", {"listed": False}, api.login("admin")[0])
    assert error_code(get_poster(client, shop[0], f"?product_id={product_id}")) == (404, "PRODUCT_NOT_FOUND")
    assert stored_posters(deps) == []


def test_a_user_without_a_shop_is_403_and_no_token_401(api: Any, client: Any, deps: Any, product_id: str) -> None:
    deps.media.ensure_bucket()
    token, _ = api.login("buyer")
    assert error_code(get_poster(client, token, f"?product_id={product_id}")) == (403, "NOT_A_DISTRIBUTOR")
    assert error_code(get_poster(client, None)) == (401, "UNAUTHENTICATED")
    assert stored_posters(deps) == []


def test_an_unknown_query_field_is_422(client: Any, shop: tuple[str, str, str]) -> None:
    assert error_code(get_poster(client, shop[0], "?product=x")) == (422, "VALIDATION_FAILED")


def test_the_scene_a_poster_carries_binds_its_scanner_and_names_the_product(
        api: Any, shop: tuple[str, str, str], product_id: str) -> None:
    _, sharer_id, invite_code = shop
    token, _ = api.login("scanner")
    status, bound = api.call("POST", "/v1/referrals/bind", {"scene": f"{invite_code}.{product_id}"}, token)
    assert (status, bound) == (200, {"parent_id": sharer_id, "grandparent_id": None, "product_id": product_id})


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"scene": "NOT-A-CODE"}, 422, "SCENE_INVALID"),
    ({"scene": "QQQQ2222.p-mask"}, 404, "INVITE_CODE_NOT_FOUND"),
    ({}, 422, "VALIDATION_FAILED"),
    ({"scene": "QQQQ2222", "invite_code": "QQQQ2222"}, 422, "VALIDATION_FAILED"),
])
def test_a_bad_scene_is_refused_and_binds_nobody(api: Any, deps: Any, shop: tuple[str, str, str],
                                                 body: dict[str, str], status: int, code: str) -> None:
    token, user_id = api.login("scanner")
    got, answer = api.call("POST", "/v1/referrals/bind", body, token)
    assert (got, answer["error"]["code"]) == (status, code)
    assert deps.users.get(user_id).member.parent_id is None


def test_a_request_that_does_not_accept_a_png_is_400(client: Any, shop: tuple[str, str, str], deps: Any) -> None:
    assert error_code(get_poster(client, shop[0], accept="application/json")) == (400, "BAD_REQUEST")

"""The share poster on moto (services/posters.py): its mini-program code, decoded from the PNG
with zxing-cpp, carries the scene that was asked; a second request is one S3 read and composes
nothing; a change of what it shows makes a new poster; the product's picture is on it."""
from __future__ import annotations

import io
from typing import Any
from urllib.parse import unquote

import pytest
import zxingcpp
from PIL import Image

from chalicelib.domain.catalog import Product
from chalicelib.domain.posters import decode_scene
from chalicelib.services import poster_canvas, posters, shops
from chalicelib.wechat.wxacode_simulator import content
from tests.images import png, uploaded

NOW_PRODUCT = Product("p-mask", "补水面膜 Hydrating face mask", "beauty", 1_500, 5_000, 100, 2_000, 500)


@pytest.fixture
def sharer(deps: Any) -> tuple[str, str]:
    """A distributor with a shop: (user_id, invite code)."""
    user, _ = deps.users.login("openid-sharer", "小美", deps.clock())
    opened = shops.open_shop(user.user_id, "小美的店", deps)
    deps.media.ensure_bucket()
    return user.user_id, str(opened.invite_code)


def put_product(deps: Any, product: Product = NOW_PRODUCT) -> Product:
    deps.products.put_if_absent(product, deps.clock())
    return product


def scanned(poster_png: bytes) -> str:
    """What a phone reads from the poster's code: the page, then ``?scene=`` and the scene."""
    with Image.open(io.BytesIO(poster_png)) as image:
        codes = zxingcpp.read_barcodes(image)
    assert len(codes) == 1, codes
    return codes[0].text


def scene_of(text: str) -> str:
    _, _, query = text.partition("?scene=")
    return unquote(query)


def test_the_posters_code_decodes_to_the_scene_asked_and_the_product_page(deps: Any, sharer: tuple[str, str]) -> None:
    user_id, invite_code = sharer
    put_product(deps)
    made = posters.poster(user_id, "p-mask", deps)
    text = scanned(made.png)
    assert text == content(deps.settings.poster_product_page, f"{invite_code}.p-mask")
    assert decode_scene(scene_of(text)).invite_code == invite_code
    assert decode_scene(scene_of(text)).product_id == "p-mask"


def test_the_shop_posters_code_carries_the_invite_code_alone(deps: Any, sharer: tuple[str, str]) -> None:
    user_id, invite_code = sharer
    text = scanned(posters.poster(user_id, None, deps).png)
    assert text == content(deps.settings.poster_shop_page, invite_code)
    assert decode_scene(scene_of(text)).product_id is None


def test_a_second_request_reads_the_cached_poster_and_composes_nothing(deps: Any, sharer: tuple[str, str],
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    user_id, _ = sharer
    put_product(deps)
    composed: list[str] = []
    real = poster_canvas.compose
    monkeypatch.setattr(poster_canvas, "compose", lambda c, *a, **k: composed.append(c.title) or real(c, *a, **k))
    first = posters.poster(user_id, "p-mask", deps)
    codes_asked = len(deps.mini_program_codes.requests)
    second = posters.poster(user_id, "p-mask", deps)
    assert (first.cached, second.cached) == (False, True)
    assert second.png == first.png and second.key == first.key
    assert composed == [NOW_PRODUCT.name]
    assert len(deps.mini_program_codes.requests) == codes_asked == 1


def test_a_new_price_or_shop_name_makes_a_new_poster(deps: Any, sharer: tuple[str, str]) -> None:
    from dataclasses import replace

    user_id, _ = sharer
    put_product(deps)
    before = posters.poster(user_id, "p-mask", deps)
    content_now = posters.poster_content(user_id, "p-mask", deps)
    cheaper = replace(content_now, price_fen=4_000)
    assert cheaper.cache_key() != before.key
    renamed = replace(content_now, shop_name="小美的新店")
    assert renamed.cache_key() != before.key
    assert posters.poster(user_id, "p-mask", deps).cached


def test_the_products_picture_fills_the_top_of_the_poster(deps: Any, sharer: tuple[str, str]) -> None:
    from dataclasses import replace

    user_id, _ = sharer
    url = uploaded(deps, png(8, 8, (10, 160, 90)))
    put_product(deps, replace(NOW_PRODUCT, images=(url,)))
    with Image.open(io.BytesIO(posters.poster(user_id, "p-mask", deps).png)) as image:
        assert image.size == (poster_canvas.WIDTH, poster_canvas.HEIGHT)
        assert image.convert("RGB").getpixel((375, 375)) == (10, 160, 90)


def test_a_product_without_a_picture_gets_the_plain_panel(deps: Any, sharer: tuple[str, str]) -> None:
    user_id, _ = sharer
    put_product(deps)
    with Image.open(io.BytesIO(posters.poster(user_id, "p-mask", deps).png)) as image:
        assert image.convert("RGB").getpixel((375, 375)) == poster_canvas.PLACEHOLDER


def test_long_names_wrap_into_the_lines_given_with_an_ellipsis() -> None:
    face = poster_canvas.font(40)
    lines = poster_canvas.wrap("很长的商品名称" * 20, face, 300, 2)
    assert len(lines) == 2 and lines[-1].endswith("…")
    assert all(face.getlength(line) <= 300 for line in lines)
    assert poster_canvas.wrap("短", face, 300, 2) == ["短"]


def test_wechat_unable_to_draw_the_code_stores_nothing_and_the_next_request_composes(
        deps: Any, sharer: tuple[str, str]) -> None:
    from chalicelib.domain.errors import Unavailable

    user_id, _ = sharer
    put_product(deps)
    deps.mini_program_codes.fail(45009)  # WeChat's per-minute limit
    with pytest.raises(Unavailable):
        posters.poster(user_id, "p-mask", deps)
    listed = deps.media.client.list_objects_v2(Bucket=deps.settings.media_bucket, Prefix="posters/")
    assert listed.get("KeyCount", 0) == 0
    assert posters.poster(user_id, "p-mask", deps).cached is False

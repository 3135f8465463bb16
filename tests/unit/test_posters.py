"""The poster's pure rules (domain/posters.py): the scene round-trips, a scene that is no
poster's is refused, the cache key follows every shown field, the price reads as money."""
from __future__ import annotations

from dataclasses import fields, replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.console import SCENE_CHARS, valid_scene
from chalicelib.domain.invariants import InvariantBroken
from chalicelib.domain.invite_codes import ALPHABET, LENGTH
from chalicelib.domain.posters import (
    MAX_PRODUCT_ID_CHARS,
    PosterContent,
    PosterScene,
    SceneInvalid,
    decode_scene,
    encode_scene,
    fits_scene,
    lowest_price,
    price_text,
)

invite_codes = st.text(alphabet=ALPHABET, min_size=LENGTH, max_size=LENGTH)
product_ids = st.text(alphabet=sorted(SCENE_CHARS), min_size=1, max_size=MAX_PRODUCT_ID_CHARS)


@settings(max_examples=200)
@given(invite_codes, st.none() | product_ids)
def test_every_scene_decodes_to_the_invite_code_and_product_it_was_made_of(code: str, product_id: str | None) -> None:
    scene = encode_scene(code, product_id)
    assert valid_scene(scene) and len(scene) <= 32
    assert decode_scene(scene) == PosterScene(code, product_id)


def test_the_catalogues_ids_fit_a_scene() -> None:
    from chalicelib.domain.catalog import DEMO_CATALOGUE

    assert all(fits_scene(p.product_id) for p in DEMO_CATALOGUE)
    assert fits_scene("p" + "0" * 12)  # services/catalog.py: "p" + 6 random bytes in hex


def test_a_typed_lower_case_invite_code_decodes_as_the_binding_route_reads_it() -> None:
    assert decode_scene(" 7kq2mx9a.p-mask ") == PosterScene("7KQ2MX9A", "p-mask")


@pytest.mark.parametrize("scene", ["", "SHORT", "7KQ2MX9A0", "7KQ2MX9I", "7KQ2MX9A.", "7KQ2MX9A." + "p" * 24,
                                   "7KQ2MX9A.p mask", "cl.Zb3abcdefghijklmnopqrs", "7KQ2MX9A.面膜"])
def test_a_scene_that_is_no_posters_is_refused(scene: str) -> None:
    with pytest.raises(SceneInvalid) as refused:
        decode_scene(scene)
    assert refused.value.code == "SCENE_INVALID"


def test_a_product_id_beyond_the_scene_is_an_invariant_not_a_code() -> None:
    with pytest.raises(InvariantBroken):
        encode_scene("7KQ2MX9A", "p" * (MAX_PRODUCT_ID_CHARS + 1))


BASE = PosterContent("pages/product/index", "7KQ2MX9A.p-mask", "小美的店", "7KQ2MX9A", "补水面膜", 5_000, False,
                     "https://media.example.com/products/2026/" + "a" * 32 + ".png")
CHANGED = {"page": "pages/other/index", "scene": "7KQ2MX9A.p-tea", "shop_name": "小美的新店", "invite_code": "8KQ2MX9A",
           "title": "补水面膜 Pro", "price_fen": 4_990, "from_price": True, "image_url": None}


def test_the_cache_key_changes_with_every_field_a_poster_shows() -> None:
    assert {f.name for f in fields(PosterContent)} == set(CHANGED)
    keys = {replace(BASE, **{name: value}).cache_key() for name, value in CHANGED.items()}  # type: ignore[arg-type]
    assert len(keys | {BASE.cache_key()}) == len(CHANGED) + 1
    assert BASE.cache_key() == replace(BASE).cache_key()
    assert BASE.cache_key().startswith("posters/") and BASE.cache_key().endswith(".png")


@pytest.mark.parametrize(("fen", "from_price", "text"), [(5_000, False, "¥50"), (4_990, False, "¥49.90"),
                                                          (150_000, True, "¥1,500 起"), (1, False, "¥0.01")])
def test_the_price_reads_as_yuan_without_floats(fen: int, from_price: bool, text: str) -> None:
    assert price_text(fen, from_price) == text


def test_a_product_with_skus_shows_its_lowest_price_as_from() -> None:
    assert lowest_price([5_000, 3_000, 4_000]) == (3_000, True)
    assert lowest_price([5_000, 5_000]) == (5_000, False)

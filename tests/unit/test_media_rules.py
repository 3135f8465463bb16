"""The rules of product images (domain/media.py): what may be uploaded, the key and the policy
of an upload, which URLs are ours, and what an uploaded object must be."""
from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.config import settings_from_env
from chalicelib.domain import media
from tests.images import JPEG_START, WEBP_START, png

BASE = "https://img.example.cn"
TOKEN = "0123456789abcdef0123456789abcdef"
MB5 = 5 * 1024 * 1024


@pytest.mark.parametrize("content_type", ["image/jpeg", "image/png", "image/webp"])
def test_the_three_image_types_are_allowed_up_to_the_limit(content_type: str) -> None:
    media.check_request(content_type, 1, MB5)
    media.check_request(content_type, MB5, MB5)


@pytest.mark.parametrize("content_type", ["image/gif", "image/svg+xml", "text/html", "IMAGE/PNG", "image/png ", ""])
def test_another_type_is_refused_naming_the_allowed_ones(content_type: str) -> None:
    with pytest.raises(media.UnsupportedImageType) as refused:
        media.check_request(content_type, 10, MB5)
    assert refused.value.code == "UNSUPPORTED_IMAGE_TYPE"
    assert refused.value.details["allowed"] == ["image/jpeg", "image/png", "image/webp"]


def test_a_file_over_the_limit_is_refused_with_the_limit() -> None:
    with pytest.raises(media.FileTooLarge) as refused:
        media.check_request("image/png", MB5 + 1, MB5)
    assert (refused.value.code, refused.value.details) == ("FILE_TOO_LARGE", {"max_bytes": MB5})


def test_the_key_is_under_products_the_shanghai_year_and_the_types_extension() -> None:
    new_year_in_shanghai = datetime(2026, 12, 31, 16, 30, tzinfo=UTC)  # 00:30 on 1 January 2027
    assert media.object_key(new_year_in_shanghai, TOKEN, "image/png") == f"products/2027/{TOKEN}.png"
    assert media.object_key(datetime(2026, 6, 1, tzinfo=UTC), TOKEN, "image/jpeg") == f"products/2026/{TOKEN}.jpg"
    assert media.object_key(datetime(2026, 6, 1, tzinfo=UTC), TOKEN, "image/webp").endswith(".webp")
    with pytest.raises(ValueError, match="not a key of ours"):
        media.object_key(datetime(2026, 6, 1, tzinfo=UTC), "../x", "image/png")


def test_the_policy_pins_the_exact_type_and_one_byte_to_the_declared_size() -> None:
    fields, conditions = media.policy("image/webp", 12_345)
    assert fields == {"Content-Type": "image/webp", "Cache-Control": media.CACHE_CONTROL}
    assert conditions == [{"Content-Type": "image/webp"}, {"Cache-Control": media.CACHE_CONTROL},
                          ["content-length-range", 1, 12_345]]


def test_a_url_of_ours_names_its_key() -> None:
    key = f"products/2026/{TOKEN}.png"
    assert media.key_of(media.image_url(BASE, key), BASE) == key
    assert media.key_of(media.image_url(BASE + "/", key), BASE + "/") == key
    assert media.key_of(f"http://127.0.0.1:9000/fenxiao-dev-media/{key}", "http://127.0.0.1:9000/fenxiao-dev-media") == key


@pytest.mark.parametrize("url", [
    f"https://evil.example.com/products/2026/{TOKEN}.png",  # another host
    f"https://img.example.cn.evil.com/products/2026/{TOKEN}.png",  # our host as a prefix of another
    f"http://img.example.cn/products/2026/{TOKEN}.png",  # another scheme
    f"https://img.example.cn/materials/2026/{TOKEN}.png",  # not under products/
    f"https://img.example.cn/products/2026/{TOKEN}.png?x=1",  # a query
    f"https://img.example.cn/products/2026/{TOKEN}.png#f",  # a fragment
    f"https://img.example.cn/products/2026/../2026/{TOKEN}.png",  # a dot segment
    f"https://img.example.cn/products/2026/{TOKEN.upper()}.png",  # not our token's shape
    f"https://img.example.cn/products/2026/{TOKEN}.gif",  # not our extension
    f"https://img.example.cn/products/26/{TOKEN}.png",
    f"https://img.example.cn//products/2026/{TOKEN}.png",
    "", "products/2026/x.png", "javascript:alert(1)",
])
def test_a_url_not_in_exactly_our_shape_is_not_ours(url: str) -> None:
    assert media.key_of(url, BASE) is None


@given(st.text(max_size=120))
def test_whatever_a_url_is_a_key_of_ours_is_in_our_shape(url: str) -> None:
    key = media.key_of(url, BASE)
    assert key is None or (re.fullmatch(r"products/\d{4}/[0-9a-f]{32}\.(jpg|png|webp)", key) and url == f"{BASE}/{key}")


def test_the_first_bytes_name_the_type() -> None:
    assert media.sniffed_type(png()[:12]) == "image/png"
    assert media.sniffed_type(JPEG_START[:12]) == "image/jpeg"
    assert media.sniffed_type(WEBP_START[:12]) == "image/webp"
    assert media.sniffed_type(b"RIFF\x00\x00\x00\x00WAVE") is None
    assert media.sniffed_type(b"<svg xmlns=") is None
    assert media.sniffed_type(b"") is None


KEY_PNG = f"products/2026/{TOKEN}.png"


def test_an_uploaded_png_within_the_limit_is_a_product_image() -> None:
    assert media.problem(KEY_PNG, media.StoredObject("image/png", 70, png()[:12]), MB5) is None


@pytest.mark.parametrize(("stored", "reason"), [
    (media.StoredObject("text/html", 70, png()[:12]), "content type is 'text/html'"),
    (media.StoredObject("image/jpeg", 70, JPEG_START[:12]), "content type is 'image/jpeg'"),  # not the key's type
    (media.StoredObject("image/png", 0, b""), "size is 0 bytes"),
    (media.StoredObject("image/png", MB5 + 1, png()[:12]), f"size is {MB5 + 1} bytes"),
    (media.StoredObject("image/png", 70, b"<html><body>"), "bytes are not a image/png image"),
    (media.StoredObject("image/png", 70, JPEG_START[:12]), "bytes are not a image/png image"),
])
def test_an_object_not_of_its_keys_type_or_size_is_not(stored: media.StoredObject, reason: str) -> None:
    assert reason in (media.problem(KEY_PNG, stored, MB5) or "")


def test_the_upload_settings_have_their_defaults_and_bounds() -> None:
    settings = settings_from_env({})
    assert (settings.media_bucket, settings.media_base_url) == ("fenxiao-dev-media", "")
    assert (settings.upload_max_bytes, settings.upload_expires_seconds) == (MB5, 600)
    given_env = settings_from_env({"MEDIA_BUCKET": "fenxiao-prod-media", "MEDIA_BASE_URL": BASE,
                                   "UPLOAD_MAX_BYTES": "1000", "UPLOAD_EXPIRES_SECONDS": "120"})
    assert (given_env.media_bucket, given_env.media_base_url, given_env.upload_max_bytes,
            given_env.upload_expires_seconds) == ("fenxiao-prod-media", BASE, 1000, 120)
    for bad in ({"MEDIA_BUCKET": "Bad_Bucket"}, {"MEDIA_BASE_URL": "img.example.cn"},
                {"MEDIA_BASE_URL": f"{BASE}/?x"}, {"UPLOAD_MAX_BYTES": "0"}, {"UPLOAD_EXPIRES_SECONDS": "5"}):
        with pytest.raises(ValueError, match="validation error"):
            settings_from_env(bad)

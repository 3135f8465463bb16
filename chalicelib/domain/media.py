"""Product images: what the operator may upload, where it lands, and what counts as ours.

An image reaches S3 by a presigned POST (docs/uploads.md) whose policy pins the key, the exact
``Content-Type`` and a ``content-length-range`` of [1, declared size]. S3 enforces that policy;
the local stand-in (moto's server) enforces none of it, so a URL a product is given is checked
again where it is used (``services/uploads.check_images``): the URL is under our media base and
``products/``, the object exists, its type is allowed and matches the key's extension, its size
is within the limit, and its first bytes are the signature of that type. This module holds
those rules; it does no I/O.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.domain.clock import SHANGHAI
from chalicelib.domain.errors import Kind, error

UnsupportedImageType = error("UNSUPPORTED_IMAGE_TYPE", Kind.INVALID,
                             "Only JPEG, PNG and WebP images may be uploaded.")
FileTooLarge = error("FILE_TOO_LARGE", Kind.INVALID, "The file is larger than the upload limit.")
ImageNotOurs = error("IMAGE_NOT_OURS", Kind.INVALID,
                     "An image URL is not one of our uploads (POST /v1/admin/uploads gives them).")
ImageNotUploaded = error("IMAGE_NOT_UPLOADED", Kind.INVALID, "Nothing was uploaded at an image URL.")
ImageInvalid = error("IMAGE_INVALID", Kind.INVALID,
                     "An uploaded object is not an allowed image within the size limit.")

PRODUCT_IMAGE = "product_image"
AFTER_SALES_PHOTO = "after_sales_photo"  # a buyer's photo of an after-sales case (docs/after-sales.md)
PREFIX = "products/"
# Each purpose's folder: a product's images and a case's photos are told apart by their key.
PREFIXES = {PRODUCT_IMAGE: PREFIX, AFTER_SALES_PHOTO: "after-sales/"}
# content type -> the key's extension, and the first bytes every file of that type starts with
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}
SNIFF_BYTES = 12  # enough for each signature below
# A year: a key is never reused (random), so what is served under it never changes.
CACHE_CONTROL = "public, max-age=31536000, immutable"
KEY_TOKEN_HEX = 32
KEY = re.compile(r"^(products|after-sales)/(\d{4})/([0-9a-f]{32})\.(jpg|png|webp)$")


def allowed_types() -> list[str]:
    return sorted(EXTENSIONS)


def check_request(content_type: str, size_bytes: int, max_bytes: int) -> None:
    """Refuse an upload the rules do not allow, before anything is signed or written."""
    if content_type not in EXTENSIONS:
        raise UnsupportedImageType(f"{content_type!r} is not an allowed image type", allowed=allowed_types())
    if size_bytes > max_bytes:
        raise FileTooLarge(f"the file is {size_bytes} bytes, over the limit of {max_bytes}", max_bytes=max_bytes)


def object_key(at: datetime, token: str, content_type: str, purpose: str = PRODUCT_IMAGE) -> str:
    """``products/<yyyy>/<random>.<ext>`` (``after-sales/...`` for a case's photo): the Shanghai
    year, a random 128-bit hex token."""
    key = f"{PREFIXES[purpose]}{at.astimezone(SHANGHAI).year:04d}/{token}.{EXTENSIONS[content_type]}"
    if not KEY.match(key):
        raise ValueError(f"not a key of ours: {key!r}")
    return key


def policy(content_type: str, size_bytes: int) -> tuple[dict[str, str], list[Any]]:
    """The fields the uploader sends and the conditions S3 checks them (and the file) against.
    boto3 adds the bucket and the key (exact) to the conditions and signs them all."""
    fields = {"Content-Type": content_type, "Cache-Control": CACHE_CONTROL}
    conditions: list[Any] = [{"Content-Type": content_type}, {"Cache-Control": CACHE_CONTROL},
                             ["content-length-range", 1, size_bytes]]
    return fields, conditions


def image_url(base_url: str, key: str) -> str:
    return f"{base_url.rstrip('/')}/{key}"


def key_of(url: str, base_url: str, purpose: str = PRODUCT_IMAGE) -> str | None:
    """The key an image URL of ours names; None when the URL is not under our base and the
    purpose's folder (``products/``) in exactly the shape ``object_key`` makes (no query, no
    fragment, no ``..``)."""
    prefix = base_url.rstrip("/") + "/"
    if not url.startswith(prefix):
        return None
    key = url.removeprefix(prefix)
    return key if KEY.match(key) and key.startswith(PREFIXES[purpose]) else None


@dataclass(frozen=True)
class StoredObject:
    """What S3 says of an uploaded object: its type, its size, and its first bytes."""

    content_type: str
    size_bytes: int
    head: bytes


def sniffed_type(head: bytes) -> str | None:
    """The image type the first bytes are the signature of (None: none of ours)."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if len(head) >= SNIFF_BYTES and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def problem(key: str, stored: StoredObject, max_bytes: int) -> str | None:
    """Why an uploaded object may not be a product image (None: it may)."""
    expected = next(t for t, ext in EXTENSIONS.items() if key.endswith("." + ext))
    if stored.content_type != expected:
        return f"its content type is {stored.content_type!r}, not {expected!r}"
    if not 1 <= stored.size_bytes <= max_bytes:
        return f"its size is {stored.size_bytes} bytes, outside 1..{max_bytes}"
    if sniffed_type(stored.head) != expected:
        return f"its bytes are not a {expected} image"
    return None

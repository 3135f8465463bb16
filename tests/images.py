"""Small image files for the upload tests, made here (no imaging library in the locks): a real
PNG (signature, IHDR, IDAT, IEND with their CRCs) any decoder opens, and the first bytes of a
JPEG and a WebP file (what the upload check reads of them); and ``uploaded``, an image URL of
ours for the tests of what takes images (a product's)."""
from __future__ import annotations

import secrets
import struct
import zlib
from typing import Any


def png(width: int = 2, height: int = 2, rgb: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))  # filter 0, 8-bit RGB
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


JPEG_START = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
WEBP_START = b"RIFF\x24\x00\x00\x00WEBPVP8 \x18\x00\x00\x00"


def uploaded(deps: Any, data: bytes | None = None, content_type: str = "image/png") -> str:
    """The URL of an image of ours, really uploaded: stored under a key of ours as a finished
    upload leaves it (the presigned form itself is tested in tests/service/test_uploads.py), with
    no audit entry, so that tests of what uses images count only their own."""
    from chalicelib.domain.media import KEY_TOKEN_HEX, object_key

    body = png() if data is None else data
    deps.media.ensure_bucket()
    key = object_key(deps.clock(), secrets.token_hex(KEY_TOKEN_HEX // 2), content_type)
    deps.media.client.put_object(Bucket=deps.settings.media_bucket, Key=key, Body=body, ContentType=content_type)
    return str(deps.media.url_of(key))

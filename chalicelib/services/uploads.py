"""Product images: hand the operator a presigned upload, and check the image URLs a product is
given (docs/uploads.md).

Handing out an upload changes no table of ours, so its audit entry is recorded alone
(``record_alone``), before the answer: an upload nobody can account for is never handed out.
The upload is not remembered otherwise: whether it happened is asked of S3 when its URL is used.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from chalicelib.domain import media
from chalicelib.domain.audit import Action, audit

if TYPE_CHECKING:
    from chalicelib.bootstrap import Deps
    from chalicelib.media import PresignedPost

# S3 calls at once (botocore's connection pool holds 10 per client): a product has at most 9 images.
MAX_PARALLEL = 10


@dataclass(frozen=True)
class Upload:
    post: PresignedPost
    key: str
    image_url: str
    expires_at: datetime


def create_upload(actor_id: str, content_type: str, size_bytes: int, deps: Deps,
                  purpose: str = media.PRODUCT_IMAGE) -> Upload:
    """A presigned POST for one image of ``content_type`` and at most ``size_bytes`` bytes, under
    a new random key in the purpose's folder (a product image: the operator's, audited; an
    after-sales photo: a buyer's, not an admin action); refused (nothing written) when the rules
    do not allow it."""
    from chalicelib.store.audit import record_alone

    settings = deps.settings
    media.check_request(content_type, size_bytes, settings.upload_max_bytes)
    now = deps.clock()
    key = media.object_key(now, secrets.token_hex(media.KEY_TOKEN_HEX // 2), content_type, purpose)
    post = deps.media.presign_post(key, content_type, size_bytes, settings.upload_expires_seconds)
    upload = Upload(post, key, deps.media.url_of(key), post.expires_at)
    if purpose == media.PRODUCT_IMAGE:
        record_alone(audit(actor_id, Action.UPLOAD_CREATE, f"upload#{key}", now, None,
                           {"key": key, "content_type": content_type, "size_bytes": size_bytes,
                            "purpose": purpose}))
    return upload


def check_images(urls: list[str], deps: Deps, purpose: str = media.PRODUCT_IMAGE) -> list[str]:
    """The image URLs of a product (or the photos of a case: ``purpose``), each ours and really
    uploaded: under our media base and the purpose's folder, ``products/`` (IMAGE_NOT_OURS, judged
    for every URL before S3 is asked), stored (IMAGE_NOT_UPLOADED), of an allowed type matching
    its key, within the size limit and with that type's bytes (IMAGE_INVALID). The first bad URL
    refuses the whole list (``index`` and ``url`` in the error).

    One S3 call per URL, all at once: the request waits for the slowest, not the sum (nine calls
    one after the other could outlast API Gateway's 29 s at their time budgets, docs/ops.md)."""
    from concurrent.futures import ThreadPoolExecutor

    store = deps.media
    keys = []
    for index, url in enumerate(urls):
        key = media.key_of(url, store.base_url, purpose)
        if key is None:
            raise media.ImageNotOurs(f"images[{index}] is not under {store.base_url}/{media.PREFIXES[purpose]}",
                                     index=index, url=url)
        keys.append(key)
    if not keys:
        return []
    with ThreadPoolExecutor(max_workers=min(len(keys), MAX_PARALLEL)) as pool:
        stored = list(pool.map(store.peek, keys))
    for index, (url, key, found) in enumerate(zip(urls, keys, stored, strict=True)):
        if found is None:
            raise media.ImageNotUploaded(f"images[{index}]: nothing was uploaded at {url}", index=index, url=url)
        reason = media.problem(key, found, deps.settings.upload_max_bytes)
        if reason is not None:
            raise media.ImageInvalid(f"images[{index}]: {reason}", index=index, url=url)
    return list(urls)

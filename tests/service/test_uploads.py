"""Uploads on moto's S3 (in process): a presigned POST sent as a browser sends it, then the
image URL checked as a product's images are (services/uploads.py).

In process, moto enforces none of the POST policy: a file larger than the declared size, of
another content type, under another key or with a forged signature is stored (the tests below
show it; S3 refuses each). What it lets through, ``check_images`` refuses where the URL is used;
the stand-in of ``make dev`` checks the policy itself (scripts/s3_local.py)."""
from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
import requests

from chalicelib.bootstrap import Deps
from chalicelib.domain import media
from chalicelib.domain.errors import DomainError
from chalicelib.services.uploads import Upload, check_images, create_upload
from chalicelib.store.admin import AdminItem
from tests.images import JPEG_START, png


@pytest.fixture
def bucket(deps: Deps) -> Deps:
    assert deps.media.ensure_bucket() is True
    assert deps.media.ensure_bucket() is False  # idempotent
    return deps


def post(upload: Upload, data: bytes, **override: str) -> requests.Response:
    """The form a browser sends: every field as given, the file last."""
    fields = {**upload.post.fields, **override}
    return requests.post(upload.post.url, data=fields, files={"file": ("image", data)}, timeout=10)


def audit_items() -> list[AdminItem]:
    return list(AdminItem.scan())


def test_an_upload_is_a_presigned_post_for_one_new_key_audited(bucket: Deps) -> None:
    upload = create_upload("u-admin", "image/png", 70, bucket)
    year = bucket.clock().year
    assert media.KEY.match(upload.key) and upload.key.startswith(f"products/{year}/") and upload.key.endswith(".png")
    assert upload.image_url == f"{bucket.media.base_url}/{upload.key}"
    assert upload.post.fields["key"] == upload.key
    assert upload.post.fields["Content-Type"] == "image/png"
    policy = json.loads(base64.b64decode(upload.post.fields["policy"]))
    assert {"key": upload.key} in policy["conditions"] and {"bucket": "fenxiao-dev-media"} in policy["conditions"]
    assert ["content-length-range", 1, 70] in policy["conditions"]
    assert {"Content-Type": "image/png"} in policy["conditions"]
    # the answer's expiry is the signed policy's own, some ten minutes from the machine's clock
    assert upload.expires_at.isoformat().startswith(policy["expiration"][:19])
    [entry] = audit_items()
    assert (entry.actor, entry.action, entry.target) == ("u-admin", "upload.create", f"upload#{upload.key}")
    assert json.loads(entry.state)["after"] == {"key": upload.key, "content_type": "image/png", "size_bytes": 70,
                                                "purpose": "product_image"}
    assert create_upload("u-admin", "image/png", 70, bucket).key != upload.key


def test_an_uploaded_png_is_ours_and_uploaded(bucket: Deps) -> None:
    image = png(3, 2)
    upload = create_upload("u-admin", "image/png", len(image), bucket)
    assert post(upload, image).status_code == 204
    assert check_images([upload.image_url], bucket) == [upload.image_url]
    stored = bucket.media.peek(upload.key)
    assert stored == media.StoredObject("image/png", len(image), image[:media.SNIFF_BYTES])
    assert bucket.media.client.get_object(Bucket="fenxiao-dev-media", Key=upload.key)["Body"].read() == image


@pytest.mark.parametrize(("content_type", "size", "code"), [
    ("image/gif", 10, "UNSUPPORTED_IMAGE_TYPE"),
    ("text/html", 10, "UNSUPPORTED_IMAGE_TYPE"),
    ("image/png", 5 * 1024 * 1024 + 1, "FILE_TOO_LARGE"),
])
def test_a_refused_upload_signs_and_writes_nothing(bucket: Deps, content_type: str, size: int, code: str) -> None:
    with pytest.raises(DomainError) as refused:
        create_upload("u-admin", content_type, size, bucket)
    assert refused.value.code == code
    assert audit_items() == []
    assert bucket.media.client.list_objects_v2(Bucket="fenxiao-dev-media").get("KeyCount") == 0


def test_the_upload_limit_is_the_setting(bucket: Deps) -> None:
    small = Deps(settings=bucket.settings.model_copy(update={"upload_max_bytes": 100}), clock=bucket.clock)
    create_upload("u-admin", "image/png", 100, small)
    with pytest.raises(media.FileTooLarge):
        create_upload("u-admin", "image/png", 101, small)


def refusal(urls: list[str], deps: Deps) -> DomainError:
    with pytest.raises(DomainError) as refused:
        check_images(urls, deps)
    return refused.value


def test_a_url_not_ours_is_refused_without_asking_s3(bucket: Deps) -> None:
    upload = create_upload("u-admin", "image/png", 70, bucket)
    post(upload, png())
    elsewhere = upload.image_url.replace(bucket.media.base_url, "https://cdn.example.com")
    error = refusal([upload.image_url, elsewhere], bucket)
    assert (error.code, error.details) == ("IMAGE_NOT_OURS", {"index": 1, "url": elsewhere})


def test_a_url_of_ours_never_uploaded_is_refused(bucket: Deps) -> None:
    upload = create_upload("u-admin", "image/png", 70, bucket)
    error = refusal([upload.image_url], bucket)
    assert (error.code, error.details["index"]) == ("IMAGE_NOT_UPLOADED", 0)


def test_moto_stores_a_file_over_the_declared_size_and_the_check_refuses_it(bucket: Deps) -> None:
    small = Deps(settings=bucket.settings.model_copy(update={"upload_max_bytes": 100}), clock=bucket.clock)
    upload = create_upload("u-admin", "image/png", 100, small)
    big = png(60, 60, rgb=(1, 2, 3)) + b"\x00" * 101  # trailing bytes after IEND: still a PNG, 101+ bytes
    assert post(upload, big).status_code == 204  # S3 would answer 400 EntityTooLarge
    error = refusal([upload.image_url], small)
    assert error.code == "IMAGE_INVALID" and "size is" in error.message


def test_moto_stores_another_content_type_and_the_check_refuses_it(bucket: Deps) -> None:
    upload = create_upload("u-admin", "image/png", 100, bucket)
    assert post(upload, png(), **{"Content-Type": "text/html"}).status_code == 204  # S3: 403 AccessDenied
    assert bucket.media.peek(upload.key).content_type == "text/html"  # type: ignore[union-attr]
    error = refusal([upload.image_url], bucket)
    assert error.code == "IMAGE_INVALID" and "content type is 'text/html'" in error.message


def test_moto_in_process_stores_another_key_and_a_forged_signature(bucket: Deps) -> None:
    upload = create_upload("u-admin", "image/png", 100, bucket)
    elsewhere = "materials/anything.html"
    assert post(upload, png(), key=elsewhere).status_code == 204  # S3: 403 AccessDenied
    assert post(upload, png(), **{"x-amz-signature": "0" * 64}).status_code == 204  # S3: 403 SignatureDoesNotMatch
    assert bucket.media.peek(elsewhere) is not None and bucket.media.peek(upload.key) is not None
    assert refusal([f"{bucket.media.base_url}/{elsewhere}"], bucket).code == "IMAGE_NOT_OURS"


def test_bytes_that_are_not_the_declared_image_are_refused(bucket: Deps) -> None:
    upload = create_upload("u-admin", "image/png", 100, bucket)
    assert post(upload, b"<script>alert(1)</script>").status_code == 204
    error = refusal([upload.image_url], bucket)
    assert error.code == "IMAGE_INVALID" and "bytes are not a image/png image" in error.message
    jpeg = create_upload("u-admin", "image/jpeg", 100, bucket)
    post(jpeg, JPEG_START)
    assert check_images([jpeg.image_url], bucket) == [jpeg.image_url]


def test_an_empty_object_under_our_key_is_refused(bucket: Deps) -> None:
    upload = create_upload("u-admin", "image/png", 100, bucket)
    bucket.media.client.put_object(Bucket="fenxiao-dev-media", Key=upload.key, Body=b"", ContentType="image/png")
    error = refusal([upload.image_url], bucket)
    assert error.code == "IMAGE_INVALID" and "size is 0 bytes" in error.message


def test_no_images_is_a_valid_list(bucket: Deps) -> None:
    assert check_images([], bucket) == []


def test_the_served_base_is_the_setting_when_given(bucket: Deps) -> None:
    cdn = Deps(settings=bucket.settings.model_copy(update={"media_base_url": "https://img.example.cn/"}),
               clock=bucket.clock)
    upload = create_upload("u-admin", "image/png", 70, cdn)
    assert upload.image_url == f"https://img.example.cn/{upload.key}"
    bucket.media.client.put_object(Bucket="fenxiao-dev-media", Key=upload.key, Body=png(), ContentType="image/png")
    assert check_images([upload.image_url], cdn) == [upload.image_url]
    assert refusal([f"{bucket.media.base_url}/{upload.key}"], cdn).code == "IMAGE_NOT_OURS"


def test_the_answer_expires_in_the_settings_minutes(bucket: Deps) -> None:
    upload = create_upload("u-admin", "image/png", 70, bucket)
    left = upload.expires_at - datetime.now(UTC)
    assert timedelta(seconds=590) < left <= timedelta(seconds=600)


def test_the_test_helper_makes_urls_check_images_accepts(deps: Deps) -> None:
    from tests.images import uploaded

    urls = [uploaded(deps), uploaded(deps, JPEG_START, "image/jpeg")]
    assert check_images(urls, deps) == urls
    assert audit_items() == []


def test_an_upload_asks_s3_nothing_and_the_check_once_per_url(bucket: Deps) -> None:
    """Round trips: handing out an upload signs locally (its one write is the audit entry); the
    check of a product's images is one ranged GET per URL (sent at once)."""
    from tests.images import uploaded

    urls = [uploaded(bucket) for _ in range(3)]
    calls: list[str] = []
    bucket.media.client.meta.events.register("before-call.s3", lambda model, **_: calls.append(model.name))
    create_upload("u-admin", "image/png", 70, bucket)
    assert calls == []
    check_images(urls, bucket)
    assert calls == ["GetObject"] * 3
    with pytest.raises(DomainError, match="images\\[1\\] is not under"):
        check_images([urls[0], "https://cdn.example.com/products/x.png"], bucket)
    assert calls == ["GetObject"] * 3  # a URL not ours refuses the list before S3 is asked

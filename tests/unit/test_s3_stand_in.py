"""The S3 stand-in's POST policy check (scripts/s3_local.py): it refuses what S3 refuses, with
S3's status and code, on forms boto3 really signs."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from chalicelib.domain.media import policy
from scripts.s3_local import Refusal, check_form

SECRET = "local-secret"
BUCKET = "fenxiao-dev-media"
KEY = "products/2026/0123456789abcdef0123456789abcdef.png"


def signed(size: int = 100, content_type: str = "image/png", expires: int = 600, secret: str = SECRET,
           conditions: list[Any] | None = None) -> dict[str, str]:
    client = boto3.client("s3", region_name="cn-north-1", aws_access_key_id="local", aws_secret_access_key=secret,
                          endpoint_url="http://127.0.0.1:1")
    fields, default = policy(content_type, size)
    form = client.generate_presigned_post(BUCKET, KEY, Fields=fields, Conditions=conditions or default,
                                          ExpiresIn=expires)
    return dict(form["fields"])


def refusal(fields: dict[str, str], size: int = 50, bucket: str = BUCKET, now: datetime | None = None) -> Refusal:
    with pytest.raises(Refusal) as refused:
        check_form(bucket, fields, size, SECRET, now or datetime.now(UTC))
    return refused.value


def test_the_form_boto3_signs_passes_from_one_byte_to_the_declared_size() -> None:
    for size in (1, 100):
        check_form(BUCKET, signed(100), size, SECRET, datetime.now(UTC))


def test_a_file_outside_the_range_is_too_large_or_too_small() -> None:
    assert (refusal(signed(100), size=101).status, refusal(signed(100), size=101).code) == (400, "EntityTooLarge")
    assert (refusal(signed(100), size=0).status, refusal(signed(100), size=0).code) == (400, "EntityTooSmall")


@pytest.mark.parametrize(("field", "value"), [("Content-Type", "text/html"), ("key", "products/2026/other.png"),
                                              ("Cache-Control", "no-store")])
def test_a_field_changed_from_its_condition_is_access_denied(field: str, value: str) -> None:
    fields = {**signed(), field: value}
    refused = refusal(fields)
    assert (refused.status, refused.code) == (403, "AccessDenied")
    assert "Policy Condition failed" in refused.message and field.lower() in refused.message


def test_another_bucket_is_access_denied() -> None:
    assert refusal(signed(), bucket="someone-elses").code == "AccessDenied"


def test_a_field_no_condition_covers_is_refused_unless_x_ignore() -> None:
    refused = refusal({**signed(), "acl": "public-read"})
    assert refused.code == "AccessDenied" and "Extra input fields: acl" in refused.message
    check_form(BUCKET, {**signed(), "x-ignore-note": "ok"}, 10, SECRET, datetime.now(UTC))


def test_a_forged_or_missing_signature_or_policy_is_refused() -> None:
    assert refusal({**signed(), "x-amz-signature": "0" * 64}).code == "SignatureDoesNotMatch"
    assert refusal(signed(secret="another-secret")).code == "SignatureDoesNotMatch"
    without_policy = {k: v for k, v in signed().items() if k != "policy"}
    assert (refusal(without_policy).status, refusal(without_policy).code) == (403, "AccessDenied")
    other = signed(200)  # a valid policy of another form, with this form's signature
    assert refusal({**signed(), "policy": other["policy"]}).code == "SignatureDoesNotMatch"


def test_an_expired_policy_is_refused() -> None:
    refused = refusal(signed(expires=60), now=datetime.now(UTC) + timedelta(seconds=61))
    assert (refused.status, refused.code, refused.message) == (403, "AccessDenied",
                                                               "Invalid according to Policy: Policy expired.")


def test_a_starts_with_condition_is_honoured() -> None:
    fields = signed(conditions=[["starts-with", "$key", "products/"], ["starts-with", "$Content-Type", "image/"],
                                {"Cache-Control": "public, max-age=31536000, immutable"},
                                ["content-length-range", 1, 10]])
    check_form(BUCKET, fields, 5, SECRET, datetime.now(UTC))
    assert refusal({**fields, "Content-Type": "text/plain"}).code == "AccessDenied"


def test_the_refusal_is_s3s_xml() -> None:
    status, headers, body = Refusal(400, "EntityTooLarge", "too <big>").response()
    assert status == "400 Bad Request" and ("Content-Type", "application/xml") in headers
    assert b"<Code>EntityTooLarge</Code><Message>too &lt;big&gt;</Message>" in body


def test_kept_uploads_come_back_and_no_key_escapes_the_directory(tmp_path: Any) -> None:
    from moto import mock_aws

    from scripts.s3_local import Disk, Upload

    disk = Disk(tmp_path)
    disk.keep(Upload(BUCKET, KEY, "image/png", "public, max-age=31536000, immutable", b"\x89PNG\r\n\x1a\nrest"))
    disk.keep(Upload(BUCKET, "../../outside.png", "image/png", "", b"x"))
    disk.keep(Upload(BUCKET, "products/x.png.meta.json", "image/png", "", b"x"))
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()) == [
        f"{BUCKET}/{KEY}", f"{BUCKET}/{KEY}.meta.json"]
    with mock_aws():
        client = boto3.client("s3", region_name="cn-north-1")
        client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "cn-north-1"})
        assert disk.reload(client) == 1
        got = client.get_object(Bucket=BUCKET, Key=KEY)
        assert (got["ContentType"], got["CacheControl"], got["Body"].read()) == (
            "image/png", "public, max-age=31536000, immutable", b"\x89PNG\r\n\x1a\nrest")

"""The S3 adapter of product images (docs/uploads.md): presign an upload, look at an uploaded
object, give the URL an image is served from.

One client for every place: AWS's S3 when deployed, moto's S3 in the tests (``mock_aws``), and
the local stand-in that ``make dev`` starts (moto's server), which botocore reaches through
``AWS_ENDPOINT_URL_S3`` (path-style there, as botocore does for any explicit endpoint). The
served base URL is the ``media_base_url`` setting (CloudFront's domain, deployed), else the
bucket's path-style URL on the endpoint in use (the stand-in serves its objects to anyone).
"""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from chalicelib.domain.media import SNIFF_BYTES, StoredObject, image_url, policy

if TYPE_CHECKING:
    from chalicelib.config import Settings

# The console uploads from a browser: S3 answers its POST only with a CORS rule for it. The
# presigned policy is the guard (a form without it is refused), so any origin may send one.
CORS_RULES = [{"AllowedMethods": ["POST"], "AllowedOrigins": ["*"], "AllowedHeaders": ["*"],
               "ExposeHeaders": ["ETag", "Location"], "MaxAgeSeconds": 3600}]
MISSING = frozenset({"NoSuchKey", "404", "NotFound"})
EMPTY = frozenset({"InvalidRange", "416"})  # a range of an empty object


@dataclass(frozen=True)
class PresignedPost:
    url: str
    fields: dict[str, str]

    @property
    def expires_at(self) -> datetime:
        """The policy's own expiration (boto3 sets it from the machine's clock when signing)."""
        from chalicelib.domain.clock import parse_iso

        return parse_iso(json.loads(base64.b64decode(self.fields["policy"]))["expiration"])


class MediaStore:
    """The media bucket of the settings, through one lazily built S3 client."""

    def __init__(self, settings: Settings) -> None:
        self.bucket = settings.media_bucket
        self.region = settings.region
        self._base_url = settings.media_base_url
        budgets = settings.budgets  # an S3 call in the region is budgeted as a DynamoDB call is
        self._client_config = {"connect_timeout": budgets.dynamodb_connect_seconds,
                               "read_timeout": budgets.dynamodb_read_seconds,
                               "retries": {"mode": "standard", "total_max_attempts": budgets.dynamodb_attempts}}

    @cached_property
    def client(self) -> Any:
        import boto3
        from botocore.config import Config

        return boto3.client("s3", region_name=self.region,
                            config=Config(signature_version="s3v4", **self._client_config))

    @property
    def base_url(self) -> str:
        """Where images are served from, without a trailing slash."""
        return (self._base_url or f"{self.client.meta.endpoint_url}/{self.bucket}").rstrip("/")

    def url_of(self, key: str) -> str:
        return image_url(self.base_url, key)

    def presign_post(self, key: str, content_type: str, size_bytes: int, expires_seconds: int) -> PresignedPost:
        """A POST form for exactly this key, type and at most ``size_bytes`` bytes (signed
        locally: no call to S3)."""
        fields, conditions = policy(content_type, size_bytes)
        signed = self.client.generate_presigned_post(self.bucket, key, Fields=fields, Conditions=conditions,
                                                     ExpiresIn=expires_seconds)
        return PresignedPost(signed["url"], dict(signed["fields"]))

    def peek(self, key: str) -> StoredObject | None:
        """What a HEAD tells of an object (type, size) and its first bytes, in one ranged GET;
        None when nothing is stored under the key."""
        from botocore.exceptions import ClientError

        try:
            got = self.client.get_object(Bucket=self.bucket, Key=key, Range=f"bytes=0-{SNIFF_BYTES - 1}")
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in MISSING:
                return None
            if code in EMPTY:
                return StoredObject(self._content_type(key), 0, b"")
            raise
        with got["Body"] as body:
            head = body.read()
        total = str(got.get("ContentRange", "")).rpartition("/")[2]
        return StoredObject(str(got.get("ContentType", "")), int(total) if total.isdigit() else len(head), head)

    def read(self, key: str) -> bytes | None:
        """An object's bytes in one GET; None when nothing is stored under the key."""
        from botocore.exceptions import ClientError

        try:
            got = self.client.get_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code", "")) in MISSING:
                return None
            raise
        with got["Body"] as body:
            return bytes(body.read())

    def write(self, key: str, data: bytes, content_type: str, cache_control: str) -> None:
        """Store an object (one PUT); a key written twice with the same bytes is the same object."""
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type,
                               CacheControl=cache_control)

    def _content_type(self, key: str) -> str:
        return str(self.client.head_object(Bucket=self.bucket, Key=key).get("ContentType", ""))

    def ensure_bucket(self) -> bool:
        """Create the bucket (private, with the CORS rule) if missing; True when created. For
        local stacks and tests: deployed, infra/ creates it."""
        from botocore.exceptions import ClientError

        try:
            self.client.head_bucket(Bucket=self.bucket)
            return False
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code", "")) not in MISSING | {"NoSuchBucket"}:
                raise
        location = {} if self.region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": self.region}}
        self.client.create_bucket(Bucket=self.bucket, **location)
        self.client.put_bucket_cors(Bucket=self.bucket, CORSConfiguration={"CORSRules": CORS_RULES})
        return True


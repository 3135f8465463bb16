"""The local stand-in of S3 for ``make dev`` and the e2e tests: moto's S3 server, checking the
presigned POST policy as S3 does.

moto's server speaks S3's API (the same boto3 code runs against it through
``AWS_ENDPOINT_URL_S3``), but it checks nothing of a browser's POST form: not the signature, the
expiry, the conditions (key, ``Content-Type``) nor the ``content-length-range`` (an oversized or
mislabelled file is stored). This server puts :class:`PolicyCheck` in front of it: a POST form
upload is verified first, and refused with S3's own status and error code when S3 would refuse
it; everything else goes to moto untouched. One request at a time (moto is not thread-safe).

It is a child process in its own process group, like DynamoDB Local: :func:`start` runs it and
waits until it answers, with the media bucket of the settings (``MEDIA_BUCKET``) created;
``scripts/dev.py`` stops it with the rest of the stack. With ``--data DIR`` (``.local/s3`` for
``make dev``) the form uploads are kept on disk and put back at the next start (:class:`Disk`),
as DynamoDB Local keeps the products that name them::

    python scripts/s3_local.py --port N [--data DIR]    # serves until SIGTERM / SIGINT / SIGHUP
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import hmac
import io
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import IO, Any
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

if __package__ in (None, ""):  # run as `python scripts/s3_local.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from werkzeug.formparser import parse_form_data

from scripts.procs import StartupError, log_tail, stop_process_group, wait_http_ok

StartResponse = Callable[..., Any]
# Form fields no condition needs to cover (S3's rules for POST policies).
UNCOVERED = frozenset({"policy", "x-amz-signature", "file"})
ORIGIN_ACCESS = ("AWS4-HMAC-SHA256 Credential=local/20260101/cn-north-1/s3/aws4_request, SignedHeaders=host, "
                 f"Signature={'0' * 64}")


@dataclass(frozen=True)
class Refusal(Exception):
    """What S3 answers to a form it refuses."""

    status: int
    code: str
    message: str

    def response(self) -> tuple[str, list[tuple[str, str]], bytes]:
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{self.code}</Code>'
                f"<Message>{escape(self.message)}</Message></Error>").encode()
        status = {400: "400 Bad Request", 403: "403 Forbidden"}[self.status]
        return status, [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))], body


def signing_key(secret: str, day: str, region: str) -> bytes:
    """SigV4's key for S3 of one day and region."""
    key = f"AWS4{secret}".encode()
    for part in (day, region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def check_form(bucket: str, fields: Mapping[str, str], size: int, secret: str, now: datetime) -> None:
    """Refuse (raise :class:`Refusal`) a POST form S3 would refuse: a wrong signature, an
    expired policy, a field no condition allows, a condition a field breaks, a file outside the
    content-length-range."""
    given = {name.lower(): value for name, value in fields.items()}
    if "policy" not in given:
        raise Refusal(403, "AccessDenied", "Bucket POST must contain a field named 'policy'.")
    credential = given.get("x-amz-credential", "").split("/")
    if len(credential) != 5 or credential[3:] != ["s3", "aws4_request"]:
        raise Refusal(400, "InvalidArgument", "x-amz-credential is not a SigV4 credential for S3")
    expected = hmac.new(signing_key(secret, credential[1], credential[2]), given["policy"].encode(),
                        hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, given.get("x-amz-signature", "")):
        raise Refusal(403, "SignatureDoesNotMatch",
                      "The request signature we calculated does not match the signature you provided.")
    try:
        policy = json.loads(base64.b64decode(given["policy"], validate=True))
        expires = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
    except (ValueError, KeyError, TypeError) as exc:
        raise Refusal(400, "InvalidPolicyDocument", "Invalid Policy: Invalid JSON.") from exc
    if expires <= now:
        raise Refusal(403, "AccessDenied", "Invalid according to Policy: Policy expired.")
    values = {**given, "bucket": bucket}
    covered = {"bucket"}
    for condition in policy.get("conditions", []):
        covered |= _check_condition(condition, values, size)
    extra = sorted(n for n in given if n not in covered | UNCOVERED and not n.startswith("x-ignore-"))
    if extra:
        raise Refusal(403, "AccessDenied",
                      f"Invalid according to Policy: Extra input fields: {extra[0]}")


def _check_condition(condition: Any, values: Mapping[str, str], size: int) -> set[str]:
    """Check one condition; return the (lower-case) field names it covers."""
    if isinstance(condition, dict):
        [(name, wanted)] = condition.items()
        condition = ["eq", f"${name}", wanted]
    operator, *args = condition
    if operator == "content-length-range":
        low, high = (int(a) for a in args)
        if size < low:
            raise Refusal(400, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size")
        if size > high:
            raise Refusal(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size")
        return set()
    name, wanted = str(args[0]).removeprefix("$").lower(), str(args[1])
    value = values.get(name, "")
    holds = value == wanted if operator == "eq" else value.startswith(wanted) if operator == "starts-with" else False
    if not holds:
        raise Refusal(403, "AccessDenied",
                      f'Invalid according to Policy: Policy Condition failed: ["{operator}", "${name}", "{wanted}"]')
    return {name}


def anonymous(environ: Mapping[str, Any]) -> bool:
    """A request without credentials (neither signed headers nor a presigned query)."""
    return not environ.get("HTTP_AUTHORIZATION") and "X-Amz-Signature" not in environ.get("QUERY_STRING", "")


@dataclass(frozen=True)
class Upload:
    """A form upload the check let through, to keep once moto has stored it."""

    bucket: str
    key: str
    content_type: str
    cache_control: str
    data: bytes


class Disk:
    """The form uploads of a stand-in kept under a directory (``.local/s3`` for ``make dev``), so
    that a restarted stack serves the images its products name: ``<root>/<bucket>/<key>`` and
    ``<key>.meta.json`` beside it."""

    META = ".meta.json"

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def _path(self, bucket: str, key: str) -> Path | None:
        path = (self.root / bucket / key).resolve()
        return path if path.is_relative_to(self.root / bucket) and not key.endswith(self.META) else None

    def keep(self, upload: Upload) -> None:
        path = self._path(upload.bucket, upload.key)
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(upload.data)
        meta = {"content_type": upload.content_type, "cache_control": upload.cache_control}
        path.with_name(path.name + self.META).write_text(json.dumps(meta))

    def reload(self, client: Any) -> int:
        """Put every kept object back (after the stand-in restarted); how many."""
        count = 0
        for meta_path in sorted(self.root.glob(f"*/**/*{self.META}")):
            path = meta_path.with_name(meta_path.name.removesuffix(self.META))
            bucket, key = path.relative_to(self.root).parts[0], "/".join(path.relative_to(self.root).parts[1:])
            meta = json.loads(meta_path.read_text())
            extra = {"CacheControl": meta["cache_control"]} if meta.get("cache_control") else {}
            with contextlib.suppress(client.exceptions.NoSuchBucket):
                client.put_object(Bucket=bucket, Key=key, Body=path.read_bytes(), ContentType=meta["content_type"],
                                  **extra)
                count += 1
        return count


class PolicyCheck:
    """WSGI middleware in front of moto's S3: a POST form to a bucket is checked
    (:func:`check_form`) before moto sees it (and kept on ``disk`` once stored); any other write
    without credentials is refused (moto would store it); a read without credentials is served as
    CloudFront serves the deployed bucket (its origin access signs the request to the private
    bucket; here a credential scope for moto to route by, whose signature moto does not check).
    One request at a time."""

    def __init__(self, app: Callable[..., Iterable[bytes]], secret: str, disk: Disk | None = None) -> None:
        self.app = app
        self.secret = secret
        self.disk = disk
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        with self.lock:
            refusal, upload = self._screen(environ)
            if refusal is not None:
                status, headers, body = refusal.response()
                start_response(status, headers)
                return [body]
            answered: list[str] = []

            def record(status: str, headers: Any, *rest: Any) -> Any:
                answered.append(status)
                return start_response(status, headers, *rest)

            result = self.app(environ, record)
            try:
                produced = list(result)  # produce the body while still holding the lock
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
            if upload is not None and self.disk is not None and answered and answered[0].startswith("2"):
                self.disk.keep(upload)
            return produced

    def _screen(self, environ: dict[str, Any]) -> tuple[Refusal | None, Upload | None]:
        if environ.get("REQUEST_METHOD") == "POST" and "multipart/form-data" in environ.get("CONTENT_TYPE", ""):
            return self._check_upload(environ)
        if anonymous(environ):
            if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):  # moto would store it
                return Refusal(403, "AccessDenied", "Access Denied"), None
            environ["HTTP_AUTHORIZATION"] = ORIGIN_ACCESS
        return None, None

    def _check_upload(self, environ: dict[str, Any]) -> tuple[Refusal | None, Upload | None]:
        raw = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(raw)  # moto reads the form again
        _, form, files = parse_form_data({**environ, "wsgi.input": io.BytesIO(raw)})
        file = files.get("file")
        data = file.read() if file is not None else b""
        bucket = urlsplit(environ.get("PATH_INFO", "/")).path.strip("/").split("/")[0]
        fields = {k.lower(): form[k] for k in form}
        try:
            check_form(bucket, fields, len(data), self.secret, datetime.now(UTC))
        except Refusal as refusal:
            return refusal, None
        return None, Upload(bucket, fields.get("key", ""), fields.get("content-type", ""),
                            fields.get("cache-control", ""), data)


def serve(port: int, host: str = "127.0.0.1", data: Path | None = None) -> None:
    """Serve on ``host:port`` until SIGTERM, SIGINT or SIGHUP (main thread only); with ``data``,
    keep the form uploads there and serve those kept by an earlier run."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    stop_requested = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop_requested.set()

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, on_signal)
    disk = Disk(data) if data is not None else None
    app = PolicyCheck(DomainDispatcherApplication(create_backend_app), os.environ.get("AWS_SECRET_ACCESS_KEY", ""),
                      disk)
    try:
        server = make_server(host, port, app, threaded=True, request_handler=MotoRequestHandler)
    except (OSError, SystemExit) as exc:  # werkzeug exits when the port is taken
        raise SystemExit(f"s3_local could not listen on {host}:{port}: {exc}") from exc
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    media = media_store(f"http://{host}:{port}")
    media.ensure_bucket()
    kept = f", {disk.reload(media.client)} objects from {disk.root}" if disk is not None else ", in memory"
    print(f"S3 stand-in (moto, POST policies checked) on http://{host}:{port}, bucket {media.bucket}{kept}",
          flush=True)
    stop_requested.wait()
    server.shutdown()


def media_store(endpoint: str) -> Any:
    """The API's own adapter (``chalicelib.media``) of the settings' bucket, on this server."""
    from chalicelib.config import settings_from_env
    from chalicelib.media import MediaStore

    os.environ["AWS_ENDPOINT_URL_S3"] = endpoint
    return MediaStore(settings_from_env(os.environ))


def start(port: int, env: Mapping[str, str], *, data: Path | None = None, log: IO[bytes] | None = None,
          log_path: Path | None = None, ready_timeout: float = 60.0) -> subprocess.Popen[bytes]:
    """Run the stand-in on ``port`` (keeping uploads in ``data`` if given) in its own process
    group and wait until it answers with its bucket; :class:`StartupError` (and nothing left
    running) if it does not."""
    kept = ["--data", str(data)] if data is not None else []
    process = subprocess.Popen(  # noqa: S603 -- this interpreter and our own script, no shell
        [sys.executable, str(Path(__file__).resolve()), "--port", str(port), *kept], env=dict(env),
        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT if log is not None else None,
        start_new_session=True)
    from chalicelib.config import settings_from_env

    bucket = settings_from_env(env).media_bucket
    try:
        wait_http_ok(f"http://127.0.0.1:{port}/{bucket}", ready_timeout, process=process, log_path=log_path)
    except StartupError as exc:
        stop_process_group(process)
        raise StartupError(f"the S3 stand-in did not start: {exc}\n{log_tail(log_path)}") from exc
    return process


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="moto's S3 server, checking presigned POST policies")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--data", type=Path, default=None, help="keep form uploads here (default: in memory)")
    args = parser.parse_args(argv)
    serve(args.port, args.host, args.data)
    return 0


if __name__ == "__main__":
    sys.exit(main())

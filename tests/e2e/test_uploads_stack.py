"""End to end: a product image through the local stack ``make dev`` starts (scripts/dev.py): the
admin asks the API for an upload, the browser's form goes to the S3 stand-in, which refuses what
S3 refuses, and the image is served from its URL; the stand-in stops with the stack, and a
restarted stand-in on the same data directory and port serves the image again."""
from __future__ import annotations

from pathlib import Path

import pytest
import requests

from scripts.dev import open_stack
from scripts.procs import free_port, group_alive, log_tail
from tests.images import png

pytestmark = pytest.mark.e2e

READY_TIMEOUT = 120.0


def test_an_image_is_uploaded_to_the_stand_in_and_served_from_its_url(tmp_path: Path) -> None:
    log = tmp_path / "stack.log"
    kept = {"s3_port": free_port(), "s3_path": tmp_path / "s3"}
    try:
        with open_stack(free_port(), None, READY_TIMEOUT, log_path=log, env={"FENXIAO_MODE": "simulator"},
                        **kept) as stack:
            assert stack.s3 is not None and stack.env["AWS_ENDPOINT_URL_S3"] == stack.s3_endpoint
            token = requests.post(stack.url + "/v1/auth/login", json={"code": "dev:admin"}, timeout=30).json()["token"]
            image = png(4, 4)
            answer = requests.post(stack.url + "/v1/admin/uploads", headers={"Authorization": f"Bearer {token}"},
                                   json={"content_type": "image/png", "size_bytes": len(image),
                                         "purpose": "product_image"}, timeout=30)
            assert answer.status_code == 201, answer.text
            body = answer.json()
            assert body["upload"]["url"] == f"{stack.s3_endpoint}/fenxiao-dev-media"
            assert body["image_url"] == f"{stack.s3_endpoint}/fenxiao-dev-media/{body['key']}"
            form = body["upload"]["fields"]

            def send(data: bytes, **override: str) -> requests.Response:
                return requests.post(body["upload"]["url"], data={**form, **override},
                                     files={"file": ("a.png", data)}, timeout=30)

            too_large = send(image + b"\x00")
            assert (too_large.status_code, "<Code>EntityTooLarge</Code>" in too_large.text) == (400, True)
            relabelled = send(image, **{"Content-Type": "text/html"})
            assert (relabelled.status_code, "<Code>AccessDenied</Code>" in relabelled.text) == (403, True)
            assert requests.get(body["image_url"], timeout=30).status_code == 404  # nothing stored yet
            assert send(image).status_code == 204
            served = requests.get(body["image_url"], timeout=30)
            assert (served.status_code, served.headers["Content-Type"], served.content) == (200, "image/png", image)
            assert requests.put(body["image_url"], data=b"x", timeout=30).status_code == 403  # no anonymous writes
            s3_group = stack.s3.pid
        assert not group_alive(s3_group)
        assert (tmp_path / "s3" / "fenxiao-dev-media" / body["key"]).read_bytes() == image
        with open_stack(free_port(), None, READY_TIMEOUT, log_path=log, env={"FENXIAO_MODE": "simulator"}, **kept):
            again = requests.get(body["image_url"], timeout=30)
            assert (again.status_code, again.headers["Content-Type"], again.content) == (200, "image/png", image)
    finally:
        print(log_tail(log, lines=60))

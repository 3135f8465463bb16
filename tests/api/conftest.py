from __future__ import annotations

import json
from typing import Any

import pytest


class Api:
    """A thin JSON wrapper over chalice's test client."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def call(self, method: str, path: str, body: Any = None, token: str | None = None,
             raw: str | bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        if token:
            all_headers["Authorization"] = f"Bearer {token}"
        payload = raw if raw is not None else (json.dumps(body) if body is not None else None)
        response = getattr(self.client.http, method.lower())(path, body=payload, headers=all_headers)
        text = response.body.decode() if isinstance(response.body, bytes) else response.body
        try:
            return response.status_code, json.loads(text) if text else None
        except ValueError:
            return response.status_code, text

    def login(self, name: str) -> tuple[str, str]:
        status, body = self.call("POST", "/v1/auth/login", {"code": f"dev:{name}"})
        assert status == 200, body
        return body["token"], body["user"]["user_id"]

    def distributor(self, name: str) -> tuple[str, str, str]:
        token, user_id = self.login(name)
        status, body = self.call("POST", "/v1/me/distributor", {"shop_name": f"{name} shop"}, token)
        assert status == 201, body
        return token, user_id, body["invite_code"]


@pytest.fixture
def api(client: Any) -> Api:
    return Api(client)

"""A browser's side of the console over chalice's test client: a cookie jar, forms, CSRF."""
from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

FORM = "application/x-www-form-urlencoded"


class ConsoleClient:
    def __init__(self, client: Any) -> None:
        self.client = client
        self.jar: dict[str, str] = {}

    def _cookie_header(self) -> dict[str, str]:
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in self.jar.items())} if self.jar else {}

    def _keep(self, response: Any) -> Any:
        given = response.headers.get("Set-Cookie")
        for cookie in (given if isinstance(given, list) else [given] if given else []):
            name, _, rest = cookie.partition("=")
            value = rest.split(";", 1)[0]
            if "Max-Age=0" in cookie:
                self.jar.pop(name, None)
            else:
                self.jar[name] = value
        return response

    def get(self, path: str, headers: dict[str, str] | None = None) -> Any:
        return self._keep(self.client.http.get(path, headers={**self._cookie_header(), **(headers or {})}))

    def post(self, path: str, fields: dict[str, Any] | None = None, headers: dict[str, str] | None = None,
             body: str | bytes | None = None) -> Any:
        data = body if body is not None else urlencode(fields or {}, doseq=True)
        return self._keep(self.client.http.post(path, body=data, headers={
            "Content-Type": FORM, **self._cookie_header(), **(headers or {})}))

    def sign_in(self, name: str = "admin") -> Any:
        page = self.get("/console/login")
        return self.post("/console/login/dev", {"csrf_token": csrf(page), "name": name, "next": "/console/orders"})

    def csrf(self, path: str = "/console/orders") -> str:
        return csrf(self.get(path))


def text(response: Any) -> str:
    body = response.body
    return body.decode() if isinstance(body, bytes) else str(body)


def csrf(response: Any) -> str:
    found = re.search(r'name="csrf_token" value="([^"]*)"', text(response))
    assert found, text(response)[:500]
    return found.group(1)

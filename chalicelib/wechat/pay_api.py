"""One signed call to WeChat Pay API v3 and its verified answer: what the Pay client and the
merchant-transfer client share (the same merchant key signs, the same platform key verifies).

Unreachable, timeout, 5xx and 429 → ``Unavailable`` (retry the same call); a 2xx answer that does
not verify or cannot be read → ``Unavailable``; any other non-2xx → the caller's refusal error with
``wechat_code`` and ``wechat_status``.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import urllib3

from chalicelib.domain.errors import DomainError, Unavailable
from chalicelib.wechat.http import HttpBudget, configured_budget
from chalicelib.wechat.pay_crypto import InvalidSignature, build_authorization, check_signed_message, new_nonce

if TYPE_CHECKING:
    from chalicelib.wechat.pay_config import PayConfig


class PayApi:
    def __init__(self, config: PayConfig, refused: type[DomainError], *, clock: Callable[[], datetime] | None = None,
                 budget: HttpBudget | None = None, http: urllib3.PoolManager | None = None) -> None:
        self.config = config
        self.clock = clock or (lambda: datetime.now(UTC))
        self._refused = refused
        self._base = config.api_base.rstrip("/")
        budget = budget or configured_budget()
        self._timeout = budget.timeout()
        # One retry only where the request never left (connect errors); the caller retries the rest.
        self._http = http or budget.pool()

    def call(self, method: str, path: str, payload: dict[str, Any] | None,
             extra_headers: Mapping[str, str] | None = None) -> Any:
        """The answer's JSON (None for an empty answer)."""
        c = self.config
        body = b"" if payload is None else json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        headers = {"Accept": "application/json", "User-Agent": "fenxiao-wechatpay/1", **(extra_headers or {}),
                   "Authorization": build_authorization(method, path, body, mch_id=c.mch_id, serial_no=c.merchant_serial,
                                                        private_key_pem=c.merchant_private_key_pem,
                                                        timestamp=int(self.clock().timestamp()), nonce=new_nonce())}
        if payload is not None:
            headers["Content-Type"] = "application/json"
        try:
            response = self._http.request(method, self._base + path, body=body or None, headers=headers,
                                          timeout=self._timeout)
        except urllib3.exceptions.HTTPError as exc:
            raise Unavailable("WeChat Pay is unreachable; retry") from exc
        if response.status >= 500 or response.status == 429:
            raise Unavailable("WeChat Pay answered an error; retry", wechat_status=response.status)
        if response.status >= 300:
            raise self._refusal(response.status, response.data)
        try:
            check_signed_message(response.headers, response.data, now_ts=self.clock().timestamp(),
                                 public_key_pem=c.platform_public_key_pem, key_id=c.platform_key_id,
                                 max_skew_seconds=c.max_skew_seconds)
        except InvalidSignature as exc:
            _log_unverified(path, exc)
            raise Unavailable("WeChat Pay's answer did not verify; retry", reason="unverified_response") from exc
        if not response.data:
            return None
        try:
            return json.loads(response.data)
        except ValueError as exc:
            raise Unavailable("WeChat Pay answered something unreadable; retry") from exc

    def _refusal(self, status: int, data: bytes) -> DomainError:
        try:
            answer = json.loads(data)
        except ValueError:
            answer = None
        code = answer.get("code") if isinstance(answer, dict) else None
        message = answer.get("message") if isinstance(answer, dict) else None
        return self._refused(f"WeChat Pay refused: {message or code or status}", wechat_code=code or f"HTTP_{status}",
                             wechat_status=status)


def _log_unverified(path: str, exc: Exception) -> None:
    from chalicelib.observability import logger

    logger().error("wechat pay answer failed verification", extra={"path": path.split("?")[0], "reason": str(exc)})

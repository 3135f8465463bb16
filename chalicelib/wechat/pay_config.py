"""The merchant settings every WeChat Pay client (payments, refunds, transfers) signs and verifies with."""
from __future__ import annotations

from dataclasses import dataclass, field

API_BASE = "https://api.mch.weixin.qq.com"


@dataclass(frozen=True)
class PayConfig:
    app_id: str
    mch_id: str
    apiv3_key: str = field(repr=False)  # 32 characters
    merchant_serial: str  # serial number of the merchant API certificate
    merchant_private_key_pem: str = field(repr=False)
    platform_public_key_pem: str  # the WeChat Pay public key (or a platform certificate PEM)
    platform_key_id: str  # "PUB_KEY_ID_…" (or that certificate's serial): the only Wechatpay-Serial accepted
    notify_url: str
    api_base: str = API_BASE
    max_skew_seconds: int = 300

    def __post_init__(self) -> None:
        if len(self.apiv3_key.encode("utf-8")) != 32:
            raise ValueError("the WeChat Pay APIv3 key is 32 bytes")
        if not (self.app_id and self.mch_id and self.merchant_serial and self.platform_key_id):
            raise ValueError("app_id, mch_id, merchant_serial and platform_key_id are required")

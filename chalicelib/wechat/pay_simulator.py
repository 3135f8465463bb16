"""WeChat Pay played locally, speaking the protocol for real.

``PaySimulator`` implements ``PayClient`` over its orders (with their payment and refunds), and
builds notifications exactly as WeChat Pay sends them (resource encrypted with the APIv3 key,
body signed with the platform private key), so the verifier that runs in production runs in
every demo and test too. The orders live in a ``SimulatorState``: in memory by default; in
simulator mode, in DynamoDB with the mall's data (``store/simulators.py``), so that a restart of
``make dev`` can still refund an order paid before it, as WeChat Pay would.

``simulator_config`` makes the key material: throw-away RSA keys and APIv3 key generated once per
process (lazily: never at import), unless real settings are given; see docs/wechat-pay.md.
"""
from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone

from chalicelib.domain.invariants import present
from chalicelib.wechat.pay import PayConfig, PaymentResult, PayRejected, RefundOutcome, request_payment_params
from chalicelib.wechat.pay_crypto import (
    encrypt_resource,
    generate_rsa_key,
    keys_match,
    new_nonce,
    public_key_of,
    sign_headers,
)
from chalicelib.wechat.simulator_state import MemoryState, Record, SimulatorState, time_of, time_text

SHANGHAI = timezone(timedelta(hours=8))
SIMULATOR_MCH_ID = "1900000109"
SIMULATOR_NOTIFY_URL = "http://localhost:8000/v1/wechat/pay/notify"


class SimulatorCannotSign(RuntimeError):
    """The simulator was configured with a real platform public key but not its private key."""


_GENERATED: dict[str, str] = {}
_GENERATING = threading.Lock()


def _generated(what: str) -> str:
    """Throw-away key material, made on first use and kept for the process (one value per name)."""
    with _GENERATING:
        if what not in _GENERATED:
            if what.endswith("_key_pem"):
                _GENERATED[what] = generate_rsa_key()
            elif what == "apiv3_key":
                _GENERATED[what] = secrets.token_hex(16)
            elif what == "merchant_serial":
                _GENERATED[what] = secrets.token_hex(20).upper()
            else:
                _GENERATED[what] = "PUB_KEY_ID_0119" + "".join(secrets.choice("0123456789") for _ in range(24))
        return _GENERATED[what]


def simulator_config(app_id: str, *, mch_id: str | None = None, apiv3_key: str | None = None,
                     merchant_serial: str | None = None, merchant_private_key_pem: str | None = None,
                     platform_public_key_pem: str | None = None, platform_key_id: str | None = None,
                     platform_private_key_pem: str | None = None, notify_url: str = SIMULATOR_NOTIFY_URL,
                     ) -> tuple[PayConfig, str | None]:
    """The simulator's PayConfig and the platform private key it signs notifications with.

    Every setting given wins over the generated one. Given a real platform public key (and its
    id), notifications must be signed by whoever holds the matching private key: the returned
    private key is ``platform_private_key_pem`` if given (it must match), else None.
    """
    if (platform_public_key_pem is None) != (platform_key_id is None):
        raise ValueError("give the platform public key and its id together")
    platform_private: str | None
    if platform_public_key_pem is None:
        platform_private = platform_private_key_pem or _generated("platform_private_key_pem")
        platform_public_key_pem = public_key_of(platform_private)
        platform_key_id = _generated("platform_key_id")
    else:
        platform_private = platform_private_key_pem
        if platform_private is not None and not keys_match(platform_private, platform_public_key_pem):
            raise ValueError("the simulator's platform private key does not match the platform public key")
    config = PayConfig(app_id=app_id, mch_id=mch_id or SIMULATOR_MCH_ID, apiv3_key=apiv3_key or _generated("apiv3_key"),
                       merchant_serial=merchant_serial or _generated("merchant_serial"),
                       merchant_private_key_pem=merchant_private_key_pem or _generated("merchant_private_key_pem"),
                       platform_public_key_pem=platform_public_key_pem, platform_key_id=platform_key_id or "",
                       notify_url=notify_url, api_base="simulator://wechat-pay")
    return config, platform_private


@dataclass
class _Order:
    description: str
    amount_fen: int
    openid: str
    expires_at: datetime
    prepay_id: str
    state: str = "NOTPAY"
    transaction_id: str | None = None
    success_time: datetime | None = None
    refunds: dict[str, tuple[int, RefundOutcome]] = field(default_factory=dict)

    def record(self) -> Record:
        return {"description": self.description, "amount_fen": self.amount_fen, "openid": self.openid,
                "expires_at": time_text(self.expires_at), "prepay_id": self.prepay_id, "state": self.state,
                "transaction_id": self.transaction_id, "success_time": time_text(self.success_time),
                "refunds": {no: [fen, outcome.status, outcome.refund_id] for no, (fen, outcome) in self.refunds.items()}}

    @classmethod
    def of(cls, record: Record) -> _Order:
        expires_at = present(time_of(record["expires_at"]), "a kept order's expiry")
        return cls(record["description"], int(record["amount_fen"]), record["openid"], expires_at,
                   record["prepay_id"], record["state"], record["transaction_id"], time_of(record["success_time"]),
                   {no: (int(fen), RefundOutcome(status=status, refund_id=refund_id))
                    for no, (fen, status, refund_id) in record["refunds"].items()})


class PaySimulator:
    """WeChat Pay played locally; thread-safe. Its orders live in ``state`` (in memory unless
    given: simulator mode gives the DynamoDB one, which survives a restart)."""

    def __init__(self, config: PayConfig, platform_private_key_pem: str | None = None, *,
                 clock: Callable[[], datetime] | None = None, refund_status: str = "SUCCESS",
                 state: SimulatorState | None = None) -> None:
        self.config = config
        self._platform_private = platform_private_key_pem
        self._clock = clock or (lambda: datetime.now(UTC))
        self._refund_status = refund_status
        self._state = state if state is not None else MemoryState()
        self._orders: dict[str, _Order] = {}  # the orders this instance handled, as last seen (tests read it)
        self._lock = threading.Lock()

    def _find(self, out_trade_no: str) -> _Order | None:
        """The order as the state has it now (another instance, before a restart, may have changed it)."""
        record = self._state.load(out_trade_no)
        if record is None:
            return None
        order = self._orders[out_trade_no] = _Order.of(record)
        return order

    def _keep(self, out_trade_no: str, order: _Order) -> None:
        self._state.save(out_trade_no, order.record())
        self._orders[out_trade_no] = order

    # PayClient

    def prepay(self, out_trade_no: str, description: str, amount_fen: int, payer_openid: str,
               expires_at: datetime) -> str:
        if amount_fen <= 0:
            raise PayRejected("amount must be at least 1 fen", wechat_code="PARAM_ERROR", wechat_status=400)
        with self._lock:
            order = self._find(out_trade_no)
            if order is None:
                order = _Order(description, amount_fen, payer_openid, expires_at, "wx" + secrets.token_hex(16))
                self._keep(out_trade_no, order)
            elif (order.description, order.amount_fen, order.openid, order.expires_at) != (
                    description, amount_fen, payer_openid, expires_at):
                raise PayRejected("out_trade_no was used with other parameters", wechat_code="OUT_TRADE_NO_USED",
                                  wechat_status=403)
            if order.state == "SUCCESS":
                raise PayRejected("the order is paid", wechat_code="ORDERPAID", wechat_status=400)
            if order.state == "CLOSED":
                raise PayRejected("the order is closed", wechat_code="ORDER_CLOSED", wechat_status=400)
            return order.prepay_id

    def payment_params(self, prepay_id: str) -> dict[str, str]:
        return request_payment_params(self.config, prepay_id, self._clock(), new_nonce())

    def refund(self, out_trade_no: str, out_refund_no: str, refund_fen: int, total_fen: int,
               reason: str) -> RefundOutcome:
        with self._lock:
            order = self._find(out_trade_no)
            if order is None or order.state not in ("SUCCESS", "REFUND"):
                raise PayRejected("no paid order with this number", wechat_code="RESOURCE_NOT_EXISTS", wechat_status=404)
            if out_refund_no in order.refunds:
                asked, outcome = order.refunds[out_refund_no]
                if asked != refund_fen:
                    raise PayRejected("out_refund_no was used with another amount", wechat_code="INVALID_REQUEST",
                                      wechat_status=400)
                return outcome
            refunded = sum(asked for asked, _ in order.refunds.values())
            if total_fen != order.amount_fen or refund_fen <= 0 or refunded + refund_fen > order.amount_fen:
                raise PayRejected("refund amount is wrong", wechat_code="PARAM_ERROR", wechat_status=400)
            outcome = RefundOutcome(status=self._refund_status, refund_id="50" + secrets.token_hex(14))
            order.refunds[out_refund_no] = (refund_fen, outcome)
            order.state = "REFUND"
            self._keep(out_trade_no, order)
            return outcome

    def query(self, out_trade_no: str) -> PaymentResult | None:
        with self._lock:
            order = self._find(out_trade_no)
            if order is None:
                return None
            paid = order.transaction_id is not None
            return PaymentResult(out_trade_no=out_trade_no, trade_state=order.state, total_fen=order.amount_fen,
                                 currency="CNY", mch_id=self.config.mch_id, app_id=self.config.app_id,
                                 transaction_id=order.transaction_id, payer_total_fen=order.amount_fen if paid else None,
                                 payer_openid=order.openid, success_time=order.success_time)

    def close(self, out_trade_no: str) -> None:
        with self._lock:
            order = self._find(out_trade_no)
            if order is None:
                return
            if order.state in ("SUCCESS", "REFUND"):
                raise PayRejected("the order is paid", wechat_code="ORDERPAID", wechat_status=400)
            order.state = "CLOSED"
            self._keep(out_trade_no, order)

    # Playing the payer and WeChat Pay's notifications

    def build_payment_notification(self, out_trade_no: str, now: datetime, trade_state: str = "SUCCESS",
                                   amount_fen: int | None = None, payer_openid: str | None = None,
                                   ) -> tuple[dict[str, str], bytes]:
        """Pay the order (if ``trade_state`` is SUCCESS) and return the notification WeChat Pay would send.

        ``amount_fen`` overrides the paid amount (to test a mismatch); an order the simulator has not
        seen (e.g. after a restart) needs it.
        """
        signer = self._signer()
        with self._lock:
            order = known = self._find(out_trade_no)
            if order is None:
                if amount_fen is None:
                    raise KeyError(f"the simulator has no order {out_trade_no}; give amount_fen")
                order = _Order("", amount_fen, payer_openid or "dev:unknown", now, "")  # not kept
            if trade_state == "SUCCESS" and order.transaction_id is None:
                order.state, order.success_time = "SUCCESS", now
                order.transaction_id = "4200" + now.strftime("%Y%m%d") + secrets.token_hex(8)
                if known is not None:
                    self._keep(out_trade_no, order)
            total = order.amount_fen if amount_fen is None else amount_fen
            resource = {
                "mchid": self.config.mch_id, "appid": self.config.app_id, "out_trade_no": out_trade_no,
                "transaction_id": order.transaction_id or "4200" + secrets.token_hex(12),
                "trade_type": "JSAPI", "trade_state": trade_state, "trade_state_desc": trade_state.lower(),
                "bank_type": "OTHERS", "attach": "", "success_time": _beijing(now),
                "payer": {"openid": payer_openid or order.openid},
                "amount": {"total": total, "payer_total": total, "currency": "CNY", "payer_currency": "CNY"},
            }
        event = "TRANSACTION.SUCCESS" if trade_state == "SUCCESS" else f"TRANSACTION.{trade_state}"
        return self._notification(signer, now, event, "transaction", resource, "支付成功")

    def build_refund_notification(self, out_trade_no: str, out_refund_no: str, now: datetime,
                                  refund_status: str = "SUCCESS") -> tuple[dict[str, str], bytes]:
        """The notification of a refund the simulator has made."""
        signer = self._signer()
        with self._lock:
            order = self._find(out_trade_no)
            if order is None:
                raise KeyError(f"the simulator has no order {out_trade_no}")
            refund_fen, outcome = order.refunds[out_refund_no]
            resource = {
                "mchid": self.config.mch_id, "out_trade_no": out_trade_no, "transaction_id": order.transaction_id,
                "out_refund_no": out_refund_no, "refund_id": outcome.refund_id, "refund_status": refund_status,
                "success_time": _beijing(now), "user_received_account": "支付用户零钱",
                "amount": {"total": order.amount_fen, "refund": refund_fen, "payer_total": order.amount_fen,
                           "payer_refund": refund_fen},
            }
        return self._notification(signer, now, f"REFUND.{refund_status}", "refund", resource, "退款状态变更")

    def _signer(self) -> str:
        if self._platform_private is None:
            raise SimulatorCannotSign(
                "the simulator verifies with a real WeChat Pay public key but holds no matching private key: set "
                "WECHAT_PAY_SIMULATOR_PLATFORM_PRIVATE_KEY, or leave the platform key settings unset in simulator mode")
        return self._platform_private

    def _notification(self, signer: str, now: datetime, event_type: str, original_type: str,
                      resource: Mapping[str, object], summary: str) -> tuple[dict[str, str], bytes]:
        plaintext = json.dumps(resource, ensure_ascii=False, separators=(",", ":")).encode()
        body = json.dumps({
            "id": "EV-" + secrets.token_hex(10), "create_time": _beijing(now), "resource_type": "encrypt-resource",
            "event_type": event_type, "summary": summary,
            "resource": encrypt_resource(self.config.apiv3_key, plaintext, associated_data=original_type,
                                         nonce=new_nonce(12), original_type=original_type),
        }, ensure_ascii=False, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json"}
        headers.update(sign_headers(body, private_key_pem=signer, key_id=self.config.platform_key_id,
                                    timestamp=int(now.timestamp()), nonce=new_nonce()))
        return headers, body


def _beijing(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).replace(microsecond=0).isoformat()

"""WeChat Pay's merchant transfer played in memory, with WeChat's rules and real notifications.

``TransferSimulator`` implements ``TransferClient`` over its bills (thread-safe; kept in a
``SimulatorState`` like ``PaySimulator``'s orders: in memory by default, in DynamoDB with the
mall's data in simulator mode, so a ``make dev`` restart forgets no bill) and plays the user and WeChat Pay afterwards:
``confirm`` moves a bill to its final state and returns the ``MCHTRANSFER.BILL.FINISHED``
notification WeChat Pay would send, encrypted with the APIv3 key and signed with the platform
key, so the production verifier checks it. Key material: ``pay_simulator.simulator_config``.

A create request is built by the production code (``transfer.bill_request``: the payee's name
RSA-OAEP encrypted under the platform public key) and received as WeChat would: the simulator
decrypts ``user_name`` with the platform private key and, when the user confirms, compares it with
the account's real name it knows (``know_real_name``); a different name fails the bill with
``NAME_NOT_CORRECT`` (收款人姓名校验不通过), as WeChat does. An account whose name it was not told
is taken to match.
"""
from __future__ import annotations

import base64
import json
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from chalicelib.domain.invariants import present
from chalicelib.wechat.pay_config import PayConfig
from chalicelib.wechat.pay_crypto import decrypt_sensitive, encrypt_resource, new_nonce, sign_headers
from chalicelib.wechat.pay_simulator import SHANGHAI, SimulatorCannotSign
from chalicelib.wechat.simulator_state import MemoryState, Record, SimulatorState, time_of, time_text
from chalicelib.wechat.transfer import (
    NAME_NOT_CORRECT,
    NAME_REQUIRED_FROM_FEN,
    TRANSFER_EVENT,
    TransferBill,
    TransferRejected,
    TransferScene,
    TransferState,
    bill_request,
    check_out_bill_no,
)

# How the user (or the merchant) ends a bill: the state it reaches and WeChat's fail_reason.
OUTCOMES: dict[str, tuple[TransferState, str | None]] = {
    "success": (TransferState.SUCCESS, None),
    "fail": (TransferState.FAIL, "PAYEE_ACCOUNT_ABNORMAL"),
    "cancel": (TransferState.CANCELLED, None),
}
# The states from which a bill may still end, and the states a cancel request is accepted in.
_OPEN = frozenset({TransferState.ACCEPTED, TransferState.PROCESSING, TransferState.WAIT_USER_CONFIRM,
                   TransferState.TRANSFERING, TransferState.CANCELING})
_CANCELLABLE = frozenset({TransferState.ACCEPTED, TransferState.PROCESSING, TransferState.WAIT_USER_CONFIRM})


@dataclass(frozen=True)
class _Request:
    openid: str
    amount_fen: int
    remark: str
    named: bool  # the body carried user_name
    user_name: str | None  # decrypted; None when not sent, or when the simulator holds no private key


@dataclass
class _Entry:
    request: _Request
    bill: TransferBill
    created_at: datetime

    def record(self) -> Record:
        bill = self.bill
        return {"openid": self.request.openid, "amount_fen": self.request.amount_fen, "remark": self.request.remark,
                "named": self.request.named, "user_name": self.request.user_name,
                "created_at": time_text(self.created_at),
                "transfer_bill_no": bill.transfer_bill_no, "state": str(bill.state), "bill_amount_fen": bill.amount_fen,
                "package_info": bill.package_info, "fail_reason": bill.fail_reason,
                "updated_at": time_text(bill.updated_at)}

    @classmethod
    def of(cls, out_bill_no: str, record: Record) -> _Entry:
        request = _Request(record["openid"], int(record["amount_fen"]), record["remark"], bool(record["named"]),
                           record.get("user_name"))
        bill = TransferBill(out_bill_no=out_bill_no, transfer_bill_no=record["transfer_bill_no"],
                            state=TransferState(record["state"]), amount_fen=record["bill_amount_fen"],
                            package_info=record["package_info"], fail_reason=record["fail_reason"],
                            updated_at=time_of(record["updated_at"]))
        return cls(request, bill, present(time_of(record["created_at"]), "a kept bill's creation time"))


class TransferSimulator:
    """In-memory merchant transfer. ``balance_too_low = True`` makes every new bill refused with
    403 NOT_ENOUGH (nothing is created, so the same number succeeds once it is switched off)."""

    def __init__(self, config: PayConfig, platform_private_key_pem: str | None = None, *,
                 scene: TransferScene | None = None, clock: Callable[[], datetime] | None = None,
                 state: SimulatorState | None = None) -> None:
        self.config = config
        self.scene = scene or TransferScene()
        self.balance_too_low = False
        self._platform_private = platform_private_key_pem
        self._clock = clock or (lambda: datetime.now(UTC))
        self._state = state if state is not None else MemoryState()
        self._bills: dict[str, _Entry] = {}  # the bills this instance handled, as last seen (tests read it)
        self._real_names: dict[str, str] = {}  # openid → the account's real name, as WeChat knows it
        self._lock = threading.Lock()

    def know_real_name(self, openid: str, real_name: str) -> None:
        """The real name of the WeChat account ``openid`` (what WeChat compares ``user_name`` with)."""
        with self._lock:
            self._real_names[openid] = real_name

    def _find(self, out_bill_no: str) -> _Entry | None:
        """The bill as the state has it now (another instance, before a restart, may have changed it)."""
        record = self._state.load(out_bill_no)
        if record is None:
            return None
        entry = self._bills[out_bill_no] = _Entry.of(out_bill_no, record)
        return entry

    def _keep(self, out_bill_no: str, entry: _Entry) -> None:
        self._state.save(out_bill_no, entry.record())
        self._bills[out_bill_no] = entry

    # TransferClient

    def create_bill(self, out_bill_no: str, openid: str, amount_fen: int, remark: str,
                    user_name: str) -> TransferBill:
        body, headers = bill_request(self.config, self.scene, out_bill_no, openid, amount_fen, remark, user_name)
        return self.receive_bill(body, headers)

    def receive_bill(self, body: dict[str, Any], headers: dict[str, str]) -> TransferBill:
        """A create request as WeChat Pay receives it (the body of ``bill_request``)."""
        out_bill_no = check_out_bill_no(body["out_bill_no"])
        request = _Request(body["openid"], body["transfer_amount"], body["transfer_remark"][:32], "user_name" in body,
                           self._decrypted_name(body, headers))
        with self._lock:
            known = self._find(out_bill_no)
            if known is not None:
                if known.request != request:
                    raise TransferRejected("单号已存在但信息不一致,请查单后比较确认", wechat_code="INVALID_REQUEST",
                                           wechat_status=400)
                return _as_created(known.bill)
            _check_request(request)
            if self.balance_too_low:
                raise TransferRejected("商户运营账户资金不足,充值后可以原单号发起重试,请勿更换商户单号",
                                       wechat_code="NOT_ENOUGH", wechat_status=403)
            now = self._clock()
            bill = TransferBill(out_bill_no=out_bill_no, transfer_bill_no=_bill_number(now),
                                state=TransferState.WAIT_USER_CONFIRM, amount_fen=request.amount_fen,
                                package_info=_package_info(), updated_at=now)
            self._keep(out_bill_no, _Entry(request, bill, now))
            return _as_created(bill)

    def _decrypted_name(self, body: dict[str, Any], headers: dict[str, str]) -> str | None:
        """``user_name`` in clear: sealed under our platform key (named in ``Wechatpay-Serial``)."""
        if "user_name" not in body:
            return None
        if headers.get("Wechatpay-Serial") != self.config.platform_key_id:
            raise TransferRejected("Wechatpay-Serial 与加密公钥不一致", wechat_code="PARAM_ERROR", wechat_status=400)
        if self._platform_private is None:  # a real WeChat Pay public key: only WeChat could read it
            return None
        try:
            return decrypt_sensitive(self._platform_private, body["user_name"])
        except ValueError as exc:
            raise TransferRejected("请确认待处理的消息是否为加密后的密文", wechat_code="PARAM_ERROR",
                                   wechat_status=400) from exc

    def query_bill(self, out_bill_no: str) -> TransferBill | None:
        with self._lock:
            known = self._find(check_out_bill_no(out_bill_no))
            return None if known is None else known.bill

    def cancel_bill(self, out_bill_no: str) -> TransferBill:
        """Cancels at once (WeChat passes through CANCELING); a cancelled bill cancels again."""
        with self._lock:
            known = self._find(check_out_bill_no(out_bill_no))
            if known is None:
                raise TransferRejected("记录不存在", wechat_code="NOT_FOUND", wechat_status=404)
            bill = known.bill
            if bill.state is not TransferState.CANCELLED:
                if bill.state not in _CANCELLABLE:
                    raise TransferRejected(f"单据状态为{bill.state},不可撤销", wechat_code="INVALID_REQUEST",
                                           wechat_status=400)
                bill = known.bill = replace(bill, state=TransferState.CANCELLED, package_info=None,
                                            updated_at=self._clock())
                self._keep(out_bill_no, known)
            return TransferBill(out_bill_no=out_bill_no, transfer_bill_no=bill.transfer_bill_no, state=bill.state,
                                updated_at=bill.updated_at)

    # Playing the user and WeChat Pay's notifications

    def confirm(self, out_bill_no: str, outcome: str, now: datetime) -> tuple[dict[str, str], bytes]:
        """End the bill as ``outcome`` (success | fail | cancel) and return the signed notification.

        ``success`` on a bill whose ``user_name`` is not the account's real name (``know_real_name``)
        ends it ``FAIL`` with ``NAME_NOT_CORRECT`` instead: WeChat checks the name when the money
        moves. A bill that ended the same way already gives the notification again (WeChat Pay
        repeats them); one that ended otherwise raises ValueError, as does an unknown bill or outcome.
        """
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome is one of {sorted(OUTCOMES)}")
        state, fail_reason = OUTCOMES[outcome]
        signer = self._signer()
        with self._lock:
            entry = self._find(out_bill_no)
            if entry is None:
                raise ValueError(f"the simulator has no transfer bill {out_bill_no}")
            if outcome == "success" and not self._name_matches(entry.request):
                state, fail_reason = TransferState.FAIL, NAME_NOT_CORRECT
            if entry.bill.state in _OPEN:
                entry.bill = replace(entry.bill, state=state, fail_reason=fail_reason, package_info=None, updated_at=now)
                self._keep(out_bill_no, entry)
            elif entry.bill.state is not state:
                raise ValueError(f"transfer bill {out_bill_no} ended as {entry.bill.state} already")
            resource = self._resource(entry, now)
        return self._notification(signer, now, resource)

    def _name_matches(self, request: _Request) -> bool:
        """Whether the bill's name is the account's (called under the lock). A bill without a
        name, or whose name could not be read, is not compared; nor is an account of unknown name."""
        known = self._real_names.get(request.openid)
        return known is None or request.user_name is None or request.user_name == known

    def _signer(self) -> str:
        if self._platform_private is None:
            raise SimulatorCannotSign(
                "the simulator verifies with a real WeChat Pay public key but holds no matching private key: set "
                "WECHAT_PAY_SIMULATOR_PLATFORM_PRIVATE_KEY, or leave the platform key settings unset in simulator mode")
        return self._platform_private

    def _resource(self, entry: _Entry, now: datetime) -> dict[str, object]:
        """The decrypted resource of the notification, as WeChat Pay documents it."""
        bill = entry.bill
        resource: dict[str, object] = {
            "mchid": self.config.mch_id, "out_bill_no": bill.out_bill_no, "transfer_bill_no": bill.transfer_bill_no,
            "state": str(bill.state), "transfer_amount": entry.request.amount_fen, "openid": entry.request.openid,
            "create_time": _beijing(entry.created_at), "update_time": _beijing(bill.updated_at or now)}
        if bill.fail_reason:
            resource["fail_reason"] = bill.fail_reason
        return resource

    def _notification(self, signer: str, now: datetime, resource: dict[str, object]) -> tuple[dict[str, str], bytes]:
        plaintext = json.dumps(resource, ensure_ascii=False, separators=(",", ":")).encode()
        body = json.dumps({
            "id": "EV-" + secrets.token_hex(10), "create_time": _beijing(now), "resource_type": "encrypt-resource",
            "event_type": TRANSFER_EVENT, "summary": "商家转账单据终态通知",
            "resource": encrypt_resource(self.config.apiv3_key, plaintext, associated_data="mch_payment",
                                         nonce=new_nonce(12), original_type="mch_payment"),
        }, ensure_ascii=False, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json"}
        headers.update(sign_headers(body, private_key_pem=signer, key_id=self.config.platform_key_id,
                                    timestamp=int(now.timestamp()), nonce=new_nonce()))
        return headers, body


def _check_request(request: _Request) -> None:
    """WeChat Pay's own refusals of a new bill's parameters."""
    if request.amount_fen < 1:
        raise TransferRejected("转账金额不合法", wechat_code="PARAM_ERROR", wechat_status=400)
    if request.amount_fen >= NAME_REQUIRED_FROM_FEN and not request.named:
        raise TransferRejected("转账金额>=2000元时,收款用户姓名必填", wechat_code="PARAM_ERROR", wechat_status=400)
    if not request.openid or not request.remark:
        raise TransferRejected("openid和转账备注必填", wechat_code="PARAM_ERROR", wechat_status=400)


def _as_created(bill: TransferBill) -> TransferBill:
    """What a create answer carries: everything but the amount."""
    return replace(bill, amount_fen=None)


def _bill_number(now: datetime) -> str:
    return "1330000" + now.astimezone(SHANGHAI).strftime("%Y%m%d") + "".join(
        secrets.choice("0123456789") for _ in range(20))


def _package_info() -> str:
    return base64.b64encode(b"SIMPKG" + secrets.token_bytes(42)).decode()


def _beijing(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).replace(microsecond=0).isoformat()

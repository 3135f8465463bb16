"""WeChat's ``upload_shipping_info`` played locally, speaking its protocol: the production code
builds the body (``shipping.upload_body``) and the simulator checks it as WeChat does, answers
``{"errcode","errmsg"}`` and remembers what was reported per payment (a ``SimulatorState``: in
DynamoDB with the mall's data in simulator mode, like the Pay simulator's orders).

It checks the payment against the Pay simulator's memory when given it (``payments``): a payment
it never saw paid is ``10060001 支付单不存在``, another payer's openid a ``47001``. WeChat lets a
payment's shipping information be updated once: the third report of a payment is ``10060003``.

Told to fail: ``fail(errcode, times)`` answers ``errcode`` (None: unreachable, raising
Unavailable) to the next ``times`` uploads; a tracking number starting ``SIMDOWN`` is always
unreachable and one starting ``SIMBUSY`` always busy (-1), so ``make dev`` can play both.
"""
from __future__ import annotations

import re
import threading
from datetime import datetime
from typing import Any

from chalicelib.domain.errors import Unavailable
from chalicelib.domain.fulfilment import CARRIERS, CONTACT_REQUIRED, Shipment, Verdict
from chalicelib.wechat.shipping import ERRMSG, MAX_ITEM_DESC, upload_body, verdict
from chalicelib.wechat.simulator_state import MemoryState, Record, SimulatorState

_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$")
_MASKED = re.compile(r"^[0-9+\-]*\*+[0-9]{4}$")
UPDATES_ALLOWED = 1


class ShippingSimulator:
    def __init__(self, mch_id: str, state: SimulatorState | None = None,
                 payments: SimulatorState | None = None) -> None:
        self.mch_id = mch_id
        self._state = state or MemoryState()
        self._payments = payments
        self._lock = threading.Lock()
        self._failures: list[int | None] = []
        self.calls = 0

    def fail(self, errcode: int | None, times: int = 1) -> None:
        """Answer ``errcode`` (None: unreachable) to the next ``times`` uploads."""
        with self._lock:
            self._failures += [errcode] * times

    def reports(self, out_trade_no: str) -> list[dict[str, Any]]:
        """The bodies WeChat accepted for a payment, in order."""
        record = self._state.load(out_trade_no)
        return list(record["reports"]) if record else []

    # the port -----------------------------------------------------------------------------

    def upload(self, shipment: Shipment, now: datetime) -> tuple[Verdict, str | None]:
        return verdict(self.receive(upload_body(shipment, self.mch_id, now)))

    def receive(self, body: dict[str, Any]) -> dict[str, Any]:
        """WeChat's answer to one ``upload_shipping_info`` body."""
        with self._lock:
            self.calls += 1
            if self._failures:
                errcode = self._failures.pop(0)
                if errcode is None:
                    raise Unavailable("WeChat shipping report is unreachable (simulated); retry")
                return _answer(errcode)
            tracking = _tracking(body)
            if tracking.startswith("SIMDOWN"):
                raise Unavailable("WeChat shipping report is unreachable (simulated); retry")
            if tracking.startswith("SIMBUSY"):
                return _answer(-1)
            problem = self._check(body)
            if problem is not None:
                return problem
            out_trade_no = body["order_key"]["out_trade_no"]
            record: Record = self._state.load(out_trade_no) or {"reports": []}
            if len(record["reports"]) > UPDATES_ALLOWED:
                return _answer(10060003)
            if record["reports"] and body["upload_time"] <= record["reports"][-1]["upload_time"]:
                return _answer(47001, "upload_time must be later than the previous upload's")
            record["reports"].append(body)
            self._state.save(out_trade_no, record)
            return _answer(0)

    def _check(self, body: dict[str, Any]) -> dict[str, Any] | None:
        key = body.get("order_key")
        if not isinstance(key, dict) or key.get("order_number_type") != 1 or key.get("mchid") != self.mch_id \
                or not isinstance(key.get("out_trade_no"), str) or not key["out_trade_no"]:
            return _answer(47001, "order_key")
        if body.get("logistics_type") not in (1, 2, 3, 4):
            return _answer(10060005)
        items = body.get("shipping_list")
        if body.get("delivery_mode") != 1 or not isinstance(items, list) or len(items) != 1 \
                or not isinstance(items[0], dict):
            return _answer(47001, "unified delivery has exactly one shipping_list entry")
        item = items[0]
        if not isinstance(item.get("item_desc"), str) or not item["item_desc"]:
            return _answer(10060008)
        if len(item["item_desc"]) > MAX_ITEM_DESC:
            return _answer(10060009)
        if body["logistics_type"] == 1:
            problem = _express(item)
            if problem is not None:
                return problem
        if not isinstance(body.get("upload_time"), str) or not _RFC3339.match(body["upload_time"]):
            return _answer(268485216)
        payer = body.get("payer")
        openid = payer.get("openid") if isinstance(payer, dict) else None
        if not isinstance(openid, str) or not openid:
            return _answer(47001, "payer.openid")
        return self._check_payment(key["out_trade_no"], openid)

    def _check_payment(self, out_trade_no: str, openid: str) -> dict[str, Any] | None:
        if self._payments is None:
            return None
        payment = self._payments.load(out_trade_no)
        if payment is None or not payment.get("transaction_id"):
            return _answer(10060001)
        if payment.get("state") in ("REFUND", "CLOSED"):
            return _answer(10060004)
        if payment.get("openid") != openid:
            return _answer(47001, "payer.openid is not the payer's")
        return None


def _express(item: dict[str, Any]) -> dict[str, Any] | None:
    tracking, company = item.get("tracking_no"), item.get("express_company")
    if not isinstance(tracking, str) or not 1 <= len(tracking.encode()) <= 128:
        return _answer(10060026 if isinstance(tracking, str) and tracking else 47001, "tracking_no")
    if not isinstance(company, str) or not company:
        return _answer(47001, "express_company")
    if len(company) > 128:
        return _answer(10060025)
    if company not in CARRIERS:
        return _answer(47001, f"express_company {company} is not a delivery id")
    contact = item.get("contact")
    receiver = contact.get("receiver_contact") if isinstance(contact, dict) else None
    if company in CONTACT_REQUIRED and not receiver:
        return _answer(47001, "contact is required for this express company")
    if receiver is not None and (not isinstance(receiver, str) or not _MASKED.match(receiver)):
        return _answer(47001, "receiver_contact must be masked, its last 4 digits clear")
    return None


def _tracking(body: dict[str, Any]) -> str:
    items = body.get("shipping_list")
    if isinstance(items, list) and items and isinstance(items[0], dict):
        return str(items[0].get("tracking_no") or "")
    return ""


def _answer(errcode: int, detail: str | None = None) -> dict[str, Any]:
    message = ERRMSG.get(errcode, "error")
    return {"errcode": errcode, "errmsg": f"{message}: {detail}" if detail else message}

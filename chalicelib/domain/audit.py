"""The audit log's entry: who did what to which object, when, and the object before and after.

Every admin action writes one entry **in the same transaction as the change it records**
(``store/audit.py``), so the log can neither miss a change nor name one that did not happen.
``before`` and ``after`` are the parts of the object the action may change, as JSON-able
values (``None``: the object did not exist before, or no longer exists after)."""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from chalicelib.domain.invariants import holds


class Action(StrEnum):
    """What an admin did (the ``action`` filter of ``GET /v1/admin/audit``)."""

    SETTINGS_UPDATE = "settings.update"
    SETTINGS_ROLLBACK = "settings.rollback"
    PRODUCT_CREATE = "product.create"
    PRODUCT_UPDATE = "product.update"
    PRODUCT_RESTOCK = "product.restock"
    ORDER_SHIP = "order.ship"
    USER_TIER = "user.tier"
    USER_FREEZE = "user.freeze"
    USER_UNFREEZE = "user.unfreeze"
    USER_PROMOTER = "user.promoter"
    REVIEW_APPROVE = "review.approve"
    REVIEW_REJECT = "review.reject"
    WITHDRAWAL_APPROVE = "withdrawal.approve"
    WITHDRAWAL_REJECT = "withdrawal.reject"
    LEXICON_EDIT = "lexicon.edit"
    MATERIAL_CREATE = "material.create"
    UPLOAD_CREATE = "upload.create"
    SUPPORT_REPLY = "support.reply"
    SUPPORT_CLOSE = "support.close"
    CASE_APPROVE = "after_sales.approve"
    CASE_REJECT = "after_sales.reject"
    CASE_RECEIVE = "after_sales.receive"
    CONSOLE_SIGN_IN = "console.sign_in"
    CONSOLE_SIGN_OUT = "console.sign_out"
    PROMOTION_CREATE = "promotion.create"
    PROMOTION_END = "promotion.end"


# An entry's before/after together stay far below DynamoDB's 400 KB item limit; an action whose
# object is larger records a summary instead (the store refuses a larger entry).
MAX_STATE_BYTES = 100_000


def _entry_id() -> str:
    return secrets.token_hex(8)


@dataclass(frozen=True)
class AuditEntry:
    actor_id: str
    action: Action
    target: str  # the object acted on, typed: "product#p1a2", "order#o9", "user#u3", "settings#7"
    at: datetime
    before: Any = None
    after: Any = None
    reason: str | None = None
    entry_id: str = field(default_factory=_entry_id)

    def __post_init__(self) -> None:
        holds(self.at.tzinfo is not None, "an audit time is aware")
        holds(len(self.state_json()) <= MAX_STATE_BYTES, "an audit entry's states fit its item")

    def state_json(self) -> str:
        return json.dumps({"before": self.before, "after": self.after}, ensure_ascii=False, sort_keys=True,
                          default=str)


def audit(actor_id: str, action: Action, target: str, at: datetime, before: Any = None, after: Any = None,
          reason: str | None = None) -> AuditEntry:
    """An entry (the one way services build them)."""
    return AuditEntry(actor_id, action, target, at, before, after, reason)

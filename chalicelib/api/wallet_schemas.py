"""Request and answer models of the wallet area: real-name verification and withdrawals (docs/wallet.md).
Names are unique across schema modules (openapi.py checks)."""
from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, StringConstraints

from chalicelib.api.schemas import AnswerModel, QueryModel, RequestModel
from chalicelib.domain.clock import iso
from chalicelib.domain.withdrawals import Withdrawal

# Lengths are checked by the service (a name is 2–30 characters once trimmed); this bounds the input.
Bounded = Annotated[str, StringConstraints(max_length=64)]


class RealNameBody(RequestModel):
    name: Bounded
    id_number: Bounded = Field(description="18-digit resident ID number (the last character may be X)")


class RealNameAnswer(AnswerModel):
    real_name_verified: bool
    id_number_masked: str = Field(description="e.g. 110***********002X; the number itself is never stored")


# Withdrawals (docs/wallet.md) ---------------------------------------------------------------

class WithdrawalBody(RequestModel):
    amount_fen: int = Field(gt=0, le=100_000_000, description="fen to withdraw from the available balance")


class RejectBody(RequestModel):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = ""


class WithdrawalQuery(QueryModel):
    limit: int = Field(default=20, ge=1, le=100)
    next: str | None = Field(default=None, max_length=2048)


class WithdrawalOut(AnswerModel):
    withdrawal_id: str
    user_id: str
    amount_fen: int
    status: str = Field(description="reviewing | transferring | wait_user_confirm | paid | returned")
    requested_at: str
    out_bill_no: str = Field(description="the merchant bill number at WeChat Pay: one per withdrawal")
    transfer_bill_no: str | None
    package_info: str | None = Field(description="while wait_user_confirm: pass to wx.requestMerchantTransfer")
    mch_id: str | None = Field(description="while wait_user_confirm: the merchant id wx.requestMerchantTransfer needs")
    app_id: str | None = Field(description="while wait_user_confirm: the app id wx.requestMerchantTransfer needs")
    reason: str | None
    decided_by: str | None
    finished_at: str | None

    @classmethod
    def of(cls, w: Withdrawal, mch_id: str, app_id: str) -> WithdrawalOut:
        waiting = w.package_info is not None
        return cls(withdrawal_id=w.withdrawal_id, user_id=w.user_id, amount_fen=w.amount_fen, status=w.status.value,
                   requested_at=iso(w.requested_at), out_bill_no=w.out_bill_no, transfer_bill_no=w.transfer_bill_no,
                   package_info=w.package_info, mch_id=mch_id if waiting else None,
                   app_id=app_id if waiting else None, reason=w.reason, decided_by=w.decided_by,
                   finished_at=iso(w.finished_at) if w.finished_at else None)


class WithdrawalsPage(AnswerModel):
    items: list[WithdrawalOut]
    next: str | None


class TransferNotifyAnswer(AnswerModel):
    code: str
    message: str


class DevTransferBody(RequestModel):
    outcome: Annotated[str, StringConstraints(pattern="^(success|fail|cancel)$")] = "success"


class DevTransferAnswer(AnswerModel):
    withdrawal: WithdrawalOut
    notification: dict[str, Any]

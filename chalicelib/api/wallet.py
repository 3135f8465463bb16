"""The wallet area: real-name verification and withdrawals (the balance and commission views
live with orders)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint

from chalicelib.api.errors import CannotSign
from chalicelib.api.http import Call, endpoint
from chalicelib.domain.errors import Kind, error
from chalicelib.lazy import lazy

M = "chalicelib.api.wallet_schemas"
if TYPE_CHECKING:
    from chalicelib.api import wallet_schemas as s
    from chalicelib.domain.withdrawals import Withdrawal
    from chalicelib.services import identity, withdrawals
else:
    s, identity, withdrawals = lazy(M), lazy("chalicelib.services.identity"), lazy("chalicelib.services.withdrawals")

bp = Blueprint(__name__)
NoTransferYet = error("NO_TRANSFER_YET", Kind.CONFLICT,
                      "The withdrawal has no transfer bill at WeChat Pay (under review, or not created yet).")
# In the order they are checked (docs/wallet.md "Refusal order").
REQUEST_ERRORS = ("VALIDATION_FAILED", "IDEMPOTENCY_KEY_REQUIRED", "ACCOUNT_FROZEN", "IDEMPOTENCY_KEY_REUSED",
                  "REAL_NAME_REQUIRED",
                  "BELOW_MINIMUM", "INSUFFICIENT_BALANCE", "DAILY_LIMIT_EXCEEDED")


def _out(w: Withdrawal, call: Call) -> s.WithdrawalOut:
    settings = call.deps.settings
    return s.WithdrawalOut.of(w, settings.wechat_pay_mch_id or "simulator", settings.wechat_app_id)


def _page(items: list[Withdrawal], next_cursor: str | None, call: Call) -> s.WithdrawalsPage:
    return s.WithdrawalsPage(items=[_out(w, call) for w in items], next=next_cursor)


@endpoint(bp, "/v1/me/real-name", "POST", tag="wallet", models=M, body="RealNameBody", response="RealNameAnswer",
          summary="Verify the caller's real name with an 18-digit resident ID number (needed to withdraw)",
          errors=("INVALID_ID_NUMBER", "VALIDATION_FAILED", "REAL_NAME_ALREADY_VERIFIED", "ID_NUMBER_IN_USE"))
def verify_real_name(call: Call) -> s.RealNameAnswer:
    parsed = identity.verify_real_name(call.user_id, call.body.name, call.body.id_number, call.deps)
    return s.RealNameAnswer(real_name_verified=True, id_number_masked=parsed.masked)


@endpoint(bp, "/v1/me/withdrawals", "POST", tag="wallet", status=201, models=M, body="WithdrawalBody",
          response="WithdrawalOut", errors=REQUEST_ERRORS,
          summary="Withdraw from the available balance (Idempotency-Key header required): paid out by WeChat "
                  "Pay's merchant transfer, or queued for review above the threshold", idempotent=True)
def request_withdrawal(call: Call) -> s.WithdrawalOut:
    return _out(withdrawals.request_withdrawal(call.user_id, call.body.amount_fen, call.idempotency_key, call.deps),
                call)


@endpoint(bp, "/v1/me/withdrawals", tag="wallet", models=M, query="WithdrawalQuery", response="WithdrawalsPage",
          summary="The caller's withdrawals, newest first", errors=("INVALID_CURSOR",))
def my_withdrawals(call: Call) -> s.WithdrawalsPage:
    return _page(*withdrawals.mine(call.user_id, call.query.limit, call.query.next, call.deps), call)


@endpoint(bp, "/v1/me/withdrawals/{withdrawal_id}", tag="wallet", models=M, response="WithdrawalOut",
          summary="One of the caller's withdrawals (with package_info while it waits for the user's confirmation)",
          errors=("WITHDRAWAL_NOT_FOUND",))
def my_withdrawal(call: Call) -> s.WithdrawalOut:
    return _out(withdrawals.one_of_mine(call.params["withdrawal_id"], call.user_id, call.deps), call)


@endpoint(bp, "/v1/admin/withdrawals", auth="admin", tag="wallet", models=M, query="WithdrawalQuery",
          response="WithdrawalsPage", summary="The review queue: withdrawals above the threshold, oldest first",
          errors=("INVALID_CURSOR",))
def withdrawal_queue(call: Call) -> s.WithdrawalsPage:
    return _page(*withdrawals.review_queue(call.query.limit, call.query.next, call.deps), call)


@endpoint(bp, "/v1/admin/withdrawals/{withdrawal_id}/approve", "POST", auth="admin", tag="wallet", models=M,
          response="WithdrawalOut", summary="Approve a withdrawal under review: it is paid out at once "
                                            "(403 ACCOUNT_FROZEN while its distributor is frozen)",
          errors=("WITHDRAWAL_NOT_FOUND", "NOT_UNDER_REVIEW", "ACCOUNT_FROZEN"))
def approve_withdrawal(call: Call) -> s.WithdrawalOut:
    return _out(withdrawals.approve(call.params["withdrawal_id"], call.user_id, call.deps), call)


@endpoint(bp, "/v1/admin/withdrawals/{withdrawal_id}/reject", "POST", auth="admin", tag="wallet", models=M,
          body="RejectBody", response="WithdrawalOut",
          summary="Reject a withdrawal under review: the amount returns to the available balance",
          errors=("WITHDRAWAL_NOT_FOUND", "NOT_UNDER_REVIEW", "VALIDATION_FAILED"))
def reject_withdrawal(call: Call) -> s.WithdrawalOut:
    return _out(withdrawals.reject(call.params["withdrawal_id"], call.user_id, call.body.reason, call.deps), call)


@endpoint(bp, "/v1/wechat/transfer/notify", "POST", auth="public", tag="wallet", models=M,
          response="TransferNotifyAnswer", errors=("INVALID_SIGNATURE", "PAYMENT_MISMATCH"),
          summary="WeChat Pay merchant-transfer notification (MCHTRANSFER.BILL.FINISHED): verified, then applied once")
def transfer_notify(call: Call) -> s.TransferNotifyAnswer:
    withdrawals.handle_transfer_notification(call.headers, call.raw_body, call.deps)
    return s.TransferNotifyAnswer(code="SUCCESS", message="OK")


@endpoint(bp, "/v1/dev/transfers/{withdrawal_id}", "POST", auth="simulator", tag="simulator", models=M,
          body="DevTransferBody", response="DevTransferAnswer",
          errors=("WITHDRAWAL_NOT_FOUND", "NO_TRANSFER_YET", "SIMULATOR_CANNOT_SIGN", "NOT_FOUND"),
          summary="Play the payee and WeChat Pay: confirm (or fail, cancel) a transfer and deliver its notification")
def dev_transfer(call: Call) -> s.DevTransferAnswer:
    from chalicelib.domain.withdrawals import WithdrawalNotFound

    withdrawal = call.deps.withdrawals.get(call.params["withdrawal_id"])
    if withdrawal is None:
        raise WithdrawalNotFound("no such withdrawal")
    from chalicelib.wechat.pay_simulator import SimulatorCannotSign

    try:
        headers, body = call.deps.transfers.confirm(  # type: ignore[attr-defined]
            withdrawal.out_bill_no, call.body.outcome, call.deps.clock())
    except SimulatorCannotSign as exc:
        raise CannotSign(str(exc)) from exc
    except ValueError as exc:
        raise NoTransferYet(str(exc)) from exc
    after = withdrawals.handle_transfer_notification(headers, body, call.deps) or withdrawal
    return s.DevTransferAnswer(withdrawal=_out(after, call), notification={"headers": headers, "body": body.decode()})

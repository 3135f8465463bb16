"""The one mapping from domain errors to HTTP (API.md "Errors")."""
from __future__ import annotations

import json
from typing import Any

from chalice import Response

from chalicelib.domain.errors import DomainError, Kind, error

# The simulator routes' refusal (POST /v1/dev/pay/{order_id}, /v1/dev/transfers/{withdrawal_id}),
# as the Pay twin answers it: the simulator cannot sign for a real platform key.
CannotSign = error("SIMULATOR_CANNOT_SIGN", Kind.CONFLICT,
                   "A real platform public key is configured without its private key: the outside party signs.")

STATUS = {
    Kind.BAD_REQUEST: 400,
    Kind.UNAUTHENTICATED: 401,
    Kind.FORBIDDEN: 403,
    Kind.NOT_FOUND: 404,
    Kind.CONFLICT: 409,
    Kind.TOO_LARGE: 413,
    Kind.INVALID: 422,
    Kind.UNAVAILABLE: 503,
}

# Chalice answers some requests itself (unknown method, wrong content type, crashes); their
# bodies are rewritten into ours so that every error a client sees has the same shape.
CHALICE_CODES = {
    "BadRequestError": "BAD_REQUEST",
    "BadRequest": "BAD_REQUEST",  # a binary answer (the poster's PNG) to a request whose Accept refuses it
    "UnauthorizedError": "UNAUTHENTICATED",
    "ForbiddenError": "FORBIDDEN",
    "NotFoundError": "NOT_FOUND",
    "MethodNotAllowedError": "METHOD_NOT_ALLOWED",
    "UnsupportedMediaType": "UNSUPPORTED_MEDIA_TYPE",
    "RequestTimeoutError": "REQUEST_TIMEOUT",
    "TooManyRequestsError": "TOO_MANY_REQUESTS",
    "InternalServerError": "INTERNAL_ERROR",
}

JSON_HEADERS = {"Content-Type": "application/json; charset=utf-8"}


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(body=json.dumps(body, ensure_ascii=False, separators=(",", ":")), status_code=status,
                    headers={**JSON_HEADERS, **(headers or {})})


def error_body(code: str, message: str, **details: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, **details}}


def error_response(exc: DomainError) -> Response:
    headers = {"Retry-After": "1"} if exc.kind is Kind.UNAVAILABLE else None
    return json_response(error_body(exc.code, exc.message, **exc.details), STATUS[exc.kind], headers)


# AWS's answers that mean "too busy right now": the same request may succeed when retried. A plain
# write still meeting a transaction in flight after the client's own retries (store/conflicts.py)
# is one of them.
BUSY_CODES = frozenset({"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
                        "TransactionInProgressException", "TransactionConflictException", "InternalServerError",
                        "ServiceUnavailable"})
# botocore's errors of a call that did not answer (it may or may not have been applied).
UNANSWERED = frozenset({"ReadTimeoutError", "ConnectTimeoutError", "EndpointConnectionError", "ConnectionClosedError"})


def database_busy(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) is DynamoDB throttling, a transient AWS error or a call
    that timed out: the client should retry the same request, so it is a 503, not a 500. Judged by
    names, so that this module imports neither botocore nor PynamoDB."""
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            return False
        code = getattr(seen, "cause_response_code", None)
        response = getattr(seen, "response", None)
        if code is None and isinstance(response, dict):
            code = response.get("Error", {}).get("Code")
        if code in BUSY_CODES or any(cls.__name__ in UNANSWERED for cls in type(seen).__mro__):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def normalise_chalice_error(response: Response) -> Response:
    """Rewrite Chalice's own ``{"Code", "Message"}`` error bodies into ours."""
    body = response.body
    if response.status_code >= 400 and isinstance(body, dict) and "Code" in body:
        code = CHALICE_CODES.get(str(body["Code"]), "ERROR")
        message = "an internal error occurred" if response.status_code >= 500 else str(body.get("Message", ""))
        return json_response(error_body(code, message), response.status_code)
    return response

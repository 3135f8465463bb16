"""The route decorator: every endpoint declares its auth, body, query and answer models once.

The same declarations validate requests, shape answers and generate ``/v1/openapi.json``, so
the documented contract cannot drift from what the code does.
"""
from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, cast

from chalice import Blueprint, Response

from chalicelib.api.errors import database_busy, error_response, json_response
from chalicelib.domain.errors import (
    BodyTooLarge,
    DomainError,
    Forbidden,
    MalformedJson,
    NotFound,
    Unauthenticated,
    Unavailable,
    ValidationFailed,
)
from chalicelib.lazy import load

if TYPE_CHECKING:
    from pydantic import BaseModel

    from chalicelib.bootstrap import Deps
    from chalicelib.services.sessions import Caller

SCHEMAS = "chalicelib.api.schemas"
# The Idempotency-Key header of the routes declared ``idempotent`` (API.md "Conventions").
IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")
IDEMPOTENCY_KEY_HELP = "send an Idempotency-Key header (letters, digits, - and _; up to 64)"
LOG_IN_FIRST = "log in first: send Authorization: Bearer <token>"
# Every id we issue is far shorter (an order id is 27 characters); 128 characters are at most 512
# bytes, under DynamoDB's 1,024-byte sort keys even with a prefix.
MAX_PATH_ID_CHARS = 128

Auth = Literal["public", "user", "admin", "simulator"]


@dataclass(frozen=True)
class RouteSpec:
    path: str
    method: str
    name: str
    auth: Auth
    summary: str
    tag: str
    status: int = 200
    body_name: str | None = None  # model names in ``models`` (a module path), loaded lazily
    query_name: str | None = None
    response_name: str | None = None
    errors: tuple[str, ...] = ()
    models: str = SCHEMAS
    produces: str = "application/json"  # another type: the handler returns a chalice Response of it
    alt_statuses: tuple[int, ...] = ()  # other success statuses the handler answers with the same model
    idempotent: bool = False  # the Idempotency-Key header is required (Call.idempotency_key)

    def _model(self, name: str | None) -> type[BaseModel] | None:
        return getattr(load(self.models), name) if name else None

    @property
    def body(self) -> type[BaseModel] | None:
        return self._model(self.body_name)

    @property
    def query(self) -> type[BaseModel] | None:
        return self._model(self.query_name)

    @property
    def response(self) -> type[BaseModel] | None:
        return self._model(self.response_name)


ROUTES: list[RouteSpec] = []


@dataclass
class Call:
    """What a handler gets: the authenticated caller, the validated inputs and the adapters."""

    authenticated: Caller | None  # None on public and simulator routes
    params: dict[str, str]
    deps: Deps
    body: Any = None
    query: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw_body: bytes = b""
    idempotency_key: str = ""  # validated, on routes declared ``idempotent``

    @property
    def caller(self) -> Caller:
        """The authenticated caller; Unauthenticated (401) on a route that authenticates nobody."""
        if self.authenticated is None:
            raise Unauthenticated(LOG_IN_FIRST)
        return self.authenticated

    @property
    def user_id(self) -> str:
        return self.caller.user_id


Handler = Callable[[Call], Any]


def endpoint(bp: Blueprint, path: str, method: str = "GET", *, auth: Auth = "user", summary: str, tag: str,
             status: int = 200, body: str | None = None, query: str | None = None,
             response: str | None = None, errors: tuple[str, ...] = (),
             models: str = SCHEMAS, produces: str = "application/json",
             alt_statuses: tuple[int, ...] = (), idempotent: bool = False,
             content_types: tuple[str, ...] = ()) -> Callable[[Handler], Handler]:
    """Declare a route. ``body``, ``query`` and ``response`` name pydantic models of the module
    ``models`` (an area's own schemas module; default ``chalicelib.api.schemas``), loaded on the
    route's first request. A route that ``produces`` another media type than JSON (e.g.
    ``text/html``) returns a chalice Response, as does one that answers ``alt_statuses`` besides
    ``status`` (e.g. 202 for a request held for review); both are documented in
    ``/v1/openapi.json``. An ``idempotent`` route requires the Idempotency-Key header
    (IDEMPOTENCY_KEY_REQUIRED otherwise) and hands it to the handler as ``call.idempotency_key``.
    ``content_types``: request media types accepted besides JSON (a body the handler reads from
    ``call.raw_body``, e.g. a carrier's form push)."""

    if idempotent != ("IDEMPOTENCY_KEY_REQUIRED" in errors):
        raise ValueError(f"{method} {path}: a route is idempotent exactly when it lists IDEMPOTENCY_KEY_REQUIRED")

    def register(handler: Handler) -> Handler:
        spec = RouteSpec(path, method, handler.__name__, auth, summary, tag, status, body, query, response, errors,
                         models, produces, alt_statuses, idempotent)
        ROUTES.append(spec)

        @functools.wraps(handler)
        def view(**params: str) -> Response:
            try:
                result = handler(_call(bp, spec, params))
            except DomainError as exc:
                return error_response(exc)
            except Exception as exc:
                if not database_busy(exc):
                    _log_crash(spec)
                    raise
                _log_busy(spec, exc)
                return error_response(Unavailable("the database is busy; retry the same request"))
            if isinstance(result, Response):
                return result
            return json_response(result.model_dump(mode="json"), spec.status)

        bp.route(path, methods=[method], content_types=["application/json", "text/plain", *content_types])(view)
        return handler

    return register


def _log_crash(spec: RouteSpec) -> None:
    """A bug answered 500: its traceback in the logs (chalice's own log has no handler here)."""
    from chalicelib.observability import logger

    logger().exception("unhandled error: answered 500", extra={"route": spec.path})


def _log_busy(spec: RouteSpec, exc: Exception) -> None:
    from chalicelib.observability import logger

    logger().warning("database busy: answered 503", extra={"route": spec.path, "error": repr(exc)[:300]})


def _call(bp: Blueprint, spec: RouteSpec, params: dict[str, str]) -> Call:
    from chalicelib.bootstrap import default_deps

    request = bp.current_request
    deps = default_deps()
    if spec.auth == "simulator" and not deps.settings.simulator:
        raise NotFound("no such route")
    headers = {k.lower(): v for k, v in (request.headers or {}).items()}
    caller = None if spec.auth in ("public", "simulator") else _authenticate(headers, deps)
    if spec.auth == "admin" and not (caller and caller.is_admin):
        raise Forbidden("this needs an admin")
    refuse_impossible_ids(spec, params)
    if caller is not None:
        _visited(caller.user_id, deps)
    raw = request.raw_body or b""
    call = Call(caller, params, deps, headers=headers, raw_body=raw.encode() if isinstance(raw, str) else raw)
    if len(call.raw_body) > deps.settings.max_body_bytes:
        raise BodyTooLarge(f"the body is over {deps.settings.max_body_bytes} bytes")
    if spec.body is not None:
        call.body = parse_body(request.raw_body, spec.body, deps.settings.max_body_bytes)
    if spec.query is not None:
        call.query = _validate(spec.query, dict(request.query_params or {}))
    if spec.idempotent:
        call.idempotency_key = idempotency_key(headers)
    return call


def _visited(user_id: str, deps: Deps) -> None:
    """An authenticated request makes its user a visitor of the day (DOMAIN.md §9): free once
    this process has marked them today, else one write; never fails the request."""
    from chalicelib.services.visits import visited

    visited(deps, user_id, deps.clock())


def refuse_impossible_ids(spec: RouteSpec, params: dict[str, str]) -> None:
    """A path id that no object can have (longer than any id we issue, or holding control
    characters) is answered as a missing object, with the route's own not-found code, before any
    database call: DynamoDB refuses keys over 1,024 bytes (sort) or 2,048 (partition) with an error
    that is not the caller's business."""
    for name, value in params.items():
        if len(value) > MAX_PATH_ID_CHARS or not value.isprintable():
            refusal = NotFound(f"no such {name.removesuffix('_id')}", parameter=name)
            refusal.code = next((code for code in spec.errors if code.endswith("NOT_FOUND")), NotFound.code)
            raise refusal


def idempotency_key(headers: dict[str, str]) -> str:
    """The request's Idempotency-Key (``headers`` lower-cased); IDEMPOTENCY_KEY_REQUIRED when it is
    missing or malformed."""
    key = headers.get("idempotency-key", "")
    if not IDEMPOTENCY_KEY.match(key):
        from chalicelib.domain.orders import IdempotencyKeyMissing

        raise IdempotencyKeyMissing(IDEMPOTENCY_KEY_HELP)
    return key


def _authenticate(headers: dict[str, str], deps: Deps) -> Caller:
    from chalicelib.services.sessions import verify_token

    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated(LOG_IN_FIRST)
    return verify_token(token.strip(), deps.settings, deps.clock())


def parse_body(raw: bytes | str, model: type[BaseModel], max_bytes: int) -> BaseModel:
    data = raw.encode() if isinstance(raw, str) else (raw or b"")
    if len(data) > max_bytes:
        raise BodyTooLarge(f"the body is over {max_bytes} bytes", max_bytes=max_bytes)
    try:
        value = json.loads(data) if data.strip() else {}
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedJson("the body is not valid JSON") from exc
    except RecursionError as exc:  # nested deeper than the parser goes (json's C scanner: ~1,000 levels)
        raise MalformedJson("the body nests too deeply") from exc
    if not isinstance(value, dict):
        raise ValidationFailed("the body must be a JSON object")
    return _validate(model, value)


def validate[M: BaseModel](model: type[M], value: dict[str, Any]) -> M:
    """``value`` as ``model``, or VALIDATION_FAILED with every field's problem (the console's
    pages validate their query strings and forms with the API's own models through this)."""
    return cast("M", _validate(model, value))


def _validate(model: type[BaseModel], value: dict[str, Any]) -> BaseModel:
    from pydantic import ValidationError

    try:
        return model.model_validate(value)
    except ValidationError as exc:
        fields = [{"field": ".".join(str(p) for p in e["loc"]) or "(body)", "problem": e["msg"]}
                  for e in exc.errors(include_url=False, include_input=False)]
        raise ValidationFailed("the request is invalid", fields=fields) from exc

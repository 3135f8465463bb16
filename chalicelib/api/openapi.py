"""``GET /v1/openapi.json``: the contract, generated from the route declarations and models."""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from chalice import Blueprint, Response

from chalicelib.api.errors import json_response
from chalicelib.api.http import IDEMPOTENCY_KEY, ROUTES, RouteSpec

bp = Blueprint(__name__)

REF = "#/components/schemas/{model}"
COMMON_ERRORS = {
    "400": "Malformed request (MALFORMED_JSON, INVALID_CURSOR)",
    "401": "No valid session token (UNAUTHENTICATED)",
    "403": "Not allowed (FORBIDDEN)",
    "413": "Body over the maximum (BODY_TOO_LARGE)",
    "422": "Invalid input (VALIDATION_FAILED)",
    "503": "Contention or an upstream failure; retry (TRY_AGAIN)",
}


def build_document(include_simulator: bool) -> dict[str, Any]:
    from pydantic.json_schema import GenerateJsonSchema, models_json_schema

    from chalicelib.api.schemas import ErrorAnswer

    class AnswersCarryEveryField(GenerateJsonSchema):
        """An answer is ``model_dump``-ed whole, so its fields with a default are always sent: listed as
        required in the answer's schema (a typed client need not treat them as optional), while a
        request may still leave them out."""

        def field_is_required(self, field: Any, total: bool) -> bool:
            if self.mode == "serialization":
                return not field.get("serialization_exclude")
            return super().field_is_required(field, total)

    routes = [r for r in ROUTES if include_simulator or r.auth != "simulator"]
    models = {m for r in routes for m in (r.body, r.response) if m is not None} | {ErrorAnswer}
    names = [m.__name__ for m in models]
    duplicated = {n for n in names if names.count(n) > 1}
    if duplicated:
        raise ValueError(f"two schema modules define models named {sorted(duplicated)}: rename one")
    _, schema = models_json_schema([(m, "validation" if _is_request(m, routes) else "serialization")
                                    for m in sorted(models, key=lambda m: m.__name__)], ref_template=REF,
                                   schema_generator=AnswersCarryEveryField)
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route)
    paths.setdefault("/v1/openapi.json", {})["get"] = {
        "operationId": "openapi", "summary": "This document", "tags": ["docs"], "security": [],
        "responses": {"200": {"description": "OpenAPI 3.1", "content": {"application/json": {"schema": {"type": "object"}}}}},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "fenxiao", "version": "1", "description": "HTTP contract of the fenxiao distribution mall (API.md)."},
        "paths": paths,
        "components": {
            "schemas": schema.get("$defs", {}),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
        "security": [{"bearer": []}],
    }


def _is_request(model: Any, routes: list[RouteSpec]) -> bool:
    return any(r.body is model for r in routes)


def _operation(route: RouteSpec) -> dict[str, Any]:
    op: dict[str, Any] = {"operationId": route.name, "summary": route.summary, "tags": [route.tag],
                          "parameters": _parameters(route)}
    if route.auth in ("public", "simulator"):
        op["security"] = []
    if route.body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {
            "schema": {"$ref": REF.format(model=route.body.__name__)}}}}
    answer: dict[str, Any] = {"description": "Success"}
    if route.response is not None:
        answer["content"] = {"application/json": {"schema": {"$ref": REF.format(model=route.response.__name__)}}}
    elif route.produces != "application/json":
        answer["content"] = {route.produces: {"schema": {"type": "string"}}}
    responses: dict[str, Any] = {str(route.status): answer}
    for alt in route.alt_statuses:
        responses[str(alt)] = {**answer, "description": "Success (see the summary)"}
    error = {"application/json": {"schema": {"$ref": REF.format(model="ErrorAnswer")}}}
    for status, text in COMMON_ERRORS.items():
        if status == "401" and route.auth == "simulator":
            continue
        if status == "401" and route.auth == "public":  # refused credentials, not a missing token
            text = "Credentials refused (WECHAT_LOGIN_FAILED, INVALID_SIGNATURE)"
        responses[status] = {"description": text, "content": error}
    for status in ("404", "409"):
        responses[status] = {"description": "Refused by the state of things", "content": error}
    op["responses"] = responses
    if route.errors:
        op["x-error-codes"] = list(route.errors)
    return op


def _parameters(route: RouteSpec) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}
        for name in re.findall(r"{(\w+)}", route.path)
    ]
    if route.idempotent:
        params.append(_idempotency_key())
    if route.query is not None:
        schema = route.query.model_json_schema()
        for name, prop in schema.get("properties", {}).items():
            prop = {k: v for k, v in prop.items() if k not in ("title", "default")}
            if "anyOf" in prop:  # X | None: a query parameter is simply left out
                prop = next(p for p in prop["anyOf"] if p.get("type") != "null")
            params.append({"name": name, "in": "query", "required": name in schema.get("required", []),
                           "schema": prop})
    return params


def _idempotency_key() -> dict[str, Any]:
    """The header an ``idempotent`` route cannot do without (API.md)."""
    return {"name": "Idempotency-Key", "in": "header", "required": True,
            "description": "A retry with the same key and body returns the first answer and does nothing twice",
            "schema": {"type": "string", "pattern": IDEMPOTENCY_KEY.pattern}}


@lru_cache(maxsize=2)
def _document(include_simulator: bool) -> dict[str, Any]:
    return build_document(include_simulator)


@bp.route("/v1/openapi.json", methods=["GET"])
def openapi() -> Response:
    from chalicelib.bootstrap import default_deps

    return json_response(_document(default_deps().settings.simulator))

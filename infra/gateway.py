"""What the gateway answers by itself, in our error shape (``{"error": {"code", "message"}}``,
chalicelib/api/errors.py), deployed and local (docs/deploy.md "Gateway responses").

Deployed, API Gateway answers a request that reaches no route (an unknown path, or a method a
path does not have) with ``MISSING_AUTHENTICATION_TOKEN``: by default a 403 whose message is
"Missing Authentication Token", or "Authorization header requires 'Credential' parameter..."
when the request has an ``Authorization`` header, as every call of the mini-program has. Its
other own errors (throttling, a body over 10 MB, a Lambda that crashed or timed out) come as
``{"message": ...}``. :func:`gateway_responses` rewrites them all into our shape; the unknown
route becomes ``404 NOT_FOUND``.

They go into the API's own definition (the ``x-amazon-apigateway-gateway-responses`` extension
of the swagger ``chalice package`` writes), not into ``AWS::ApiGateway::GatewayResponse``
resources beside it: a gateway response takes effect only when the API is deployed again, and
SAM names the API's deployment after a hash of its definition, so a change here deploys itself;
separate resources would not make a new deployment, and would be dropped from the API when SAM
next overwrites it with the definition (aws/serverless-application-model#390).

Locally, ``chalice local`` answers an unknown path like the deployed default (a 403); our local
server (scripts/chalice_local.py) answers :data:`UNKNOWN_ROUTE_BODY` with a 404 instead.
"""
from __future__ import annotations

import json
from typing import Any

from chalicelib.api.errors import error_body

API_RESOURCE = "RestAPI"  # the logical id ``chalice package`` gives the API (AWS::Serverless::Api)
EXTENSION = "x-amazon-apigateway-gateway-responses"
CONTENT_TYPE = "application/json"  # the template's media type: API Gateway answers it as the Content-Type

UNKNOWN_ROUTE_STATUS = 404
UNKNOWN_ROUTE_BODY = error_body("NOT_FOUND", "no route matches this method and path")

# A placeholder json.dumps leaves intact, replaced by the gateway's own variable afterwards.
_MESSAGE = "@@message@@"


def _template(code: str, message: str | None = None) -> str:
    """A response template: our body, with a fixed message or the gateway's (``messageString`` is
    the message already quoted as a JSON string). The variables used hold no client input."""
    body = json.dumps(error_body(code, message if message is not None else _MESSAGE), separators=(",", ":"))
    return body.replace(json.dumps(_MESSAGE), "$context.error.messageString")


def _response(status: str | None, template: str) -> dict[str, Any]:
    answer: dict[str, Any] = {"responseTemplates": {CONTENT_TYPE: template}}
    if status is not None:  # the DEFAULT_* types keep each error's own status
        answer["statusCode"] = status
    return answer


def gateway_responses() -> dict[str, dict[str, Any]]:
    """Response type → the extension's gateway response object."""
    return {
        "MISSING_AUTHENTICATION_TOKEN": _response(str(UNKNOWN_ROUTE_STATUS), json.dumps(
            UNKNOWN_ROUTE_BODY, separators=(",", ":"))),
        # A body over API Gateway's 10 MB: the code the app gives a body over its own maximum.
        "REQUEST_TOO_LARGE": _response("413", _template("BODY_TOO_LARGE")),
        # Anything else the gateway refuses or fails itself (THROTTLED, ACCESS_DENIED,
        # INTEGRATION_FAILURE, INTEGRATION_TIMEOUT...): its type is the code.
        "DEFAULT_4XX": _response(None, _template("$context.error.responseType")),
        "DEFAULT_5XX": _response(None, _template("$context.error.responseType")),
    }


def add_gateway_responses(merge: dict[str, Any]) -> dict[str, Any]:
    """``merge`` (the template ``chalice package --merge-template`` deep-merges over its own) with
    the gateway responses, which the deep merge puts into the API's definition."""
    resources = merge.setdefault("Resources", {})
    if API_RESOURCE in resources:
        raise ValueError(f"the merge template already changes {API_RESOURCE}: merge the gateway responses into it")
    resources[API_RESOURCE] = {"Properties": {"DefinitionBody": {EXTENSION: gateway_responses()}}}
    return merge

"""Each route's handler is annotated with the model its route declares as the answer, so that mypy,
which checks the handler's body against its annotation, checks what the route really answers."""
from __future__ import annotations

from typing import Any

import app
from chalicelib.api.http import ROUTES


def handlers() -> dict[tuple[str, str], Any]:
    found: dict[tuple[str, str], Any] = {}
    for path, methods in app.app.routes.items():
        for method, entry in methods.items():
            handler = getattr(entry.view_function, "__wrapped__", None)
            if handler is not None:  # declared with ``endpoint`` (not GET /v1/openapi.json)
                found[path, method] = handler
    return found


def test_every_handler_is_annotated_with_the_answer_its_route_declares() -> None:
    found = handlers()
    assert len(found) == len(ROUTES)
    wrong = []
    for route in ROUTES:
        annotation = str(found[route.path, route.method].__annotations__["return"])
        answers_itself = route.alt_statuses or route.produces != "application/json"
        expected = "Response" if answers_itself else route.response_name
        if annotation.rsplit(".", 1)[-1] != expected:
            wrong.append(f"{route.method} {route.path}: -> {annotation}, declares {expected}")
    assert not wrong, wrong

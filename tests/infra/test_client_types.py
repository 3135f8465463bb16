"""The mini-program client's generated types (clients/miniprogram, docs/client.md) are in step with
the app: the committed ``openapi.json``, ``src/generated/api.ts`` and ``src/generated/contract.ts``
equal what ``make client`` generates from the current code. When this fails, the contract changed:
run ``make client`` and commit the result (the mini-program team then sees the change as a diff).

Needs node and the package's devDependencies (``make client-node``, part of ``make install``)."""
from __future__ import annotations

import pytest
from pydantic import create_model

from scripts import client_types


def test_the_committed_client_types_are_what_the_app_generates() -> None:
    found = client_types.drift()
    assert not found, "the mini-program client is out of date with the app: run `make client` and commit\n" + "\n".join(
        diff[:3000] for diff in found)


def test_a_changed_answer_makes_the_drift_check_fail(monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN the login's answer gains a field WHEN the types are checked THEN they differ, in the
    spec and in the TypeScript, at that field."""
    from chalicelib.api import schemas

    changed = create_model("LoginAnswer", __base__=schemas.LoginAnswer, expires_at=(str, ...))
    monkeypatch.setattr(schemas, "LoginAnswer", changed)

    found = client_types.drift()

    assert [diff.splitlines()[0] for diff in found] == ["--- committed/openapi.json", "--- committed/src/generated/api.ts"]
    assert all("+            expires_at: string;" in diff or '+          "expires_at"' in diff for diff in found)


def test_the_unions_codes_come_from_the_errors_of_the_app_not_only_from_the_declarations() -> None:
    doc = client_types.document()
    declared = {code for methods in doc["paths"].values() for op in methods.values() for code in op.get("x-error-codes", [])}
    codes = set(client_types.error_codes(doc))
    assert declared <= codes
    # Raised by Chalice itself, declared by no route: in the union all the same.
    assert {"METHOD_NOT_ALLOWED", "UNSUPPORTED_MEDIA_TYPE"} <= codes - declared
    assert "TRY_AGAIN" in codes  # the retry helper's, whatever route declares it
    # Only the app's errors: one a test defines (tests/service/test_partial_refunds.py) is not.
    assert "CASE_MOVED" not in codes

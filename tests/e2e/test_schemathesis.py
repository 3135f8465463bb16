"""schemathesis against ``/v1/openapi.json`` on the local stack (DynamoDB Local + ``chalice local``).

The rule checked: whatever a client sends, the answer is never a 5xx, its status is one the
document declares for the operation, and its content type and body match the declared schema.

The stack is started as ``make dev`` starts it (simulator mode, in memory), seeded over HTTP
with objects of every kind a path names (orders in several states, a group, a material, a
review item...) so that generated requests reach the business logic instead of a 404, and then
schemathesis runs twice with a fixed seed and a bounded number of examples:

- as the admin, over every operation of the document;
- as an ordinary user (who owns the seeded orders and group), over the operations that need a
  user token (``auth="user"`` in ``chalicelib/api/http.ROUTES``), so a new route is included
  without editing this file.

``SCHEMATHESIS_EXAMPLES`` (default 12) raises the examples per operation for a longer local run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from scripts.dev import run_stack
from scripts.procs import free_port
from tests.e2e.test_local_stack import READY_TIMEOUT, SIMULATOR, Client, stack_log  # noqa: F401 (fixture)

pytestmark = pytest.mark.e2e

SEED = 20261110
EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "12"))
RUN_TIMEOUT = 300 + 60 * EXAMPLES  # seconds for one run, generous: both runs took ~2 min at 12 examples, ~7 at 100

# The contract checks. Not run, on purpose:
# - positive_data_acceptance: it expects every schema-valid request to succeed (2xx), but a
#   well-formed request is often refused by the state of things (404 for an id that does not
#   exist, 409 WRONG_ORDER_STATUS, 422 INVALID_ID_NUMBER for a checksum a schema cannot state);
#   those refusals are declared answers, checked by status_code_conformance.
# - negative_data_rejection, ignored_auth, ...: covered by tests/api (test_authorization.py).
CHECKS = ("not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_schema_conformance")

# `chalice local` answers TRACE and QUERY itself with 501 (its dev server only; API Gateway
# refuses them before they reach us), so the coverage phase does not send them.
UNEXPECTED_METHODS = ("get", "put", "post", "delete", "options", "patch")

ADDRESS = {"name": "张三", "phone": "13800000000", "detail": "上海市徐汇区 1 号"}


def test_no_5xx_and_every_answer_matches_the_openapi_document(tmp_path: Path, stack_log: Path) -> None:  # noqa: F811
    with run_stack(free_port(), None, READY_TIMEOUT, log_path=stack_log, env=SIMULATOR) as url:
        api = Client(url)
        seeded = seed(api)
        config = write_config(tmp_path, seeded)
        failures = []
        for who, token, operations in (("admin", seeded.admin, None), ("user", seeded.user, user_operations())):
            result = run_schemathesis(url, config, token, operations, tmp_path / who)
            print(f"schemathesis as {who}:", *summary(result.stdout), sep="\n  ")
            if result.returncode != 0:
                failures.append(f"--- schemathesis as {who} (exit {result.returncode})\n{result.stdout[-12000:]}")
    assert not failures, "\n".join(failures)


# ---------------------------------------------------------------------------------------------
# What schemathesis found, pinned by fast checks of the document (no stack needed)
# ---------------------------------------------------------------------------------------------


def document() -> dict[str, Any]:
    import app  # noqa: F401  (registers every route)
    from chalicelib.api.openapi import build_document

    return build_document(include_simulator=True)


def test_every_route_refusing_a_missing_idempotency_key_declares_the_header() -> None:
    """Found: POST /v1/orders, /v1/groups, /v1/groups/{id}/join and /v1/me/withdrawals answered
    400 IDEMPOTENCY_KEY_REQUIRED to every schema-valid request: the header was not in the document."""
    import re

    from chalicelib.api.http import IDEMPOTENCY_KEY as KEY

    doc, checked = document(), 0
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            if "IDEMPOTENCY_KEY_REQUIRED" in op.get("x-error-codes", []):
                [header] = [p for p in op["parameters"] if p["in"] == "header"]
                assert header["name"] == "Idempotency-Key" and header["required"], (method, path)
                assert re.fullmatch(header["schema"]["pattern"].strip("^$"), "k-1") and \
                    header["schema"]["pattern"] == KEY.pattern
                checked += 1
    assert checked >= 3


def test_publishing_a_material_held_for_review_declares_its_202() -> None:
    """Found: POST /v1/admin/materials answered an undeclared 202 for copy held for review."""
    responses = document()["paths"]["/v1/admin/materials"]["post"]["responses"]
    assert responses["202"]["content"] == responses["201"]["content"]


# ---------------------------------------------------------------------------------------------
# Seeding: one object of each kind a path names, owned by the user the second run logs in as
# ---------------------------------------------------------------------------------------------


class Seeded:
    """Tokens and the ids schemathesis draws path parameters and body fields from."""

    def __init__(self, admin: str, user: str) -> None:
        self.admin = admin
        self.user = user
        self.values: dict[str, list[str]] = {}

    def add(self, name: str, *values: str) -> None:
        self.values.setdefault(name, []).extend(v for v in values if v not in self.values.get(name, []))


def seed(api: Client) -> Seeded:
    admin, _ = api.login("dev:admin")
    alice, alice_id = api.login("dev:alice")
    bob, bob_id = api.login("dev:bob")
    seeded = Seeded(admin, bob)
    seeded.add("user_id", bob_id, alice_id)
    seeded.add("invite_code", "HQ888888", ok(api.call("POST", "/v1/me/distributor", {"shop_name": "Alice 小店"}, alice))[
        "invite_code"])
    ok(api.call("POST", "/v1/referrals/bind", {"invite_code": seeded.values["invite_code"][1]}, bob))
    ok(api.call("POST", "/v1/me/distributor", {"shop_name": "Bob 小店"}, bob))
    products = ok(api.call("GET", "/v1/products?limit=100", token=bob))["items"]
    seeded.add("product_id", *(p["product_id"] for p in products))
    seed_orders(api, seeded, admin, bob, products[0]["product_id"])
    group_product = next(p["product_id"] for p in products if p["group_price_fen"] is not None)
    group = ok(post_keyed(api, "/v1/groups", {"product_id": group_product, "address": ADDRESS}, bob))
    seeded.add("group_id", group["group_id"])
    seeded.add("order_id", group["order_id"])
    material = ok(api.call("POST", "/v1/admin/materials", {"title": "面膜 review", "text": "好用的面膜，分享奖励"}, admin))
    seeded.add("material_id", material["material_id"])
    for text in ("这是最好的面膜", "第一好用的面膜"):  # held for review: one to approve, one to reject
        ok(api.call("POST", "/v1/admin/materials", {"title": "待审", "text": text}, admin))
    for review in ok(api.call("GET", "/v1/admin/reviews", token=admin))["items"]:
        seeded.add("review_id", review["review_id"])
    assert len(seeded.values.get("review_id", [])) == 2, "the held materials made no review items"
    seed_withdrawals(api, seeded, admin, bob)
    seeded.add("job", *jobs())
    seeded.add("name", *experiments())
    return seeded


def seed_withdrawals(api: Client, seeded: Seeded, admin: str, earner: str) -> None:
    """The user earns a 60,000 fen commission (a buyer bound to their shop), verifies a real name
    and withdraws twice: a small amount (paid out at once) and one held for the admin's review."""
    shop = ok(api.call("GET", "/v1/me", token=earner))["invite_code"]
    buyer, _ = api.login("dev:carol")
    ok(api.call("POST", "/v1/referrals/bind", {"invite_code": shop}, buyer))
    product_id = ok(api.call("POST", "/v1/admin/products", {
        "name": "净水器", "category": "appliance", "cost_fen": 100_000, "price_fen": 300_000, "stock": 50,
        "level1_rate_bp": 2_000, "level2_rate_bp": 0}, admin))["product_id"]
    order_id = ok(post_keyed(api, "/v1/orders", {"items": [{"product_id": product_id, "quantity": 1}],
                                                 "address": ADDRESS}, buyer))["order_id"]
    ok(api.call("POST", f"/v1/dev/pay/{order_id}"))
    ok(api.call("POST", f"/v1/admin/orders/{order_id}/ship", {"carrier": "SF", "tracking_no": "SF1234567"}, admin))
    ok(api.call("POST", f"/v1/orders/{order_id}/confirm", token=buyer))
    later = (datetime.now(UTC) + timedelta(days=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    ok(api.call("POST", "/v1/dev/jobs/settle_commissions", {"now": later}))
    ok(api.call("POST", "/v1/me/real-name", {"name": "张三", "id_number": "11010519491231002X"}, earner))
    for amount in (1_000, 55_000):
        seeded.add("withdrawal_id", ok(post_keyed(api, "/v1/me/withdrawals", {"amount_fen": amount}, earner))[
            "withdrawal_id"])


def seed_orders(api: Client, seeded: Seeded, admin: str, buyer: str, product_id: str) -> None:
    """Orders of the user in each state: pending payment, paid, shipped, completed."""
    placed = [ok(post_keyed(api, "/v1/orders", {"items": [{"product_id": product_id, "quantity": 1}],
                                                "address": ADDRESS}, buyer))["order_id"] for _ in range(4)]
    for order_id in placed[1:]:
        ok(api.call("POST", f"/v1/dev/pay/{order_id}"))
    for order_id in placed[2:]:
        ok(api.call("POST", f"/v1/admin/orders/{order_id}/ship", {"carrier": "SF", "tracking_no": "SF1234567"}, admin))
    ok(api.call("POST", f"/v1/orders/{placed[3]}/confirm", token=buyer))
    seeded.add("order_id", *placed)


def post_keyed(api: Client, path: str, body: dict[str, Any], token: str) -> tuple[int, Any]:
    """POST with an Idempotency-Key (the stdlib client of test_local_stack sends no extra headers)."""
    import urllib.error
    import urllib.request

    request = urllib.request.Request(api.base_url + path, data=json.dumps(body).encode(), method="POST", headers={
        "Content-Type": "application/json", "Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def ok(answer: tuple[int, Any]) -> Any:
    status, body = answer
    assert 200 <= status < 300, (status, body)
    return body


def jobs() -> list[str]:
    from chalicelib.jobs import JOBS

    return sorted(JOBS)


def experiments() -> list[str]:
    from chalicelib.config import Rules

    return sorted(Rules().experiments)


def user_operations() -> list[str]:
    """operationIds of the routes that take a user token (ROUTES names them)."""
    import app  # noqa: F401  (registers every route)
    from chalicelib.api.http import ROUTES

    return sorted(r.name for r in ROUTES if r.auth == "user")


# ---------------------------------------------------------------------------------------------
# schemathesis
# ---------------------------------------------------------------------------------------------


def write_config(tmp_path: Path, seeded: Seeded) -> Path:
    """schemathesis.toml: seed, examples, phases, and dictionaries of real ids.

    Each path parameter and body field named like a seeded kind draws a real id 80% of the
    time (the rest is generated, so unknown ids are still tried)."""
    lines = [f"seed = {SEED}", "", "[generation]", f"max-examples = {EXAMPLES}", 'database = "none"', "",
             "[phases.coverage]", f"unexpected-methods = {json.dumps(list(UNEXPECTED_METHODS))}", ""]
    bindings: list[str] = []
    for name, values in sorted(seeded.values.items()):
        lines += [f"[dictionaries.{name}]", f"values = {json.dumps(values, ensure_ascii=False)}", ""]
        for key in (f"path.{name}", f"body.{name}", f"body.items[*].{name}"):
            bindings.append(f'"{key}" = {{ dictionary = "{name}", probability = 0.8 }}')
    lines += ["[parameters]", *bindings, ""]
    path = tmp_path / "schemathesis.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def run_schemathesis(url: str, config: Path, token: str, operations: list[str] | None,
                     report_dir: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "--no-color", "run",
               f"{url}/v1/openapi.json", "--checks", ",".join(CHECKS), "--header", f"Authorization: Bearer {token}",
               "--workers", "2", "--max-failures", "50", "--report", "junit", "--report-dir", str(report_dir)]
    for operation in operations or ():
        command += ["--include-operation-id", operation]
    return subprocess.run(command, capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False,
                          stdin=subprocess.DEVNULL)


def summary(output: str) -> list[str]:
    """The lines of schemathesis' report worth keeping in the test log (operations, cases, time)."""
    keep = ("Selected:", "generated", "passed", "failed", "Seed:")
    return [line.strip(" =") for line in output.splitlines() if any(k in line for k in keep)][-6:]

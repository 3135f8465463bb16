"""The mini-program client's generated files, from the app in-process (``make client``).

The mini-program team builds against ``clients/miniprogram/`` (docs/client.md). Three of its files
are generated from the code, never written by hand, so that the contract cannot drift silently:

- ``openapi.json``: the deployed stage's ``/v1/openapi.json`` (no simulator route: a route that a
  deployed stage answers 404 must not type-check in the mini-program), built in-process by
  :func:`chalicelib.api.openapi.build_document`, its paths sorted so that a new route is a small diff;
- ``src/generated/api.ts``: that document through ``openapi-typescript`` (the package's own
  pinned copy, from its npm lock), a field with a default optional to send;
- ``src/generated/contract.ts``: what the types cannot carry at run time or do not carry at all:
  every error code the app can answer (:func:`error_codes`: each ``DomainError`` of ``chalicelib``,
  the codes the routes declare and Chalice's own, rewritten by ``api/errors.py``), the codes each
  operation declares, and the routes that take an Idempotency-Key.

``python scripts/client_types.py`` writes them; ``--check`` writes them to a scratch directory and
fails with a diff when the committed ones differ (the drift test, tests/infra/test_client_types.py,
runs the same comparison).
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import json
import pkgutil
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as `python scripts/client_types.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

REPO_ROOT = Path(__file__).resolve().parent.parent
PACKAGE = REPO_ROOT / "clients" / "miniprogram"
SPEC = Path("openapi.json")
API_TS = Path("src/generated/api.ts")
CONTRACT_TS = Path("src/generated/contract.ts")
GENERATED = (SPEC, API_TS, CONTRACT_TS)
OPENAPI_TYPESCRIPT = Path("node_modules/openapi-typescript/bin/cli.js")
REGENERATE = "make client"


class ClientSetupError(RuntimeError):
    """Node or the package's devDependencies are missing."""


def document() -> dict[str, Any]:
    """The deployed stage's OpenAPI document, its paths sorted."""
    import app  # noqa: F401 -- registers every blueprint, so ROUTES holds every route
    from chalicelib.api.openapi import build_document

    doc = build_document(include_simulator=False)
    doc["paths"] = dict(sorted(doc["paths"].items()))
    return doc


def _modules() -> Iterator[str]:
    import chalicelib

    for info in pkgutil.walk_packages(chalicelib.__path__, "chalicelib."):
        yield info.name


def error_codes(doc: dict[str, Any]) -> list[str]:
    """Every error code a client can be answered, sorted: the code of each ``DomainError`` class of
    ``chalicelib`` (every module imported, so that a refusal that no route declares is there too),
    the codes the operations of ``doc`` declare, and Chalice's own errors as api/errors.py rewrites them."""
    from chalicelib.api.errors import CHALICE_CODES
    from chalicelib.domain.errors import DomainError

    # The classes named by chalicelib's modules, not every subclass in the process: a test's own
    # error class (one made by domain.errors.error()) would otherwise land in the union.
    found: list[type[DomainError]] = [DomainError]
    for name in _modules():
        module = importlib.import_module(name)
        found += [v for v in vars(module).values() if isinstance(v, type) and issubclass(v, DomainError)]
    codes: set[str] = set(CHALICE_CODES.values())
    for cls in found:
        codes.add(cls.code)  # the base's ERROR too: api/errors.py answers it for an unknown Chalice error
    for op in _operations(doc):
        codes.update(op.get("x-error-codes", []))
    return sorted(codes)


def _operations(doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for methods in doc["paths"].values():
        yield from methods.values()


def idempotent_routes(doc: dict[str, Any]) -> list[str]:
    """``"POST /v1/orders"`` for each operation whose Idempotency-Key header is required."""
    return _routes(doc, lambda op: any(p["in"] == "header" and p["name"] == "Idempotency-Key"
                                       for p in op.get("parameters", [])))


def public_routes(doc: dict[str, Any]) -> list[str]:
    """The operations that take no session token (``security: []``): the client logs in for none of them."""
    return _routes(doc, lambda op: op.get("security") == [])


def _routes(doc: dict[str, Any], keep: Callable[[dict[str, Any]], bool]) -> list[str]:
    return sorted(f"{method.upper()} {path}" for path, methods in doc["paths"].items()
                  for method, op in methods.items() if keep(op))


def contract_ts(doc: dict[str, Any]) -> str:
    """``src/generated/contract.ts``: the error codes and the idempotent routes, as TypeScript."""
    lines = [
        "/**",
        " * Generated by scripts/client_types.py from the app (`make client`). Do not edit.",
        " */",
        "",
        "/** Every error code the service can answer (`{\"error\": {\"code\"}}`), derived from the app's errors. */",
        "export const ERROR_CODES = [",
        *(f'    "{code}",' for code in error_codes(doc)),
        "] as const;",
        "",
        "export type ErrorCode = (typeof ERROR_CODES)[number];",
        "",
        "/** The codes each operation declares (`x-error-codes`), besides the ones any route may answer",
        " * (VALIDATION_FAILED, UNAUTHENTICATED, TRY_AGAIN, ...). */",
        "export interface DeclaredErrors {",
    ]
    for op in sorted(_operations(doc), key=lambda op: op["operationId"]):
        declared = " | ".join(f'"{code}"' for code in op.get("x-error-codes", [])) or "never"
        lines.append(f"    {op['operationId']}: {declared};")
    lines += [
        "}",
        "",
        *_route_list("IDEMPOTENT_ROUTES", "The routes that require an Idempotency-Key header", idempotent_routes(doc)),
        *_route_list("PUBLIC_ROUTES", "The routes that take no session token", public_routes(doc)),
    ]
    return "\n".join(lines)


def _route_list(name: str, doc: str, routes: list[str]) -> list[str]:
    return [f"/** {doc} (`METHOD /path` as in the paths). */", f"export const {name}: readonly string[] = [",
            *(f'    "{route}",' for route in routes), "];", ""]


def generate(out: Path, package: Path = PACKAGE) -> None:
    """Write the generated files under ``out`` (a package root, or a scratch directory)."""
    cli = package / OPENAPI_TYPESCRIPT
    node = shutil.which("node")
    if node is None or not cli.exists():
        raise ClientSetupError(f"node and {cli.relative_to(REPO_ROOT)} are needed: run `make client-node`")
    doc = document()
    (out / API_TS).parent.mkdir(parents=True, exist_ok=True)
    (out / SPEC).write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    (out / CONTRACT_TS).write_text(contract_ts(doc), encoding="utf-8")
    subprocess.run(  # noqa: S603 -- the machine's node and the package's pinned openapi-typescript
        # A default makes a field optional to send, never absent from an answer: the document lists
        # every field of an answer as required (chalicelib/api/openapi.py), so defaults prove nothing.
        [node, str(cli), str(out / SPEC), "--output", str(out / API_TS), "--default-non-nullable", "false"],
        check=True, capture_output=True, cwd=package,
    )


def differences(committed: Path, fresh: Path, context: int = 3) -> list[str]:
    """A unified diff per generated file of ``committed`` that differs from ``fresh``."""
    found = []
    for name in GENERATED:
        old, new = committed / name, fresh / name
        old_lines = old.read_text(encoding="utf-8").splitlines(keepends=True) if old.exists() else []
        new_lines = new.read_text(encoding="utf-8").splitlines(keepends=True)
        if old_lines != new_lines:
            diff = difflib.unified_diff(old_lines, new_lines, f"committed/{name}", f"generated/{name}", n=context)
            found.append("".join(diff))
    return found


def drift(package: Path = PACKAGE) -> list[str]:
    """How the committed generated files differ from what the current app generates ([] when in step)."""
    with tempfile.TemporaryDirectory(prefix="client-types-") as scratch:
        generate(Path(scratch), package)
        return differences(package, Path(scratch))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate the mini-program client's types from the app.")
    parser.add_argument("--check", action="store_true", help="fail when the committed files are out of date")
    args = parser.parse_args(argv)
    try:
        if not args.check:
            generate(PACKAGE)
            print(f"client: wrote {', '.join(str(PACKAGE.relative_to(REPO_ROOT) / n) for n in GENERATED)}")
            return 0
        found = drift()
    except ClientSetupError as exc:
        print(f"client: {exc}", file=sys.stderr)
        return 2
    if found:
        for diff in found:
            print(diff[:6000], file=sys.stderr)
        print(f"client: the generated types are out of date with the app: run `{REGENERATE}` and commit", file=sys.stderr)
        return 1
    print("client: the generated types match the app")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""What the deployment zip carries: precompiled bytecode, and only the AWS service models that run.

``chalice package`` writes a zip of the sources and the Lambda wheels, without bytecode: Lambda's
code folder (``/var/task``) is read-only, so every cold start compiled every module it imported
(docs/performance.md "Cold start from the package"). And botocore ships the model of every AWS
service (445 folders, 60% of the 27 MB zip) where the functions create clients of a handful.
``rebuild`` post-processes chalice's zip:

1. drops ``botocore/data/<service>/`` (and ``boto3/data/<service>/``) of every service outside
   ``allowed_services()``: the services whose clients the code creates, found in the source
   (``services_in_source``), and those botocore itself may create (``BOTOCORE_OWN``). botocore's
   own files at the top of ``botocore/data`` (endpoints, partitions, retry and default
   configuration) stay. A client of a dropped service would fail at creation
   (``UnknownServiceError``), which is why the list is derived from the code, and
   tests/infra/test_bundle.py creates every such client from the packaged zip;
2. compiles every module (``compileall``) for the runtime's Python, optimisation level 0 (Lambda
   runs ``python`` without ``-O``, which reads ``__pycache__/*.cpython-3XX.pyc``), with the path
   each will have in Lambda (``/var/task/...``, for tracebacks), as unchecked-hash pycs: Python
   trusts them without comparing the source's modification time, which the unzip does not
   keep anyway, and the files never change once deployed;
3. writes the zip again with its entries in name order, the new ones dated 1980-01-01, so that
   the same inputs give the same bytes.
"""
from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

LAMBDA_ROOT = "/var/task"  # where Lambda unpacks the zip
FIXED_DATE = (1980, 1, 1, 0, 0, 0)
MODELS, BOTO3_MODELS = "botocore/data/", "boto3/data/"

# Clients botocore may create by itself: the credential providers for an assumed role or a web
# identity token (not used in Lambda, whose credentials come from the environment, but cheap).
BOTOCORE_OWN = {"sts": "botocore's assume-role and web-identity credential providers"}

# How the code asks for a client: boto3/botocore by service name, Powertools' parameter providers
# by class, and PynamoDB for every model.
_CLIENT_CALL = re.compile(r"""\b(?:client|resource|create_client)\(\s*(?:service_name\s*=\s*)?["']([a-z0-9-]+)["']""")
_PROVIDERS = {"SecretsProvider": "secretsmanager", "SSMProvider": "ssm", "DynamoDBProvider": "dynamodb",
              "AppConfigProvider": "appconfigdata"}
_PYNAMODB = re.compile(r"^\s*from pynamodb\.models import Model\b|\(StoreModel\):", re.MULTILINE)


def source_files(root: Path) -> list[Path]:
    """What ships of our own code: ``app.py`` and ``chalicelib/``."""
    return [root / "app.py", *sorted((root / "chalicelib").rglob("*.py"))]


def services_in_source(root: Path) -> dict[str, str]:
    """Every AWS service whose client the shipped code creates, with the first file that does."""
    found: dict[str, str] = {}
    for path in source_files(root):
        text = path.read_text(encoding="utf-8")
        where = str(path.relative_to(root))
        names = _CLIENT_CALL.findall(text) + [service for cls, service in _PROVIDERS.items()
                                              if re.search(rf"\b{cls}\b", text)]
        if _PYNAMODB.search(text):
            names.append("dynamodb")
        for name in names:
            found.setdefault(name, where)
    return found


def allowed_services(root: Path) -> dict[str, str]:
    """The services whose models ship, each with why."""
    return {**BOTOCORE_OWN, **services_in_source(root)}


def model_service(name: str) -> str | None:
    """The service a zip entry is the model of (``botocore/data/<service>/...``), if it is one."""
    for prefix in (MODELS, BOTO3_MODELS):
        if name.startswith(prefix):
            parts = name[len(prefix):].split("/")
            return parts[0] if len(parts) > 1 else None
    return None


@dataclass(frozen=True)
class Rebuilt:
    bytes_before: int
    bytes_after: int
    models_before: int
    models_after: int
    compiled: int


def rebuild(source: Path, target: Path, services: set[str], runtime: str) -> Rebuilt:
    """Write ``target``: ``source`` (chalice's zip) without the models of other services, with a
    pyc for every module. ``runtime`` is the functions' (``python3.13``): the bytecode is this
    interpreter's, so they must agree."""
    mine = f"python{sys.version_info.major}.{sys.version_info.minor}"
    if runtime != mine:
        raise ValueError(f"the functions run {runtime} but this is {mine}: its bytecode would not load there")
    with zipfile.ZipFile(source) as original, tempfile.TemporaryDirectory(prefix="fenxiao-bundle-") as tmp:
        entries = original.infolist()
        kept = [e for e in entries if model_service(e.filename) in (None, *services)]
        tree = Path(tmp)
        for entry in kept:
            if entry.filename.endswith(".py"):
                original.extract(entry, tree)
        compiled = _compile(tree)
        models = {model_service(e.filename) for e in entries} - {None}
        names = {e.filename for e in kept}
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as out:
            for entry in sorted(kept, key=lambda e: e.filename):
                out.writestr(entry, original.read(entry), compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
            for pyc in compiled:
                name = pyc.relative_to(tree).as_posix()
                if name in names:
                    continue
                info = zipfile.ZipInfo(name, FIXED_DATE)
                info.external_attr = 0o644 << 16
                out.writestr(info, pyc.read_bytes(), compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
        return Rebuilt(source.stat().st_size, target.stat().st_size, len(models),
                       len({model_service(e.filename) for e in kept} - {None}), len(compiled))


def _compile(tree: Path) -> list[Path]:
    """Compile every module under ``tree`` as Lambda will find it; the pycs written, sorted."""
    done = subprocess.run(  # noqa: S603 -- this interpreter, our own arguments, no shell
        [sys.executable, "-m", "compileall", "-q", "-j", "0", "-o", "0", "--invalidation-mode", "unchecked-hash",
         "-s", str(tree), "-p", LAMBDA_ROOT, str(tree)],
        capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"compileall failed ({done.returncode}):\n{(done.stdout + done.stderr)[-3000:]}")
    return sorted(tree.rglob("*.pyc"))

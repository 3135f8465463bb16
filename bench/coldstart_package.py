"""Cold start from the deployment package, as Lambda runs it: chalice's own zip against the zip
``infra/bundle.py`` rebuilds (bytecode precompiled, only the service models that run).

``python -m infra.package --keep-raw`` writes both zips. Each is unpacked into a folder of its
own, made read-only (Lambda's ``/var/task`` is; the bench runs as root, which ignores the mode,
so ``PYTHONDONTWRITEBYTECODE=1`` is what keeps a cache from being written, and the bench checks
that no ``.pyc`` appeared), and run by a clean venv's interpreter (no site-packages of ours: the
zip's own libraries only), with the folder alone on ``PYTHONPATH``. Each fresh process times
``import app`` and then the first and second request through the Lambda handler
(``app.app(event, context)``: an API Gateway proxy event of a login refused by validation, 422,
which touches no database), and the parent times the whole process. Figures are medians over
``runs`` processes per zip, interleaved, after one untimed warm-up each (the OS file cache).
"""
from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

from bench.env import REPO_ROOT, subprocess_env

RUNS = 7
ZIPS = {"chalice's zip (before)": "chalice-deployment.zip", "rebuilt zip (after)": "deployment.zip"}

PROBE = r"""
import json, sys, time
t = time.perf_counter
a = t()
import app
b = t()
event = {"resource": "/v1/auth/login", "path": "/v1/auth/login", "httpMethod": "POST",
         "headers": {"Content-Type": "application/json"}, "multiValueHeaders": {"Content-Type": ["application/json"]},
         "queryStringParameters": None, "multiValueQueryStringParameters": None, "pathParameters": None,
         "stageVariables": None, "body": "{}", "isBase64Encoded": False,
         "requestContext": {"resourcePath": "/v1/auth/login", "httpMethod": "POST", "requestId": "bench",
                            "path": "/api/v1/auth/login", "stage": "api", "apiId": "bench",
                            "identity": {"sourceIp": "127.0.0.1"}}}
class Context:
    function_name, aws_request_id, memory_limit_in_mb = "APIHandler", "bench", 512
    invoked_function_arn = "arn:aws-cn:lambda:cn-north-1:000000000000:function:APIHandler"
    def get_remaining_time_in_millis(self):
        return 30_000
first = app.app(event, Context())
c = t()
second = app.app(event, Context())
d = t()
assert first["statusCode"] == second["statusCode"] == 422, (first, second)
import importlib.util, os
sources = [m.__file__ for m in list(sys.modules.values())
           if (getattr(m, "__file__", "") or "").startswith(sys.argv[1]) and m.__file__.endswith(".py")]
from_pyc = sum(1 for f in sources if os.path.exists(importlib.util.cache_from_source(f)))
ours = len(sources)
print("BENCH " + json.dumps({"import_app_ms": (b - a) * 1000, "first_request_ms": (c - b) * 1000,
                             "second_request_ms": (d - c) * 1000, "package_modules": ours, "from_pyc": from_pyc}))
"""


def build(out: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "infra.package", "--stage", "prod", "--out", str(out), "--keep-raw"],  # noqa: S603 -- this interpreter, our own arguments
                          cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"infra.package failed ({done.returncode}):\n{(done.stdout + done.stderr)[-3000:]}")


def unpack(archive: Path, folder: Path) -> None:
    """The zip as Lambda lays it out, read-only."""
    with zipfile.ZipFile(archive) as z:
        z.extractall(folder)
    for root, dirs, files in os.walk(folder):
        for name in files:
            os.chmod(Path(root) / name, 0o444)
        for name in dirs:
            os.chmod(Path(root) / name, 0o555)  # noqa: S103 -- read-only, as /var/task
    os.chmod(folder, 0o555)  # noqa: S103 -- read-only, as /var/task


def pycs(folder: Path) -> int:
    return sum(1 for _ in folder.rglob("*.pyc"))


def probe(python: Path, task: Path) -> dict[str, float]:
    env = {k: v for k, v in subprocess_env().items() if k not in ("VIRTUAL_ENV", "PYTHONHOME")}
    env.update(PYTHONPATH=str(task), PYTHONDONTWRITEBYTECODE="1")
    started = time.perf_counter()
    done = subprocess.run([str(python), "-c", PROBE, str(task)], cwd=task, env=env, capture_output=True,  # noqa: S603 -- the clean venv's interpreter, our own probe
                          text=True, check=False)
    wall = (time.perf_counter() - started) * 1000
    if done.returncode != 0:
        raise RuntimeError(f"the probe failed in {task}:\n{done.stderr[-3000:]}")
    line = next(x for x in reversed(done.stdout.splitlines()) if x.startswith("BENCH "))
    return {**json.loads(line[len("BENCH "):]), "process_ms": wall}


def run(runs: int = RUNS) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="fenxiao-coldstart-") as tmp:
        root = Path(tmp)
        build(root / "out")
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root / "venv")], check=True)  # noqa: S603 -- this interpreter
        python = root / "venv" / "bin" / "python"
        tasks = {}
        sizes = {}
        for label, name in ZIPS.items():
            archive = root / "out" / name
            sizes[label] = archive.stat().st_size
            tasks[label] = root / name.removesuffix(".zip")
            unpack(archive, tasks[label])
        shipped = {label: pycs(task) for label, task in tasks.items()}
        bare: list[float] = []
        samples: dict[str, list[dict[str, float]]] = {label: [] for label in tasks}
        for task in tasks.values():
            probe(python, task)  # warm-up: the OS file cache
        for _ in range(runs):
            started = time.perf_counter()
            subprocess.run([str(python), "-c", "pass"], check=True)  # noqa: S603 -- the clean venv's interpreter
            bare.append((time.perf_counter() - started) * 1000)
            for label, task in tasks.items():
                samples[label].append(probe(python, task))
        written = {label: pycs(task) - shipped[label] for label, task in tasks.items()}
        for task in tasks.values():  # let the temporary directory go
            for dirpath, _, _ in os.walk(task):
                os.chmod(dirpath, 0o755)  # noqa: S103 -- writable again, to be deleted
        shutil.rmtree(root / "out", ignore_errors=True)
    figures = {label: {key: statistics.median(s[key] for s in runs_of) for key in runs_of[0]}
               for label, runs_of in samples.items()}
    return {"runs": runs, "bare_ms": statistics.median(bare), "zip_bytes": sizes, "pyc_shipped": shipped,
            "pyc_written_during_runs": written, "figures": figures, "samples": samples}


def section(result: dict[str, Any]) -> str:
    from bench.report import table

    rows = []
    for label, f in result["figures"].items():
        rows.append([label, f"{result['zip_bytes'][label] / 1e6:.1f}", f"{f['import_app_ms']:.0f}",
                     f"{f['first_request_ms']:.0f}", f"{f['second_request_ms']:.1f}", f"{f['process_ms']:.0f}",
                     f"{int(f['from_pyc'])}/{int(f['package_modules'])}"])
    written = ", ".join(f"{label}: {n}" for label, n in result["pyc_written_during_runs"].items())
    return "\n".join([
        f"Cold start from the deployment package (read-only folder, PYTHONDONTWRITEBYTECODE=1, clean venv; "
        f"median of {result['runs']} processes; bare interpreter {result['bare_ms']:.0f} ms)",
        table(["zip", "MB", "import app ms", "first request ms", "second ms", "process ms",
               "modules from pyc"], rows, right=(1, 2, 3, 4, 5, 6)),
        f"pyc written during the runs (must be 0): {written}"])

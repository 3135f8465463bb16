"""End to end: ``make dev``'s API takes a burst of connections as production would.

A mini-program team load-testing the local stack opens dozens of connections at once. The API
server's listen backlog must hold them all: with ``chalice local``'s backlog of 5 the kernel
drops (Linux) or resets (macOS, or ``tcp_abort_on_overflow``) every connection beyond the
sixth that arrives before the server gets round to ``accept()``.

Two checks on one stack (started as the other e2e tests start it, through ``scripts/dev``):

* deterministic: the API process is stopped (SIGSTOP) so that it accepts nothing; CLIENTS
  connections are opened at once and must all be established by the kernel (that is exactly
  the listen backlog); then the process continues and every one gets an HTTP answer;
* realistic: CLIENTS threads released together each send a request; none is reset or refused
  and all get an HTTP answer.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from scripts.dev import READY_PATH, Stack, open_stack
from scripts.procs import free_port, log_tail

pytestmark = pytest.mark.e2e

READY_TIMEOUT = 120.0
CLIENTS = 80  # at least 64 concurrent connections, with a margin
CONNECT_TIMEOUT = 5.0  # the kernel completes a handshake in microseconds when there is room
ANSWER_TIMEOUT = 90.0  # two shared cores: 80 answers from one Python process take a while
HOST = "127.0.0.1"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("backlog")
    log = tmp / "stack.log"
    try:
        with open_stack(free_port(), None, READY_TIMEOUT, log_path=log,
                        env={"FENXIAO_MODE": "simulator"}) as running:
            yield running
    finally:
        print(log_tail(log, lines=60))


def raw_request(port: int) -> bytes:
    return (f"GET {READY_PATH} HTTP/1.1\r\nHost: {HOST}:{port}\r\nConnection: close\r\n\r\n").encode()


def read_status_line(sock: socket.socket) -> str:
    """The first line of the answer; '' when the server closed without one."""
    data = b""
    while b"\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data.split(b"\r\n", 1)[0].decode("latin-1")


@contextlib.contextmanager
def stopped(pid: int) -> Iterator[None]:
    """The process ``pid`` (the API we started) frozen for the block, whatever happens."""
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


def test_backlog_holds_a_burst_of_connections_while_the_server_accepts_none(stack: Stack) -> None:
    barrier = threading.Barrier(CLIENTS)
    sockets: list[socket.socket | None] = [None] * CLIENTS

    def connect(i: int) -> str | None:
        barrier.wait()
        try:
            sock = socket.create_connection((HOST, stack.port), timeout=CONNECT_TIMEOUT)
        except OSError as exc:  # refused, reset or timed out: not taken into the backlog
            return f"connect: {exc!r}"
        sockets[i] = sock
        try:
            sock.sendall(raw_request(stack.port))
        except OSError as exc:
            return f"send: {exc!r}"
        return None

    def answer(i: int) -> str | None:
        sock = sockets[i]
        if sock is None:
            return None
        try:
            sock.settimeout(ANSWER_TIMEOUT)
            status = read_status_line(sock)
        except OSError as exc:
            return f"answer: {exc!r}"
        finally:
            sock.close()
        return None if status.startswith("HTTP/1.") else f"answer: no status line ({status!r})"

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        try:
            with stopped(stack.api.pid):
                connect_errors = list(pool.map(connect, range(CLIENTS)))
            answer_errors = list(pool.map(answer, range(CLIENTS)))
        finally:
            for sock in sockets:
                if sock is not None:
                    sock.close()

    refused = [f"#{i}: {err}" for i, err in enumerate(connect_errors) if err]
    assert not refused, f"{len(refused)} of {CLIENTS} connections not taken while the server was busy: {refused[:5]}"
    failed = [f"#{i}: {err}" for i, err in enumerate(answer_errors) if err]
    assert not failed, f"{len(failed)} of {CLIENTS} connections got no HTTP answer: {failed[:5]}"


def test_a_burst_of_concurrent_requests_all_get_an_answer(stack: Stack) -> None:
    barrier = threading.Barrier(CLIENTS)

    def fetch(_: int) -> str | None:
        connection = http.client.HTTPConnection(HOST, stack.port, timeout=ANSWER_TIMEOUT)
        barrier.wait()
        try:
            connection.request("GET", READY_PATH, headers={"Connection": "close"})
            response = connection.getresponse()
            response.read()
        except (OSError, http.client.HTTPException) as exc:
            return repr(exc)
        finally:
            connection.close()
        return None if response.status == 200 else f"HTTP {response.status}"

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        errors = list(pool.map(fetch, range(CLIENTS)))
    failed = [f"#{i}: {err}" for i, err in enumerate(errors) if err]
    assert not failed, f"{len(failed)} of {CLIENTS} concurrent requests failed: {failed[:5]}"

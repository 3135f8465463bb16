"""A fake HTTP server on 127.0.0.1 for the WeChat client tests."""
from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@contextmanager
def serve_on_loopback(handler: type[BaseHTTPRequestHandler],
                      before_stop: Callable[[], None] | None = None) -> Iterator[str]:
    """Serve ``handler`` on a free loopback port; yields the base URL. ``before_stop`` releases
    handlers that are stalling on purpose, so that shutting down does not wait for them."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        if before_stop:
            before_stop()
        server.shutdown()
        server.server_close()
        thread.join()


class SilentPeer:
    """A loopback port that accepts every connection and never answers: a hung peer."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=16)
        self.base = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._listener.settimeout(0.02)
        self.connections: list[socket.socket] = []  # held open, never read from or written to
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            self.connections.append(conn)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        for conn in self.connections:
            conn.close()
        self._listener.close()


@contextmanager
def silent_peer() -> Iterator[SilentPeer]:
    """A hung peer on a free loopback port; ``.base`` is its URL, ``.connections`` what it accepted."""
    peer = SilentPeer()
    try:
        yield peer
    finally:
        peer.close()


Answer = tuple[int, bytes, Mapping[str, str]]  # status, body, headers besides Content-Type/Length


def answering(respond: Callable[[str, str, Any, bytes], Answer]) -> type[BaseHTTPRequestHandler]:
    """A JSON handler for GET and POST: ``respond(method, path, headers, raw_body)`` decides the
    answer; a client that gave up waiting is ignored, and nothing is logged."""

    class Handler(BaseHTTPRequestHandler):
        def handle_one(self, method: str) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status, body, extra = respond(method, self.path, self.headers, raw)
            try:
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", "Content-Length": str(len(body)),
                                    **extra}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)
            except OSError:
                pass  # the client gave up waiting

        def do_GET(self) -> None:
            self.handle_one("GET")

        def do_POST(self) -> None:
            self.handle_one("POST")

        def log_message(self, *args: object) -> None:
            pass

    return Handler


Recorded = tuple[str, dict[str, list[str]], Any]  # path, query, the JSON body posted


def recording_posts(requests: list[Recorded], answer: Callable[[str], Any],
                    status: Callable[[str], int] = lambda path: 200) -> type[BaseHTTPRequestHandler]:
    """A fake WeChat API: every JSON POST is appended to ``requests`` as (path, query, body) and
    answered with ``answer(path)`` as JSON, with the HTTP ``status(path)``."""

    def respond(method: str, path: str, headers: Any, raw: bytes) -> Answer:
        url = urlsplit(path)
        requests.append((url.path, parse_qs(url.query), json.loads(raw)))
        return status(url.path), json.dumps(answer(url.path), ensure_ascii=False).encode(), {}

    return answering(respond)

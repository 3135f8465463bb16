"""A fake HTTP server on 127.0.0.1 for the WeChat client tests."""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


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

"""A fake HTTP server on 127.0.0.1 for the WeChat client tests."""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


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

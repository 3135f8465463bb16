"""moto's DynamoDB server behind one global lock: the fallback where Java is missing.

moto is not thread-safe: unlocked, concurrent conditional writes can both succeed (it oversold
6-7 of 5 units under 20 threads). This server lets werkzeug accept connections on many threads
but serves exactly one request at a time. It is slower than DynamoDB Local, keeps nothing on
disk and says nothing true about races; ``scripts/dynamodb_local.py`` starts it, as a child
process in its own process group, only when ``java`` is missing or ``FENXIAO_FORCE_MOTO=1``.

It runs in a child process rather than a thread of the caller so that its moto backends never
mix with an in-process ``mock_aws`` (the fast test tiers), and so that it stops like Java does.

    python scripts/moto_fallback.py --port N     # serves until SIGTERM / SIGINT / SIGHUP
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from types import FrameType
from typing import Any

from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server

REQUEST_LOCK = threading.Lock()
"""Held for the whole of every request, response body included."""


class LockedDispatcher(DomainDispatcherApplication):
    """moto's WSGI dispatcher, serving one request at a time under :data:`REQUEST_LOCK`."""

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        with REQUEST_LOCK:
            result = super().__call__(environ, start_response)
            try:
                body = list(result)  # produce the body while still holding the lock
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        return body


class LockedMotoServer(ThreadedMotoServer):
    """``ThreadedMotoServer`` serving :class:`LockedDispatcher`.

    Overrides ``_server_entry`` of moto 5.2.5 (same body, with our dispatcher), and reports a
    failure to listen instead of leaving ``start()`` waiting forever.
    """

    startup_error: OSError | SystemExit | None = None

    def _server_entry(self) -> None:
        try:
            app = LockedDispatcher(create_backend_app)
            self._server = make_server(
                self._ip_address, self._port, app, True, request_handler=MotoRequestHandler
            )
        except (OSError, SystemExit) as exc:  # werkzeug exits when the port is taken
            self.startup_error = exc
            self._server_ready_event.set()
            return
        self._server_ready_event.set()
        self._server.serve_forever()


def serve(port: int, host: str = "127.0.0.1") -> None:
    """Serve on ``host:port`` until SIGTERM, SIGINT or SIGHUP (main thread only)."""
    stop_requested = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop_requested.set()

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, on_signal)
    server = LockedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    if server.startup_error is not None:
        raise SystemExit(f"moto could not listen on {host}:{port}: {server.startup_error}")
    print(f"moto (one request at a time) listening on http://{host}:{port}", flush=True)
    stop_requested.wait()
    server.stop()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="moto's server behind one global lock")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args(argv)
    serve(args.port, args.host)
    return 0


if __name__ == "__main__":
    sys.exit(main())

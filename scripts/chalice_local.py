"""``chalice local --no-autoreload`` with a listen backlog that takes a burst of connections.

Chalice 1.34's local server is ``chalice.local.ThreadedHTTPServer``, a socketserver whose
``request_queue_size`` is socketserver's default of 5: when dozens of clients connect at once
(a mini-program team load-testing ``make dev``), every connection beyond the sixth that
arrives before the server calls ``accept()`` is dropped by Linux (the client's connect or
request then stalls or times out) or reset (macOS, ``tcp_abort_on_overflow``). API Gateway
would take them all.

This runs what ``chalice local`` runs (the CLI's ``create_local_server``: the stage's config,
the route check, the app in local mode) with one change, made through chalice's own seams:
a ``CLIFactory`` whose ``create_local_server`` gives ``LocalDevServer`` (its ``server_cls``
parameter) a server class with a backlog of :data:`LISTEN_BACKLOG`. The kernel caps it at
``net.core.somaxconn`` (4096 on Linux 5.4+, 128 before).

And one more, through its ``handler_cls`` parameter: a request that matches no route is answered
as the deployed API answers it (infra/gateway.py), ``404`` with our ``NOT_FOUND`` body, instead
of chalice local's copy of API Gateway's default (a ``403`` "Missing Authentication Token", or
"Authorization header requires 'Credential' parameter..." when a token is sent).

Usage (from the project directory, as ``scripts/dev.py`` starts it)::

    python scripts/chalice_local.py --host 127.0.0.1 --port 8000 --stage dev
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, HTTPServer

from chalice import local
from chalice.app import Chalice
from chalice.cli import create_local_server
from chalice.cli.factory import CLIFactory
from chalice.config import Config

LISTEN_BACKLOG = 512
"""Connections the kernel completes and queues before the server accepts them."""


class BurstServer(local.ThreadedHTTPServer):
    """chalice's threaded local server, listening with a backlog of :data:`LISTEN_BACKLOG`."""

    request_queue_size = LISTEN_BACKLOG


class UnknownRoute(local.LocalGatewayException):
    """No route matches the path: answered with :attr:`CODE` and our body (infra/gateway.py)."""

    CODE = 404


class RoutingGateway(local.LocalGateway):
    """chalice's local API Gateway, answering an unknown path with :class:`UnknownRoute`."""

    def _generate_lambda_event(self, method: str, path: str, headers: local.HeaderType,
                               body: bytes | None) -> local.EventType:
        try:
            return super()._generate_lambda_event(method, path, headers, body)
        except ValueError:  # chalice's RouteMatcher: "No matching route found"
            from infra.gateway import CONTENT_TYPE, UNKNOWN_ROUTE_BODY  # the project dir is on sys.path by now

            raise UnknownRoute({"Content-Type": CONTENT_TYPE},
                               json.dumps(UNKNOWN_ROUTE_BODY, separators=(",", ":")).encode()) from None


class RoutingHandler(local.ChaliceRequestHandler):
    """chalice's request handler on :class:`RoutingGateway` (the parent's ``__init__`` makes its
    gateway and handles the request at once, so this one makes ours and does the same)."""

    def __init__(self, request: bytes, client_address: tuple[str, int], server: HTTPServer, app_object: Chalice,
                 config: Config) -> None:
        self.local_gateway = RoutingGateway(app_object, config)
        BaseHTTPRequestHandler.__init__(self, request, client_address, server)  # type: ignore[arg-type]


class BurstFactory(CLIFactory):
    """The CLI's factory, building the local server on :class:`BurstServer`."""

    def create_local_server(self, app_obj: Chalice, config: Config, host: str, port: int) -> local.LocalDevServer:
        # What chalice.local.create_local_server does, with our server class: the app's requests
        # go through LocalChalice (a thread-local current_request) as under `chalice local`.
        local.CustomLocalChalice.__bases__ = (local.LocalChalice, app_obj.__class__)
        app_obj.__class__ = local.CustomLocalChalice
        return local.LocalDevServer(app_obj, config, host, port, handler_cls=RoutingHandler,
                                     server_cls=BurstServer)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--stage", default="dev")
    parser.add_argument("--project-dir", default=os.getcwd())
    args = parser.parse_args(argv)
    project_dir = os.path.abspath(args.project_dir)
    os.chdir(project_dir)
    os.environ["AWS_CHALICE_CLI_MODE"] = "true"  # as every chalice CLI command sets it
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(message)s")  # as `chalice local`
    factory = BurstFactory(project_dir, False, environ=os.environ)
    server = create_local_server(factory, args.host, args.port, args.stage)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())

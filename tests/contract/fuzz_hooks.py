"""Schemathesis CLI hooks, loaded by ./schemathesis.toml (a plain `schemathesis run` from
the repository root) and by `make fuzz`.

Generated cases go through ``prepare`` (tests/contract/preparation.py), as in the suite.
Generated destinations point at a receiver this module starts on loopback, which answers
every POST with 200: dispatches reach a real downstream, and the gateway sends nothing to
a generated host. ``FUZZ_DESTINATION_URL`` names another receiver instead;
``FUZZ_RECEIVER_PORT`` fixes this one's port (0, the default: any free port).
"""

from __future__ import annotations

import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import schemathesis

from tests.contract import preparation
from tests.contract.preparation import prepare


class _Receiver(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = b'{"received": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def start_receiver(port: int) -> str:
    server = ThreadingHTTPServer(("127.0.0.1", port), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True, name="fuzz-receiver").start()
    return f"http://127.0.0.1:{server.server_port}/hook"


if "FUZZ_DESTINATION_URL" not in os.environ:
    preparation.DESTINATION_URL = start_receiver(int(os.environ.get("FUZZ_RECEIVER_PORT", "0")))


@schemathesis.hook
def before_call(context: schemathesis.HookContext, case: schemathesis.Case, **kwargs: Any) -> None:
    prepare(case)

"""A local HTTP server that stands in for API Gateway in front of the ingestion Lambda.

Each HTTP request becomes an API Gateway REST proxy event (``httpMethod``, ``path``,
``headers``, ``queryStringParameters``, base64 ``body``, ``requestContext.requestId``),
is passed to the same :class:`ecom.api.handler.IngestApp` the Lambda runs, and the
proxy response is written back. Threaded: one thread per connection.

What API Gateway would do before the Lambda and this server does instead: the API key
check (by the app, see ``ApiConfig.api_keys``) and a hard cap on the body size
(:data:`GATEWAY_MAX_BODY_BYTES`, API Gateway's 10 MB) so a huge upload is refused
without being read.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

log = logging.getLogger("ecom.api.server")

#: API Gateway's payload limit: bodies above it are refused before they are read.
GATEWAY_MAX_BODY_BYTES = 10 * 2**20

ProxyHandler = Callable[[dict[str, Any], Any], dict[str, Any]]


def _plain(status: int, reason: str, detail: str) -> tuple[int, dict[str, str], bytes]:
    body = json.dumps({"error": reason, "detail": detail}).encode()
    return status, {"Content-Type": "application/json"}, body


class _RequestHandler(BaseHTTPRequestHandler):
    server_version = "ecom-api"
    protocol_version = "HTTP/1.1"
    app: ProxyHandler  # set on the subclass made by make_server

    def log_message(self, fmt: str, *args: Any) -> None:

        log.debug("%s " + fmt, self.address_string(), *args)

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def _handle(self) -> None:
        status, headers, body = self._answer()
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _answer(self) -> tuple[int, dict[str, str], bytes]:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            self.close_connection = True
            return _plain(
                411, "length_required", "send a Content-Length (chunked bodies are not read)"
            )
        length_text = self.headers.get("Content-Length") or "0"
        try:
            length = int(length_text)
            if length < 0:
                raise ValueError
        except ValueError:
            self.close_connection = True
            return _plain(
                400, "bad_content_length", f"Content-Length {length_text[:40]!r} is not a size"
            )
        if length > GATEWAY_MAX_BODY_BYTES:
            self.close_connection = True  # the body is not read: the connection cannot be reused
            return _plain(
                413,
                "body_too_large",
                f"the body has {length:,} bytes (gateway limit {GATEWAY_MAX_BODY_BYTES:,})",
            )
        body = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        headers = dict(self.headers.items())
        event = {
            "resource": url.path,
            "path": url.path,
            "httpMethod": self.command,
            "headers": headers,
            "queryStringParameters": dict(parse_qsl(url.query)) or None,
            "body": base64.b64encode(body).decode("ascii") if body else None,
            "isBase64Encoded": bool(body),
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "identity": {"sourceIp": self.client_address[0]},
                "stage": "local",
            },
        }
        response = self.app(event, None)
        out = response.get("body") or ""
        data = (
            base64.b64decode(out) if response.get("isBase64Encoded") else str(out).encode("utf-8")
        )
        return int(response.get("statusCode", 200)), dict(response.get("headers") or {}), data


def make_server(app: ProxyHandler, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    """A threaded HTTP server on ``host:port`` (0: a free port) calling ``app`` per request."""
    handler = type("EcomApiHandler", (_RequestHandler,), {"app": staticmethod(app)})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server


def base_url(server: ThreadingHTTPServer) -> str:
    host, port = server.server_address[:2]
    return f"http://{host!s}:{port}"


@contextlib.contextmanager
def serving(app: ProxyHandler, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve ``app`` in a background thread for the duration of the block; yields the base URL."""
    server = make_server(app, host, port)
    thread = threading.Thread(target=server.serve_forever, name="ecom-api", daemon=True)
    thread.start()
    try:
        yield base_url(server)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

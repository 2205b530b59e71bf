"""A tiny HTTP server for `/metrics` (Prometheus text) and `/health` (JSON, 200 or 503)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4, CollectorRegistry, generate_latest


class StatusServer:
    """Serve a registry and a health report on `host:port` (port 0: any free port)."""

    def __init__(
        self,
        registry: CollectorRegistry,
        health: Callable[[], tuple[bool, dict[str, Any]]],
        *,
        host: str = "127.0.0.1",
        port: int = 9101,
    ) -> None:
        handler = _handler(registry, health)
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="status-http", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)


def _handler(
    registry: CollectorRegistry, health: Callable[[], tuple[bool, dict[str, Any]]]
) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                health()  # refreshes the gauges it reports (buffer, pending trades, store)
                self._reply(200, CONTENT_TYPE_PLAIN_0_0_4, generate_latest(registry))
            elif path == "/health":
                healthy, report = health()
                body = json.dumps(report, default=str).encode()
                self._reply(200 if healthy else 503, "application/json", body)
            else:
                text = json.dumps({"error": f"no such path {path!r}; try /metrics or /health"})
                self._reply(404, "application/json", text.encode())

        def _reply(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # scrapes every few seconds would flood the service log

    return Handler

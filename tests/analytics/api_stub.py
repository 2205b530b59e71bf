"""A tiny real HTTP server on loopback standing in for the API host's POST /api/v1/signals."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ApiStub:
    """Records every signal body; answers with queued statuses first, then 201.

    With `batch=True` it also takes `POST /api/v1/signals/batch` as the API host does: the
    request's status first, then each signal answered in order (`item_statuses` first, then
    201); without it that path is a 404, as on an API host that predates it. `requests` keeps
    each request's path and how many signals it carried. With `progress=True` it takes
    `POST /api/v1/signals/progress` too; `events` keeps what it took in order: ("signal",
    id) for each signal recorded, ("marks", marks) for each list of progress marks.
    """

    def __init__(
        self,
        port: int = 0,
        statuses: list[int] | None = None,
        *,
        batch: bool = False,
        item_statuses: list[int] | None = None,
        progress: bool = False,
        progress_status: int = 200,
    ) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.keys: list[str | None] = []
        self.requests: list[tuple[str, int]] = []
        self.statuses = list(statuses or [])
        self.item_statuses = list(item_statuses or [])
        self.events: list[tuple[str, Any]] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # kept alive, as uvicorn does

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length))
                known = self.path == "/api/v1/signals" or (batch and self.path.endswith("/batch"))
                status = stub.statuses.pop(0) if stub.statuses and known else 201
                answer: dict[str, Any] = {}
                if self.path == "/api/v1/signals/batch" and batch:
                    signals = body["signals"]
                    stub.requests.append((self.path, len(signals)))
                    if status < 300:
                        status, answer = 200, {"results": []}
                        for signal in signals:
                            item = stub.item_statuses.pop(0) if stub.item_statuses else 201
                            if item < 300:
                                stub.bodies.append(signal)
                                stub.keys.append(self.headers.get("X-API-Key"))
                                stub.events.append(("signal", signal.get("signal_id")))
                            error = None if item < 300 else f"refused with {item}"
                            answer["results"].append({"status": item, "error": error})
                        if body.get("progress"):
                            stub.events.append(("marks", body["progress"]))
                elif self.path == "/api/v1/signals/progress" and progress:
                    stub.requests.append((self.path, 0))
                    status, answer = progress_status, {"applied": 0}
                    if status < 300:
                        stub.events.append(("marks", body["marks"]))
                elif self.path != "/api/v1/signals":
                    stub.requests.append((self.path, 0))
                    status = 404
                else:
                    stub.requests.append((self.path, 1))
                    if status < 300:
                        stub.bodies.append(body)
                        stub.keys.append(self.headers.get("X-API-Key"))
                        stub.events.append(("signal", body.get("signal_id")))
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = int(self.server.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

"""A stand-in for the scheduler API's health endpoints, in a thread of the test: healthy,
degraded, slow, HTTP 500, hanging, a body that is not JSON, or not HTTP at all; and a
port where nothing listens. It also records every request (the dead man's switch)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tests.http_stand_in import QuietHandler, StandInServer, serving

HEALTHY = {
    "status": "healthy",
    "database": "connected",
    "cache": "online",
    "api": "responding",
    "timestamp": "2026-12-07T10:00:00Z",
}
EXTENDED = {
    "status": "healthy",
    "response_time_ms": 12,
    "database_query_time_ms": 8.5,
    "cache_hit_rate": 0.93,
    "error_rate": 0.0004,
    "active_operations": 0,
}


class _Server(StandInServer):
    def __init__(self) -> None:
        super().__init__(_Handler)
        self.mode = "healthy"
        self.extended: dict[str, Any] = dict(EXTENDED)
        self.slow_s = 0.3
        self.requests: list[tuple[str, str, bytes]] = []


class _Handler(QuietHandler):
    server: _Server

    def _answer(self) -> None:
        srv = self.server
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        with srv.lock:
            srv.requests.append((self.command, self.path, body))
        mode = srv.mode
        if mode == "hang":
            srv.release.wait(60)
            return
        if mode == "slow":
            time.sleep(srv.slow_s)
        if mode == "error":
            self._send(500, b'{"detail": "Internal Server Error"}')
        elif mode == "garbage":
            self._send(200, b"\x00\xffnot json <html>", "text/html")
        elif mode == "degraded":
            self._send(200, json.dumps({"status": "degraded"}).encode())
        elif self.path.endswith("/extended"):
            self._send(200, json.dumps(srv.extended).encode())
        else:
            self._send(200, json.dumps(HEALTHY).encode())

    do_GET = _answer
    do_POST = _answer
    do_HEAD = _answer


class StandIn:
    """The running stand-in: its base URL, its mode, what it received."""

    def __init__(self, server: _Server) -> None:
        self._server = server

    @property
    def url(self) -> str:
        return self._server.url

    def set(self, mode: str, **extended: Any) -> None:
        self._server.mode = mode
        if extended:
            self._server.extended = {**EXTENDED, **extended}

    @property
    def paths(self) -> list[str]:
        with self._server.lock:
            return [p for _, p, _ in self._server.requests]

    @property
    def requests(self) -> list[tuple[str, str, bytes]]:
        with self._server.lock:
            return list(self._server.requests)


@contextmanager
def stand_in(mode: str = "healthy") -> Iterator[StandIn]:
    server = _Server()
    server.mode = mode
    with serving(server):
        yield StandIn(server)


def closed_port() -> int:
    """A local port where nothing listens (connections are refused at once)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def not_http() -> Iterator[str]:
    """A server that accepts, writes bytes that are not HTTP and closes: its URL."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.1)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            with conn:
                try:
                    conn.recv(4096)
                    conn.sendall(b"\x16\x03garbage that is not HTTP\r\n\r\n")
                except OSError:
                    pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(2)
        listener.close()

"""A stand-in for the scheduler API's smoke endpoints, in a thread of the test: each path
answers a configured status and JSON body after a configured delay (or hangs until the
test ends). It records every request."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from tests.http_stand_in import QuietHandler, StandInServer, serving

HEALTH = {
    "status": "healthy",
    "database": "connected",
    "cache": "online",
    "api": "responding",
    "timestamp": "2026-12-07T10:00:00Z",
}


@dataclass
class Route:
    status: int = 200
    body: Any = None
    delay_s: float = 0.0
    hang: bool = False
    raw: bytes | None = None


def default_routes() -> dict[str, Route]:
    return {
        "/api/health": Route(body=HEALTH),
        "/api/schedule": Route(body={"assignments": [], "start": "2026-12-07"}),
        "/api/reports": Route(body={"reports": ["coverage"]}),
    }


class _Server(StandInServer):
    def __init__(self) -> None:
        super().__init__(_Handler)
        self.routes = default_routes()
        self.requests: list[tuple[str, str]] = []


class _Handler(QuietHandler):
    server: _Server

    def _answer(self) -> None:
        srv = self.server
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        with srv.lock:
            srv.requests.append((self.command, self.path))
            route = srv.routes.get(self.path.split("?", 1)[0])
        if route is None:
            self._send(404, b'{"detail": "Not Found"}')
            return
        if route.hang:
            srv.release.wait(60)
            return
        if route.delay_s:
            time.sleep(route.delay_s)
        body = route.raw if route.raw is not None else json.dumps(route.body).encode()
        self._send(route.status, body)

    do_GET = _answer
    do_POST = _answer
    do_HEAD = _answer


class SmokeAPI:
    def __init__(self, server: _Server) -> None:
        self._server = server

    @property
    def url(self) -> str:
        return self._server.url

    def route(self, path: str, **changes: Any) -> None:
        with self._server.lock:
            old = self._server.routes.get(path, Route())
            self._server.routes[path] = Route(**{**old.__dict__, **changes})

    @property
    def requests(self) -> list[tuple[str, str]]:
        with self._server.lock:
            return list(self._server.requests)


@contextmanager
def smoke_api() -> Iterator[SmokeAPI]:
    with serving(_Server()) as server:
        yield SmokeAPI(server)

"""``maint metrics serve``: the Prometheus endpoint over HTTP (prometheus_client's own
server, threaded), and the exposition text once (``maint metrics``)."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import generate_latest, start_http_server

from maintenance.config import Settings
from maintenance.metrics.collector import registry


def exposition(settings: Settings) -> str:
    """The metrics page, once (the Prometheus text format)."""
    return generate_latest(registry(settings)).decode()


def serve(
    settings: Settings,
    host: str,
    port: int,
    *,
    ready: Callable[[str, int], None] | None = None,
) -> None:
    """Serve ``/metrics`` on ``host:port`` until the process is stopped. Each scrape
    reads the history (bounded by ``MAINT_METRICS_SCRAPE_TIMEOUT_S`` per query)."""
    server, thread = start_http_server(port, host, registry(settings))
    try:
        if ready is not None:
            ready(host, server.server_port)
        while thread.is_alive():
            thread.join(1.0)
    finally:
        server.shutdown()
        server.server_close()

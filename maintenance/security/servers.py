"""The running servers' versions: the target PostgreSQL and the cache's Redis (readers).

Each read is bounded in time and never raises: a server that does not answer gives the
reason, which the audit reports as a warning (its version is then unknown, not fine).
"""

from __future__ import annotations

from dataclasses import dataclass

import redis

from maintenance import pg, redact
from maintenance.errors import MaintenanceError
from maintenance.security.eol import postgres_version


@dataclass(frozen=True)
class ServerVersion:
    product: str  # "postgresql" or "redis"
    server: str  # where, password masked
    version: str | None
    error: str | None = None


def postgres(dsn: str, timeout_s: float) -> ServerVersion:
    host, port = pg.server_identity(dsn)
    where = f"{host}:{port}"
    try:
        with pg.connect(dsn, timeout=timeout_s) as conn:
            row = conn.execute("SELECT current_setting('server_version_num')::int").fetchone()
    except MaintenanceError as exc:
        return ServerVersion("postgresql", where, None, f"{type(exc).__name__}: {exc}")
    assert row is not None
    return ServerVersion("postgresql", where, postgres_version(int(row[0])))


def redis_server(url: str, timeout_s: float) -> ServerVersion:
    where = redact.mask_url(url)
    client = redis.Redis.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s)
    try:
        info = client.info("server")
    except redis.RedisError as exc:
        return ServerVersion(
            "redis", where, None, f"{type(exc).__name__}: {redact.scrub(str(exc))}"
        )
    finally:
        client.close()
    return ServerVersion("redis", where, str(info.get("redis_version", "")) or None)

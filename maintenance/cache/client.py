"""The application's Redis cache: connecting, telling servers apart, refusing the broker's.

Every cache task opens its client with :func:`open_cache`, which first proves that
``MAINT_CACHE_URL`` is not the database Celery uses (``MAINT_BROKER_URL``, and the result
backend): if both name the same server and the same database index, the task refuses to
run. "The same server" is decided twice: by the URLs (``localhost``, ``127.0.0.1`` and
``::1`` are one host; no port is 6379; no index is 0; ``?db=`` counts), and, when the
broker answers, by the servers' own ``run_id``, which catches two names for one server
(a DNS alias, a container name and its address).

Redis errors become the suite's own: a server that does not answer is
:class:`~maintenance.errors.ServiceUnavailable` (transient: the workers retry it), a
refused password or a missing permission :class:`~maintenance.errors.ServiceRefused`.
Messages carry the URL with its password masked.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import redis
from redis.connection import parse_url

from maintenance import redact
from maintenance.config import Settings
from maintenance.errors import ConfigError, ServiceRefused, ServiceUnavailable

#: Seconds to wait for Redis to accept a connection or answer a command.
TIMEOUT_S = 10.0

_LOOPBACK = {"localhost", "127.0.0.1", "::1", "0:0:0:0:0:0:0:1"}


@dataclass(frozen=True)
class Endpoint:
    """Where a Redis URL points: a server (host and port, or a socket path) and a db."""

    server: str
    db: int

    def __str__(self) -> str:
        return f"{self.server}/{self.db}"


def endpoint(url: str) -> Endpoint:
    """The endpoint of a ``redis://``, ``rediss://`` or ``unix://`` URL (pure)."""
    try:
        kwargs = parse_url(url)
    except ValueError as exc:
        raise ConfigError(f"cannot read the Redis URL {redact.mask_url(url)}: {exc}") from None
    db = int(kwargs.get("db") or 0)
    if kwargs.get("path"):
        return Endpoint(f"unix:{kwargs['path']}", db)
    host = str(kwargs.get("host") or "localhost").lower().strip("[]")
    if host in _LOOPBACK:
        host = "localhost"
    return Endpoint(f"{host}:{int(kwargs.get('port') or 6379)}", db)


def same_database(
    cache: Endpoint, other: Endpoint, cache_run_id: str | None, other_run_id: str | None
) -> bool:
    """Whether two endpoints are one database: the same index on the same server, the
    server known by its address or, when both answered, by its ``run_id`` (pure)."""
    if cache.db != other.db:
        return False
    if cache.server == other.server:
        return True
    return cache_run_id is not None and cache_run_id == other_run_id


def connect(url: str) -> redis.Redis:
    """A client for ``url`` that returns bytes (key names are binary)."""
    return redis.Redis.from_url(
        url,
        socket_timeout=TIMEOUT_S,
        socket_connect_timeout=TIMEOUT_S,
        decode_responses=False,
        health_check_interval=0,
    )


@contextlib.contextmanager
def answering(url: str, what: str = "the cache") -> Iterator[None]:
    """Translate redis-py's errors into the suite's for the block (see the module text)."""
    shown = redact.mask_url(url)
    try:
        yield
    except (redis.AuthenticationError, redis.exceptions.NoPermissionError) as exc:
        raise ServiceRefused(f"{what} at {shown} refused: {redact.scrub(str(exc))}") from None
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        raise ServiceUnavailable(
            f"{what} at {shown} did not answer: {redact.scrub(str(exc))}"
        ) from None
    except redis.ResponseError as exc:
        text = redact.scrub(str(exc))
        if text.startswith(("NOAUTH", "WRONGPASS", "NOPERM")):
            raise ServiceRefused(f"{what} at {shown} refused: {text}") from None
        raise


def info_and_keys(client: redis.Redis) -> tuple[dict[str, Any], int]:
    """``INFO`` server, memory and stats merged, and ``DBSIZE`` (never ``KEYS``): what
    cache.stats, the health check and the weekly deep check read of a Redis."""
    info: dict[str, Any] = {}
    for section in ("server", "memory", "stats"):
        info |= client.info(section)
    return info, int(client.dbsize())


def run_id(client: redis.Redis) -> str:
    info = client.info("server")
    return str(info.get("run_id", ""))


@dataclass(frozen=True)
class Cache:
    """An open cache client, where it points, and why it is not the broker's."""

    client: redis.Redis
    url: str
    endpoint: Endpoint
    #: How the broker guard decided (shown in the run's checklist).
    guard: str

    @property
    def shown(self) -> str:
        return redact.mask_url(self.url)


def _celery_urls(settings: Settings) -> list[tuple[str, str]]:
    urls = [("MAINT_BROKER_URL", settings.broker_url.get_secret_value())]
    backend = settings.result_backend_url
    if backend != urls[0][1] and backend.startswith(("redis://", "rediss://", "unix://")):
        urls.append(("MAINT_RESULT_BACKEND", backend))
    return urls


def open_cache(settings: Settings) -> Cache:
    """Connect to ``MAINT_CACHE_URL`` after proving it is not Celery's database.

    Raise ConfigError (recorded, not retried) when it is; ServiceUnavailable when the
    cache does not answer."""
    url = settings.cache_url.get_secret_value()
    ep = endpoint(url)
    client = connect(url)
    try:
        with answering(url):
            own = run_id(client)
    except Exception:
        client.close()
        raise
    notes = []
    for name, other_url in _celery_urls(settings):
        other = endpoint(other_url)
        other_id: str | None = None
        if other.server != ep.server and other.db == ep.db:
            # Two names may be one server: ask it who it is (read-only INFO).
            probe = connect(other_url)
            try:
                with answering(other_url, "the broker"):
                    other_id = run_id(probe)
            except (ServiceUnavailable, ServiceRefused) as exc:
                notes.append(f"{name} not asked ({type(exc).__name__}): compared by URL")
            finally:
                probe.close()
        if same_database(ep, other, own, other_id):
            client.close()
            how = "the same address" if other_id is None else f"the same server, run_id {own[:12]}"
            raise ConfigError(
                f"MAINT_CACHE_URL ({redact.mask_url(url)}) is the database of {name} "
                f"({redact.mask_url(other_url)}): db {ep.db} on {how}. The cache tasks "
                "refuse to run there: clearing it would delete Celery's own keys. Give the "
                "cache a database index of its own"
            )
    guard = f"db {ep.db} on {ep.server}, not Celery's ({'; '.join(notes) or 'checked'})"
    return Cache(client, url, ep, guard)

"""What the cache tests share: per-test key prefixes in the session's cache database (DB
14), sentinel keys in the broker's (DB 15) that prove it untouched, and a private
redis-server for the tests whose effects are server-wide (FLUSHDB, INFO counters,
maxmemory), so that no other test session on the machine can feel them."""

from __future__ import annotations

import contextlib
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

from maintenance.cache import patterns
from maintenance.config import Settings
from tests.conftest import BROKER_DB, CACHE_DB, REDIS_BASE, TAG

CACHE_URL = f"{REDIS_BASE}/{CACHE_DB}"
BROKER_URL = f"{REDIS_BASE}/{BROKER_DB}"


def new_prefix() -> str:
    return f"maint-test-{TAG}-{secrets.token_hex(3)}:"


def keys_under(client: redis.Redis, prefix: str) -> set[bytes]:
    return {bytes(k) for k in client.scan_iter(match=patterns.prefix_pattern(prefix), count=1000)}


def scan_match(client: redis.Redis, pattern: str) -> set[bytes]:
    """What Redis's own SCAN MATCH selects (the reference the deletions must equal)."""
    return {bytes(k) for k in client.scan_iter(match=pattern.encode(), count=1000)}


def remove_under(client: redis.Redis, prefix: str) -> None:
    for key in keys_under(client, prefix):
        client.unlink(key)


def fill(client: redis.Redis, names: Iterable[bytes | str], value: bytes = b"x") -> None:
    pipe = client.pipeline(transaction=False)
    for name in names:
        pipe.set(name, value)
    pipe.execute()


@dataclass
class Keys:
    """The test's own corner of the cache database, and of the broker's."""

    prefix: str
    cache: redis.Redis
    broker: redis.Redis

    def under(self) -> set[bytes]:
        return keys_under(self.cache, self.prefix)


@pytest.fixture
def keys() -> Iterator[Keys]:
    cache = redis.Redis.from_url(CACHE_URL)
    broker = redis.Redis.from_url(BROKER_URL)
    k = Keys(new_prefix(), cache, broker)
    yield k
    remove_under(cache, k.prefix)
    remove_under(broker, k.prefix)
    cache.close()
    broker.close()


def with_settings(settings: Settings, **values: object) -> Settings:
    return Settings.model_validate(settings.model_dump() | values)


# --- a private server ----------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PrivateRedis:
    """A redis-server of the test's own (no persistence), on a free local port."""

    port: int
    folder: Path
    proc: subprocess.Popen[bytes] | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def client(self, db: int = 0) -> redis.Redis:
        return redis.Redis.from_url(self.url(db))

    def start(self, *config: str) -> None:
        exe = shutil.which("redis-server")
        if exe is None:
            pytest.fail("redis-server is not installed (run scripts/ensure-services)")
        args = [
            exe,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ]
        args += ["--dir", str(self.folder), *config]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with contextlib.suppress(redis.RedisError):
                if self.client().ping():
                    return
            time.sleep(0.05)
        self.stop()
        pytest.fail(f"the private redis-server on port {self.port} did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None

    def restart(self, *config: str) -> None:
        self.stop()
        self.start(*config)


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(_free_port(), tmp_path)
    server.start()
    yield server
    server.stop()

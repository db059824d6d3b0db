"""Shared fixtures: real PostgreSQL, real Redis, real Celery workers.

Every test session (each xdist worker process) gets its own databases
(``maint_test_<tag>_*``, dropped at the end), its own Celery queue name, and a pair of
Redis DB indexes (15 and 14 for the first process, 13 and 12 for the second ...) that
nothing else on the machine uses. Nothing outside those is touched. A missing service fails the
run: these tests do not skip silently.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
import redis

ROOT = Path(__file__).resolve().parent.parent
PG_SERVER = os.environ.get("MAINT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_BASE = os.environ.get("MAINT_TEST_REDIS", "redis://127.0.0.1:6379")
#: pytest-xdist runs the suite in several processes (scripts/test: -n 3); each gets its
#: own pair of Redis databases (gw0: 15 and 14, gw1: 13 and 12 ...), so that one's cache
#: clears, flushes and broker keys never meet another's. Databases and queues are
#: already per process (TAG).
_XDIST = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
_SLOT = int(_XDIST[2:]) if _XDIST.startswith("gw") and _XDIST[2:].isdigit() else 0
if _SLOT > 6:
    raise RuntimeError("at most 7 xdist workers: each needs two Redis databases of 16")
BROKER_DB, CACHE_DB = 15 - 2 * _SLOT, 14 - 2 * _SLOT

TAG = f"{os.getpid()}_{secrets.token_hex(3)}"
#: A password that must never appear in logs, the history, Flower or ps. The server uses
#: trust authentication here, so it is carried everywhere without being checked.
LEAK_CANARY = f"Pw-{secrets.token_hex(8)}-canary"


def _dsn(db: str, password: bool = True) -> str:
    base = PG_SERVER.rsplit("/", 1)[0]
    if password:
        base = base.replace("postgresql://postgres@", f"postgresql://postgres:{LEAK_CANARY}@")
    return f"{base}/{db}"


HISTORY_DB = f"maint_test_{TAG}_history"
TARGET_DB = f"maint_test_{TAG}_target"


def _require_services() -> None:
    try:
        with psycopg.connect(PG_SERVER, connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except psycopg.OperationalError as exc:
        pytest.exit(
            f"PostgreSQL is not answering at {PG_SERVER}: {exc} (run scripts/ensure-services)", 2
        )
    try:
        redis.Redis.from_url(f"{REDIS_BASE}/{BROKER_DB}", socket_timeout=5).ping()
    except redis.RedisError as exc:
        pytest.exit(
            f"Redis is not answering at {REDIS_BASE}: {exc} (run scripts/ensure-services)", 2
        )


def base_env(tmp: Path) -> dict[str, str]:
    """The MAINT_* environment of this test session (also given to subprocesses)."""
    return {
        "MAINT_TARGET_DSN": _dsn(TARGET_DB),
        "MAINT_HISTORY_DSN": _dsn(HISTORY_DB),
        "MAINT_BROKER_URL": f"{REDIS_BASE}/{BROKER_DB}",
        "MAINT_CACHE_URL": f"{REDIS_BASE}/{CACHE_DB}",
        "MAINT_QUEUE": f"maint-test-{TAG}",
        "MAINT_BACKUP_ROOT": str(tmp / "backups"),
        "MAINT_LOG_ROOT": str(tmp / "logs"),
        "MAINT_TIMEZONE": "America/New_York",
        "MAINT_HEARTBEAT_INTERVAL_S": "1",
        "MAINT_LOST_AFTER_S": "4",
        "MAINT_REAP_INTERVAL_S": "1",
        "MAINT_LOG_LEVEL": "INFO",
        "MAINT_LOG_FORMAT": "json",
    }


# Point this process at the session's own databases, Redis DBs and queue *before* any test
# module imports tasks.app (which reads the settings once, at import). An operator's own
# MAINT_* variables are set aside so that no test can reach a real deployment.
SESSION_TMP = Path(tempfile.mkdtemp(prefix=f"maint-test-{TAG}-"))
if "PYTEST_XDIST_WORKER" in os.environ:
    # xdist sets COLUMNS=80 and LINES=24 in its workers; `maint` would print narrower
    # tables there than in a plain run (the tests that want a width set it themselves)
    os.environ.pop("COLUMNS", None)
    os.environ.pop("LINES", None)
for _key in [k for k in os.environ if k.startswith("MAINT_") and not k.startswith("MAINT_TEST_")]:
    del os.environ[_key]
ENV = base_env(SESSION_TMP)
os.environ.update(ENV)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    shutil.rmtree(SESSION_TMP, ignore_errors=True)
    # Our queues' keys (queue lists, kombu bindings) carry the session tag; results expire.
    try:
        client = redis.Redis.from_url(f"{REDIS_BASE}/{BROKER_DB}", socket_timeout=5)
        for key in client.scan_iter(match=f"*{TAG}*", count=500):
            client.unlink(key)
    except redis.RedisError:
        pass


@pytest.fixture(scope="session")
def session_tmp() -> Path:
    return SESSION_TMP


@pytest.fixture(scope="session")
def maint_env() -> dict[str, str]:
    """The MAINT_* environment of this session (already applied to this process)."""
    return dict(ENV)


@pytest.fixture(scope="session")
def services() -> None:
    _require_services()


@pytest.fixture(scope="session")
def history_db(services: None, maint_env: dict[str, str]) -> Iterator[str]:
    """A migrated job-history database for this session."""
    from maintenance import pg
    from maintenance.history import migrate, store

    dsn = maint_env["MAINT_HISTORY_DSN"]
    migrate.upgrade(dsn)
    yield dsn
    store.dispose_all()
    pg.drop_database(PG_SERVER, HISTORY_DB)


@pytest.fixture(scope="session")
def target_db(services: None, maint_env: dict[str, str]) -> Iterator[str]:
    """A small demo scheduler database (the configured target of this session)."""
    from maintenance import pg
    from maintenance.demo.seed import seed

    seed(PG_SERVER, TARGET_DB, scale=0.02)
    yield maint_env["MAINT_TARGET_DSN"]
    pg.drop_database(PG_SERVER, TARGET_DB)


@pytest.fixture
def settings(maint_env: dict[str, str], history_db: str):
    from maintenance.config import get_settings

    return get_settings()


@pytest.fixture
def clean_history(history_db: str) -> Iterator[str]:
    """An empty job-history table before the test."""
    with psycopg.connect(_dsn(HISTORY_DB, password=False), autocommit=True) as conn:
        conn.execute(
            "TRUNCATE job_runs, window_runs, health_samples, alert_state, notifications, "
            "beat_dispatches, report_approvals "
            "RESTART IDENTITY"
        )
    return history_db


def history_rows(where: str = "TRUE", args: tuple[object, ...] = ()) -> list[dict[str, object]]:
    with psycopg.connect(_dsn(HISTORY_DB, password=False)) as conn:
        cur = conn.cursor(row_factory=psycopg.rows.dict_row)
        return list(cur.execute(f"SELECT * FROM job_runs WHERE {where} ORDER BY id", args))


# --- processes ---------------------------------------------------------------------------


def venv_bin(name: str) -> str:
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else (shutil.which(name) or name)


def run_cli(
    *args: str, env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run ``maint ARGS`` as a user would, in a subprocess."""
    return subprocess.run(
        [venv_bin("maint"), *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )


@dataclass
class Child:
    """A Celery process a test started in a process group of its own (worker, beat)."""

    proc: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill9(self) -> None:
        """kill -9 the whole group: the main process and its children."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill9()


@dataclass
class Worker(Child):
    name: str
    env: dict[str, str] = field(repr=False)


def start_worker(
    env: dict[str, str], log_path: Path, *, concurrency: int = 2, name: str | None = None
) -> Worker:
    """Start ``celery -A tasks worker`` and wait until it answers a ping."""
    name = name or f"w{secrets.token_hex(3)}@{TAG}"
    proc = subprocess.Popen(
        [
            venv_bin("celery"),
            "-A",
            "tasks",  # Celery's convention for a package: finds tasks.celery:app
            "worker",
            "--pool",
            "prefork",
            "--concurrency",
            str(concurrency),
            "--hostname",
            name,
            "--loglevel",
            "INFO",
            "--without-mingle",
            "--without-gossip",
        ],
        env={**os.environ, **env},
        stdout=log_path.open("wb"),
        stderr=subprocess.STDOUT,
        cwd=ROOT,
        start_new_session=True,  # its own process group, so kill9() takes the children too
    )
    worker = Worker(proc, log_path, name, env)
    from tasks.app import app

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"worker exited with {proc.returncode}:\n{worker.log()[-3000:]}")
        if app.control.ping(destination=[name], timeout=0.5):
            return worker
    worker.kill9()
    raise RuntimeError(f"worker did not answer within 60s:\n{worker.log()[-3000:]}")


@pytest.fixture(scope="session")
def worker(
    maint_env: dict[str, str], history_db: str, target_db: str, session_tmp: Path
) -> Iterator[Worker]:
    """One shared worker for the session (tests that kill workers start their own)."""
    w = start_worker(maint_env, session_tmp / "worker.log")
    yield w
    w.stop()


@dataclass
class Beat(Child):
    pass


def start_beat(
    env: dict[str, str],
    log_path: Path,
    *,
    calendar: Mapping[str, object],
    node: str | None = None,
) -> Beat:
    """Start ``celery beat`` with the leader scheduler and a test calendar
    (tests/beat_app.py); it does not wait for leadership. With ``node``, beat answers
    remote-control pings on that node name (as compose's health check asks it)."""
    import json

    remote = ["--enable-remote-control", "--hostname", node] if node else []

    proc = subprocess.Popen(
        [
            venv_bin("celery"),
            "-A",
            "tests.beat_app",
            "beat",
            "-S",
            "tasks.beat:LeaderScheduler",
            "--loglevel",
            "INFO",
            *remote,
        ],
        env={**os.environ, **env, "MAINT_TEST_BEAT_CALENDAR": json.dumps(calendar)},
        stdout=log_path.open("wb"),
        stderr=subprocess.STDOUT,
        cwd=ROOT,
        start_new_session=True,
    )
    return Beat(proc, log_path)


def wait_for(predicate, timeout: float = 30, interval: float = 0.2, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")

"""Shared helpers of the benchmarks: the demo database, timing, medians, the machine."""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg

from maintenance import pg
from maintenance.config import Settings, load_settings
from maintenance.history import migrate

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> str:
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    cpu = "unknown cpu"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    pgv = subprocess.run(["pg_dump", "--version"], capture_output=True, text=True).stdout.strip()
    return f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB, {platform.system()} {platform.release()}, {pgv}, Python {sys.version.split()[0]}"


def ensure_demo(server_dsn: str, name: str, scale: float) -> int:
    """Use database ``name`` as it is if it exists (never dropped or changed: it may be
    someone's real data); seed it with demo data at ``scale`` only if it does not exist.
    Return its size on disk."""
    if not pg.database_exists(server_dsn, name):
        from maintenance.demo.seed import seed

        print(f"seeding {name} at scale {scale:g} ...", flush=True)
        seed(server_dsn, name, scale=scale, progress=lambda m: print(f"  {m}", flush=True))
    else:
        print(f"using the existing database {name} as it is", flush=True)
    with psycopg.connect(pg.with_dbname(server_dsn, name)) as conn:
        (size,) = conn.execute("SELECT pg_database_size(current_database())").fetchone()  # type: ignore[misc]
    return int(size)


def bench_settings(target: str, root: Path, **extra: Any) -> Settings:
    """Settings for a benchmark: its own history database and backup root."""
    base = load_settings()
    # on the benchmarked server, beside the measured database, never inside it
    history = pg.with_dbname(target, "maint_bench_history")
    migrate.upgrade(history)
    return Settings.model_validate(
        base.model_dump()
        | {
            "target_dsn": target,
            "history_dsn": history,
            "backup_root": root,
            "backup_min_bytes": {"daily": 1, "weekly": 1, "monthly": 1},
        }
        | extra
    )


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    value = fn()
    return time.perf_counter() - t0, value


def median(values: list[float]) -> float:
    return statistics.median(values)


def add_source_args(ap: argparse.ArgumentParser) -> None:
    """--scale, --runs, --database, --dsn: which database a benchmark measures."""
    ap.add_argument(
        "--scale", type=float, default=20, help="demo scale if the database must be seeded"
    )
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--database", default=None, help="used as is if it exists; seeded if not")
    ap.add_argument("--dsn", default=None, help="postgresql:// URL of the database to measure")


def source(args: argparse.Namespace) -> tuple[str, str, int]:
    """(server DSN, database name, size on disk) of the database to measure: --dsn as is,
    or --database (default maint_bench_s<scale>) on MAINT_TARGET_DSN's server, seeded
    only if it does not exist."""
    if args.dsn:
        server, name = args.dsn, pg.dbname(args.dsn)
    else:
        server = load_settings().target_dsn.get_secret_value()
        name = args.database or f"maint_bench_s{args.scale:g}".replace(".", "_")
    return server, name, ensure_demo(server, name, args.scale)


def playbook_backup(env: dict[str, str], out: Path, pg_dump: str = "pg_dump") -> int:
    """``pg_dump DB | gzip > out``, as the playbook does (without docker-compose exec)."""
    with out.open("wb") as sink:
        dump = subprocess.Popen([pg_dump], stdout=subprocess.PIPE, env=env)
        gz = subprocess.Popen(["gzip"], stdin=dump.stdout, stdout=sink)
        assert dump.stdout is not None
        dump.stdout.close()
        if gz.wait() != 0 or dump.wait() != 0:
            raise SystemExit("the playbook's backup failed")
    return out.stat().st_size

"""Database upkeep under load: ours against the naive ``VACUUM FULL; REINDEX DATABASE``.

    .venv/bin/python -m bench.upkeep [--scale 2] [--rate 40] [--runs 1]

Builds once (untimed) a bloated copy of the demo database: autovacuum off on every
table, then two thirds of the rows of ``assignments`` and ``swaps`` updated once (no free
space in their pages, so every update writes a new version elsewhere and a new entry in
every index): about 40 % dead tuples and indexes about 40 % larger than they need be.
Each path then runs on a fresh copy of it (CREATE DATABASE ... TEMPLATE, untimed) while an
application-like workload runs from its own connections:

* reads: ``SELECT`` of one person's assignments by the ``(person_id, block_id)`` index,
  and writes: ``UPDATE`` of one assignment's ``status`` by its primary key, each at
  ``--rate`` statements per second, on two connections named ``bench-app``;
* a sampler (every 20 ms) notes each ``bench-app`` session waiting for a lock and how
  long it has waited.

The paths:

* **ours, weekly**: ``db.vacuum_analyze`` then ``db.reindex`` through the runner, with
  the suite's default settings (lock timeout 1 s per statement);
* **naive**: ``VACUUM FULL; REINDEX DATABASE`` on one connection, no timeouts;
* **ours, monthly** (when pg_repack is installed): ``db.optimize`` with pg_repack, online,
  then ``db.reindex``.

Reported per path: the workload's p99 and max statement latency while it ran, the
longest lock wait the sampler saw, the database's size before and after (the space
reclaimed), the time taken. Results go to bench/results/upkeep.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psycopg

from bench.common import RESULTS, bench_settings, ensure_demo, machine
from maintenance import catalog, pg, runner
from maintenance.config import Settings, load_settings
from maintenance.results import RunStatus, Trigger

BLOATED = "maint_bench_upkeep_bloated"
RUN_DB = "maint_bench_upkeep_run"


def bloat_copy(server: str, source: str) -> int:
    """(Re)build the bloated template from ``source``; its size on disk."""
    pg.drop_database(server, BLOATED)
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{BLOATED}" TEMPLATE "{source}"')
    with psycopg.connect(pg.with_dbname(server, BLOATED), autocommit=True) as conn:
        tables = conn.execute(
            "SELECT schemaname, relname FROM pg_stat_user_tables ORDER BY relname"
        ).fetchall()
        for schema, table in tables:
            conn.execute(f'ALTER TABLE "{schema}"."{table}" SET (autovacuum_enabled = false)')
        conn.execute("VACUUM FULL")  # start packed: fillfactor 100, no free space anywhere
        conn.execute("UPDATE assignments SET updated_at = updated_at WHERE id % 3 <> 0")
        conn.execute("UPDATE swaps SET metadata = metadata WHERE id % 3 <> 0")
        conn.execute("ANALYZE")
        (size,) = conn.execute("SELECT pg_database_size(current_database())").fetchone()  # type: ignore[misc]
    return int(size)


def fresh_copy(server: str) -> str:
    pg.drop_database(server, RUN_DB)
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{RUN_DB}" TEMPLATE "{BLOATED}"')
    return pg.with_dbname(server, RUN_DB)


def db_size(dsn: str) -> int:
    with psycopg.connect(dsn) as conn:
        (size,) = conn.execute("SELECT pg_database_size(current_database())").fetchone()  # type: ignore[misc]
    return int(size)


class Workload:
    """Reads and writes at a fixed rate, each statement's latency kept; a lock sampler."""

    def __init__(self, dsn: str, rate: float) -> None:
        self.dsn, self.rate = dsn, rate
        self.stop = threading.Event()
        self.latencies: list[tuple[str, float]] = []
        self.lock_waits: list[float] = []
        with psycopg.connect(dsn) as conn:
            self.ids = [
                r[0] for r in conn.execute("SELECT id FROM assignments ORDER BY id LIMIT 5000")
            ]
            self.people = [
                r[0] for r in conn.execute("SELECT DISTINCT person_id FROM assignments LIMIT 500")
            ]
        self.threads = [
            threading.Thread(target=self._loop, args=("read",), daemon=True),
            threading.Thread(target=self._loop, args=("write",), daemon=True),
            threading.Thread(target=self._sample, daemon=True),
        ]

    def __enter__(self) -> Workload:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout=60)

    def _loop(self, kind: str) -> None:
        period = 1 / self.rate
        with psycopg.connect(self.dsn, autocommit=True, application_name="bench-app") as conn:
            i = 0
            next_at = time.monotonic()
            while not self.stop.is_set():
                i += 1
                t0 = time.monotonic()
                if kind == "read":
                    conn.execute(
                        "SELECT id, status FROM assignments WHERE person_id = %s",
                        (self.people[i % len(self.people)],),
                    ).fetchall()
                else:
                    conn.execute(
                        "UPDATE assignments SET status = status WHERE id = %s",
                        (self.ids[i % len(self.ids)],),
                    )
                self.latencies.append((kind, time.monotonic() - t0))
                next_at += period
                time.sleep(max(0.0, next_at - time.monotonic()))

    def _sample(self) -> None:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            while not self.stop.is_set():
                rows = conn.execute(
                    "SELECT extract(epoch FROM clock_timestamp() - query_start) FROM pg_stat_activity "
                    "WHERE application_name = 'bench-app' AND wait_event_type = 'Lock'"
                ).fetchall()
                self.lock_waits.extend(float(r[0]) for r in rows)
                time.sleep(0.02)

    def figures(self) -> dict[str, Any]:
        values = sorted(v for _, v in self.latencies)
        p99 = values[min(len(values) - 1, int(0.99 * len(values)))] if values else 0.0
        return {
            "statements": len(values),
            "p50_ms": round(statistics.median(values) * 1000, 1) if values else None,
            "p99_ms": round(p99 * 1000, 1),
            "max_ms": round(max(values) * 1000, 1) if values else None,
            "max_write_ms": round(
                max((v for k, v in self.latencies if k == "write"), default=0) * 1000, 1
            ),
            "longest_lock_wait_ms": round(max(self.lock_waits, default=0.0) * 1000, 1),
        }


def ours_weekly(settings: Settings) -> None:
    for task in ("db.vacuum_analyze", "db.reindex"):
        out = runner.execute(catalog.get(task), {}, settings=settings, trigger=Trigger.CLI)
        if out.status is not RunStatus.SUCCEEDED:
            raise SystemExit(f"{task}: {out.status}: {out.summary}")
        print(f"    {task}: {out.summary}", flush=True)


def ours_monthly(settings: Settings) -> None:
    out = runner.execute(
        catalog.get("db.optimize"),
        {"force_reason": "bench"},
        settings=settings,
        trigger=Trigger.CLI,
    )
    if (
        out.status is not RunStatus.SUCCEEDED
        or (out.result or {})["figures"]["method"] != "pg_repack"
    ):
        raise SystemExit(f"db.optimize: {out.status}: {out.summary}")
    print(f"    db.optimize: {out.summary}", flush=True)
    ours_weekly(settings)


def naive(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("VACUUM FULL")
        conn.execute(f'REINDEX DATABASE "{pg.dbname(dsn)}"')


def measure(name: str, server: str, rate: float, action: Any, settings_for: Any) -> dict[str, Any]:
    dsn = fresh_copy(server)
    before = db_size(dsn)
    settings = settings_for(dsn)
    print(f"  {name} ...", flush=True)
    with Workload(dsn, rate) as load:
        time.sleep(2)  # the workload's own baseline
        t0 = time.monotonic()
        action(settings if settings is not None else dsn)
        took = time.monotonic() - t0
        time.sleep(1)
    after = db_size(dsn)
    row = {
        "path": name,
        "seconds": round(took, 2),
        "size_before": before,
        "size_after": after,
        "reclaimed_bytes": before - after,
        **load.figures(),
    }
    print(f"    {json.dumps(row)}", flush=True)
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=2)
    ap.add_argument("--rate", type=float, default=40, help="reads and writes per second, each")
    ap.add_argument("--keep", action="store_true", help="keep the bloated template afterwards")
    args = ap.parse_args()
    server = pg.with_dbname(load_settings().target_dsn.get_secret_value(), "postgres")
    source = f"maint_bench_s{args.scale:g}".replace(".", "_")
    ensure_demo(server, source, args.scale)
    print("building the bloated copy ...", flush=True)
    bloated = bloat_copy(server, source)
    root = Path(tempfile.mkdtemp(prefix="maint-bench-upkeep-"))
    try:

        def ours_settings(dsn: str) -> Settings:
            return bench_settings(dsn, root)

        rows = [
            measure(
                "ours, weekly (db.vacuum_analyze + db.reindex)",
                server,
                args.rate,
                ours_weekly,
                ours_settings,
            ),
            measure(
                "naive (VACUUM FULL; REINDEX DATABASE)", server, args.rate, naive, lambda dsn: None
            ),
        ]
        if shutil.which("pg_repack"):

            def with_repack(dsn: str) -> Settings:
                with psycopg.connect(dsn, autocommit=True) as conn:
                    conn.execute("CREATE EXTENSION IF NOT EXISTS pg_repack")
                return bench_settings(dsn, root)

            rows.append(
                measure(
                    "ours, monthly (db.optimize with pg_repack + db.reindex)",
                    server,
                    args.rate,
                    ours_monthly,
                    with_repack,
                )
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)
        pg.drop_database(server, RUN_DB)
        if not args.keep:
            pg.drop_database(server, BLOATED)
    weekly, plain = rows[0], rows[1]
    ratios = {
        "ours_max_ms": weekly["max_ms"],
        "naive_max_ms": plain["max_ms"],
        "reclaimed_ours_over_naive": round(weekly["reclaimed_bytes"] / plain["reclaimed_bytes"], 3)
        if plain["reclaimed_bytes"] > 0
        else None,
    }
    if len(rows) > 2:
        ratios["reclaimed_monthly_over_naive"] = round(
            rows[2]["reclaimed_bytes"] / plain["reclaimed_bytes"], 3
        )
    report = {
        "machine": machine(),
        "scale": args.scale,
        "rate_per_s": args.rate,
        "bloated_size": bloated,
        "paths": rows,
        "ratios": ratios,
        "goals": {"ours_max_ms": "< 200", "reclaimed_ours_over_naive": ">= 0.8"},
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "upkeep.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(ratios, indent=2))


if __name__ == "__main__":
    main()

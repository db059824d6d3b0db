"""Restore speed: ours (maintenance/pgarchive/load.py) against the playbook's
``gunzip -c backup.sql.gz | psql``, on the same database, in one run.

    .venv/bin/python -m bench.restore [--scale 20] [--runs 3] [--database maint_bench_s20]

Uses --database (or --dsn) as it is if it exists, never changing it; otherwise seeds a
demo database with `maint demo seed` (scale 20 is about 1 GB). Makes, once and outside
the timing, the playbook's backup (``pg_dump DB | gzip > backup.sql.gz``) and ours (a
``.dump.zst``: ``pg_dump -Fc -Z0`` through zstd, as ``backup.create`` writes it). Then,
interleaved (the order rotates every run) and --runs times each, into a fresh empty
database ``maint_bench_restore_*`` created before and dropped after every run:

* playbook:  ``gunzip -c backup.sql.gz | psql -q -v ON_ERROR_STOP=1 NEWDB`` (the baseline)
* ours:      ``load(archive, ...)``, the real-restore path (scratch=False)
* scratch:   ``load(..., scratch=True)``, the drill path (unlogged tables)
* single:    the previous loader: the archive decompressed into one ``pg_restore``
* j2:        (unless --no-reference) ``pg_restore -j2`` from a decompressed temp file,
             the decompression included in its time
* with --ablation, ours twice more: with one COPY stream, and with the server's default
  maintenance_work_mem (64 MB) instead of ours

Every restored database's per-table row counts must equal the source's, or the run
stops: a fast but wrong load cannot win. A CHECKPOINT before each timed restore keeps
one run's dirty pages out of the next one's time. Prints medians and ratios; raw
results go to bench/results/restore-<name>.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg

from bench.common import RESULTS, add_source_args, machine, median, playbook_backup, source, timed
from maintenance import dbcheck, pg, pgtools
from maintenance.config import Settings, load_settings
from maintenance.pgarchive import decode, dump
from maintenance.pgarchive import load as loader

GOAL = 1.5


def playbook_restore(psql: str, env: dict[str, str], backup: Path) -> None:
    """gunzip -c backup.sql.gz | psql -q -v ON_ERROR_STOP=1 NEWDB"""
    gunzip = subprocess.Popen(["gunzip", "-c", str(backup)], stdout=subprocess.PIPE)
    assert gunzip.stdout is not None
    rc = subprocess.run(
        [psql, "-q", "-v", "ON_ERROR_STOP=1", "-X"],
        stdin=gunzip.stdout,
        stdout=subprocess.DEVNULL,
        env=env,
    ).returncode
    gunzip.stdout.close()
    if gunzip.wait() != 0 or rc != 0:
        raise SystemExit(f"the playbook's restore failed (psql exit {rc})")


def single_stream(pg_restore: str, env: dict[str, str], archive: Path) -> None:
    """The previous loader: the archive decompressed into one pg_restore."""
    proc = subprocess.Popen(
        [pg_restore, "--no-owner", "--no-acl", "--exit-on-error", f"--dbname={env['PGDATABASE']}"],
        stdin=subprocess.PIPE,
        env=env,
    )
    assert proc.stdin is not None
    for piece in decode.chunks(archive):
        proc.stdin.write(piece)
    proc.stdin.close()
    if proc.wait() != 0:
        raise SystemExit("pg_restore (single stream) failed")


def parallel_reference(pg_restore: str, env: dict[str, str], archive: Path, work: Path) -> None:
    """Decompress to a temp file, then pg_restore -j2 from it (it can seek)."""
    plain = work / "reference.dump"
    try:
        with plain.open("wb") as out:
            for piece in decode.chunks(archive):
                out.write(piece)
        subprocess.run(
            [pg_restore, "--no-owner", "--no-acl", "--exit-on-error", "--jobs=2",
             f"--dbname={env['PGDATABASE']}", str(plain)],
            env=env,
            check=True,
        )  # fmt: skip
    finally:
        plain.unlink(missing_ok=True)


def counts(dsn: str) -> dict[str, int]:
    with psycopg.connect(dsn) as conn:
        return dbcheck.exact_counts(conn)


def checkpoint(server: str) -> None:
    with contextlib.suppress(psycopg.Error), psycopg.connect(server, autocommit=True) as conn:
        conn.execute("CHECKPOINT")


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_source_args(ap)
    ap.add_argument("--jobs", type=int, default=2, help="load(jobs=...)")
    ap.add_argument(
        "--no-reference", action="store_true", help="skip the single-stream and -j2 references"
    )
    ap.add_argument(
        "--ablation",
        action="store_true",
        help="also ours with one COPY stream, and ours with the server's maintenance_work_mem",
    )
    args = ap.parse_args()
    settings: Settings = load_settings()
    server, name, db_size = source(args)
    source_dsn = pg.with_dbname(server, name)
    with psycopg.connect(source_dsn) as conn:
        major = conn.info.server_version // 10000
    pg_dump = pgtools.find("pg_dump", settings, major)
    psql = pgtools.find("psql", settings, major)
    pg_restore = pgtools.find("pg_restore", settings, major)
    expected = counts(source_dsn)
    work = Path(tempfile.mkdtemp(prefix="maint-bench-restore-"))
    sizes: dict[str, int] = {}
    times: dict[str, list[float]] = {"playbook": [], "ours": [], "scratch": []}
    if not args.no_reference:
        times |= {"single": [], "j2": []}
    phases: dict[str, list[dict[str, float]]] = {"ours": [], "scratch": []}
    if args.ablation:
        times |= {"ours_1stream": [], "ours_mwm64": []}
        phases |= {"ours_1stream": [], "ours_mwm64": []}
    methods: dict[str, str] = {}
    try:
        print("making the two backups (not timed) ...", flush=True)
        gz, zst = work / "backup.sql.gz", work / "backup.dump.zst"
        playbook_backup(pg.libpq_env(source_dsn), gz, pg_dump)
        made = dump.dump_to(
            zst, pg_dump=pg_dump, dsn=source_dsn, snapshot=None, level=3, threads=0
        )
        sizes = {
            "playbook_sql_gz": gz.stat().st_size,
            "ours_dump_zst": made.size_bytes,
            "ours_dump_uncompressed": made.dump_bytes,
        }

        def ours(scratch: bool, **extra: Any) -> Callable[[str], Any]:
            def run(dsn: str) -> Any:
                return loader.load(
                    zst,
                    dsn,
                    settings=settings,
                    server_major=major,
                    scratch=scratch,
                    jobs=args.jobs,
                    workdir=work / "load-tmp",
                    **extra,
                )

            return run

        contenders: dict[str, Callable[[str], Any]] = {
            "playbook": lambda dsn: playbook_restore(psql, pg.libpq_env(dsn), gz),
            "ours": ours(False),
            "scratch": ours(True),
            "single": lambda dsn: single_stream(pg_restore, pg.libpq_env(dsn), zst),
            "j2": lambda dsn: parallel_reference(pg_restore, pg.libpq_env(dsn), zst, work),
            "ours_1stream": ours(False, streams=1),
            "ours_mwm64": ours(False, maintenance_work_mem_mb=64),
        }
        order = list(times)
        for i in range(args.runs):
            rotated = order[i % len(order) :] + order[: i % len(order)]
            for what in rotated:
                target = f"maint_bench_restore_{what}"
                pg.drop_database(server, target)
                pg.create_database(server, target, if_missing=False)
                dsn = pg.with_dbname(server, target)
                try:
                    checkpoint(server)
                    t, outcome = timed(lambda: contenders[what](dsn))  # noqa: B023
                    got = counts(dsn)
                finally:
                    pg.drop_database(server, target)
                if got != expected:
                    diff = {k: (expected.get(k), got.get(k)) for k in expected.keys() | got.keys()
                            if expected.get(k) != got.get(k)}  # fmt: skip
                    raise SystemExit(
                        f"{what}: restored row counts differ from the source: {diff}"
                    )
                times[what].append(t)
                extra = ""
                if what in phases:
                    phases[what].append(outcome.phases)
                    methods[what] = outcome.method
                    extra = "  " + " ".join(f"{k} {v:.2f}" for k, v in outcome.phases.items())
                print(f"run {i + 1}/{args.runs} {what:9s} {t:7.2f} s{extra}", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    med = {k: median(v) for k, v in times.items()}
    med_phases = {
        what: {k: median([p.get(k, 0.0) for p in runs]) for k in runs[0]}
        for what, runs in phases.items()
        if runs
    }
    ratios = {f"playbook_over_{k}": med["playbook"] / med[k] for k in med if k != "playbook"}
    ratios |= {f"{k}_over_ours": med[k] / med["ours"] for k in ("single", "j2") if k in med}
    report: dict[str, Any] = {
        "machine": machine(),
        "database": name,
        "scale": args.scale,
        "database_size_bytes": db_size,
        "rows": sum(expected.values()),
        "largest_table": max(expected, key=lambda k: expected[k]),
        "runs": args.runs,
        "jobs": args.jobs,
        "sizes_bytes": sizes,
        "methods": methods,
        "times_s": times,
        "median_s": med,
        "median_phases_s": med_phases,
        "ratios": ratios,
        "goal": {"playbook_over_ours_at_least": GOAL},
    }
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"restore-{name}.json"
    path.write_text(json.dumps(report, indent=2))
    labels = {
        "playbook": "playbook `gunzip -c \\| psql`",
        "ours": "ours `load()` (real restore)",
        "scratch": "ours `load(scratch=True)` (drill)",
        "single": "one `pg_restore` stream (previous loader)",
        "j2": "`pg_restore -j2` from a decompressed file",
        "ours_1stream": "ours, one COPY stream (`streams=1`)",
        "ours_mwm64": "ours, `maintenance_work_mem` 64 MB (server default)",
    }
    print(f"\nmachine: {report['machine']}")
    print(
        f"database {name}: {db_size / 1e6:.0f} MB on disk, {report['rows']:,} rows, "
        f"dump {sizes['ours_dump_uncompressed'] / 1e6:.0f} MB, {args.runs} runs, medians:"
    )
    print("| what | median | playbook / it |")
    print("|---|---|---|")
    for what in times:
        print(f"| {labels[what]} | {med[what]:.2f} s | {med['playbook'] / med[what]:.2f}x |")
    for what, ph in med_phases.items():
        print(f"{what} phases (medians): " + ", ".join(f"{k} {v:.2f} s" for k, v in ph.items()))
    print(
        f"\nplaybook / ours: {ratios['playbook_over_ours']:.2f}x "
        f"(goal >= {GOAL}); scratch: {ratios['playbook_over_scratch']:.2f}x"
    )
    for what, values in times.items():
        print(f"runs {what}: " + ", ".join(f"{v:.2f}" for v in values))
    print(f"\nraw results: {path}")


if __name__ == "__main__":
    main()

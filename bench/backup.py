"""Backup speed and size: ours against the playbook's `pg_dump | gzip` and the bare dump.

    .venv/bin/python -m bench.backup [--scale 20] [--runs 3] [--database maint_bench_s20]

Uses --database (or --dsn) as it is if it exists, never changing it; otherwise seeds a
demo database with `maint demo seed` (scale 20 is about 1 GB). Then runs, interleaved
and --runs times each:

* playbook: ``pg_dump DB | gzip > backup.sql.gz``   (the baseline)
* bare:     ``pg_dump DB > /dev/null`` and ``pg_dump -Fc -Z0 DB > /dev/null``
* ours:     ``backup.create`` without verification (dump, snapshot counts, manifest,
            fsync, rename), and separately the ``full`` verification it runs after

and prints medians and ratios (time and size). Results go to bench/results/ as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from bench.common import (
    RESULTS,
    add_source_args,
    bench_settings,
    machine,
    median,
    playbook_backup,
    source,
    timed,
)
from maintenance import catalog, pg, runner
from maintenance.backup import inventory
from maintenance.results import RunStatus, Trigger


def bare(env: dict[str, str], *args: str) -> None:
    with open(os.devnull, "wb") as devnull:
        subprocess.run(["pg_dump", *args], stdout=devnull, env=env, check=True)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_source_args(ap)
    args = ap.parse_args()
    server, name, db_size = source(args)
    target = pg.with_dbname(server, name)
    env = pg.libpq_env(target)
    work = Path(tempfile.mkdtemp(prefix="maint-bench-"))
    settings = bench_settings(target, work / "backups")
    spec = catalog.get("backup.create")
    times: dict[str, list[float]] = {
        k: [] for k in ("playbook", "bare_plain", "bare_custom", "ours", "ours_dump", "verify_full")
    }
    sizes: dict[str, int] = {}
    try:
        for i in range(args.runs):
            print(f"run {i + 1}/{args.runs}", flush=True)
            t, size = timed(lambda: playbook_backup(env, work / "playbook.sql.gz"))
            times["playbook"].append(t)
            sizes["playbook"] = size
            (work / "playbook.sql.gz").unlink()
            times["bare_plain"].append(timed(lambda: bare(env))[0])
            times["bare_custom"].append(timed(lambda: bare(env, "-Fc", "-Z0"))[0])
            t, out = timed(
                lambda: runner.execute(
                    spec,
                    {"tier": "daily", "verify": "none"},
                    settings=settings,
                    trigger=Trigger.CLI,
                )
            )
            assert out.status is RunStatus.SUCCEEDED, out.error_message
            times["ours"].append(t)
            times["ours_dump"].append(out.result["figures"]["dump_s"])
            sizes["ours"] = out.result["figures"]["size_bytes"]
            sizes["dump_uncompressed"] = out.result["figures"]["dump_bytes"]
            t, vout = timed(
                lambda: runner.execute(
                    catalog.get("backup.verify"),
                    {"backup": "latest", "level": "full"},
                    settings=settings,
                    trigger=Trigger.CLI,
                )
            )
            assert vout.status is RunStatus.SUCCEEDED, vout.error_message
            times["verify_full"].append(t)
            for b in inventory.scan(settings.backup_root).backups:
                b.path.unlink()
                b.manifest_path.unlink()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    med = {k: median(v) for k, v in times.items()}
    report: dict[str, Any] = {
        "machine": machine(),
        "database": name,
        "scale": args.scale,
        "database_size_bytes": db_size,
        "runs": args.runs,
        "times_s": times,
        "median_s": med,
        "sizes_bytes": sizes,
        "ratios": {
            "playbook_time_over_ours": med["playbook"] / med["ours"],
            "ours_time_over_bare_plain": med["ours"] / med["bare_plain"],
            "ours_time_over_bare_custom": med["ours"] / med["bare_custom"],
            "ours_size_over_playbook": sizes["ours"] / sizes["playbook"],
        },
    }
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"backup-{name}.json"
    path.write_text(json.dumps(report, indent=2))
    r = report["ratios"]
    print(f"\nmachine: {report['machine']}")
    print(
        f"database {name}: {db_size / 1e6:.0f} MB on disk, dump {sizes['dump_uncompressed'] / 1e6:.0f} MB, {args.runs} runs, medians:"
    )
    print("| what | median time | size |")
    print("|---|---|---|")
    print(
        f"| playbook `pg_dump \\| gzip` | {med['playbook']:.2f} s | {sizes['playbook'] / 1e6:.1f} MB |"
    )
    print(f"| bare `pg_dump > /dev/null` | {med['bare_plain']:.2f} s | - |")
    print(f"| bare `pg_dump -Fc -Z0 > /dev/null` | {med['bare_custom']:.2f} s | - |")
    print(
        f"| ours `backup.create` (no verification) | {med['ours']:.2f} s (dump {med['ours_dump']:.2f} s) | {sizes['ours'] / 1e6:.1f} MB |"
    )
    print(f"| ours `backup.verify` level full | {med['verify_full']:.2f} s | - |")
    print(f"\nplaybook / ours time: {r['playbook_time_over_ours']:.2f}x faster (goal >= 3)")
    print(
        f"ours / bare plain dump: {r['ours_time_over_bare_plain']:.2f}x (goal <= 1.5); / bare custom: {r['ours_time_over_bare_custom']:.2f}x"
    )
    print(f"ours / playbook size: {r['ours_size_over_playbook']:.3f} (goal <= 1)")
    print(f"\nraw results: {path}")


if __name__ == "__main__":
    main()

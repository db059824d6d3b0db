"""Log rotation and compression: ours against the playbook's `find ... -exec gzip {} \\;`.

    .venv/bin/python -m bench.logs [--gb 1] [--runs 2] [--keep-data]

Generates (once, untimed, seeded) a realistic log folder: access, application, error and
database logs, each a live log and 8 plain rotated files (``app.log.1`` ... ``.8``),
--gb in all (36 files), of generated access-log and application lines. Then, --runs
times, interleaved, each on a fresh copy of that folder (copied untimed, so every
variant starts with the files in the page cache):

* playbook: ``find DIR -name "*.log.*" ! -name "*.gz" -exec gzip {} \\;`` (one gzip -6
  process per file, one after the other);
* ours: ``logs.rotate -p force=true`` through the runner (recorded in a history
  database of its own): every live log renamed and created anew, the rotated files
  shifted and compressed (gzip level 6 on MAINT_LOG_COMPRESS_WORKERS threads, one per
  core, each .gz written whole and fsynced, then the plain file deleted); the newest
  rotated file stays plain (delaycompress), so the bytes compressed are the same as the
  playbook's;
* ours, one thread (MAINT_LOG_COMPRESS_WORKERS=1): what the threads buy.

It checks that every variant produced the same decompressed bytes, and prints medians
and ratios (time; size against gzip -6). Results go to bench/results/logs.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import tempfile
import zlib
from pathlib import Path
from typing import Any

from bench.common import RESULTS, machine, median, timed
from maintenance import catalog, logs_setup, pg, runner
from maintenance.config import Settings, load_settings
from maintenance.history import migrate
from maintenance.results import RunStatus, Trigger

FAMILIES = {"access.log": 0.45, "app.log": 0.35, "database.log": 0.12, "error.log": 0.08}
ROTATED = 8
BLOCK = 4 << 20

_PATHS = [
    "/api/schedule",
    "/api/residents",
    "/api/assignments",
    "/api/blocks",
    "/api/swaps",
    "/login",
    "/static/app.js",
    "/api/health",
]
_AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1)",
    "curl/8.4.0",
    "python-httpx/0.27",
]
_EVENTS = [
    "assignment.created",
    "schedule.published",
    "swap.requested",
    "swap.approved",
    "cache.miss",
    "db.query",
    "auth.login",
    "auth.refresh",
]
_LEVELS = ["INFO"] * 40 + ["DEBUG"] * 10 + ["WARNING"] * 3 + ["ERROR"]


def access_line(rng: random.Random, t: int) -> str:
    ip = ".".join(str(rng.randint(1, 254)) for _ in range(4))
    path = rng.choice(_PATHS) + (f"/{rng.randint(1, 99999)}" if rng.random() < 0.6 else "")
    status = rng.choice([200] * 30 + [201, 204, 301, 304, 400, 401, 403, 404, 500])
    return (
        f'{ip} - - [{t}] "{rng.choice(["GET"] * 5 + ["POST", "PUT"])} {path} HTTP/1.1" {status} '
        f'{rng.randint(120, 90000)} "-" "{rng.choice(_AGENTS)}" rt={rng.random():.3f}\n'
    )


def app_line(rng: random.Random, t: int) -> str:
    return (
        f"2026-11-{1 + t % 28:02d}T{t % 24:02d}:{t % 60:02d}:{rng.randint(0, 59):02d}.{rng.randint(0, 999999):06d}Z "
        f"{rng.choice(_LEVELS)} [{rng.choice(_EVENTS)}] request_id={rng.getrandbits(64):016x} "
        f"user={rng.randint(1, 4000)} block={rng.randint(1, 26)} duration_ms={rng.randint(1, 3000)} "
        f"rows={rng.randint(0, 500)}\n"
    )


def blocks(seed: int, kind: str, n: int) -> list[bytes]:
    rng = random.Random(seed)
    line = access_line if kind == "access.log" else app_line
    out = []
    t = 1_700_000_000
    for _ in range(n):
        parts, size = [], 0
        while size < BLOCK:
            s = line(rng, t)
            t += rng.randint(0, 2)
            parts.append(s)
            size += len(s)
        out.append("".join(parts).encode())
    return out


def generate(folder: Path, total: int) -> None:
    """The log set: per family a live log and ROTATED plain rotated files."""
    folder.mkdir(parents=True)
    rng = random.Random(7)
    for base, share in FAMILIES.items():
        pool = blocks(zlib.crc32(base.encode()), base, 12)
        per_file = int(total * share / (ROTATED + 1))
        for i in range(ROTATED + 1):
            path = folder / (base if i == 0 else f"{base}.{i}")
            with path.open("wb") as out:
                written = 0
                while written < per_file:
                    b = rng.choice(pool)[: per_file - written]
                    out.write(b)
                    written += len(b)
            os.utime(path, (1_764_000_000 - i * 86400,) * 2)


def playbook(folder: Path) -> None:
    subprocess.run(
        ["find", str(folder), "-name", "*.log.*", "!", "-name", "*.gz", "-exec", "gzip", "{}", ";"],
        check=True,
    )


def settings_for(folder: Path, threads: int) -> Settings:
    base = load_settings()
    history = pg.with_dbname(base.history_dsn.get_secret_value(), "maint_bench_history")
    migrate.upgrade(history)
    return Settings.model_validate(
        base.model_dump()
        | {"history_dsn": history, "log_root": folder, "log_compress_workers": threads}
    )


def ours(folder: Path, threads: int) -> None:
    out = runner.execute(
        catalog.get("logs.rotate"),
        {"force": True},
        settings=settings_for(folder, threads),
        trigger=Trigger.CLI,
    )
    assert out.status is RunStatus.SUCCEEDED, out.summary


def fingerprint(folder: Path) -> tuple[dict[str, int], int]:
    """(CRC-32 of each family's decompressed bytes, oldest first; total .gz bytes)."""
    crcs, gz_bytes = {}, 0
    for base in FAMILIES:
        names = sorted(
            (p for p in folder.iterdir() if p.name.startswith(base + ".")),
            key=lambda p: -int(p.name.split(".")[2]),
        )
        crc = 0
        for p in [*names, folder / base]:
            if p.name.endswith(".gz"):
                gz_bytes += p.stat().st_size
                data = subprocess.run(["zcat", str(p)], check=True, capture_output=True).stdout
            else:
                data = p.read_bytes()
            crc = zlib.crc32(data, crc)
        crcs[base] = crc
    return crcs, gz_bytes


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--gb", type=float, default=1.0, help="size of the generated log set")
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--workdir", default=None, help="where to generate (default: a temp folder)")
    args = ap.parse_args()
    logs_setup.configure("WARNING", "console")  # not a line per deleted plain file
    work = Path(args.workdir or tempfile.mkdtemp(prefix="maint-bench-logs-"))
    source = work / "source"
    if not source.exists():
        print(f"generating {args.gb:g} GB in {source} ...", flush=True)
        generate(source, int(args.gb * 1e9))
    files = sorted(source.iterdir())
    total = sum(p.stat().st_size for p in files)
    compressed_bytes = sum(p.stat().st_size for p in files if p.name not in FAMILIES)
    variants = {
        "playbook": playbook,
        "ours": lambda f: ours(f, 0),
        "ours_1_thread": lambda f: ours(f, 1),
    }
    times: dict[str, list[float]] = {k: [] for k in variants}
    sizes: dict[str, int] = {}
    prints: dict[str, dict[str, int]] = {}
    try:
        for i in range(args.runs):
            order = list(variants)[i % 3 :] + list(variants)[: i % 3]
            for name in order:
                folder = work / name
                shutil.rmtree(folder, ignore_errors=True)
                subprocess.run(["cp", "-a", str(source), str(folder)], check=True)
                subprocess.run(["sync"], check=True)
                t, _ = timed(lambda f=folder, fn=variants[name]: fn(f))
                times[name].append(t)
                prints[name], sizes[name] = fingerprint(folder)
                print(
                    f"run {i + 1}/{args.runs} {name}: {t:.2f} s, {sizes[name] / 1e6:.1f} MB of .gz",
                    flush=True,
                )
                shutil.rmtree(folder, ignore_errors=True)
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)
    assert prints["ours"] == prints["playbook"] == prints["ours_1_thread"], (
        "the variants' logs differ"
    )
    med = {k: median(v) for k, v in times.items()}
    report: dict[str, Any] = {
        "machine": machine(),
        "files": len(files),
        "total_bytes": total,
        "compressed_input_bytes": compressed_bytes,
        "runs": args.runs,
        "times_s": times,
        "median_s": med,
        "gz_bytes": sizes,
        "ratios": {
            "ours_time_over_playbook": med["ours"] / med["playbook"],
            "ours_1_thread_time_over_playbook": med["ours_1_thread"] / med["playbook"],
            "ours_size_over_gzip6": sizes["ours"] / sizes["playbook"],
        },
    }
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / "logs.json"
    path.write_text(json.dumps(report, indent=2))
    r = report["ratios"]
    print(f"\nmachine: {report['machine']}, load average {os.getloadavg()[0]:.2f}")
    print(f"{len(files)} files, {total / 1e9:.2f} GB; {args.runs} runs, medians:")
    print("| what | median time | .gz size |")
    print("|---|---|---|")
    print(
        f"| playbook `find -exec gzip {{}} \\;` | {med['playbook']:.2f} s | {sizes['playbook'] / 1e6:.1f} MB |"
    )
    print(
        f"| ours `logs.rotate` (2 threads) | {med['ours']:.2f} s | {sizes['ours'] / 1e6:.1f} MB |"
    )
    print(
        f"| ours, 1 thread | {med['ours_1_thread']:.2f} s | {sizes['ours_1_thread'] / 1e6:.1f} MB |"
    )
    print(f"\nours / playbook time: {r['ours_time_over_playbook']:.2f}x (goal <= 0.6)")
    print(f"ours / gzip -6 size: {r['ours_size_over_gzip6']:.4f} (goal <= 1.02)")
    print(f"\nraw results: {path}")


if __name__ == "__main__":
    main()

"""One full health check with one component hanging: ours (every probe at once in daemon
threads, each bounded) against a serial script (the same probes one after another, as the
playbook's shell script runs its curl, psql and redis-cli), in one run, interleaved.

    .venv/bin/python -m bench.health [--runs 5] [--timeout 3]

The hanging component is the API: a local socket that completes the TCP handshake (the
kernel does it) and never answers, so each HTTP request waits for its whole timeout (what
a hung process or a firewall dropping packets after the handshake looks like). Everything
else is real: PostgreSQL (``--target``, connected to only), Redis and the workers as the
environment configures them (MAINT_CACHE_URL, MAINT_BROKER_URL), the host. Every probe gets ``--timeout`` seconds (MAINT_HEALTH_PROBE_TIMEOUT_S)
and the check ``--timeout + 2`` (MAINT_HEALTH_TIMEOUT_S).

Reports the median wall time of each way, the sum of every probe's time limit (what a
serial script pays at worst), and ours against the goal: at most the probe timeout + 0.2 s.
Raw results go to bench/results/health-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.common import RESULTS, bench_settings, machine
from maintenance.config import Settings
from maintenance.health import check, parallel

GOAL_MARGIN_S = 0.2


def serial(settings: Settings) -> float:
    """The same probes, one after another, each bounded by its own limit."""
    t0 = time.monotonic()
    for probe in check.probes(settings, datetime.now(UTC)):
        parallel.run([probe], probe.timeout_s)
    return time.monotonic() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--timeout", type=float, default=3.0, help="each probe's limit (s)")
    ap.add_argument(
        "--target",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="the database probed (only connected to; the history goes to "
        "maint_bench_history beside it)",
    )
    args = ap.parse_args()

    hole = socket.socket()
    hole.bind(("127.0.0.1", 0))
    hole.listen(128)  # never accepted: connections complete, nothing ever answers
    url = f"http://127.0.0.1:{hole.getsockname()[1]}"
    settings = bench_settings(
        args.target,
        Path(tempfile.mkdtemp(prefix="maint-bench-health-")),
        api_url=url,
        health_probe_timeout_s=args.timeout,
        health_timeout_s=args.timeout + 2,
    )
    limits = sum(p.timeout_s for p in check.probes(settings, datetime.now(UTC)))
    ours: list[float] = []
    theirs: list[float] = []
    statuses = []
    for run in range(args.runs):
        for way in ("ours", "serial") if run % 2 == 0 else ("serial", "ours"):
            if way == "ours":
                t0 = time.monotonic()
                taken = check.take(settings)
                ours.append(time.monotonic() - t0)
                statuses.append(taken.document["checks"]["api:status"][0].get("output"))
            else:
                theirs.append(serial(settings))
        print(f"run {run + 1}: ours {ours[-1]:.3f} s, serial {theirs[-1]:.3f} s", flush=True)
    hole.close()
    med_ours, med_serial = statistics.median(ours), statistics.median(theirs)
    goal = args.timeout + GOAL_MARGIN_S
    report = {
        "when": datetime.now(UTC).isoformat(),
        "machine": machine(),
        "probe_timeout_s": args.timeout,
        "probes": len(check.probes(settings, datetime.now(UTC))),
        "sum_of_limits_s": limits,
        "ours_s": ours,
        "serial_s": theirs,
        "median_ours_s": med_ours,
        "median_serial_s": med_serial,
        "goal_s": goal,
        "api_output": statuses[-1],
    }
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"health-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    path.write_text(json.dumps(report, indent=2))
    print(f"machine: {report['machine']}")
    print(
        f"the API hangs; every probe's limit {args.timeout:g} s; the API's answer: {statuses[-1]}"
    )
    print(f"ours (parallel, bounded):  median {med_ours:.3f} s  (max {max(ours):.3f} s)")
    print(f"serial (one after another): median {med_serial:.3f} s")
    print(f"sum of the probes' limits:  {limits:g} s")
    verdict = "met" if max(ours) <= goal else "MISSED"
    print(f"goal <= {goal:g} s (probe timeout + {GOAL_MARGIN_S} s): {verdict}; {path}")


if __name__ == "__main__":
    main()

"""Cache clearing: ours (maintenance/cache/sweep.py, as cache.clear_pattern runs it)
against the playbook-era ways of deleting a pattern, on the same keyspace, in one run.

    .venv/bin/python -m bench.cache [--keys 1000000] [--runs 3] [--db 13]

Loads ``--keys`` keys that match ``bench:del:*`` among twice as many (as many
``bench:keep:*``, interleaved) into Redis database ``--db`` of ``MAINT_TEST_REDIS``
(default ``redis://127.0.0.1:6379``), which must be empty: the benchmark flushes it
between runs and at the end, and refuses to start on a database that holds anything.
Then, interleaved (the order rotates each run), each on a fresh load:

* keys:  ``redis-cli KEYS 'bench:del:*' | xargs redis-cli DEL`` (blocks Redis for the scan)
* scan:  ``redis-cli --scan --pattern 'bench:del:*' | xargs redis-cli unlink``
* ours:  ``sweep(pattern, delete=True, pace=...)`` with the configured pace
  (``MAINT_CACHE_SCAN_COUNT``, ``MAINT_CACHE_BATCH_MS``, ``MAINT_CACHE_PAUSE_MS``)
* with ``--pace 1:0,2:0.1``, ours again at each BATCH_MS:PAUSE_MS (an ablation)

While each one deletes, another process issues a GET of a random kept key every 0.5 ms
and records how long each took: p50, p99 and max. Every method must leave no matching
key and every kept one, or the benchmark stops: a fast but wrong deletion cannot win.
Also records each method's server-side time (``INFO commandstats``). Prints medians and
ratios; raw results go to bench/results/cache-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import random
import statistics
import subprocess
import time
from collections.abc import Callable
from datetime import UTC, datetime
from multiprocessing.synchronize import Event
from typing import Any
from urllib.parse import urlsplit

import redis

from bench.common import RESULTS, machine
from maintenance.cache import sweep
from maintenance.childenv import child_env
from maintenance.config import load_settings

PATTERN = "bench:del:*"
GET_EVERY_S = 0.0005
#: Goals (docs/benchmarks.md).
THROUGHPUT_GOAL = 1.2
MAX_GET_MS_GOAL = 25.0


def cli(url: str) -> tuple[list[str], dict[str, str]]:
    """``redis-cli`` and its environment for ``url``: the password (if any) travels as
    REDISCLI_AUTH, never in argv where ``ps`` shows it."""
    parts = urlsplit(url)
    argv = ["redis-cli", "-h", parts.hostname or "127.0.0.1", "-p", str(parts.port or 6379)]
    argv += ["-n", parts.path.strip("/") or "0"]
    if parts.username:
        argv += ["--user", parts.username]
    env = child_env({"REDISCLI_AUTH": parts.password} if parts.password else None)
    return argv, env


def load(url: str, n: int) -> None:
    """``n`` matching and ``n`` kept keys through ``redis-cli --pipe`` (fast, outside
    the timing)."""
    client = redis.Redis.from_url(url)
    argv, env = cli(url)
    proc = subprocess.Popen(
        [*argv, "--pipe"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, env=env
    )
    assert proc.stdin is not None
    buf = bytearray()
    for i in range(n):
        for key in (b"bench:del:%d" % i, b"bench:keep:%d" % i):
            buf += b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$5\r\nvalue\r\n" % (len(key), key)
        if len(buf) > 1 << 20:
            proc.stdin.write(buf)
            buf.clear()
    proc.stdin.write(buf)
    proc.stdin.close()
    if proc.wait() != 0 or client.dbsize() != 2 * n:
        raise SystemExit(f"loading {url} failed ({client.dbsize()} keys)")


def _pipeline(first: list[str], second: list[str], env: dict[str, str]) -> None:
    """``first | second`` without a shell."""
    a = subprocess.Popen(first, stdout=subprocess.PIPE, env=env)
    b = subprocess.Popen(second, stdin=a.stdout, stdout=subprocess.DEVNULL, env=env)
    assert a.stdout is not None
    a.stdout.close()
    if b.wait() != 0 or a.wait() != 0:
        raise SystemExit(f"{' '.join(first)} | {' '.join(second)} failed")


def keys_del(url: str) -> None:
    argv, env = cli(url)
    _pipeline([*argv, "KEYS", PATTERN], ["xargs", *argv, "DEL"], env)


def scan_xargs(url: str) -> None:
    argv, env = cli(url)
    _pipeline([*argv, "--scan", "--pattern", PATTERN], ["xargs", *argv, "unlink"], env)


def ours(url: str, pace: sweep.Pace) -> None:
    client = redis.Redis.from_url(url)
    done = sweep.sweep(client, PATTERN, delete=True, pace=pace)
    client.close()
    if done.deleted == 0:
        raise SystemExit("ours deleted nothing")


def getter(url: str, n: int, ready: Event, stop: Event, out: Any) -> None:
    """GET a random kept key every GET_EVERY_S; send back every latency (s)."""
    client = redis.Redis.from_url(url)
    rng = random.Random(os.getpid())
    client.get(b"bench:keep:0")
    lat: list[float] = []
    ready.set()
    while not stop.is_set():
        key = b"bench:keep:%d" % rng.randrange(n)
        t0 = time.perf_counter()
        client.get(key)
        lat.append(time.perf_counter() - t0)
        time.sleep(GET_EVERY_S)
    out.send(lat)
    out.close()


def _cmdstats(client: redis.Redis) -> dict[str, tuple[int, int]]:
    stats = client.info("commandstats")
    return {k.removeprefix("cmdstat_"): (v["calls"], v["usec"]) for k, v in stats.items()}


def measure(url: str, n: int, name: str, fn: Callable[[], None]) -> dict[str, Any]:
    load(url, n)
    client = redis.Redis.from_url(url)
    ready, stop = mp.Event(), mp.Event()
    receive, send = mp.Pipe(duplex=False)
    proc = mp.Process(target=getter, args=(url, n, ready, stop, send))
    proc.start()
    ready.wait(30)
    time.sleep(0.2)
    before = _cmdstats(client)
    t0 = time.perf_counter()
    fn()
    seconds = time.perf_counter() - t0
    stop.set()
    lat = sorted(receive.recv())
    proc.join(30)
    after = _cmdstats(client)
    server = {
        cmd: round((after[cmd][1] - before.get(cmd, (0, 0))[1]) / 1e6, 3)
        for cmd in after
        if cmd in ("keys", "del", "scan", "unlink", "evalsha", "eval")
        and after[cmd][1] != before.get(cmd, (0, 0))[1]
    }
    left = sum(1 for _ in client.scan_iter(match=PATTERN, count=10_000))
    kept = client.dbsize()
    if left or kept != n:
        raise SystemExit(f"{name}: {left} matching keys left, {kept} keys kept of {n}")
    client.flushdb()
    client.close()
    ms = [x * 1000 for x in lat]
    return {
        "method": name,
        "seconds": round(seconds, 3),
        "keys_per_s": round(n / seconds),
        "gets": len(ms),
        "p50_ms": round(statistics.median(ms), 3),
        "p99_ms": round(ms[min(len(ms) - 1, int(len(ms) * 0.99))], 3),
        "max_ms": round(ms[-1], 3),
        "server_s": server,
    }


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--keys", type=int, default=1_000_000, help="matching keys (as many kept)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--db", type=int, default=13, help="a Redis database of the benchmark's own")
    ap.add_argument("--redis", default=os.environ.get("MAINT_TEST_REDIS", "redis://127.0.0.1:6379"))
    ap.add_argument("--only", default="keys,scan,ours", help="comma-separated methods")
    ap.add_argument(
        "--pace", default="", help="more variants of ours: BATCH_MS:PAUSE_MS[,...] (ablation)"
    )
    args = ap.parse_args()
    url = f"{args.redis.rstrip('/')}/{args.db}"
    client = redis.Redis.from_url(url)
    if client.dbsize():
        raise SystemExit(f"{url} holds {client.dbsize()} keys: the benchmark needs an empty db")
    settings = load_settings()
    pace = sweep.Pace.of(
        settings.cache_scan_count, settings.cache_batch_ms, settings.cache_pause_ms
    )
    methods: dict[str, Callable[[], None]] = {
        "keys": lambda: keys_del(url),
        "scan": lambda: scan_xargs(url),
        "ours": lambda: ours(url, pace),
    }
    chosen = [m for m in args.only.split(",") if m]
    for item in filter(None, args.pace.split(",")):
        batch_ms, pause_ms = (float(x) for x in item.split(":"))
        variant = sweep.Pace.of(settings.cache_scan_count, batch_ms, pause_ms)
        label = f"ours b{batch_ms:g}/p{pause_ms:g}"
        methods[label] = lambda v=variant: ours(url, v)  # type: ignore[misc]
        chosen.append(label)
    print(f"machine: {machine()}", flush=True)
    print(f"redis: {client.info('server')['redis_version']}, db {args.db}; pace {pace}", flush=True)
    runs: list[dict[str, Any]] = []
    try:
        for r in range(args.runs):
            order = chosen[r % len(chosen) :] + chosen[: r % len(chosen)]
            for name in order:
                res = measure(url, args.keys, name, methods[name]) | {"run": r + 1}
                runs.append(res)
                print(
                    f"run {r + 1} {name:14s} {res['seconds']:7.2f} s {res['keys_per_s']:>9,} keys/s"
                    f"  GET p50 {res['p50_ms']:.2f} p99 {res['p99_ms']:.2f} max {res['max_ms']:.2f} ms"
                    f"  server {res['server_s']}",
                    flush=True,
                )
    finally:
        client.flushdb()
    med = {
        name: {
            k: statistics.median(x[k] for x in runs if x["method"] == name)
            for k in ("seconds", "keys_per_s", "p50_ms", "p99_ms", "max_ms")
        }
        for name in chosen
    }
    print("\nmedians:")
    for name, m in med.items():
        print(
            f"  {name:14s} {m['seconds']:7.2f} s {m['keys_per_s']:>11,.0f} keys/s  "
            f"GET p50 {m['p50_ms']:.2f} p99 {m['p99_ms']:.2f} max {m['max_ms']:.2f} ms"
        )
    summary: dict[str, Any] = {}
    if {"keys", "scan"} <= set(med):
        for name in (n for n in chosen if n.startswith("ours ")):
            print(
                f"  {name}: {med[name]['keys_per_s'] / med['keys']['keys_per_s']:.2f}x KEYS+DEL, "
                f"p99 {med[name]['p99_ms'] / med['scan']['p99_ms']:.2f} of scan|xargs"
            )
    if {"keys", "scan", "ours"} <= set(med):
        summary = {
            "throughput_vs_keys_del": round(
                med["ours"]["keys_per_s"] / med["keys"]["keys_per_s"], 2
            ),
            "throughput_vs_scan_xargs": round(
                med["ours"]["keys_per_s"] / med["scan"]["keys_per_s"], 2
            ),
            "p99_vs_scan_xargs": round(med["ours"]["p99_ms"] / med["scan"]["p99_ms"], 2),
            "worst_max_ms_ours": max(x["max_ms"] for x in runs if x["method"] == "ours"),
        }
        print(
            f"\nours / KEYS+DEL throughput {summary['throughput_vs_keys_del']}x "
            f"(goal >= {THROUGHPUT_GOAL}); ours / scan|xargs {summary['throughput_vs_scan_xargs']}x; "
            f"p99 ours / scan|xargs {summary['p99_vs_scan_xargs']} (goal <= 1); "
            f"worst max GET ours {summary['worst_max_ms_ours']} ms (goal < {MAX_GET_MS_GOAL})"
        )
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS / f"cache-{stamp}.json"
    path.write_text(
        json.dumps(
            {
                "machine": machine(),
                "keys": args.keys,
                "pace": str(pace),
                "runs": runs,
                "medians": med,
                "summary": summary,
                "load": os.getloadavg(),
            },
            indent=2,
        )
    )
    print(f"raw results: {path}")


if __name__ == "__main__":
    main()

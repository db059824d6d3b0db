"""cache.stats, cache.analyze and cache.flush on real Redis servers.

Counters (hits, misses, evictions) and FLUSHDB are server-wide or database-wide: those
tests run against a private redis-server (tests/integration/cache_support.py), so that
their numbers are exact and no other test session feels them."""

from __future__ import annotations

import pytest
import redis

from maintenance import catalog, runner
from maintenance.config import Settings
from maintenance.results import RunStatus, Trigger
from tests.conftest import CACHE_DB, history_rows
from tests.integration.cache_support import (
    Keys,
    PrivateRedis,
    fill,
    keys,
    private_redis,
    with_settings,
)

pytestmark = pytest.mark.integration
__all__ = ["keys", "private_redis"]  # fixtures


def _run(
    settings: Settings, task: str, trigger: Trigger = Trigger.CLI, **params: object
) -> runner.Outcome:
    return runner.execute(catalog.get(task), params, settings=settings, trigger=trigger)


def _checks(out: runner.Outcome) -> dict[str, dict]:  # type: ignore[type-arg]
    return {c["name"]: c for c in out.result["checks"]}  # type: ignore[index]


def test_stats_reports_dbsize_memory_and_stores_its_sample(
    settings: Settings, clean_history: str, keys: Keys
) -> None:
    fill(keys.cache, [f"{keys.prefix}{i}".encode() for i in range(25)])
    out = _run(settings, "cache.stats")
    assert out.status is RunStatus.SUCCEEDED, out.summary
    figures = out.result["figures"]  # type: ignore[index]
    assert figures["cache"] == f"localhost:6379/{CACHE_DB}"
    info = keys.cache.info("memory")
    assert figures["keys"] >= 25  # DBSIZE of the cache db (other tests' keys may be there)
    assert figures["maxmemory_policy"] == info["maxmemory_policy"]
    assert 0 < figures["used_memory_bytes"] < info["total_system_memory"]
    (row,) = history_rows()
    assert (
        row["result"]["figures"]["sample"]["server_run_id"] == keys.cache.info("server")["run_id"]
    )
    assert figures["interval"]["basis"] == "server start"  # no earlier sample


def test_the_hit_ratio_is_the_interval_since_the_previous_sample(
    settings: Settings, clean_history: str, private_redis: PrivateRedis
) -> None:
    s = with_settings(settings, cache_url=private_redis.url(1))
    client = private_redis.client(1)
    client.set("k", "v")
    for _ in range(50):  # before the first sample: must not count in the interval
        client.get("missing")
    first = _run(s, "cache.stats")
    for _ in range(30):
        client.get("k")
    for _ in range(10):
        client.get("missing")
    second = _run(s, "cache.stats")
    span = second.result["figures"]["interval"]  # type: ignore[index]
    assert span["basis"] == "previous sample"
    assert (span["hits"], span["misses"]) == (30, 10)
    assert span["since"] == first.result["figures"]["sample"]["taken_at"]  # type: ignore[index]
    assert second.result["figures"]["hit_ratio"] == 0.75  # type: ignore[index]
    check = _checks(second)["hit ratio at least 80%"]
    assert (
        check["status"] == "warn"
        and "75.0% of 40 lookups since the previous sample" in check["observed"]
    )
    assert second.status is RunStatus.SUCCEEDED  # a warning does not fail the run

    private_redis.restart()  # a new run_id: the counters start again
    client = private_redis.client(1)
    client.get("missing")
    third = _run(s, "cache.stats")
    span = third.result["figures"]["interval"]  # type: ignore[index]
    assert span["basis"] == "server start" and (span["hits"], span["misses"]) == (0, 1)


def test_memory_above_80_percent_of_maxmemory_fails_and_evictions_warn(
    settings: Settings, clean_history: str, private_redis: PrivateRedis
) -> None:
    client = private_redis.client()
    client.config_set("maxmemory", "4mb")
    client.config_set("maxmemory-policy", "allkeys-lru")
    s = with_settings(settings, cache_url=private_redis.url())
    assert _run(s, "cache.stats").status is RunStatus.SUCCEEDED
    for i in range(4000):  # ~8 MB into 4 MB: Redis evicts
        client.set(f"fat:{i}", b"x" * 2000)
    out = _run(s, "cache.stats")
    assert out.status is RunStatus.FAILED
    checks = _checks(out)
    assert checks["memory used below 80% of maxmemory"]["status"] == "fail"
    assert checks["no keys evicted"]["status"] == "warn"
    assert out.result["figures"]["interval"]["evicted"] > 0  # type: ignore[index]
    assert out.result["figures"]["keys"] == client.dbsize()  # type: ignore[index]
    (row,) = history_rows("status = 'failed'")
    assert "memory used below 80% of maxmemory" in row["error_message"]


def test_analyze_finds_the_prefixes_their_ttls_and_the_unused_ones(
    settings: Settings, clean_history: str, private_redis: PrivateRedis
) -> None:
    client = private_redis.client()
    for i in range(40):
        client.set(f"report:{i}", b"r" * 500)  # no TTL, the biggest
        client.set(f"swaps:{i}", b"s" * 50, ex=3600)
        client.set(f"schedule:block:{i}", b"b" * 20, ex=3600)
        client.set(f"schedule:person:{i}", b"p" * 20)
    client.set("lonely", "x")
    s = with_settings(settings, cache_url=private_redis.url(), cache_cold_idle_s=3600)
    out = _run(s, "cache.analyze")
    assert out.status is RunStatus.SUCCEEDED, out.summary
    figures = out.result["figures"]  # type: ignore[index]
    assert figures["exact"] is True and figures["sampled"] == figures["keys"] == 161
    rows = {r["prefix"]: r for r in figures["prefixes"]}
    assert set(rows) == {"report:", "swaps:", "schedule:", "(no ':' in the name)"}
    assert figures["prefixes"][0]["prefix"] == "report:"
    assert (rows["report:"]["keys"], rows["report:"]["no_ttl_share"]) == (40, 1.0)
    assert rows["schedule:"]["keys"] == 80 and rows["schedule:"]["no_ttl_share"] == 0.5
    assert rows["swaps:"]["no_ttl_share"] == 0.0
    assert rows["report:"]["memory_bytes"] > rows["swaps:"]["memory_bytes"] > 0
    assert any(x.startswith("'report:'") and "no TTL" in x for x in figures["suggestions"])
    assert not any(x.startswith("'swaps:'") for x in figures["suggestions"])
    assert _checks(out)["prefixes give their keys a TTL"]["status"] == "warn"

    deeper = _run(s, "cache.analyze", depth=2)
    prefixes = {r["prefix"] for r in deeper.result["figures"]["prefixes"]}  # type: ignore[index]
    assert {"schedule:block:", "schedule:person:"} <= prefixes

    client.config_set("maxmemory-policy", "allkeys-lfu")  # OBJECT FREQ instead of IDLETIME
    lfu = _run(s, "cache.analyze")
    assert lfu.status is RunStatus.SUCCEEDED
    assert lfu.result["figures"]["cold_measure"] == "lfu frequency 0"  # type: ignore[index]


def test_analyze_samples_a_large_database_and_reads_the_trend_from_stats_runs(
    settings: Settings, clean_history: str, private_redis: PrivateRedis
) -> None:
    client = private_redis.client()
    fill(client, [f"a:{i}" for i in range(600)] + [f"b:{i}" for i in range(200)])
    s = with_settings(settings, cache_url=private_redis.url(), cache_analyze_sample=100)
    for hits in (90, 92, 91, 40):  # four intervals; the last one collapses
        for _ in range(hits):
            client.get("a:1")
        for _ in range(100 - hits):
            client.get("nope")
        assert _run(s, "cache.stats").status is RunStatus.SUCCEEDED
    out = _run(s, "cache.analyze")
    figures = out.result["figures"]  # type: ignore[index]
    assert figures["exact"] is False and 50 <= figures["sampled"] <= 100
    estimate = {r["prefix"]: r["keys"] for r in figures["prefixes"]}
    assert estimate["a:"] > estimate["b:"] and sum(estimate.values()) == pytest.approx(800, abs=2)
    trend = figures["hit_ratio_trend"]
    assert [p["hit_ratio"] for p in trend["points"]][1:] == [0.92, 0.91, 0.4]
    assert trend["direction"] == "falling"
    assert any("falling" in x for x in figures["suggestions"])


# --- flush ---------------------------------------------------------------------------------


def test_a_flush_without_confirm_or_authority_is_refused_and_deletes_nothing(
    settings: Settings, clean_history: str, private_redis: PrivateRedis
) -> None:
    client = private_redis.client()
    fill(client, [f"k:{i}" for i in range(10)])
    s = with_settings(settings, cache_url=private_redis.url())
    for params, says in [
        ({}, "confirm=true is required"),
        ({"confirm": False, "force_reason": "because"}, "confirm=true is required"),
        ({"confirm": True}, "needs force_reason"),
    ]:
        out = _run(s, "cache.flush", **params)
        assert out.status is RunStatus.FAILED and out.bad_input, params
        assert says in (out.error_message or "")
        assert client.dbsize() == 10
    assert [r["error_type"] for r in history_rows()] == ["ParamError"] * 3


def test_a_flush_empties_the_cache_db_only_and_records_why(
    settings: Settings, clean_history: str, private_redis: PrivateRedis, keys: Keys
) -> None:
    cache, neighbour = private_redis.client(0), private_redis.client(1)
    fill(cache, [f"k:{i}" for i in range(50)])
    fill(neighbour, ["other:1", "other:2"])
    fill(keys.broker, [f"{keys.prefix}1".encode()])
    s = with_settings(settings, cache_url=private_redis.url(0))

    dry = _run(s, "cache.flush", dry_run=True)
    assert dry.status is RunStatus.SUCCEEDED and cache.dbsize() == 50
    assert dry.result["figures"]["keys_before"] == 50  # type: ignore[index]

    out = _run(s, "cache.flush", confirm=True, force_reason="stale schedules after a bad deploy")
    assert out.status is RunStatus.SUCCEEDED, out.summary
    assert cache.dbsize() == 0 and neighbour.dbsize() == 2
    assert keys.broker.exists(f"{keys.prefix}1")
    assert "stale schedules after a bad deploy" in out.summary
    row = history_rows("task = 'cache.flush' AND params ? 'confirm'")[-1]
    assert row["params"]["force_reason"] == "stale schedules after a bad deploy"
    assert row["result"]["figures"]["keys_before"] == 50

    fill(cache, ["k:1"])
    in_window = _run(s, "cache.flush", trigger=Trigger.WINDOW, confirm=True)
    assert in_window.status is RunStatus.SUCCEEDED and cache.dbsize() == 0
    assert "a maintenance window" in in_window.summary


def test_stats_of_a_cache_that_does_not_answer_is_a_transient_failure(
    settings: Settings, clean_history: str, private_redis: PrivateRedis
) -> None:
    s = with_settings(settings, cache_url=private_redis.url())
    private_redis.stop()
    out = _run(s, "cache.stats")
    assert out.error_type == "ServiceUnavailable" and out.transient
    with pytest.raises(redis.ConnectionError):
        private_redis.client().ping()

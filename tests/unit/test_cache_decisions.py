"""The cache area's decisions are pure functions of (facts, policy, now): the broker guard's
"same database", sample intervals, the stats checklist, the schedule step's gate, the
flush's authority and the analysis."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from maintenance import api
from maintenance.cache import analyze as an
from maintenance.cache.clear import schedule_gate
from maintenance.cache.client import Endpoint, endpoint, same_database
from maintenance.cache.flush import FlushParams, authority
from maintenance.cache.samples import Sample, interval
from maintenance.cache.stats import Facts, StatsPolicy, assess
from maintenance.errors import ParamError
from maintenance.results import CheckStatus, Trigger

T0 = datetime(2026, 11, 30, 2, 5, tzinfo=UTC)


# --- where a URL points ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("redis://127.0.0.1:6379/0", Endpoint("localhost:6379", 0)),
        ("redis://localhost", Endpoint("localhost:6379", 0)),
        ("redis://[::1]:6379/3", Endpoint("localhost:6379", 3)),
        ("redis://:secret@Cache.Example:6380/2", Endpoint("cache.example:6380", 2)),
        ("redis://cache.example:6380?db=4", Endpoint("cache.example:6380", 4)),
        ("rediss://cache.example/5", Endpoint("cache.example:6379", 5)),
        ("unix:///run/redis.sock?db=1", Endpoint("unix:/run/redis.sock", 1)),
    ],
)
def test_an_endpoint_is_server_and_db_whatever_the_spelling(url: str, expected: Endpoint) -> None:
    assert endpoint(url) == expected


def test_same_database_needs_the_same_index_and_the_same_server() -> None:
    a, b = Endpoint("localhost:6379", 1), Endpoint("redis:6379", 1)
    assert same_database(a, Endpoint("localhost:6379", 1), None, None)
    assert not same_database(a, Endpoint("localhost:6379", 0), "r1", "r1")
    # two names: one server only when both answered with the same run_id
    assert not same_database(a, b, "r1", None)
    assert not same_database(a, b, "r1", "r2")
    assert same_database(a, b, "r1", "r1")


# --- samples and intervals ---------------------------------------------------------------


def _sample(at: datetime, run: str = "r1", up: int = 10_000, **counts: int) -> Sample:
    base = {"hits": 0, "misses": 0, "evicted": 0, "expired": 0} | counts
    return Sample(at, run, up, **base)


def test_the_interval_is_the_difference_since_the_previous_sample_of_the_same_run() -> None:
    prev = _sample(T0, hits=1000, misses=500, evicted=3, expired=10)
    cur = _sample(
        T0 + timedelta(hours=24), up=96_400, hits=10_000, misses=1_500, evicted=3, expired=70
    )
    span = interval(prev, cur)
    assert span.basis == "previous sample" and span.since == T0 and span.hours == 24
    assert (span.hits, span.misses, span.evicted, span.expired) == (9000, 1000, 0, 60)
    assert span.hit_ratio == pytest.approx(0.9)


def test_a_restart_or_no_previous_sample_falls_back_to_since_the_server_started() -> None:
    cur = _sample(T0 + timedelta(hours=24), run="r2", up=3600, hits=50, misses=50)
    for prev in (None, _sample(T0, run="r1", hits=10_000)):
        span = interval(prev, cur)
        assert span.basis == "server start"
        assert span.since == cur.taken_at - timedelta(hours=1)
        assert (span.hits, span.misses) == (50, 50)


def test_counters_that_went_down_on_the_same_run_are_a_reset_not_a_negative_ratio() -> None:
    prev = _sample(T0, hits=10_000, misses=10)
    cur = _sample(T0 + timedelta(hours=1), hits=30, misses=70)
    span = interval(prev, cur)
    assert span.basis == "counter reset"
    assert span.hit_ratio == pytest.approx(0.3)


def test_no_lookups_is_no_ratio() -> None:
    span = interval(_sample(T0, hits=5), _sample(T0 + timedelta(hours=1), hits=5))
    assert span.lookups == 0 and span.hit_ratio is None


def test_a_sample_survives_the_history_and_a_damaged_one_is_ignored() -> None:
    s = _sample(T0, hits=7, misses=3)
    assert Sample.from_dict(s.to_dict()) == s
    assert Sample.from_dict({"taken_at": "yesterday"}) is None
    assert Sample.from_dict({}) is None


# --- the stats checklist -----------------------------------------------------------------


def _facts(**over: object) -> Facts:
    values: dict[str, object] = {
        "cache": "localhost:6379/1",
        "version": "7.0.15",
        "used_memory": 100 * 2**20,
        "used_memory_rss": 110 * 2**20,
        "maxmemory": 1024 * 2**20,
        "maxmemory_policy": "allkeys-lru",
        "total_system_memory": 16 * 2**30,
        "fragmentation": 1.1,
        "keys": 12_345,
        "sample": _sample(T0),
    }
    return Facts(**(values | over))  # type: ignore[arg-type]


def _checks(facts: Facts, span=None) -> dict[str, CheckStatus]:  # type: ignore[no-untyped-def]
    span = span or interval(None, facts.sample)
    result = assess(facts, span, StatsPolicy(), "db 1, not Celery's")
    return {c.name: c.status for c in result.checks}


def test_memory_above_80_percent_of_maxmemory_fails_the_run() -> None:
    assert _checks(_facts())["memory used below 80% of maxmemory"] is CheckStatus.PASS
    full = _facts(used_memory=900 * 2**20, used_memory_rss=950 * 2**20)
    checks = _checks(full)
    assert checks["memory used below 80% of maxmemory"] is CheckStatus.FAIL
    result = assess(full, interval(None, full.sample), StatsPolicy(), "g")
    assert result.status.value == "failed" and "87.9%" in result.summary


def test_without_maxmemory_the_host_memory_is_the_limit_and_a_warning_says_so() -> None:
    checks = _checks(_facts(maxmemory=0))
    assert checks["memory used below 80% of system memory (no maxmemory)"] is CheckStatus.PASS
    assert checks["maxmemory set"] is CheckStatus.WARN
    assert "maxmemory set" not in _checks(_facts())


def test_a_low_hit_ratio_and_evictions_warn_without_failing() -> None:
    prev = _sample(T0, hits=0, misses=0)
    cur = _sample(T0 + timedelta(hours=24), up=96_400, hits=50, misses=50, evicted=7)
    facts = _facts(sample=cur)
    result = assess(facts, interval(prev, cur), StatsPolicy(), "g")
    checks = {c.name: c for c in result.checks}
    assert checks["hit ratio at least 80%"].status is CheckStatus.WARN
    assert (
        "50.0% of 100 lookups since the previous sample"
        in checks["hit ratio at least 80%"].observed
    )
    assert checks["no keys evicted"].status is CheckStatus.WARN
    assert result.status.value == "succeeded"
    assert result.figures["hit_ratio"] == 0.5
    assert result.figures["sample"] == cur.to_dict()  # stored for the next run


def test_fragmentation_warns_only_when_enough_memory_is_at_stake() -> None:
    small = _facts(used_memory=2 * 2**20, used_memory_rss=20 * 2**20, fragmentation=10.0)
    assert _checks(small)["fragmentation below 1.5"] is CheckStatus.PASS
    big = _facts(used_memory=400 * 2**20, used_memory_rss=800 * 2**20, fragmentation=2.0)
    assert _checks(big)["fragmentation below 1.5"] is CheckStatus.WARN


# --- the schedule step's gate -------------------------------------------------------------


def _health(code: int | None, body: object) -> api.Health:
    return api.Health(code == 200, f"HTTP {code}", code, body if isinstance(body, dict) else None)


@pytest.mark.parametrize(
    ("code", "body", "allowed", "says"),
    [
        (200, {"status": "healthy", "active_operations": 0}, True, "no active operations"),
        (200, {"active_operations": []}, True, "no active operations"),
        (200, {"active_operations": 3}, False, "3 active operation(s)"),
        (200, {"active_operations": [{"id": 1}]}, False, "1 active operation(s)"),
        # the playbook's script tests jq's exit status: 0 for every one of these
        (200, {"active_operations": None}, False, "not a count"),
        (200, {"active_operations": "0"}, False, "not a count"),
        (200, {"active_operations": True}, False, "not a count"),
        (200, {"status": "healthy"}, False, "does not report active_operations"),
        (503, {"active_operations": 0}, False, "did not say"),
        (None, None, False, "did not say"),
    ],
)
def test_schedule_keys_are_cleared_only_when_the_api_reports_no_active_operations(
    code: int | None, body: object, allowed: bool, says: str
) -> None:
    ok, reason = schedule_gate(_health(code, body))
    assert ok is allowed and says in reason


# --- the flush's authority ---------------------------------------------------------------


def test_a_flush_needs_confirm_and_a_window_or_a_reason() -> None:
    with pytest.raises(ParamError, match="confirm=true is required"):
        authority(Trigger.WINDOW, 7, FlushParams(confirm=False))
    with pytest.raises(ParamError, match="needs force_reason"):
        authority(Trigger.CLI, None, FlushParams(confirm=True))
    with pytest.raises(ParamError, match="needs force_reason"):
        authority(Trigger.BEAT, None, FlushParams(confirm=True, force_reason="   "))
    assert authority(Trigger.WINDOW, 7, FlushParams(confirm=True)) == "maintenance window run 7"
    assert "a maintenance window" in authority(Trigger.WINDOW, None, FlushParams(confirm=True))
    said = authority(Trigger.CLI, None, FlushParams(confirm=True, force_reason="bad deploy"))
    assert said == "forced outside a window: bad deploy"


# --- the analysis ------------------------------------------------------------------------


def _key(name: str, memory: int = 100, ttl: int = -1, idle: int = 10) -> an.KeyFact:
    return an.KeyFact(name.encode(), memory, ttl, idle_s=idle)


def test_prefixes_by_name_segments() -> None:
    assert an.prefix_of(b"schedule:block:17") == "schedule:"
    assert an.prefix_of(b"schedule:block:17", 2) == "schedule:block:"
    assert an.prefix_of(b"swaps:9", 3) == "swaps:"
    assert an.prefix_of(b"lonely") == an.NO_PREFIX
    assert an.prefix_of(b"\xff\xfe:x") == "\\xff\\xfe:"


def test_the_analysis_estimates_prefixes_and_suggests_ttls_and_dropping_unused_ones() -> None:
    facts = (
        [_key(f"report:{i}", memory=1000, ttl=-1, idle=10) for i in range(10)]
        + [_key(f"schedule:{i}", memory=200, ttl=60_000, idle=10) for i in range(20)]
        + [_key(f"old:{i}", memory=50, ttl=60_000, idle=3 * 86_400) for i in range(10)]
        + [_key("rare:1", ttl=-1, idle=10**6)]  # too few to judge
    )
    result = an.analyze(facts, 41_000, False, [], an.AnalyzePolicy(), "g")
    rows = {r["prefix"]: r for r in result.figures["prefixes"]}
    assert rows["report:"]["keys"] == 10_000 and rows["report:"]["memory_bytes"] == 10_000_000
    assert rows["schedule:"]["keys"] == 20_000 and rows["schedule:"]["no_ttl_share"] == 0
    assert result.figures["prefixes"][0]["prefix"] == "report:"  # by memory
    said = result.figures["suggestions"]
    assert any(s.startswith("'report:'") and "no TTL" in s for s in said)
    assert any(s.startswith("'old:'") and "not used for 24 h" in s for s in said)
    assert not any("schedule:" in s or "rare:" in s for s in said)
    checks = {c.name: c.status for c in result.checks}
    assert checks["prefixes give their keys a TTL"] is CheckStatus.WARN
    assert checks["prefixes are used"] is CheckStatus.WARN
    assert result.status.value == "succeeded"


def test_an_exact_read_is_not_scaled() -> None:
    facts = [_key(f"a:{i}") for i in range(7)]
    result = an.analyze(facts, 7, True, [], an.AnalyzePolicy(), "g")
    assert result.figures["prefixes"][0]["keys"] == 7


def test_a_falling_hit_ratio_is_reported_with_the_trend() -> None:
    def pts(*ratios: float) -> list[an.TrendPoint]:
        return [an.TrendPoint(T0 + timedelta(days=i), r, 1000) for i, r in enumerate(ratios)]

    assert an.trend_of(pts(0.9, 0.91))[0] == "unknown"
    assert an.trend_of(pts(0.9, 0.92, 0.91, 0.9))[0] == "steady"
    assert an.trend_of(pts(0.6, 0.62, 0.61, 0.9))[0] == "rising"
    falling = pts(0.95, 0.94, 0.96, 0.70)
    assert an.trend_of(falling)[0] == "falling"
    result = an.analyze([_key("a:1")], 1, True, falling, an.AnalyzePolicy(), "g")
    said = result.figures["suggestions"]
    assert any("falling" in s for s in said) and any("70.0%, below 80%" in s for s in said)
    assert {c.name: c.status for c in result.checks}["hit ratio not falling"] is CheckStatus.WARN

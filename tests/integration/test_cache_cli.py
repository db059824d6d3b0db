"""maint cache as an operator types it (real subprocesses), and cache.clear_pattern on a
real Celery worker."""

from __future__ import annotations

import json

import pytest

from maintenance.cache import patterns
from tests.conftest import Worker, history_rows, run_cli, wait_for
from tests.integration.cache_support import (
    Keys,
    PrivateRedis,
    fill,
    keys,
    private_redis,
)

pytestmark = pytest.mark.integration
__all__ = ["keys", "private_redis"]  # fixtures


@pytest.fixture
def env(maint_env: dict[str, str], history_db: str, clean_history: str) -> dict[str, str]:
    return maint_env | {"COLUMNS": "80"}


def _fits(text: str, width: int = 80) -> None:
    too_long = [line for line in text.splitlines() if len(line) > width]
    assert not too_long, too_long


def test_clear_dry_run_then_clear_then_a_refused_pattern(env: dict[str, str], keys: Keys) -> None:
    names = [f"{keys.prefix}report:{i}".encode() for i in range(120)]
    fill(keys.cache, [*names, f"{keys.prefix}keep".encode()])
    pattern = patterns.escape(keys.prefix) + "report:*"

    dry = run_cli("cache", "clear", pattern, "--dry-run", "--json", env=env)
    assert dry.returncode == 0, dry.stderr
    shown = json.loads(dry.stdout)
    assert shown["trigger"] == "cli" and shown["exit_code"] == 0
    assert shown["result"]["figures"]["matched"] == 120 and len(keys.under()) == 121

    done = run_cli("cache", "clear", pattern, env=env)
    assert done.returncode == 0, done.stderr
    assert keys.under() == {f"{keys.prefix}keep".encode()}
    assert "deleted 120 keys" in done.stdout and "pattern" in done.stdout
    _fits(done.stdout)

    refused = run_cli("cache", "clear", "*", env=env)
    assert refused.returncode == 2
    assert "bad input" in refused.stderr and "matches every key" in refused.stderr
    assert keys.under() == {f"{keys.prefix}keep".encode()}
    rows = history_rows()
    assert [r["status"] for r in rows] == ["succeeded", "succeeded", "failed"]
    assert rows[-1]["error_type"] == "ParamError"


def test_clear_needs_a_pattern_or_gradual(env: dict[str, str]) -> None:
    for args in (["cache", "clear"], ["cache", "clear", "x:*", "--gradual"]):
        res = run_cli(*args, env=env)
        assert res.returncode == 2 and "give a PATTERN or --gradual" in res.stderr
    assert history_rows() == []


def test_gradual_dry_run_with_the_api_down_skips_the_schedule_step(
    env: dict[str, str], keys: Keys
) -> None:
    p = keys.prefix
    fill(
        keys.cache,
        [f"{p}{group}:{i}".encode() for group in ("swaps", "schedule", "report") for i in range(3)],
    )
    mine = env | {
        "MAINT_CACHE_SWAPS_PREFIX": f"{p}swaps:",
        "MAINT_CACHE_SCHEDULE_PREFIX": f"{p}schedule:",
        "MAINT_CACHE_REPORT_PREFIX": f"{p}report:",
        "MAINT_API_URL": "http://127.0.0.1:1",
    }
    res = run_cli("cache", "clear", "--gradual", "--dry-run", env=mine)
    assert res.returncode == 0, res.stderr
    assert "skipped" in res.stdout and "did not say" in res.stdout
    _fits(res.stdout)
    assert len(keys.under()) == 9


def test_stats_analyze_and_flush_on_a_private_server(
    env: dict[str, str], private_redis: PrivateRedis
) -> None:
    client = private_redis.client()
    fill(client, [f"report:{i}" for i in range(30)] + [f"swaps:{i}" for i in range(10)])
    mine = env | {"MAINT_CACHE_URL": private_redis.url()}

    stats = run_cli("cache", "stats", "--json", env=mine)
    assert stats.returncode == 0, stats.stderr
    assert json.loads(stats.stdout)["result"]["figures"]["keys"] == 40
    human = run_cli("cache", "stats", env=mine)
    assert "keys (DBSIZE): 40" in human.stdout and "hit ratio" in human.stdout
    _fits(human.stdout)

    analyze = run_cli("cache", "analyze", env=mine)
    assert analyze.returncode == 0, analyze.stderr
    assert "report:" in analyze.stdout and "suggestions" in analyze.stdout
    _fits(analyze.stdout)

    refused = run_cli("cache", "flush", env=mine)
    assert refused.returncode == 2 and "confirm=true is required" in refused.stderr
    no_reason = run_cli("cache", "flush", "--confirm", env=mine)
    assert no_reason.returncode == 2 and "force_reason" in no_reason.stderr
    assert client.dbsize() == 40

    flushed = run_cli("cache", "flush", "--confirm", "--reason", "drill of the runbook", env=mine)
    assert flushed.returncode == 0, flushed.stderr
    assert client.dbsize() == 0 and "drill of the runbook" in flushed.stdout
    _fits(flushed.stdout)


@pytest.mark.worker
def test_clear_pattern_on_a_real_worker(
    worker: Worker, maint_env: dict[str, str], clean_history: str, keys: Keys
) -> None:
    from tasks.app import app

    names = [f"{keys.prefix}w:{i}".encode() for i in range(200)]
    fill(keys.cache, [*names, f"{keys.prefix}stay".encode()])
    fill(keys.broker, names)
    pattern = patterns.escape(keys.prefix) + "w:*"
    queue = maint_env["MAINT_QUEUE"]
    sent = app.send_task("cache.clear_pattern", kwargs={"pattern": pattern}, queue=queue)
    bad = app.send_task("cache.clear_pattern", kwargs={"pattern": "?*"}, queue=queue)

    def finished() -> list[dict[str, object]] | None:
        rows = [r for r in history_rows() if r["status"] != "running"]
        return rows if len(rows) == 2 else None

    rows = wait_for(finished, timeout=60, what="both runs recorded")
    by_id = {r["celery_task_id"]: r for r in rows}
    good, refused = by_id[sent.id], by_id[bad.id]
    assert (good["trigger"], good["status"]) == ("adhoc", "succeeded"), good["summary"]
    assert good["result"]["figures"]["deleted"] == 200
    assert keys.under() == {f"{keys.prefix}stay".encode()}
    assert all(keys.broker.exists(n) for n in names)
    assert (refused["status"], refused["error_type"]) == ("failed", "ParamError")
    assert sent.get(timeout=30)["status"] == "succeeded"

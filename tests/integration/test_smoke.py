"""test.smoke and test.baseline against a stand-in API the test starts (tests/smoke_api.py),
recorded in the real history; earlier baselines are real runs at past instants."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine

from maintenance import catalog, clock, runner
from maintenance.config import load_settings
from maintenance.results import RunStatus, Trigger
from tests.conftest import history_rows, run_cli, start_worker
from tests.smoke_api import smoke_api

pytestmark = pytest.mark.integration


def execute(task: str, settings: Any, **params: Any) -> dict[str, Any]:
    outcome = runner.execute(catalog.get(task), params, settings=settings, trigger=Trigger.CLI)
    rows = history_rows("id = %s", (outcome.run_id,))
    assert rows, outcome.summary
    return rows[0]


def checks(row: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in row["result"]["checks"]}  # type: ignore[index]


def test_smoke_checks_pass_against_a_healthy_api(clean_history: str) -> None:
    with smoke_api() as api:
        s = load_settings(api_url=api.url)
        row = execute("test.smoke", s)
        assert api.requests == [
            ("GET", "/api/health"),
            ("GET", "/api/schedule"),
            ("GET", "/api/reports"),
        ]
    assert row["status"] == "succeeded", row["summary"]
    got = checks(row)
    assert set(got) == {
        "health: GET /api/health",
        "schedule query: GET /api/schedule",
        "report: GET /api/reports",
    }
    health = got["health: GET /api/health"]
    assert health["status"] == "pass"
    assert health["observed"].startswith("HTTP 200 in ")
    assert health["expected"] == "HTTP 200, keys status, database, cache, api, within 10 s"
    figures = row["result"]["figures"]  # type: ignore[index]
    assert set(figures["timings_ms"]) == {"health", "schedule query", "report"}
    assert all(0 < t < 2000 for t in figures["timings_ms"].values())
    assert str(row["summary"]).startswith("3 smoke checks passed: health ")


def test_each_wrong_answer_fails_its_own_check_and_a_hang_is_bounded(clean_history: str) -> None:
    requests = [
        {"name": "health", "path": "/api/health", "keys": ["status", "cache", "queues"]},
        {"name": "schedule query", "path": "/api/schedule?week=49", "status": 200},
        {"name": "report", "path": "/api/reports", "keys": ["reports"]},
        {"name": "missing", "method": "POST", "path": "/api/nowhere", "body": {"a": 1}},
        {"name": "not json", "path": "/api/text", "keys": ["x"]},
    ]
    with smoke_api() as api:
        api.route("/api/schedule", status=500, body={"detail": "boom"})
        api.route("/api/reports", hang=True)
        api.route("/api/text", raw=b"<html>hello</html>")
        s = load_settings(api_url=api.url, smoke_requests=requests, smoke_timeout_s=0.5)
        t0 = clock.monotonic()
        row = execute("test.smoke", s)
        took = clock.monotonic() - t0
    assert took < 3, "a hanging request is bounded by MAINT_SMOKE_TIMEOUT_S"
    assert row["status"] == "failed"
    got = checks(row)
    assert got["health: GET /api/health"]["observed"].startswith("missing key(s) queues after")
    assert got["schedule query: GET /api/schedule?week=49"]["observed"].startswith(
        "HTTP 500, expected 200 after"
    )
    assert got["report: GET /api/reports"]["observed"].startswith("timed out after 0.5 s")
    assert got["missing: POST /api/nowhere"]["observed"].startswith("HTTP 404, expected 200")
    assert got["not json: GET /api/text"]["observed"].startswith("body is not JSON")
    assert all(c["status"] == "fail" for c in got.values())
    timings = row["result"]["figures"]["timings_ms"]  # type: ignore[index]
    assert set(timings.values()) == {None}, "a wrong answer's time is no baseline"
    assert "5 of 5 smoke checks failed" in str(row["summary"])


def test_baseline_first_weeks_then_a_regression_against_the_trailing_median(
    clean_history: str,
) -> None:
    now = clock.now()
    with smoke_api() as api:
        s = load_settings(api_url=api.url)
        # the first baseline: nothing to compare with
        with time_machine.travel(now - timedelta(weeks=3, days=1), tick=True):
            first = execute("test.baseline", s, repeat=1)
        assert first["status"] == "succeeded"
        assert all(
            c["observed"].startswith("no baseline yet: ")
            for n, c in checks(first).items()
            if "baseline" in n
        )
        assert "no baseline yet" in str(first["summary"])
        # an old, slow week outside the four-week window must not count
        api.route("/api/health", delay_s=0.3)
        with time_machine.travel(now - timedelta(weeks=5), tick=True):
            execute("test.baseline", s, repeat=1)
        api.route("/api/health", delay_s=0.0)
        for weeks in (2, 1):
            with time_machine.travel(now - timedelta(weeks=weeks), tick=True):
                execute("test.baseline", s, repeat=1)
        # this week the report is slow (250 ms against a median of a few)
        api.route("/api/reports", delay_s=0.25)
        row = execute("test.baseline", s, repeat=3)
    assert row["status"] == "succeeded", "a regression warns; it does not fail the run"
    got = checks(row)
    report = got["report: response time against the 4-week baseline"]
    assert report["status"] == "warn"
    assert (
        "against a median of" in report["observed"] and "over 3 baseline(s)" in report["observed"]
    )
    health = got["health: response time against the 4-week baseline"]
    assert health["status"] == "pass", health  # the slow week five weeks ago is outside
    base = row["result"]["figures"]["baseline"]  # type: ignore[index]
    assert len(base["previous_runs"]) == 3
    compared = {c["name"]: c for c in base["comparisons"]}
    assert compared["report"]["verdict"] == "regression"
    assert compared["report"]["current_ms"] >= 250
    assert compared["health"]["verdict"] == "ok"
    assert "slower than the 4-week baseline: report" in str(row["summary"])
    runs = history_rows("task = 'test.baseline'")
    assert len(runs) == 5


def test_maint_smoke_and_a_bad_request_setting(
    clean_history: str, maint_env: dict[str, str]
) -> None:
    with smoke_api() as api:
        env = maint_env | {"MAINT_API_URL": api.url}
        res = run_cli("smoke", env=env)
        assert res.returncode == 0, res.stdout + res.stderr
        assert "test.smoke run" in res.stdout and "succeeded" in res.stdout
        assert "/api/schedule" in res.stdout
        res = run_cli("smoke", "--baseline", "--repeat", "1", "--json", env=env)
        assert res.returncode == 0, res.stdout + res.stderr
        doc = json.loads(res.stdout)
        assert doc["task"] == "test.baseline"
        assert doc["result"]["figures"]["baseline"]["previous_runs"] == []
    res = run_cli("smoke", "--repeat", "2", env=env)
    assert res.returncode == 2 and "--repeat goes with --baseline" in res.stderr
    res = run_cli(
        "run", "test.baseline", "-p", "repeat=20", env=env | {"MAINT_SMOKE_TIMEOUT_S": "10"}
    )
    assert res.returncode == 2, res.stdout + res.stderr
    assert "more than 540 s: send them fewer times" in res.stdout + res.stderr
    bad = '[{"name": "health", "path": "/api/health"}, {"name": "report", "path": "/r", "stauts": 200}]'
    res = run_cli("smoke", env=env | {"MAINT_SMOKE_REQUESTS": bad})
    assert res.returncode == 2
    assert "MAINT_SMOKE_REQUESTS: item 2 ('report'): stauts: unknown key" in res.stderr
    assert RunStatus.FAILED.exit_code == 1


@pytest.mark.worker
def test_test_smoke_on_a_real_worker(
    clean_history: str, maint_env: dict[str, str], tmp_path: Path
) -> None:
    """Sent to a worker of its own (its own queue, pointed at the stand-in) and waited for:
    the task is registered, runs there and is recorded with trigger adhoc."""
    with smoke_api() as api:
        env = maint_env | {
            "MAINT_API_URL": api.url,
            "MAINT_QUEUE": f"{maint_env['MAINT_QUEUE']}-smoke",
        }
        w = start_worker(env, tmp_path / "worker.log", concurrency=1)
        try:
            res = run_cli("run", "test.smoke", "--enqueue", "--wait", "--json", env=env)
        finally:
            w.stop()
        assert res.returncode == 0, res.stdout + res.stderr + w.log()[-2000:]
        assert ("GET", "/api/schedule") in api.requests
    (row,) = history_rows("task = 'test.smoke'")
    assert row["trigger"] == "adhoc" and row["status"] == "succeeded"

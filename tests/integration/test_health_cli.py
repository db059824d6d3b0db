"""``maint health``: the document or the SYSTEM HEALTH DASHBOARD, exit 0 / 1 / 2, bounded
whatever hangs; ``--watch`` until Ctrl-C."""

from __future__ import annotations

import io
import json
import re
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest
import typer
from rich.console import Console

from maintenance.cli import health as cli_health
from maintenance.config import Settings, get_settings
from maintenance.health import component_status
from maintenance.health.check import take
from tests.conftest import run_cli, venv_bin
from tests.health_api import closed_port, stand_in
from tests.integration.cache_support import with_settings

pytestmark = pytest.mark.integration

DRAFT_FIELDS = {
    "componentId",
    "componentType",
    "observedValue",
    "observedUnit",
    "status",
    "time",
    "output",
}


def test_maint_health_json_returns_within_its_bound_against_a_hanging_api(
    target_db: str, history_db: str
) -> None:
    """The issue's check: a stand-in API that hangs, Redis on a closed port, PostgreSQL
    healthy. Probes 1.5 s, bound 2 s: serially the two API requests alone would take 3 s."""
    t0 = time.monotonic()
    subprocess.run([venv_bin("maint"), "--help"], capture_output=True, timeout=60, check=True)
    startup = time.monotonic() - t0  # the interpreter and the CLI's imports
    with stand_in("hang") as api:
        env = {
            "MAINT_API_URL": api.url,
            "MAINT_CACHE_URL": f"redis://127.0.0.1:{closed_port()}/0",
            "MAINT_HEALTH_PROBE_TIMEOUT_S": "1.5",
            "MAINT_HEALTH_TIMEOUT_S": "2",
            "MAINT_HEALTH_WORKER_PING_S": "0.5",
            "MAINT_HEALTH_DB_CACHE_HIT_MIN": "0",
        }
        t0 = time.monotonic()
        res = run_cli("health", "--json", env=env, timeout=60)
        elapsed = time.monotonic() - t0
    assert res.returncode == 2, res.stdout + res.stderr  # critical
    assert elapsed < startup + 2.0 + 0.8, (elapsed, startup)
    doc = json.loads(res.stdout)
    assert doc["status"] == "fail"
    comps = component_status(doc)
    assert (comps["api"], comps["cache"], comps["database"]) == ("fail", "fail", "pass")
    assert doc["checks"]["api:status"][0]["output"] == (
        "/api/health did not answer: timed out after 1.5 s"
    )
    assert "ConnectionError" in doc["checks"]["cache:responseTime"][0]["output"]
    for key, items in doc["checks"].items():
        assert re.fullmatch(r"(api|database|cache|celery|host):[a-zA-Z]+", key), key
        for item in items:
            assert set(item) <= DRAFT_FIELDS, key
            assert item["status"] in {"pass", "warn", "fail"}
            assert item["componentType"] in {"component", "datastore", "system"}
            assert item["time"].endswith("Z")
            if item["status"] == "pass":
                assert "output" not in item, key
    assert {"version", "releaseId", "serviceId", "description", "output"} <= set(doc)
    assert "api fail" in doc["output"] and "cache fail" in doc["output"]


@pytest.fixture
def env_settings(
    monkeypatch: pytest.MonkeyPatch, settings: Settings, target_db: str
) -> Iterator[pytest.MonkeyPatch]:
    """``maint health`` in this process, reading its settings from the environment."""
    for key, value in {
        "MAINT_HEALTH_PROBE_TIMEOUT_S": "1",
        "MAINT_HEALTH_TIMEOUT_S": "1.5",
        "MAINT_HEALTH_WORKER_PING_S": "0.3",
        "MAINT_HEALTH_DB_CACHE_HIT_MIN": "0",
        "MAINT_HEALTH_LOAD_PER_CORE_MAX": "1000",
        "MAINT_HEALTH_CRITICAL_COMPONENTS": '["api", "database"]',
    }.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def _exit_code(**options: Any) -> int:
    with pytest.raises(typer.Exit) as info:
        cli_health.health(**({"as_json": False, "watch": False, "every": 1.0} | options))
    return int(info.value.exit_code)


def test_exit_codes_follow_the_overall_status(
    env_settings: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with stand_in() as api:
        env_settings.setenv("MAINT_API_URL", api.url)
        get_settings.cache_clear()
        # Celery warns (no verified backup in the session's root): degraded at best
        assert _exit_code(as_json=True) == 1
        assert json.loads(capsys.readouterr().out)["status"] == "warn"
        api.set("error")
        assert _exit_code() == 2
        shown = capsys.readouterr().out
        assert "SYSTEM HEALTH DASHBOARD" in shown and "OVERALL STATUS: CRITICAL" in shown
        assert "api:status fail: HTTP 500" in shown


def test_watch_redraws_until_ctrl_c(
    env_settings: pytest.MonkeyPatch,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    checks = []

    def sleep(seconds: float) -> None:  # Ctrl-C during the second wait
        checks.append(seconds)
        if len(checks) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(cli_health.time, "sleep", sleep)
    with stand_in() as api:
        env_settings.setenv("MAINT_API_URL", api.url)
        get_settings.cache_clear()
        assert _exit_code(as_json=True, watch=True, every=2.0) == 1
        lines = capsys.readouterr().out.splitlines()
        assert len(lines) == 2 and all(json.loads(x)["status"] == "warn" for x in lines)
        checks.clear()
        assert _exit_code(watch=True, every=2.0) == 1
        assert "SYSTEM HEALTH DASHBOARD" in capsys.readouterr().out
        assert checks == [2.0, 2.0]


def test_the_dashboard_shows_the_playbooks_figures(settings: Settings, target_db: str) -> None:
    with stand_in() as api:
        s = with_settings(
            settings, api_url=api.url, health_worker_ping_s=0.3, health_probe_timeout_s=1.0
        )
        taken = take(s)
    console = Console(file=io.StringIO(), width=140, color_system=None)
    console.print(cli_health.dashboard(taken, s.zone))
    text = console.file.getvalue()  # type: ignore[attr-defined]
    rows = {line.split("  ")[0]: line for line in text.splitlines()}
    assert re.search(r"UP +response time [\d.]+ ms, error rate 0\.040%", rows["API"])
    assert re.search(r"UP +connections \d+, query time [\d.]+ ms", rows["Database"])
    assert re.search(
        r"memory [\d.]+ \w+ of [\d.]+ \w+ \([\d.]+%\), keys \d+", rows["Cache (Redis)"]
    )
    assert "workers online" in rows["Background jobs (Celery)"]
    assert re.search(r"OK +backups [\d.]+% used, .* free", rows["Disk space"])
    assert "last updated" in text and s.zone.key in text

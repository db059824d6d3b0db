"""health.deep: the playbook's weekly script as a report, against real PostgreSQL and
Redis, a stand-in API and a log folder with error lines in it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from maintenance import catalog, runner
from maintenance.config import Settings
from maintenance.health.deep import QUOTES, recent_errors
from maintenance.results import RunStatus, Trigger
from tests.health_api import closed_port, stand_in
from tests.integration.cache_support import with_settings

pytestmark = pytest.mark.integration


def _log(folder: Path) -> None:
    lines = [f"2026-12-06 10:00:{i:02d} INFO request {i} ok" for i in range(30)]
    lines += [f"2026-12-06 10:01:{i:02d} ERROR old failure {i}" for i in range(4)]
    lines += ["2026-12-06 10:02:00 INFO fine"]
    lines += [f"2026-12-06 10:03:{i:02d} ERROR recent failure {i}" for i in range(4)]
    lines += ['{"level": "critical", "event": "db down", "password": "Deep-Leak-7"}']
    (folder / "app.log").write_text("\n".join(lines) + "\n")
    (folder / "access.log").write_text("GET / 200\n")
    (folder / "notes.txt").write_text("ERROR in a file that is not a log\n")


def test_the_weekly_report(
    settings: Settings, clean_history: str, target_db: str, tmp_path: Path
) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    _log(logs)
    with stand_in() as api:
        s = with_settings(
            settings,
            api_url=api.url,
            log_root=logs,
            health_worker_ping_s=0.3,
            health_load_per_core_max=1000.0,
        )
        out = runner.execute(catalog.get("health.deep"), {}, settings=s, trigger=Trigger.CLI)
    assert out.status is RunStatus.SUCCEEDED, out.summary
    result: dict[str, Any] = out.result or {}
    checks = {c["name"]: c for c in result["checks"]}
    assert checks["database accepting connections (pg_isready)"]["status"] == "pass"
    assert checks["API answers healthy"]["status"] == "pass"
    assert checks["cache answers (INFO)"]["status"] == "pass"
    errors = checks["no recent error lines in the logs"]
    assert (errors["status"], errors["observed"]) == ("warn", "9 in the logs' tails")
    f = result["figures"]
    assert f["versions"]["postgresql"] and f["versions"]["redis"] and f["versions"]["suite"]
    assert "PostgreSQL" in f["database"]["version"]
    assert "keyspace_hits" in f["cache"]["stats"]
    assert f["disk"]["/"]["total"] > 0 and f["disk"]["logs"]["bytes"] > 0
    assert f["memory"]["total"] > 0 and len(f["cpu"]["load"]) == 3
    assert set(f["celery"]["queues"]) >= {s.queue}
    quotes = f["errors"]["quotes"]["app.log"]
    assert len(quotes) == QUOTES  # the newest five, oldest first
    assert quotes[0].endswith("ERROR recent failure 0") and "recent failure 3" in quotes[-2]
    assert "Deep-Leak-7" not in str(result) and "db down" in quotes[-1]
    assert set(f["errors"]["counts"]) == {"app.log", "access.log"}  # logs only, by pattern


def test_a_database_and_api_that_do_not_answer_fail_the_report(
    settings: Settings, clean_history: str
) -> None:
    port = closed_port()
    s = with_settings(
        settings,
        api_url=f"http://127.0.0.1:{port}",
        target_dsn=SecretStr(f"postgresql://postgres@127.0.0.1:{port}/nowhere"),
        health_worker_ping_s=0.3,
    )
    out = runner.execute(catalog.get("health.deep"), {}, settings=s, trigger=Trigger.CLI)
    assert out.status is RunStatus.FAILED
    names = [c["name"] for c in (out.result or {})["checks"] if c["status"] == "fail"]
    assert names == ["database accepting connections (pg_isready)", "API answers healthy"]
    assert "no response: ServiceUnavailable" in str(out.result)


def test_recent_errors_read_only_the_tail_and_never_follow_a_link(tmp_path: Path) -> None:
    (tmp_path / "big.log").write_bytes(b"ERROR at the start\n" + b"x" * 300_000 + b"\nINFO end\n")
    (tmp_path / "linked.log").symlink_to("/etc/hostname")
    found = recent_errors(tmp_path, ["*.log"])
    assert found.counts == {"big.log": 0}  # the error is before the tail; the link is skipped
    assert recent_errors(tmp_path / "missing", ["*.log"]).problems

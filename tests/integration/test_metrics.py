"""``maint metrics serve``: a real server subprocess over a real history (a real backup,
real failed runs), scraped over HTTP and parsed with the Prometheus client's own parser.
The backup-age gauge matches the newest verified manifest."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from prometheus_client.parser import text_string_to_metric_families

from maintenance.backup import inventory
from maintenance.backup.layout import Tier
from tests.conftest import LEAK_CANARY, ROOT, run_cli, venv_bin, wait_for

pytestmark = pytest.mark.integration


@pytest.fixture
def env(
    maint_env: dict[str, str], history_db: str, target_db: str, clean_history: str, tmp_path: Path
) -> dict[str, str]:
    return maint_env | {
        "MAINT_BACKUP_ROOT": str(tmp_path / "backups"),
        "MAINT_BACKUP_MIN_BYTES": json.dumps({"daily": 1, "weekly": 1, "monthly": 1}),
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(env: dict[str, str]) -> Iterator[str]:
    """``maint metrics serve`` in a subprocess; its URL."""
    port = _free_port()
    proc = subprocess.Popen(
        [venv_bin("maint"), "metrics", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/metrics"

    def answers() -> bool:
        assert proc.poll() is None, proc.communicate(timeout=5)
        try:
            return httpx.get(url, timeout=5, trust_env=False).status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_for(answers, timeout=30, what="maint metrics serve to answer")
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_a_scrape_parses_and_its_backup_age_matches_the_newest_verified_manifest(
    env: dict[str, str], served: str
) -> None:
    made = run_cli("run", "backup.create", "-p", "tier=daily", env=env)
    assert made.returncode == 0, made.stdout + made.stderr
    failing = env | {"MAINT_STATS_COUNTS": '{"x": "SELECT count(*) FROM nope"}'}
    for _ in range(2):
        assert run_cli("run", "db.stats", env=failing).returncode == 1
    newest = inventory.scan(Path(env["MAINT_BACKUP_ROOT"])).latest(Tier.DAILY, verified=True)
    assert newest is not None

    page = httpx.get(served, timeout=10, trust_env=False)
    scraped_at = time.time()
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/plain")
    assert LEAK_CANARY not in page.text and "postgresql://" not in page.text
    got = samples(page.text)
    daily = (("tier", "daily"),)
    assert got[("maint_history_up", ())] == 1
    created = newest.created_at.timestamp()
    assert got[("maint_backup_newest_verified_timestamp_seconds", daily)] == created
    age = got[("maint_backup_newest_verified_age_seconds", daily)]
    assert 0 <= scraped_at - created - age < 10, (age, scraped_at - created)
    assert got[("maint_backup_newest_verified_size_bytes", daily)] == newest.size_bytes
    assert got[("maint_backup_max_age_seconds", daily)] == 26 * 3600
    assert ("maint_backup_newest_verified_age_seconds", (("tier", "weekly"),)) not in got

    stats = (("task", "db.stats"),)
    assert got[("maint_task_consecutive_failures", stats)] == 2
    assert got[("maint_task_runs_total", (("status", "failed"), ("task", "db.stats")))] == 2
    assert got[("maint_task_runs_total", (("status", "succeeded"), ("task", "db.stats")))] == 0
    assert ("maint_task_last_success_timestamp_seconds", stats) not in got
    backup = (("task", "backup.create"),)
    assert got[("maint_task_consecutive_failures", backup)] == 0
    assert abs(got[("maint_task_last_success_timestamp_seconds", backup)] - scraped_at) < 120
    assert got[("maint_task_last_success_duration_seconds", backup)] > 0

    # a success ends the streak, at the next scrape: the page is read at scrape time
    assert run_cli("run", "db.stats", env=env).returncode == 0
    again = samples(httpx.get(served, timeout=10, trust_env=False).text)
    assert again[("maint_task_consecutive_failures", stats)] == 0
    assert again[("maint_task_runs_total", (("status", "succeeded"), ("task", "db.stats")))] == 1


def test_dump_prints_the_page_once_and_a_history_that_does_not_answer_is_up_0(
    env: dict[str, str],
) -> None:
    res = run_cli("metrics", env=env)
    assert res.returncode == 0, res.stderr
    names = {f.name for f in text_string_to_metric_families(res.stdout)}
    assert {"maint_history_up", "maint_task_runs", "maint_drill_rto_objective_seconds"} <= names
    assert run_cli("metrics", "dump", env=env).stdout.startswith("# HELP")

    gone = env["MAINT_HISTORY_DSN"].rsplit("/", 1)[0] + "/maint_test_no_such_history"
    res = run_cli("metrics", "dump", env=env | {"MAINT_HISTORY_DSN": gone})
    assert res.returncode == 0, res.stderr
    got = samples(res.stdout)
    assert got[("maint_history_up", ())] == 0
    assert not any(name.startswith("maint_task_") for name, _ in got)
    assert LEAK_CANARY not in res.stdout + res.stderr


def test_a_scrape_is_bounded_when_the_history_hangs(env: dict[str, str], history_db: str) -> None:
    """A table locked by someone else: each query gives up at the statement timeout, the
    page says maint_history_up 0, in seconds."""
    from sqlalchemy import text

    from maintenance.history import store
    from maintenance.oncall.facts import bounded_dsn

    with store.reading(bounded_dsn(history_db, 2.5)) as s:
        assert s.execute(text("SHOW statement_timeout")).scalar() == "2500ms"
    with psycopg.connect(history_db) as holder:
        holder.execute("LOCK TABLE job_runs IN ACCESS EXCLUSIVE MODE")
        t0 = time.monotonic()
        res = run_cli("metrics", env=env | {"MAINT_METRICS_SCRAPE_TIMEOUT_S": "1"}, timeout=60)
        took = time.monotonic() - t0
    assert res.returncode == 0, res.stderr
    assert samples(res.stdout)[("maint_history_up", ())] == 0
    assert took < 20, took

"""The maint CLI as an operator uses it: exit codes, messages, history rows."""

from __future__ import annotations

import json

import psycopg
import pytest

from maintenance import locks
from tests.conftest import history_rows, run_cli

pytestmark = pytest.mark.integration


@pytest.fixture
def env(
    maint_env: dict[str, str], history_db: str, target_db: str, clean_history: str
) -> dict[str, str]:
    return maint_env


def test_run_succeeds_with_exit_0_and_one_cli_row(env: dict[str, str], target_db: str) -> None:
    res = run_cli("run", "db.stats", "--json", env=env)
    assert res.returncode == 0, res.stderr
    outcome = json.loads(res.stdout)
    (row,) = history_rows()
    assert (row["id"], row["trigger"], row["status"]) == (outcome["run_id"], "cli", "succeeded")
    with psycopg.connect(target_db) as conn:
        (n,) = conn.execute("SELECT count(*) FROM assignments").fetchone()  # type: ignore[misc]
    assert outcome["result"]["figures"]["counts"]["assignments"] == n


def test_a_failed_run_exits_1(env: dict[str, str]) -> None:
    res = run_cli(
        "run", "db.stats", env=env | {"MAINT_STATS_COUNTS": '{"x": "SELECT count(*) FROM nope"}'}
    )
    assert res.returncode == 1
    assert "count x" in res.stdout and "failed" in res.stdout
    assert history_rows()[0]["status"] == "failed"


def test_a_skipped_run_exits_3(env: dict[str, str], history_db: str) -> None:
    with locks.try_exclusive(history_db, "diag.hold") as got:
        assert got
        res = run_cli("run", "diag.hold", "-p", "seconds=30", env=env)
    assert res.returncode == 3, res.stdout + res.stderr
    (row,) = history_rows()
    assert row["status"] == "skipped" and "lock" in row["summary"]


def test_unknown_task_exits_2_naming_it_and_records_nothing(env: dict[str, str]) -> None:
    res = run_cli("run", "db.statz", env=env)
    assert res.returncode == 2
    assert "unknown task 'db.statz'" in res.stderr and "db.stats" in res.stderr
    assert history_rows() == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-p", "colour=red"], "unknown parameter 'colour'"),
        (["-p", "statement_timeout_s=-5"], "parameter 'statement_timeout_s'"),
        (["-p", "statement_timeout_s=soon"], "parameter 'statement_timeout_s'"),
    ],
)
def test_bad_parameters_exit_2_and_the_failed_row_says_why(
    env: dict[str, str], args: list[str], message: str
) -> None:
    res = run_cli("run", "db.stats", *args, env=env)
    assert res.returncode == 2
    assert message in res.stderr
    (row,) = history_rows()
    assert row["status"] == "failed" and row["error_type"] == "ParamError"
    assert message in row["error_message"]


def test_bad_parameters_with_enqueue_are_refused_before_sending(env: dict[str, str]) -> None:
    res = run_cli("run", "db.stats", "--enqueue", "-p", "colour=red", env=env)
    assert res.returncode == 2 and "unknown parameter 'colour'" in res.stderr
    (row,) = history_rows()
    assert row["trigger"] == "adhoc" and row["error_type"] == "ParamError"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "db.stats", "-p", "novalue"], "not key=value"),
        (["run", "db.stats", "--wait"], "--wait only makes sense with --enqueue"),
        (["history", "--since", "yesterday-ish"], "--since 'yesterday-ish'"),
        (["history", "--status", "exploded"], "--status 'exploded'"),
        (["history", "--task", "nope.task"], "unknown task 'nope.task'"),
        (["show", "987654"], "no run with id 987654"),
        (["history", "--limit", "0"], "--limit"),
    ],
)
def test_bad_cli_input_exits_2_with_a_message_naming_it(
    env: dict[str, str], args: list[str], message: str
) -> None:
    res = run_cli(*args, env=env)
    assert res.returncode == 2, res.stdout + res.stderr
    assert message in res.stderr


def test_a_bad_setting_exits_2_naming_it(env: dict[str, str]) -> None:
    res = run_cli("history", env=env | {"MAINT_TIMEZONE": "Nowhere/Land"})
    assert res.returncode == 2 and "MAINT_TIMEZONE" in res.stderr


def test_history_filters_and_json(env: dict[str, str]) -> None:
    assert run_cli("run", "db.stats", env=env).returncode == 0
    assert run_cli("run", "diag.hold", "-p", "seconds=0.1", env=env).returncode == 0
    assert run_cli("run", "db.stats", "-p", "bad=1", env=env).returncode == 2

    res = run_cli("history", "--json", env=env)
    rows = json.loads(res.stdout)
    assert [r["task"] for r in rows] == ["db.stats", "diag.hold", "db.stats"]  # newest first
    only = json.loads(
        run_cli("history", "--task", "db.stats", "--status", "failed", "--json", env=env).stdout
    )
    assert len(only) == 1 and only[0]["error_type"] == "ParamError"
    assert len(json.loads(run_cli("history", "--limit", "1", "--json", env=env).stdout)) == 1
    assert json.loads(run_cli("history", "--since", "1h", "--json", env=env).stdout) != []
    assert json.loads(run_cli("history", "--since", "2999-01-01", "--json", env=env).stdout) == []
    assert json.loads(run_cli("history", "--trigger", "beat", "--json", env=env).stdout) == []

    table = run_cli("history", env=env).stdout
    assert "diag.hold" in table and "America/New_York" in table  # times in the configured zone


def test_show_prints_the_checklist(env: dict[str, str]) -> None:
    outcome = json.loads(run_cli("run", "db.stats", "--json", env=env).stdout)
    res = run_cli("show", str(outcome["run_id"]), env=env)
    assert res.returncode == 0
    assert "count assignments" in res.stdout and "pass" in res.stdout


def test_status_exits_1_while_a_tasks_latest_run_failed(env: dict[str, str]) -> None:
    run_cli("run", "diag.hold", "-p", "seconds=0.1", env=env)
    assert run_cli("status", env=env).returncode == 0
    run_cli(
        "run", "db.stats", env=env | {"MAINT_STATS_COUNTS": '{"x": "SELECT count(*) FROM nope"}'}
    )
    res = run_cli("status", "--json", env=env)
    assert res.returncode == 1
    latest = {r["task"]: r["status"] for r in json.loads(res.stdout)["latest"]}
    assert latest == {"db.stats": "failed", "diag.hold": "succeeded"}


def test_tasks_lists_parameters_with_types_and_defaults(env: dict[str, str]) -> None:
    rows = {r["name"]: r for r in json.loads(run_cli("tasks", "--json", env=env).stdout)}
    assert {"db.stats", "diag.hold"} <= set(rows)
    (param,) = rows["db.stats"]["params"]
    assert (param["name"], param["type"], param["default"]) == ("statement_timeout_s", "float", 300)
    assert rows["diag.hold"]["exclusive"] is True

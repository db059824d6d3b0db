"""The maint CLI at a normal terminal: 80 and 120 columns, piped, and its JSON.

Every test runs the real ``maint`` subprocess against the session's real history
database, with rows written by real runs (``maint run``) and by the real recorder (for
long task names, long summaries and nested figures no shipped task produces yet).
"""

from __future__ import annotations

import inspect
import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from maintenance import runner
from maintenance.backup import inventory, manifest
from maintenance.errors import ParamError
from maintenance.history.recorder import RunRecorder
from maintenance.history.store import RunStart
from maintenance.results import Result, Trigger
from maintenance.taskspec import RunContext
from tests.conftest import LEAK_CANARY, ROOT, history_rows, run_cli, venv_bin

pytestmark = pytest.mark.integration

WIDTHS = [80, 120]
LONG_TASK = "window.monthly_deep_upkeep"
SHA = "9f2c4be1d0a7e65b3c8f1a2d4e6b8c0a1f3e5d7c9b2a4c6e8f0a1b3c5d7e9f2b"
DURATION = r"(\d+ms|\d+\.\ds|\d+m\d\ds|\d+h\d\dm)"
LONG_SUMMARY = (
    "monthly window finished: backups verified by restore, off-site copy read back, "
    "archive pruned, indexes rebuilt on assignments, blocks and schedules, vacuum full "
    "on swaps, health all green; the next window is the first Sunday of next month"
)


@pytest.fixture
def env(
    maint_env: dict[str, str], history_db: str, target_db: str, clean_history: str, tmp_path: Path
) -> dict[str, str]:
    return maint_env | {"MAINT_BACKUP_ROOT": str(tmp_path / "backups")}


def _record(settings, task: str, result: Result, trigger: Trigger = Trigger.BEAT) -> int:
    with RunRecorder(settings, RunStart(task, trigger, {"kind": "monthly"})) as rec:
        rec.complete(result)
    assert rec.run_id is not None
    return rec.run_id


def _nested_result() -> Result:
    result = Result(summary=LONG_SUMMARY)
    result.check("archive sha256 equals its sidecar", True, observed=SHA, expected=SHA)
    result.figures = {
        "backup": "monthly-20261101T020000Z",
        "sha256": SHA,
        "server_version_full": "PostgreSQL 15.20 (Debian 15.20-0+deb12u1) on x86_64-pc-linux-gnu",
        "counts": {"tables": {"public.assignments": 2545, "public.blocks": 730}, "total": 3275},
        "verification": {"level": "restore", "full_s": 0.024},
    }
    return result


@pytest.fixture
def rows(env: dict[str, str], settings) -> list[dict[str, object]]:
    """Real runs of every kind the tables must show: succeeded, failed (bad input and a
    failed check), a long task name with a long summary and nested figures."""
    assert run_cli("run", "db.stats", env=env).returncode == 0
    assert run_cli("run", "db.stats", "-p", "colour=red", env=env).returncode == 2
    failing = env | {"MAINT_STATS_COUNTS": '{"x": "SELECT count(*) FROM nope"}'}
    assert run_cli("run", "db.stats", env=failing).returncode == 1
    assert run_cli("run", "diag.hold", "-p", "seconds=0.1", env=env).returncode == 0
    _record(settings, LONG_TASK, _nested_result())
    listed = json.loads(run_cli("history", "--json", env=env).stdout)
    assert len(listed) == 5
    return listed


def _lines(text: str) -> list[str]:
    return text.rstrip("\n").splitlines()


def _assert_fits(text: str, width: int) -> None:
    wide = [line for line in _lines(text) if len(line) > width]
    assert wide == [], f"lines wider than {width}: {wide}"


def _assert_key_columns_whole(text: str, runs: list[dict[str, object]]) -> None:
    lines = _lines(text)
    for run in runs:
        pattern = re.compile(
            rf"^\s*{run['id']}\s+{re.escape(str(run['task']))}\s+{run['status']}\s+"
            rf"{run['trigger']}\s+\S.*?\s{DURATION}(\s|$)"
        )
        assert any(pattern.search(line) for line in lines), (run, text)


@pytest.mark.parametrize("width", WIDTHS)
def test_history_keeps_id_task_status_trigger_and_duration_whole(
    env: dict[str, str], rows: list[dict[str, object]], width: int
) -> None:
    res = run_cli("history", env=env | {"COLUMNS": str(width)})
    assert res.returncode == 0, res.stderr
    _assert_fits(res.stdout, width)
    _assert_key_columns_whole(res.stdout, rows)
    # the long summary gives way, and says so with an ellipsis
    (line,) = [ln for ln in _lines(res.stdout) if LONG_TASK in ln]
    assert line.endswith("…") and LONG_SUMMARY not in line
    assert "America/New_York" in res.stdout


@pytest.mark.parametrize("width", WIDTHS)
def test_status_keeps_its_key_columns_whole(
    env: dict[str, str], rows: list[dict[str, object]], width: int
) -> None:
    res = run_cli("status", env=env | {"COLUMNS": str(width)})
    _assert_fits(res.stdout, width)
    latest = json.loads(run_cli("status", "--json", env=env).stdout)["latest"]
    assert {r["task"] for r in latest} == {"db.stats", "diag.hold", LONG_TASK}
    _assert_key_columns_whole(res.stdout, latest)


def test_piped_output_honours_columns_and_has_a_default_without_it(
    env: dict[str, str], rows: list[dict[str, object]]
) -> None:
    res = run_cli("history", env=env | {"COLUMNS": "100"})
    (line,) = [ln for ln in _lines(res.stdout) if LONG_TASK in ln]
    assert len(line) == 100  # the summary takes the room COLUMNS gives, no more

    bare = {k: v for k, v in {**os.environ, **env}.items() if k not in ("COLUMNS", "LINES")}
    res = subprocess.run(
        [venv_bin("maint"), "history"],
        env=bare,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
    )
    assert res.returncode == 0, res.stderr
    (line,) = [ln for ln in _lines(res.stdout) if LONG_TASK in ln]
    assert len(line) == 120
    _assert_key_columns_whole(res.stdout, rows)


@pytest.mark.parametrize("width", WIDTHS)
def test_backups_list_never_cuts_an_id(env: dict[str, str], width: int) -> None:
    for tier in ("daily", "weekly"):
        res = run_cli("run", "backup.create", "-p", f"tier={tier}", "-p", "verify=full", env=env)
        assert res.returncode == 0, res.stdout + res.stderr
    backups = inventory.scan(Path(env["MAINT_BACKUP_ROOT"])).backups
    assert len(backups) == 2
    res = run_cli("backups", "list", env=env | {"COLUMNS": str(width)})
    assert res.returncode == 0, res.stderr
    _assert_fits(res.stdout, width)
    for b in backups:
        assert re.search(rf"^{re.escape(b.id)}\s.*verified:full", res.stdout, re.M), res.stdout


def test_retention_decisions_keep_the_id_and_the_whole_reason_at_80_columns(
    env: dict[str, str],
) -> None:
    res = run_cli("run", "backup.create", "-p", "tier=daily", "-p", "verify=full", env=env)
    assert res.returncode == 0, res.stdout + res.stderr
    (b,) = inventory.scan(Path(env["MAINT_BACKUP_ROOT"])).backups
    res = run_cli("backups", "retention", env=env | {"COLUMNS": "80"})
    assert res.returncode == 0, res.stdout + res.stderr
    _assert_fits(res.stdout, 80)
    assert re.search(rf"^{re.escape(b.id)}\s+daily\s+keep\s+verified:full$", res.stdout, re.M)
    (last,) = json.loads(run_cli("history", "--json", "-n", "1", env=env).stdout)
    (decision,) = last["result"]["figures"]["decisions"]
    assert decision["id"] == b.id and len(decision["reason"]) > 30
    assert decision["reason"] in " ".join(res.stdout.split())  # whole, if wrapped


def test_show_prints_figures_as_key_value_lines_and_a_sha256_on_one_line(
    env: dict[str, str], settings
) -> None:
    res = run_cli("run", "backup.create", "-p", "tier=daily", "--json", env=env)
    assert res.returncode == 0, res.stdout + res.stderr
    run_id = json.loads(res.stdout)["id"]
    (b,) = inventory.scan(Path(env["MAINT_BACKUP_ROOT"])).backups
    sha = manifest.read(b.manifest_path).sha256
    nested = _record(settings, LONG_TASK, _nested_result())

    for rid, digest in ((run_id, sha), (nested, SHA)):
        res = run_cli("show", str(rid), env=env | {"COLUMNS": "80"})
        assert res.returncode == 0, res.stderr
        text = res.stdout
        _assert_fits(text, 80)
        assert "figures {" not in text and '{"' not in text  # no raw JSON blob
        assert re.search(rf"^\s*(observed: )?{digest}$", text, re.M), text
        assert re.search(r"^figures:$", text, re.M)

    # nested figures: each level indented under its key, values aligned in their block
    lines = _lines(text)
    at = lines.index("  counts:")
    block = []
    for line in lines[at + 1 :]:
        if not line.startswith("    "):
            break
        block.append(line)
    assert "    tables:" in block
    assert any(re.fullmatch(r"    total:\s+3275", line) for line in block), block
    tables = [line for line in block if line.startswith("      ")]
    assert sorted(" ".join(line.split()) for line in tables) == [
        "public.assignments: 2545",
        "public.blocks: 730",
    ]
    assert len({line.index(line.split()[-1]) for line in tables}) == 1  # aligned values
    assert re.search(rf"^  sha256: +{SHA}$", text, re.M), text


def test_run_json_is_the_history_row_in_process_as_on_the_worker(env: dict[str, str]) -> None:
    ok = run_cli("run", "db.stats", "--json", env=env)
    bad = run_cli("run", "db.stats", "-p", "colour=red", "--json", env=env)
    assert (ok.returncode, bad.returncode) == (0, 2)
    by_id = {r["id"]: r for r in json.loads(run_cli("history", "--json", env=env).stdout)}
    for res, code in ((ok, 0), (bad, 2)):
        shown = json.loads(res.stdout)
        row = by_id[shown["id"]]
        assert {k: shown[k] for k in row} == row  # every field of the history row, as stored
        assert (shown["run_id"], shown["exit_code"], shown["attempts"]) == (row["id"], code, 1)
        assert shown["history_error"] is None
    assert json.loads(bad.stdout)["status"] == "failed"
    assert json.loads(bad.stdout)["error_type"] == "ParamError"
    assert json.loads(ok.stdout)["trigger"] == "cli"


def test_run_json_says_what_happened_when_the_history_cannot_be_written(
    env: dict[str, str],
) -> None:
    nowhere = env["MAINT_HISTORY_DSN"].rsplit("/", 1)[0] + "/maint_test_no_such_history"
    res = run_cli("run", "db.stats", "--json", env=env | {"MAINT_HISTORY_DSN": nowhere})
    assert res.returncode == 0, res.stdout + res.stderr  # the run itself succeeded
    shown = json.loads(res.stdout)
    assert (shown["id"], shown["run_id"], shown["status"], shown["exit_code"]) == (
        None,
        None,
        "succeeded",
        0,
    )
    assert "unavailable" in shown["history_error"] and "not fully recorded" in res.stderr
    assert shown["result"]["figures"]["counts"]["assignments"] > 0
    assert LEAK_CANARY not in res.stdout + res.stderr  # nor the DSN's password


def test_show_json_gives_the_run_and_its_steps(env: dict[str, str], settings) -> None:
    with RunRecorder(settings, RunStart("restore.run", Trigger.CLI, {"backup": "x"})) as rec:
        ctx = RunContext(
            settings,
            rec.run_id,
            Trigger.CLI,
            "restore.run",
            step_recorder=runner.step_recorder(settings, rec.start, rec.run_id),
        )
        with ctx.step("forensic dump", database="residency"):
            pass
        with ctx.step("load", into="residency_new") as step:
            step.complete(Result(summary="loaded 3336 rows"))
        rec.complete(Result(summary="restored"))
    res = run_cli("show", str(rec.run_id), "--json", env=env)
    assert res.returncode == 0, res.stderr
    shown = json.loads(res.stdout)
    assert (shown["id"], shown["summary"]) == (rec.run_id, "restored")
    assert [(s["step"], s["parent_run_id"]) for s in shown["steps"]] == [
        ("forensic dump", rec.run_id),
        ("load", rec.run_id),
    ]
    assert shown["steps"][1]["summary"] == "loaded 3336 rows"
    text = run_cli("show", str(rec.run_id), env=env | {"COLUMNS": "80"}).stdout
    assert re.search(r"^\s*\d+\s+forensic dump\s+succeeded\s+cli\s", text, re.M), text


def test_status_judges_a_task_by_its_last_real_run(env: dict[str, str], settings) -> None:
    failing = env | {"MAINT_STATS_COUNTS": '{"x": "SELECT count(*) FROM nope"}'}
    assert run_cli("run", "db.stats", env=failing).returncode == 1
    assert run_cli("run", "db.stats", "-p", "colour=red", env=env).returncode == 2
    res = run_cli("status", "--json", env=env)
    assert res.returncode == 1  # the typo does not hide the failure
    shown = json.loads(res.stdout)
    real, typo = (r["id"] for r in history_rows())
    assert [(r["id"], r["status"]) for r in shown["latest"]] == [(real, "failed")]
    assert [(r["id"], r["error_type"]) for r in shown["rejected"]] == [(typo, "ParamError")]

    assert run_cli("run", "db.stats", env=env).returncode == 0
    assert run_cli("run", "db.stats", "-p", "statement_timeout_s=soon", env=env).returncode == 2
    res = run_cli("status", env=env | {"COLUMNS": "80"})
    assert res.returncode == 0, res.stdout  # nor a success: exit code follows the real run
    last_ok, last_typo = (r["id"] for r in history_rows()[-2:])
    latest, _, refused = res.stdout.partition("input refused")
    assert re.search(rf"^\s*{last_ok}\s+db\.stats\s+succeeded\s", latest, re.M), res.stdout
    assert re.search(rf"^\s*{last_typo}\s+db\.stats\s+failed\s", refused, re.M), res.stdout


def test_status_counts_bad_input_from_the_schedule_as_a_real_failure(
    env: dict[str, str], settings
) -> None:
    """A beat entry with a bad parameter fails the same way every night: not a typo."""
    assert run_cli("run", "db.stats", env=env).returncode == 0
    start = RunStart("db.stats", Trigger.BEAT, {"statement_timeout_s": "soon"})
    with pytest.raises(ParamError), RunRecorder(settings, start):
        raise ParamError("db.stats: parameter 'statement_timeout_s': not a number")
    res = run_cli("status", "--json", env=env)
    assert res.returncode == 1
    shown = json.loads(res.stdout)
    assert [(r["trigger"], r["error_type"]) for r in shown["latest"]] == [("beat", "ParamError")]
    assert shown["rejected"] == []


def test_help_reads_well_at_80_columns(env: dict[str, str]) -> None:
    from maintenance.cli import app

    res = run_cli("--help", env=env | {"COLUMNS": "80"})
    assert res.returncode == 0, res.stderr
    _assert_fits(res.stdout, 80)
    flowing = " ".join(res.stdout.split())
    for info in app.registered_commands:
        first = inspect.cleandoc(info.callback.__doc__ or "").split("\n\n")[0]  # type: ignore[union-attr]
        assert " ".join(first.split()) in flowing, first
    assert not re.search(r"\w\.\.\.$", res.stdout, re.M)  # nothing cut short
    for args in (["run", "--help"], ["backups", "retention", "--help"], ["show", "--help"]):
        res = run_cli(*args, env=env | {"COLUMNS": "80"})
        assert res.returncode == 0, res.stderr
        _assert_fits(res.stdout, 80)
        assert "<bool>" not in res.stdout and "<list[" not in res.stdout, res.stdout
    assert re.search(r"--json +Print the run and its steps as JSON\.", res.stdout)


def test_tasks_show_types_as_an_operator_types_them(env: dict[str, str]) -> None:
    res = run_cli("tasks", env=env | {"COLUMNS": "80"})
    assert res.returncode == 0, res.stderr
    _assert_fits(res.stdout, 80)
    text = res.stdout
    for repr_ in ("Optional[", "Literal[", "<Tier.", "maintenance.", "| None"):
        assert repr_ not in text
    lines = [line.strip() for line in _lines(text)]
    assert "tier: daily|weekly|monthly = daily" in lines
    assert "verify: none|checksum|full|restore (optional)" in lines
    assert "level: checksum|full|restore = full" in lines
    assert "backup: str (required)" in lines
    assert "dry_run: bool = true" in lines
    rows = {r["name"]: r for r in json.loads(run_cli("tasks", "--json", env=env).stdout)}
    (_, tier, _) = rows["backup.verify"]["params"]
    assert (tier["type"], tier["default"]) == ("daily|weekly|monthly", None)
    assert rows["backup.create"]["params"][0]["default"] == "daily"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "db.stats[/x]"], "unknown task 'db.stats[/x]'"),
        (["run", "db.stats", "-p", "statement_timeout_s=[/x]"], "(got '[/x]')"),
        (["run", "db.stats", "-p", "[bold]=1"], "unknown parameter '[bold]'"),
    ],
)
def test_input_that_looks_like_markup_is_bad_input_not_a_traceback(
    env: dict[str, str], args: list[str], message: str
) -> None:
    res = run_cli(*args, env=env | {"COLUMNS": "200"})
    assert res.returncode == 2, res.stdout + res.stderr
    assert "Traceback" not in res.stderr and message in res.stderr

"""Redaction as the job history stores it: whole secret names masked, ordinary keys that
merely contain a secret word (``passed``, ``bypass`` ...) stored as they are. Through the
real runner and recorder into the real history database."""

from __future__ import annotations

from pathlib import Path

import pytest

from maintenance import catalog, runner
from maintenance.config import Settings
from maintenance.results import Result, RunStatus, Trigger
from maintenance.taskspec import Params, RunContext, TaskSpec
from tests.conftest import LEAK_CANARY, history_rows

pytestmark = pytest.mark.integration


class _Params(Params):
    bypass_cache: bool = False
    passenger_count: int = 0
    api_token: str = ""


def _figures(ctx: RunContext, params: _Params) -> Result:
    r = Result(summary="figures with ordinary and secret keys")
    r.check("fine", True)
    r.figures = {
        "passed": True,
        "checks_passed": 7,
        "compass": "north",
        "author": "on-call",
        "tokens_used": 12,
        "db_password": "hunter2-x",
        "target_dsn": f"postgresql://u:{LEAK_CANARY}@h/db",
    }
    return r


SPEC = TaskSpec(name="test.figures", func=_figures, params=_Params, description="figures")


def test_ordinary_keys_read_back_unmasked_and_secret_ones_masked(
    settings: Settings, clean_history: str
) -> None:
    out = runner.execute(
        SPEC,
        {"bypass_cache": True, "passenger_count": 3, "api_token": "tok-123456"},
        settings=settings,
        trigger=Trigger.CLI,
    )
    assert out.status is RunStatus.SUCCEEDED, out.error_message
    (row,) = history_rows()
    assert row["params"] == {"bypass_cache": True, "passenger_count": 3, "api_token": "***"}
    figures = row["result"]["figures"]
    assert figures["passed"] is True
    assert figures["checks_passed"] == 7
    assert figures["compass"] == "north"
    assert figures["author"] == "on-call"
    assert figures["tokens_used"] == 12
    assert figures["db_password"] == "***" and figures["target_dsn"] == "***"
    assert LEAK_CANARY not in str(row) and "hunter2-x" not in str(row)
    assert "tok-123456" not in str(row)


def test_a_drills_passed_figure_reads_back_from_job_runs(
    settings: Settings, target_db: str, tmp_path: Path, clean_history: str
) -> None:
    """The issue's case: restore.drill's ``passed`` verdict was stored as "***"."""
    s = Settings.model_validate(
        settings.model_dump()
        | {
            "backup_root": tmp_path / "backups",
            "backup_min_bytes": {"daily": 1, "weekly": 1, "monthly": 1},
            "backup_min_free_bytes": 0,
        }
    )
    made = runner.execute(
        catalog.get("backup.create"), {"tier": "daily"}, settings=s, trigger=Trigger.CLI
    )
    assert made.status is RunStatus.SUCCEEDED, made.error_message
    drill = runner.execute(
        catalog.get("restore.drill"), {"purpose": "adhoc"}, settings=s, trigger=Trigger.CLI
    )
    assert drill.status is RunStatus.SUCCEEDED, drill.error_message
    (row,) = history_rows("task = 'restore.drill' AND step IS NULL")
    assert row["result"]["figures"]["passed"] is True

"""The calendar's archive run prunes: the monthly window's ``monthly-archive`` step, run
with exactly its kwargs through the real runner (as ``window.run`` runs it), deletes archives past the monthly retention age and
never the newest MAINT_RETENTION_MIN_VERIFIED. (It used to run ``prune=dry-run``, the
task's default, so archives grew without bound.)"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

import beat_schedule
from maintenance import catalog, clock, runner
from maintenance.backup import layout
from maintenance.backup.archive import tar as archive
from maintenance.backup.layout import Tier
from maintenance.config import Settings
from maintenance.results import RunStatus, Trigger
from tests.fakes import fabricate_backup

pytestmark = pytest.mark.integration


def test_the_scheduled_archive_run_prunes_old_archives_down_to_the_floor(
    settings: Settings, tmp_path: Path, clean_history: str
) -> None:
    root = tmp_path / "backups"
    s = Settings.model_validate(
        settings.model_dump()
        | {
            "backup_root": root,
            "retention_min_verified": 3,
            "retention_days": {"daily": 7, "weekly": 56, "monthly": 365},
            "backup_min_free_bytes": 0,
        }
    )
    spec = catalog.get("backup.archive")
    now = clock.now()
    old = [layout.make_id(Tier.MONTHLY, now - timedelta(days=d)) for d in (400, 390, 380, 370)]
    for backup_id in old:  # real archives, made by the task itself
        fabricate_backup(root, backup_id, 50_000)
        made = runner.execute(
            spec, {"backup": backup_id, "prune": "no"}, settings=s, trigger=Trigger.CLI
        )
        assert made.status is RunStatus.SUCCEEDED, made.error_message
    newest = layout.make_id(Tier.MONTHLY, now - timedelta(days=1))
    fabricate_backup(root, newest, 50_000)
    folder = root / archive.ARCHIVE_DIR
    assert len(list(folder.glob("*.tar"))) == 4

    entry = next(e for e in beat_schedule.steps(s) if e.name == "monthly-archive")
    assert entry.task == "backup.archive"
    out = runner.execute(spec, dict(entry.kwargs), settings=s, trigger=Trigger.CLI)

    assert out.status is RunStatus.SUCCEEDED, out.error_message
    left = sorted(p.name.removesuffix(".tar") for p in folder.glob("*.tar"))
    # all four old ones are past 365 days; the floor of 3 keeps the newest three archives
    assert left == sorted([newest, old[2], old[3]])
    assert out.result is not None
    retention = out.result["figures"]["archive_retention"]
    assert retention["applied"] is True
    assert sorted(retention["deleted"]) == sorted(old[:2])

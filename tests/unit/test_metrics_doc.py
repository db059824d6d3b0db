"""docs/metrics.md and the collector agree: every metric the collector exports is in the
document's table, every row of the table is exported, and the alert rules parse and name
only exported metrics. (The rules were also checked with promtool 2.42: `check rules`
and `test rules`, on a synthetic series for each of the common cases.)"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import yaml
from prometheus_client.core import CounterMetricFamily

from maintenance.config import load_settings
from maintenance.metrics.collector import families
from maintenance.oncall.model import (
    Alert,
    Disk,
    Drill,
    Health,
    Snapshot,
    TaskFigures,
    VerifiedBackup,
)
from tests.conftest import ROOT

DOC = (ROOT / "docs" / "metrics.md").read_text()
NOW = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)


def full() -> Snapshot:
    """A snapshot with every fact present, so that every family has a sample."""
    created = NOW - timedelta(hours=4)
    return Snapshot(
        now=NOW,
        tasks={
            "backup.create": TaskFigures(
                "backup.create", {"succeeded": 3, "running": 1}, NOW, 12.5, 12.5, 0
            )
        },
        backups={
            "daily": VerifiedBackup(
                "daily-20261206T230000Z", "daily", created, "full", created, 1, 4096
            )
        },
        drill=Drill(2, "succeeded", NOW, "daily-20261206T230000Z", 30, 14400, 3600, 93600, "", None),
        alerts=[Alert("health:api", "fail", NOW, NOW, None, "down")],
        health=Health(
            3, NOW, "warn", {"api": "fail", "host": "pass"}, {}, 0.9,
            [Disk("backups", "/backups", 1 << 30, 0.5, "pass")],
        ),
    )  # fmt: skip


def exported() -> dict[str, str]:
    """Sample name -> family name, of everything a full snapshot exports."""
    out = {"maint_history_up": "maint_history_up"}
    out["maint_scrape_duration_seconds"] = "maint_scrape_duration_seconds"
    for family in families(full(), load_settings()):
        assert family.samples, f"{family.name} has no sample in a full snapshot"
        suffix = "_total" if isinstance(family, CounterMetricFamily) else ""
        out[family.name + suffix] = family.name
    return out


def test_every_exported_metric_is_documented_and_every_documented_one_exported() -> None:
    table = set(re.findall(r"^\| `(maint_[a-z_]+)`(?:, `(maint_[a-z_]+)`)?", DOC, re.M))
    documented = {name for pair in table for name in pair if name}
    assert documented == set(exported())


def test_the_alert_rules_parse_and_name_only_exported_metrics() -> None:
    (block,) = re.findall(r"```yaml\n(groups:.*?)```", DOC, re.S)
    rules = yaml.safe_load(block)["groups"][0]["rules"]
    names = {r["alert"] for r in rules}
    assert {
        "MaintNoVerifiedBackup26h",
        "MaintDrillObjectiveMissed",
        "MaintTaskFailingRepeatedly",
    } <= names
    known = set(exported())
    for rule in rules:
        used = set(re.findall(r"\bmaint_[a-z_]+", rule["expr"]))
        assert used and used <= known, (rule["alert"], used - known)
    by_name = {r["alert"]: r["expr"] for r in rules}
    assert "26 * 3600" in by_name["MaintNoVerifiedBackup26h"]
    assert "maint_task_consecutive_failures >= 2" in by_name["MaintTaskFailingRepeatedly"]

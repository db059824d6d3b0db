"""The monthly report's pure parts: the month's span, the sections built from facts,
"not found" where the history holds nothing, the HTML escaping everything."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from maintenance.errors import BadInput
from maintenance.report import build, charts, html
from maintenance.report import common as report_common
from maintenance.report import month as report_month
from maintenance.report import operations as report_operations
from maintenance.report import service as report_service
from maintenance.report.facts import Facts

NY = ZoneInfo("America/New_York")
T0 = datetime(2026, 11, 1, 4, 0, tzinfo=UTC)  # 2026-11-01 00:00 EDT


def run(id_: int, task: str, status: str, at: datetime, **more: Any) -> dict[str, Any]:
    return {
        "id": id_,
        "task": task,
        "trigger": more.pop("trigger", "beat"),
        "window_run_id": more.pop("window_run_id", None),
        "params": more.pop("params", {}),
        "status": status,
        "started_at": at,
        "finished_at": at + timedelta(seconds=more.get("duration_s") or 1),
        "duration_s": more.pop("duration_s", 1.0),
        "summary": more.pop("summary", f"{task} {status}"),
        "result": more.pop("result", None),
        "error_type": more.pop("error_type", None),
        "error_message": more.pop("error_message", None),
    }


def ctx(month: str = "2026-11") -> report_common.Context:
    return report_common.Context(
        month=month,
        zone="America/New_York",
        generated_at=datetime(2026, 12, 6, 11, 0, tzinfo=UTC),
        run_id=7,
        rto_objective_s=3600,
        rpo_objective_s=93600,
    )


def sample(at: datetime, **components: str) -> dict[str, Any]:
    return {
        "taken_at": at,
        "status": "pass",
        "checks": {f"{c}:probe": [{"status": st}] for c, st in components.items()},
    }


def test_the_month_is_local_midnight_to_local_midnight_across_dst() -> None:
    start, end = report_month.span("2026-11", NY)
    assert start == datetime(2026, 11, 1, 4, 0, tzinfo=UTC)  # EDT
    assert end == datetime(2026, 12, 1, 5, 0, tzinfo=UTC)  # EST: 30 days and 1 hour
    assert report_month.span("2026-12", NY)[1] == datetime(2027, 1, 1, 5, 0, tzinfo=UTC)
    assert report_month.previous_month(datetime(2026, 12, 1, 4, 30, tzinfo=UTC), NY) == "2026-10"
    assert report_month.previous_month(datetime(2026, 12, 1, 5, 30, tzinfo=UTC), NY) == "2026-11"
    assert report_month.previous_month(datetime(2027, 1, 15, tzinfo=UTC), NY) == "2026-12"


@pytest.mark.parametrize("bad", ["2026-13", "2026-1", "26-11", "november", ""])
def test_a_bad_month_is_bad_input(bad: str) -> None:
    with pytest.raises(BadInput, match="YYYY-MM"):
        report_month.parse_month(bad)


def test_an_empty_month_says_not_found_in_every_section() -> None:
    start, end = report_month.span("2026-11", NY)
    data = build.build(Facts(start=start, end=end), ctx())
    for key in (
        "windows",
        "failures",
        "backups",
        "drills",
        "health",
        "alerts",
        "upkeep",
        "security",
        "capacity",
    ):
        assert data[key]["missing"].startswith("not found:"), key
    assert "no capacity forecast found" in data["capacity"]["missing"]
    assert "no restore drill recorded in 2026-11" in data["drills"]["missing"]
    page = html.render(data, charts.all_charts(data))
    assert page.count("not found") >= 10
    assert "<svg" not in page  # nothing to draw, nothing invented
    assert data["headline"]["lowest_uptime"] is None


def test_failures_name_what_was_done_and_skip_a_persons_typo() -> None:
    facts = Facts(
        start=T0,
        end=T0 + timedelta(days=30),
        runs=[
            run(
                1,
                "backup.create",
                "failed",
                T0 + timedelta(days=3),
                error_type="DumpFailed",
                error_message="disk full",
            ),
            run(2, "logs.cleanup", "lost", T0 + timedelta(days=4)),
            run(
                3,
                "backup.create",
                "failed",
                T0 + timedelta(days=5),
                trigger="cli",
                error_type="ParamError",
            ),
            run(4, "db.vacuum_analyze", "missed", T0 + timedelta(days=6)),
        ],
        successes=[
            {
                "task": "backup.create",
                "id": 9,
                "started_at": T0 + timedelta(days=2),
            },  # before: not a fix
            {"task": "backup.create", "id": 10, "started_at": T0 + timedelta(days=4)},
            {"task": "db.vacuum_analyze", "id": 11, "started_at": T0 + timedelta(days=40)},
        ],
        counts={
            "backup.create": {"failed": 2, "succeeded": 2},
            "health.check": {"failed": 5, "succeeded": 100},
        },
    )
    f = report_operations.failures(facts, "2026-11")
    assert [i["run_id"] for i in f["items"]] == [1, 2, 4]
    assert f["items"][0]["resolved_by"] == {"run_id": 10, "at": "2026-11-05T04:00:00Z"}
    assert f["items"][0]["error_message"] == "disk full"
    assert f["items"][1]["resolved_by"] is None
    assert f["items"][1]["action"] == "no later success of this task recorded"
    assert f["items"][2]["resolved_by"]["run_id"] == 11
    assert f["unresolved"] == 1
    assert f["counted_only"] == {"health.check": 5}
    assert report_operations.runs(facts)["total"] == 109


def test_backups_drills_and_objectives() -> None:
    at = T0 + timedelta(days=1)
    facts = Facts(
        start=T0,
        end=T0 + timedelta(days=30),
        runs=[
            run(
                1,
                "backup.create",
                "succeeded",
                at,
                params={"tier": "daily"},
                duration_s=12.5,
                result={
                    "figures": {
                        "backup": "daily-x",
                        "size_bytes": 1000,
                        "dump_s": 9.0,
                        "verification": {"level": "full"},
                    }
                },
            ),
            run(
                2,
                "backup.create",
                "succeeded",
                at + timedelta(days=1),
                params={"tier": "weekly"},
                result={"figures": {"backup": "weekly-y", "size_bytes": 3000}},
            ),
            run(3, "backup.create", "failed", at + timedelta(days=2), error_type="DumpFailed"),
            run(
                4,
                "restore.drill",
                "succeeded",
                at,
                result={
                    "figures": {
                        "rto_s": 600.0,
                        "rpo_s": 7200.0,
                        "passed": True,
                        "rto_objective_s": 3600,
                        "rpo_objective_s": 93600,
                    }
                },
            ),
            run(
                5,
                "restore.drill",
                "failed",
                at,
                result={"figures": {"rto_s": 5000.0, "rpo_s": 7200.0, "passed": False}},
            ),
        ],
    )
    b = report_operations.backups(facts, "2026-11")
    assert (b["made"], b["failed"], b["bytes"]) == (2, 1, 4000)
    assert b["by_tier"] == {
        "daily": {"count": 1, "bytes": 1000, "largest": 1000},
        "weekly": {"count": 1, "bytes": 3000, "largest": 3000},
    }
    assert b["items"][0]["verification"] == "full" and b["items"][0]["verified"] is True
    assert b["items"][1]["verified"] is None  # no verification recorded: not claimed
    d = report_operations.drills(facts, ctx())
    assert [(x["rto_met"], x["rpo_met"]) for x in d["items"]] == [(True, True), (False, True)]
    assert d["items"][1]["rto_objective_s"] == 3600  # from the settings when the run lacks it
    assert d["objective_missed"] == 1


def test_uptime_and_incidents_from_the_samples() -> None:
    step = timedelta(minutes=5)
    states = ["pass", "fail", "fail", "warn", "pass", "pass", "warn"]
    facts = Facts(
        start=T0,
        end=T0 + timedelta(days=30),
        samples=[sample(T0 + i * step, api=st, database="pass") for i, st in enumerate(states)],
    )
    h = report_service.health(facts, "2026-11", (facts.end - facts.start).total_seconds())
    api = next(c for c in h["components"] if c["component"] == "api")
    assert (api["pass"], api["warn"], api["fail"]) == (3, 2, 2)
    assert api["uptime_pct"] == round(100 * 5 / 7, 3)
    assert api["healthy_pct"] == round(100 * 3 / 7, 3)
    first, second = h["incidents"]
    assert (first["worst"], first["duration_s"], first["samples"]) == ("fail", 900.0, 3)
    assert second["end"] is None and second["open_at_month_end"] is True
    assert h["expected_samples"] == 30 * 24 * 12
    db = next(c for c in h["components"] if c["component"] == "database")
    assert db["uptime_pct"] == 100.0


def test_capacity_reads_the_documented_shape() -> None:
    cap = run(
        8,
        "capacity.forecast",
        "succeeded",
        T0,
        summary="6 series: 1 crosses its limit within 90 days",
        result={
            "figures": {
                "format_version": 1,
                "warn_days": 90,
                "series": [
                    {
                        "key": "backup_tier:daily",
                        "label": "backups, daily tier",
                        "unit": "bytes",
                        "current": 10,
                        "limit": 50,
                        "slope_per_day": 1.0,
                        "crossing_at": "2027-01-18T00:00:00Z",
                        "days_left": 41.9,
                        "verdict": "warn",
                        "status": "warn",
                        "note": "crosses 50 B on 2027-01-18",
                    },
                ],
            }
        },
    )
    c = report_service.capacity(Facts(start=T0, end=T0, capacity=cap))
    assert c["missing"] is None and c["run_id"] == 8
    assert c["series"][0]["note"] == "crosses 50 B on 2027-01-18"


def test_latest_sign_off_per_role_and_all_of_them_kept() -> None:
    def a(id_: int, role: str, by: str, minutes: int) -> dict[str, Any]:
        return {
            "id": id_,
            "role": role,
            "by": by,
            "at": T0 + timedelta(minutes=minutes),
            "note": None,
            "report_sha256": "ab",
        }

    got = build.latest_approvals(
        [a(1, "approved", "Ann", 1), a(2, "verified", "Bob", 2), a(3, "approved", "Cy", 3)]
    )
    assert got["approved"]["by"] == "Cy" and got["verified"]["by"] == "Bob"
    assert [x["by"] for x in got["history"]] == ["Ann", "Bob", "Cy"]


def test_the_html_escapes_what_the_history_says() -> None:
    evil = '<script>alert("x")</script>'
    start, end = report_month.span("2026-11", NY)
    facts = Facts(
        start=start,
        end=end,
        windows=[
            {
                "id": 1,
                "kind": "weekly",
                "local_date": date(2026, 11, 8),
                "trigger": "beat",
                "status": "succeeded",
                "started_at": start + timedelta(days=7),
                "finished_at": start + timedelta(days=7, hours=1),
                "reason": evil,
                "expected_down": [],
            }
        ],
        runs=[
            run(
                2,
                "db.report",
                "failed",
                start + timedelta(days=7),
                window_run_id=1,
                error_message=evil,
                summary=evil,
            )
        ],
    )
    page = html.render(build.build(facts, ctx()), {})
    assert "<script" not in page
    assert "&lt;script&gt;" in page
    assert "default-src 'none'" in page  # nothing can be fetched or run


def test_charts_are_inline_svg_of_their_own() -> None:
    start, end = report_month.span("2026-11", NY)
    facts = Facts(
        start=start,
        end=end,
        runs=[
            run(
                i,
                "backup.create",
                "succeeded",
                start + timedelta(days=i),
                params={"tier": "daily"},
                result={"figures": {"size_bytes": 1_000_000 * i}},
            )
            for i in range(1, 4)
        ],
        samples=[sample(start + timedelta(hours=i), api="pass") for i in range(3)],
    )
    got = charts.all_charts(build.build(facts, ctx()))
    assert got["drill_rto"] is None
    for name in ("backup_size", "backup_duration", "uptime"):
        svg = got[name]
        assert svg is not None and svg.startswith("<svg ") and "<?xml" not in svg
        assert 'href="http' not in svg and "<metadata" not in svg  # nothing links out


def test_names_from_the_history_cannot_break_a_chart() -> None:
    """A component named with TeX or markup draws as text; a tier nobody configured is
    "other", never the typed value."""
    start, end = report_month.span("2026-11", NY)
    facts = Facts(
        start=start,
        end=end,
        runs=[
            run(
                1,
                "backup.create",
                "succeeded",
                start + timedelta(days=1),
                params={"tier": "$\\frac{<script>"},
                result={"figures": {"size_bytes": 5}},
            ),
        ],
        samples=[sample(start, **{"$x^<b>": "fail", "api": "pass"})],
    )
    got = charts.all_charts(build.build(facts, ctx()))
    assert got["backup_size"] is not None and got["uptime"] is not None
    for svg in (got["backup_size"], got["uptime"]):
        assert "<script" not in svg and "<b>" not in svg


def test_samples_pruned_before_the_report_was_built_are_named() -> None:
    start, end = report_month.span("2026-11", NY)
    facts = Facts(start=start, end=end, samples=[sample(end - timedelta(days=2), api="pass")])
    first_sunday = datetime(2026, 12, 6, 11, 0, tzinfo=UTC)
    kept_30 = report_common.Context(
        "2026-11", "America/New_York", first_sunday, sample_retention_days=30
    )
    note = build.build(facts, kept_30)["health"]["pruned"]
    assert note == (
        "not found: samples before 2026-11-06T11:00:00Z were pruned "
        "(MAINT_HEALTH_SAMPLE_RETENTION_DAYS=30); the health figures cover the rest of the month only"
    )
    kept_40 = report_common.Context(
        "2026-11", "America/New_York", first_sunday, sample_retention_days=40
    )
    assert build.build(facts, kept_40)["health"]["pruned"] is None
    assert "were pruned" in html.render(build.build(facts, kept_30), {})
    # samples from before the cutoff are there: nothing was pruned, nothing is said
    kept = Facts(start=start, end=end, samples=[sample(start, api="pass")])
    assert build.build(kept, kept_30)["health"]["pruned"] is None

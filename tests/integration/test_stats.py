"""db.stats reports exact counts, equal to SELECT count(*), as a checklist."""

from __future__ import annotations

import psycopg
import pytest

from maintenance import catalog, runner
from maintenance.config import Settings
from maintenance.results import RunStatus, Trigger
from tests.conftest import history_rows

pytestmark = pytest.mark.integration


def test_counts_equal_select_count(settings: Settings, target_db: str, clean_history: str) -> None:
    out = runner.execute(catalog.get("db.stats"), {}, settings=settings, trigger=Trigger.CLI)
    assert out.status is RunStatus.SUCCEEDED, out.summary
    figures = out.result["figures"]  # type: ignore[index]
    with psycopg.connect(target_db) as conn:
        for name, sql in settings.stats_counts.items():
            (expected,) = conn.execute(sql).fetchone()  # type: ignore[misc]
            assert figures["counts"][name] == expected, name
        (size,) = conn.execute("SELECT pg_database_size(current_database())").fetchone()  # type: ignore[misc]
    assert (
        figures["counts"]["residents"] + figures["counts"]["faculty"]
        == figures["counts"]["persons"]
    )
    assert figures["counts"]["assignments"] > 0
    with psycopg.connect(target_db) as conn:
        (num,) = conn.execute("SHOW server_version_num").fetchone()  # type: ignore[misc]
    assert figures["server_version"].startswith(f"{int(num) // 10000}.")
    assert abs(figures["database_size_bytes"] - size) < 0.2 * size
    assert {"public.persons", "public.assignments"} <= set(figures["tables"])
    (row,) = history_rows()
    assert row["status"] == "succeeded" and row["result"]["figures"]["counts"] == figures["counts"]
    names = [c["name"] for c in row["result"]["checks"]]
    assert names == ["database answers"] + [f"count {n}" for n in settings.stats_counts]


def test_a_count_that_cannot_be_taken_fails_its_check_not_the_report(
    settings: Settings, target_db: str, clean_history: str
) -> None:
    broken = Settings.model_validate(
        settings.model_dump()
        | {
            "stats_counts": {
                "persons": "SELECT count(*) FROM persons",
                "ghosts": "SELECT count(*) FROM ghosts",
            }
        }
    )
    out = runner.execute(catalog.get("db.stats"), {}, settings=broken, trigger=Trigger.CLI)
    assert out.status is RunStatus.FAILED
    checks = {c["name"]: c for c in out.result["checks"]}  # type: ignore[index]
    assert checks["count persons"]["status"] == "pass"
    assert checks["count ghosts"]["status"] == "fail"
    assert "ghosts" in checks["count ghosts"]["observed"]
    assert "count ghosts" in (out.error_message or "")


def test_count_queries_run_read_only(
    settings: Settings, target_db: str, clean_history: str
) -> None:
    sneaky = Settings.model_validate(
        settings.model_dump()
        | {
            "stats_counts": {
                "x": "WITH d AS (DELETE FROM swaps RETURNING 1) SELECT count(*) FROM d"
            }
        }
    )
    with psycopg.connect(target_db) as conn:
        (before,) = conn.execute("SELECT count(*) FROM swaps").fetchone()  # type: ignore[misc]
    out = runner.execute(catalog.get("db.stats"), {}, settings=sneaky, trigger=Trigger.CLI)
    assert out.status is RunStatus.FAILED
    assert "read-only" in out.result["checks"][1]["observed"]  # type: ignore[index]
    with psycopg.connect(target_db) as conn:
        (after,) = conn.execute("SELECT count(*) FROM swaps").fetchone()  # type: ignore[misc]
    assert after == before > 0

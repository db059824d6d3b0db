"""The health check's judgement, a pure function of (probe outcomes, policy, now), and
the run's checklist made from the document."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from maintenance.cache.samples import Sample
from maintenance.health import component_status
from maintenance.health.assess import HealthPolicy, Ids, as_ratio, assess
from maintenance.health.check import to_result
from maintenance.health.facts import (
    BackupFacts,
    CacheFacts,
    DatabaseFacts,
    DiskFacts,
    FailedRun,
    HistoryFacts,
    HostFacts,
    HttpFacts,
)
from maintenance.health.parallel import Outcome
from maintenance.results import RunStatus

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
P = HealthPolicy()
IDS = Ids(api="http://api", database="db:5432/x", cache="localhost:6379/1", broker="b", host="h")
GIB = 1024**3


def sample(
    hits: int = 0, misses: int = 0, evicted: int = 0, at: datetime = NOW, run: str = "r1"
) -> Sample:
    return Sample(at, run, 3600, hits, misses, evicted, 0)


def healthy() -> dict[str, Outcome]:
    return {
        "api": Outcome("api", HttpFacts("http://api/api/health", 200, 12.0, {"status": "healthy"})),
        "api_extended": Outcome(
            "api_extended",
            HttpFacts(
                "http://api/api/health/extended",
                200,
                15.0,
                {
                    "status": "healthy",
                    "error_rate": 0.0002,
                    "active_operations": 2,
                    "cache_hit_rate": 0.9,
                    "database_query_time_ms": 7,
                },
            ),
        ),
        "database": Outcome(
            "database", DatabaseFacts("db:5432/x", "16.4", 3.0, 0.4, 7, 100, 3, 990, 10)
        ),
        "cache": Outcome(
            "cache",
            CacheFacts(
                "localhost:6379/1",
                "7.2",
                0.3,
                10 * 2**20,
                100 * 2**20,
                8 * GIB,
                "allkeys-lru",
                42,
                sample(hits=190, misses=20),
            ),
        ),
        "workers": Outcome("workers", ["w1@h"]),
        "queues": Outcome("queues", {"maintenance": 0, "logs.h": 1}),
        "history": Outcome(
            "history",
            HistoryFacts(
                NOW - timedelta(hours=24),
                [],
                0,
                sample(hits=100, misses=10, at=NOW - timedelta(minutes=5)),
                NOW - timedelta(minutes=5),
            ),
        ),
        "backups": Outcome("backups", BackupFacts("/b", "daily-x", NOW - timedelta(hours=11), 3)),
        "host": Outcome(
            "host",
            HostFacts(
                [
                    DiskFacts("backups", "/b", "/b", 100 * GIB, 40 * GIB, 60 * GIB),
                    DiskFacts("logs", "/l", "/", 100 * GIB, 40 * GIB, 60 * GIB),
                ],
                16 * GIB,
                8 * GIB,
                50.0,
                (0.5, 0.4, 0.3),
                2,
            ),
        ),
        "folders": Outcome("folders", {"backups": 5 * GIB, "logs": None}),
    }


def doc_of(outcomes: dict[str, Outcome], policy: HealthPolicy = P) -> dict[str, Any]:
    return assess(outcomes, policy, NOW, ids=IDS, release="0.1.0")


def check(doc: dict[str, Any], key: str, index: int = 0) -> dict[str, Any]:
    return dict(doc["checks"][key][index])


def test_all_healthy() -> None:
    doc = doc_of(healthy())
    assert doc["status"] == "pass", doc.get("output")
    assert set(component_status(doc).values()) == {"pass"}
    assert check(doc, "api:responseTime")["observedValue"] == 12.0
    assert check(doc, "api:errorRate")["observedValue"] == 0.02  # percent
    assert check(doc, "api:cacheHitRate")["observedValue"] == 90.0
    assert check(doc, "api:activeOperations")["observedValue"] == 2
    assert check(doc, "database:cacheHitRate")["observedValue"] == 99.0
    # the cache's hit rate is over the interval since the previous sample: 90 of 100
    assert check(doc, "cache:hitRate")["observedValue"] == 90.0
    assert check(doc, "celery:lastVerifiedBackup")["observedValue"] == 11.0
    assert doc["counters"]["cache"]["hits"] == 190  # kept for the next delta
    assert doc["notes"] == ["the logs root /l does not exist: its disk was measured at /"]
    assert [i["observedValue"] for i in doc["checks"]["host:folderSize"]] == [5 * GIB]


@pytest.mark.parametrize(
    ("facts", "status", "says"),
    [
        (HttpFacts("u", 500, 5.0, {"detail": "x"}), "fail", "HTTP 500"),
        (
            HttpFacts("u", 200, 5.0, None, "body is not JSON"),
            "fail",
            "HTTP 200 but the body is not JSON",
        ),
        (HttpFacts("u", 200, 5.0, {"status": "unhealthy"}), "fail", "the API says 'unhealthy'"),
        (HttpFacts("u", 200, 5.0, {"status": "degraded"}), "warn", "the API says 'degraded'"),
        (HttpFacts("u", 200, 5.0, {"no": "status"}), "pass", None),
    ],
)
def test_the_apis_answer(facts: HttpFacts, status: str, says: str | None) -> None:
    outcomes = healthy() | {"api": Outcome("api", facts)}
    doc = doc_of(outcomes)
    got = check(doc, "api:status")
    assert got["status"] == status and got.get("output") == says
    assert doc["status"] == {"fail": "fail", "warn": "warn", "pass": "pass"}[status]


def test_an_api_that_does_not_answer_is_critical() -> None:
    for outcome in (Outcome("api", timed_out_s=3.0), Outcome("api", error="ConnectError: refused")):
        doc = doc_of(
            healthy() | {"api": outcome, "api_extended": Outcome("api_extended", timed_out_s=3.0)}
        )
        assert doc["status"] == "fail"
        assert check(doc, "api:status")["output"].startswith("/api/health did not answer: ")
        assert "api:responseTime" not in doc["checks"]
        assert check(doc, "api:extended")["status"] == "warn"
    assert (
        "timed out after 3 s"
        in check(doc_of(healthy() | {"api": Outcome("api", timed_out_s=3.0)}), "api:status")[
            "output"
        ]
    )


def test_thresholds_of_the_playbook_warn() -> None:
    o = healthy()
    o["api"] = Outcome("api", HttpFacts("u", 200, 250.0, {"status": "healthy"}))
    o["api_extended"] = Outcome(
        "api_extended",
        HttpFacts(
            "u",
            200,
            1.0,
            {"metrics": {"error_rate": "0.5%", "cache_hit_rate": 65, "database_query_time_ms": 80}},
        ),
    )
    o["database"] = Outcome("database", DatabaseFacts("d", "16", 1.0, 75.0, 90, 100, 3, 50, 50))
    doc = doc_of(o)
    assert doc["status"] == "warn"
    assert check(doc, "api:responseTime")["output"] == "250 ms, above 100 ms"
    assert check(doc, "api:errorRate") | {"time": None} == {
        "componentId": "http://api",
        "componentType": "component",
        "observedValue": 0.5,
        "observedUnit": "%",
        "status": "warn",
        "time": None,
        "output": "0.5%, at or above 0.1%",
    }
    assert check(doc, "api:cacheHitRate")["observedValue"] == 65.0
    assert check(doc, "api:cacheHitRate")["status"] == "warn"
    assert check(doc, "api:databaseQueryTime")["status"] == "warn"
    assert check(doc, "database:queryTime")["status"] == "warn"
    assert "90 of 97 usable" in check(doc, "database:connections")["output"]
    assert check(doc, "database:cacheHitRate")["status"] == "warn"


@pytest.mark.parametrize(
    ("value", "ratio"),
    [
        (0.05, 0.05),
        (85, 0.85),
        ("0.1%", 0.001),
        ("12", 0.12),
        (True, None),
        ("x", None),
        (-1, None),
    ],
)
def test_rates_are_read_as_fractions_or_percentages(value: object, ratio: float | None) -> None:
    assert as_ratio(value) == pytest.approx(ratio) if ratio is not None else as_ratio(value) is None


def test_the_cache_memory_alert_evictions_and_a_restart() -> None:
    o = healthy()
    facts: CacheFacts = o["cache"].value
    full = CacheFacts(
        **(vars(facts) | {"used_memory": 90 * 2**20, "sample": sample(190, 20, evicted=7)})
    )
    doc = doc_of(o | {"cache": Outcome("cache", full)})
    assert check(doc, "cache:memoryUtilization")["status"] == "warn"  # 90 % of maxmemory
    assert "above 80%" in check(doc, "cache:memoryUtilization")["output"]
    assert check(doc, "cache:evictions")["observedValue"] == 7
    assert doc["status"] == "warn"
    # a restarted server (another run_id): counters since its start, said in a note
    restarted = CacheFacts(**(vars(facts) | {"sample": sample(5, 15, run="r2")}))
    doc = doc_of(o | {"cache": Outcome("cache", restarted)})
    assert check(doc, "cache:hitRate")["observedValue"] == 25.0
    assert check(doc, "cache:hitRate")["status"] == "warn"
    assert any("since the server started" in n for n in doc["notes"])


def test_a_cache_that_does_not_answer_degrades_but_is_not_critical() -> None:
    doc = doc_of(
        healthy() | {"cache": Outcome("cache", error="ConnectionError: Error 111 connecting")}
    )
    assert component_status(doc)["cache"] == "fail"
    assert doc["status"] == "warn"
    assert "counters" not in doc
    assert check(doc, "cache:responseTime")["output"] == "ConnectionError: Error 111 connecting"


def test_celery_workers_queues_failed_runs_and_backups() -> None:
    o = healthy()
    o["workers"] = Outcome("workers", [])
    o["queues"] = Outcome("queues", {"maintenance": 250})
    failed = [FailedRun(41, "backup.create", "lost", NOW), FailedRun(40, "db.stats", "failed", NOW)]
    o["history"] = Outcome("history", HistoryFacts(NOW, failed, 2))
    o["backups"] = Outcome("backups", BackupFacts("/b", "daily-y", NOW - timedelta(hours=60), 4))
    doc = doc_of(o)
    assert check(doc, "celery:workers")["status"] == "fail"
    assert check(doc, "celery:queueLength")["status"] == "warn"
    assert (
        check(doc, "celery:failedRuns")["output"]
        == "2 in 24 h: backup.create run 41 lost, db.stats run 40 failed"
    )
    assert check(doc, "celery:lastVerifiedBackup")["status"] == "fail"
    assert doc["status"] == "warn"  # celery is not critical by default
    o["backups"] = Outcome("backups", BackupFacts("/b", "daily-y", NOW - timedelta(hours=30), 4))
    assert check(doc_of(o), "celery:lastVerifiedBackup")["status"] == "warn"
    o["backups"] = Outcome("backups", BackupFacts("/b", None, None, 0))
    assert "no verified backup" in check(doc_of(o), "celery:lastVerifiedBackup")["output"]


def test_a_full_disk_is_critical() -> None:
    o = healthy()
    host: HostFacts = o["host"].value
    disks = [
        DiskFacts("backups", "/b", "/b", 100 * GIB, 95 * GIB, 5 * GIB),
        host.disks[1],
    ]
    doc = doc_of(o | {"host": Outcome("host", HostFacts(**(vars(host) | {"disks": disks})))})
    assert doc["status"] == "fail"
    (bad, good) = doc["checks"]["host:diskUtilization"]
    assert (bad["status"], bad["componentId"]) == ("fail", "backups /b")
    assert good["status"] == "pass"
    almost = [DiskFacts("backups", "/b", "/b", 2 * GIB, int(1.2 * GIB), int(0.8 * GIB))]
    doc = doc_of(o | {"host": Outcome("host", HostFacts(**(vars(host) | {"disks": almost})))})
    assert check(doc, "host:diskFree")["status"] == "fail"  # 60 % used but under 1 GiB free
    # a folder walk that takes too long is not a full disk: a warning, never critical
    doc = doc_of(o | {"folders": Outcome("folders", timed_out_s=3.0)})
    assert check(doc, "host:folderSize")["output"] == "not measured: timed out after 3 s"
    assert doc["status"] == "warn"
    busy = HostFacts(**(vars(host) | {"load": (9.0, 1, 1), "memory_percent": 93.0}))
    doc = doc_of(o | {"host": Outcome("host", busy)})
    assert check(doc, "host:loadAverage")["status"] == "warn"
    assert check(doc, "host:memoryUtilization")["status"] == "warn"
    assert doc["status"] == "warn"


def test_the_run_fails_only_when_critical_and_its_checklist_mirrors_the_document() -> None:
    degraded = doc_of(healthy() | {"cache": Outcome("cache", timed_out_s=3.0)})
    result = to_result(degraded, P)
    assert result.status is RunStatus.SUCCEEDED
    assert result.checks[0].name == "overall status" and result.checks[0].status == "warn"
    names = [c.name for c in result.checks[1:]]
    assert len(names) == sum(len(v) for v in degraded["checks"].values())
    cache = next(c for c in result.checks if c.name == "cache:responseTime")
    assert cache.status == "warn" and "not a critical component" in (cache.detail or "")
    assert cache.detail and "timed out after 3 s" in cache.detail
    # several instances of one key are told apart by their componentId
    assert "host:diskUtilization (backups /b)" in names

    critical = doc_of(healthy() | {"database": Outcome("database", timed_out_s=3.0)})
    result = to_result(critical, P)
    assert result.status is RunStatus.FAILED
    assert [c.name for c in result.failed] == ["overall status", "database:queryTime"]

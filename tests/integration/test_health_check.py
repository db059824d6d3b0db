"""health.check and its probes against real components: PostgreSQL, Redis (the session's
and a private one), the session's Celery worker, and a stand-in for the scheduler API in
a thread of the test (healthy, slow, 500, hanging, garbage, not HTTP, refused)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import psycopg
import pytest
import redis
from pydantic import SecretStr

from maintenance import catalog, clock, runner
from maintenance.config import Settings
from maintenance.health import assess, check, component_status, facts, parallel
from maintenance.health.assess import HealthPolicy, Ids
from maintenance.results import RunStatus, Trigger
from maintenance.taskspec import NoParams, RunContext
from tests.conftest import BROKER_DB, HISTORY_DB, REDIS_BASE, TAG, Worker, _dsn
from tests.health_api import StandIn, closed_port, not_http, stand_in
from tests.integration.cache_support import PrivateRedis, private_redis, with_settings

pytestmark = pytest.mark.integration
__all__ = ["private_redis"]  # fixture

#: Short limits: every test that waits on a hung component waits this long.
FAST: dict[str, Any] = {
    "health_probe_timeout_s": 1.0,
    "health_timeout_s": 2.0,
    "health_worker_ping_s": 0.3,
    # a loaded 2-core test machine, a fresh test database: not what these tests judge
    "health_load_per_core_max": 1000.0,
    "health_db_cache_hit_min": 0.0,
}


def fast(settings: Settings, **values: Any) -> Settings:
    return with_settings(settings, **(FAST | values))


@pytest.fixture
def api() -> Iterator[StandIn]:
    with stand_in() as server:
        yield server


def _probe(s: Settings, component: str, name: str | None = None) -> dict[str, parallel.Outcome]:
    probes = [
        p
        for p in check.probes(s, clock.now())
        if p.component == component and name in (None, p.name)
    ]
    return parallel.run(probes, s.health_timeout_s)


def _api_entries(s: Settings) -> dict[str, dict[str, Any]]:
    out = _probe(s, "api")
    entries = assess.api(out["api"], out["api_extended"], HealthPolicy.of(s), clock.now(), Ids())
    return {e.key: e.to_dict() for e in entries}


@pytest.mark.parametrize(
    ("mode", "status", "says"),
    [
        ("healthy", "pass", None),
        ("degraded", "warn", "the API says 'degraded'"),
        ("error", "fail", "HTTP 500"),
        ("garbage", "fail", "HTTP 200 but the body is not JSON"),
        ("hang", "fail", "/api/health did not answer: timed out after 1 s"),
    ],
)
def test_the_api_probe_against_a_stand_in(
    settings: Settings, api: StandIn, mode: str, status: str, says: str | None
) -> None:
    api.set(mode)
    t0 = time.monotonic()
    got = _api_entries(fast(settings, api_url=api.url))
    assert time.monotonic() - t0 < 1.8  # the hung one costs its own limit, 1 s
    assert got["api:status"]["status"] == status
    assert got["api:status"].get("output") == says
    assert {"/api/health", "/api/health/extended"} <= set(api.paths)
    if mode == "healthy":
        assert got["api:errorRate"]["observedValue"] == 0.04
        assert got["api:cacheHitRate"]["observedValue"] == 93.0
        assert got["api:databaseQueryTime"]["observedValue"] == 8.5
        assert got["api:activeOperations"]["observedValue"] == 0
        assert all(v["status"] == "pass" for v in got.values())


def test_a_slow_refused_or_non_http_api(settings: Settings, api: StandIn) -> None:
    api.set("slow")  # 0.3 s: above the playbook's 100 ms
    got = _api_entries(fast(settings, api_url=api.url))
    assert got["api:status"]["status"] == "pass"
    assert got["api:responseTime"]["status"] == "warn"
    assert got["api:responseTime"]["observedValue"] >= 300

    t0 = time.monotonic()
    got = _api_entries(fast(settings, api_url=f"http://127.0.0.1:{closed_port()}"))
    assert time.monotonic() - t0 < 0.5  # refused at once, not waited for
    assert got["api:status"]["status"] == "fail" and "ConnectError" in got["api:status"]["output"]

    with not_http() as url:
        got = _api_entries(fast(settings, api_url=url))
    assert got["api:status"]["status"] == "fail"
    assert "did not answer: RemoteProtocolError" in got["api:status"]["output"]


def test_redis_on_a_closed_port_and_a_database_that_is_not_there_fail_fast(
    settings: Settings, target_db: str
) -> None:
    s = fast(settings)
    out = _probe(s, "database")
    db = assess.database(out["database"], HealthPolicy.of(s), clock.now(), Ids())
    assert [e.status.value for e in db] == ["pass", "pass", "pass"]
    assert db[1].observed_value >= 1  # connections: ours at least
    port = closed_port()
    gone = fast(
        settings,
        cache_url=SecretStr(f"redis://127.0.0.1:{port}/0"),
        target_dsn=SecretStr(f"postgresql://postgres@127.0.0.1:{port}/nowhere"),
    )
    t0 = time.monotonic()
    cache = _probe(gone, "cache")["cache"]
    database = _probe(gone, "database")["database"]
    assert time.monotonic() - t0 < 1.0
    assert cache.error is not None and "ConnectionError" in cache.error
    assert database.error is not None and database.error.startswith("ServiceUnavailable: ")


def test_queue_lengths_are_read_on_the_broker(settings: Settings) -> None:
    queue = f"maint-test-{TAG}-health"
    broker = redis.Redis.from_url(f"{REDIS_BASE}/{BROKER_DB}")
    try:
        broker.rpush(queue, "a", "b", "c")
        broker.rpush(f"{queue}\x06\x163", "d", "e")  # kombu's priority-3 list
        s = fast(settings, queue=queue, log_hosts=["hx"], health_queue_max=4)
        lengths = _probe(s, "celery", "queues")["queues"].value
        assert lengths == {queue: 5, "logs.hx": 0}
        doc = assess.celery(
            parallel.Outcome("workers", ["w"]),
            parallel.Outcome("queues", lengths),
            parallel.Outcome("history", error="x"),
            parallel.Outcome("backups", error="x"),
            HealthPolicy.of(s),
            clock.now(),
            Ids(),
        )
        assert [
            (e.component_id, e.status.value) for e in doc if e.measurement == "queueLength"
        ] == [
            (queue, "warn"),
            ("logs.hx", "pass"),
        ]
    finally:
        broker.delete(queue, f"{queue}\x06\x163")
        broker.close()


def _sql(query: str, args: tuple[object, ...] = ()) -> None:
    with psycopg.connect(_dsn(HISTORY_DB, password=False), autocommit=True) as conn:
        conn.execute(query, args)


def _samples() -> list[dict[str, Any]]:
    with psycopg.connect(_dsn(HISTORY_DB, password=False)) as conn:
        cur = conn.cursor(row_factory=psycopg.rows.dict_row)
        return list(cur.execute("SELECT * FROM health_samples ORDER BY id"))


def _checks(out: runner.Outcome) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in (out.result or {})["checks"]}


def test_health_check_stores_its_sample_prunes_pings_and_deltas_the_cache(
    settings: Settings,
    clean_history: str,
    worker: Worker,
    api: StandIn,
    private_redis: PrivateRedis,
) -> None:
    now = clock.now()
    old = '{"status": "pass", "checks": {}}'
    _sql(
        "INSERT INTO health_samples (taken_at, status, document) VALUES (%s, 'pass', %s)",
        (now - timedelta(days=40), old),
    )
    for task, status, error, trigger in [
        ("db.stats", "failed", "ServiceUnavailable", "beat"),  # counted
        ("db.stats", "failed", "ParamError", "cli"),  # a typo: not counted
        ("health.check", "failed", None, "beat"),  # the check's own: not counted
    ]:
        _sql(
            "INSERT INTO job_runs (task, trigger, status, started_at, finished_at, error_type)"
            " VALUES (%s, %s, %s, %s, %s, %s)",
            (task, trigger, status, now - timedelta(hours=1), now - timedelta(hours=1), error),
        )
    s = fast(
        settings,
        api_url=api.url,
        cache_url=SecretStr(private_redis.url(1)),
        health_deadman_url=SecretStr(f"{api.url}/hc/{TAG}"),
    )
    first = runner.execute(catalog.get("health.check"), {}, settings=s, trigger=Trigger.CLI)
    figures = first.result["figures"]  # type: ignore[index]
    assert first.status is RunStatus.SUCCEEDED, first.summary
    comps = figures["components"]
    assert (comps["api"], comps["database"], comps["cache"], comps["host"]) == ("pass",) * 4
    # no verified backup in the session's root, one failed run: Celery degraded
    assert comps["celery"] == "warn" and figures["status"] == "degraded"
    checks = _checks(first)
    assert checks["celery:workers"]["status"] == "pass"  # the session's worker answered
    assert checks["celery:failedRuns"]["observed"] == "1 runs"
    assert figures["samples_pruned"] == 1
    assert figures["deadman"] == ["start: HTTP 200", "success: HTTP 200"]
    assert [p for p in api.paths if p.startswith("/hc/")] == [f"/hc/{TAG}/start", f"/hc/{TAG}"]
    (row,) = _samples()
    assert (row["id"], row["run_id"], row["status"]) == (figures["sample_id"], first.run_id, "warn")
    assert component_status(row["document"]) == comps
    assert worker.name in facts.read_workers(0.3)

    client = private_redis.client(1)
    client.set("k", "v")
    for _ in range(30):
        client.get("k")
    for _ in range(10):
        client.get("missing")
    # the dead man's switch unreachable: reported, the outcome unchanged
    s = with_settings(s, health_deadman_url=SecretStr(f"http://127.0.0.1:{closed_port()}/hc"))
    second = runner.execute(catalog.get("health.check"), {}, settings=s, trigger=Trigger.CLI)
    assert second.status is RunStatus.SUCCEEDED
    hit = _checks(second)["cache:hitRate"]
    assert (hit["status"], hit["observed"]) == ("warn", "75.0 %")  # 30 of 40 since the first
    assert [p.split(":")[0] for p in second.result["figures"]["deadman"]] == ["start", "success"]  # type: ignore[index]
    assert all("ConnectError" in p for p in second.result["figures"]["deadman"])  # type: ignore[index]
    assert len(_samples()) == 2


def test_a_critical_check_fails_its_run_and_pings_fail(
    settings: Settings, clean_history: str, api: StandIn
) -> None:
    with stand_in() as hc:
        api.set("hang")
        s = fast(settings, api_url=api.url, health_deadman_url=SecretStr(f"{hc.url}/hc"))
        t0 = time.monotonic()
        out = runner.execute(catalog.get("health.check"), {}, settings=s, trigger=Trigger.CLI)
        assert time.monotonic() - t0 < 4.0  # bound 2 s, plus the sample, pings, record
        assert out.status is RunStatus.FAILED
        assert out.result["figures"]["components"]["api"] == "fail"  # type: ignore[index]
        assert "api:status" in (out.error_message or "")
        assert hc.paths == ["/hc/start", "/hc/fail"]
        assert hc.requests[1][2].startswith(b"critical")
    (row,) = _samples()
    assert row["status"] == "fail" and row["document"]["status"] == "fail"


def test_a_crashed_check_pings_fail_and_raises_its_own_error(
    settings: Settings, history_db: str
) -> None:
    from maintenance.errors import MaintenanceError

    with stand_in() as hc:
        s = fast(
            settings,
            api_url=hc.url,
            health_deadman_url=SecretStr(f"{hc.url}/hc"),
            history_dsn=SecretStr(_dsn(f"maint_test_{TAG}_no_such_history")),
        )
        ctx = RunContext(settings=s, run_id=None, trigger=Trigger.CLI, task="health.check")
        with pytest.raises(MaintenanceError, match="no_such_history"):
            check.check(ctx, NoParams())
        assert [p for p in hc.paths if p.startswith("/hc")] == ["/hc/start", "/hc/fail"]
        assert b"health.check crashed: " in hc.requests[-1][2]


def test_components_that_accept_and_never_answer_cost_one_limit_together(
    settings: Settings,
) -> None:
    """A black hole (the handshake done by the kernel, then silence: a hung server, or a
    firewall dropping packets after it) for the database, the cache and the API at once."""
    import socket

    hole = socket.socket()
    hole.bind(("127.0.0.1", 0))
    hole.listen(64)  # never accepted
    port = hole.getsockname()[1]
    try:
        s = fast(
            settings,
            api_url=f"http://127.0.0.1:{port}",
            cache_url=SecretStr(f"redis://127.0.0.1:{port}/0"),
            target_dsn=SecretStr(f"postgresql://postgres@127.0.0.1:{port}/x"),
        )
        t0 = time.monotonic()
        taken = check.take(s)
        elapsed = time.monotonic() - t0
    finally:
        hole.close()
    assert elapsed < 1.6, elapsed  # each probe's limit is 1 s; serially it would be 4 s
    doc = taken.document
    for key in ("api:status", "cache:responseTime", "database:queryTime"):
        assert doc["checks"][key][0]["status"] == "fail", key
        assert doc["checks"][key][0]["output"].endswith("timed out after 1 s"), key
    assert doc["status"] == "fail"

"""logs.report's pure parts (error counting, redaction, the checklist), the per-host
queues and the log settings' checks."""

from __future__ import annotations

from datetime import timedelta

import pytest

from maintenance import redact
from maintenance.config import load_settings
from maintenance.errors import ConfigError, ParamError
from maintenance.logs import hosts, scan
from maintenance.logs.report import checklist
from maintenance.results import CheckStatus
from tests.unit.test_logs_plan import NOW, entry, inv_of, policy


def test_each_line_counts_once_at_its_highest_level() -> None:
    data = (
        b"2026-12-01 INFO fine\n"
        b"2026-12-01 ERROR one\n"
        b"2026-12-01 ERROR CRITICAL ERROR both: counted once, as CRITICAL\n"
        b'{"level": "error", "event": "json"}\n'
        b'{"levelname": "CRITICAL", "event": "json crit"}\n'
        b"2026-12-01 FATAL is critical\n"
        b"an ERRORS word and TERROR are not levels\n"
    )
    found = scan.LogErrors()
    scan.count_lines(data, found, "app.log")
    assert found.counts == {"ERROR": 2, "CRITICAL": 3}
    assert len(found.quotes) == 5
    assert found.quotes[0] == "app.log: 2026-12-01 ERROR one"


def test_quotes_are_capped_and_cut() -> None:
    found = scan.LogErrors()
    scan.count_lines(b"".join(b"ERROR " + b"x" * 1000 + b"\n" for _ in range(9)), found, "a.log")
    assert found.counts["ERROR"] == 9
    assert len(found.quotes) == scan.QUOTE
    assert all(len(q) <= len("a.log: ") + scan.LINE_MAX for q in found.quotes)


def test_a_quoted_line_has_its_secrets_masked() -> None:
    redact.register_secret("S3cr3t-Registered-77")
    line = (
        "ERROR login password=hunter2 token=abc123 api_key: zzz9 tokens_used=12 "
        "url=postgresql://app:pw1@db/x Authorization: Bearer eyJhbGciOi.x-y "
        '{"client_secret": "v4lue"} S3cr3t-Registered-77'
    )
    out = scan.redact_line(line)
    for leaked in (
        "hunter2",
        "abc123",
        "zzz9",
        "pw1",
        "eyJhbGciOi",
        "v4lue",
        "S3cr3t-Registered-77",
    ):
        assert leaked not in out, out
    assert "tokens_used=12" in out  # not a secret name


def test_severity_follows_the_counts() -> None:
    assert scan.severity({"ERROR": 0, "CRITICAL": 0}) == "none"
    assert scan.severity({"ERROR": 3, "CRITICAL": 0}) == "Low"
    assert scan.severity({"ERROR": 100, "CRITICAL": 0}) == "Medium"
    assert scan.severity({"ERROR": 0, "CRITICAL": 1}) == "High"


def _checks(inv, **kw):  # type: ignore[no-untyped-def]
    settings = load_settings()
    pol = kw.pop("pol", policy(keep=30))
    args = {
        "rotated": {b: NOW - timedelta(hours=5) for b in inv.families},
        "errors": {},
        "unreadable": [],
        "usage": 1000,
        "archived_months": set(),
    } | kw
    r = checklist(
        inv,
        pol,
        settings,
        args["rotated"],
        args["errors"],
        args["unreadable"],
        args["usage"],
        args["archived_months"],
        NOW,
    )
    return {c.name: c for c in r.checks}, r


def test_the_checklist_passes_a_healthy_folder() -> None:
    _, r = _checks(
        inv_of(entry("app.log"), entry("app.log.1"), entry("app.log.2.gz", age=timedelta(days=2)))
    )
    assert not r.failed, [c for c in r.failed]
    assert r.summary.startswith("OK")


def test_the_checklist_names_what_needs_attention() -> None:
    inv = inv_of(
        entry("app.log", size=5000),  # over the cap (policy max_bytes=1000)
        entry("app.log.1"),
        entry("app.log.2"),  # plain, but not the newest: should be compressed
        entry("error.log", mode=0o644),  # not the create mode
        entry("error.log.1.gz", mode=0o646),  # world-writable
        entry("old.log.1.gz", age=timedelta(days=70)),  # a month with no archive
    )
    checks, r = _checks(inv, usage=60 * 1000**3, rotated={})
    failed = {c.name for c in r.failed}
    assert failed >= {
        "no log over the size cap",
        "old logs compressed",
        "no permission issues",
        "disk space within limits",
        "logs rotated daily",
        "archives created",
    }
    assert "app.log" in str(checks["no log over the size cap"].observed)
    assert "error.log is 0644" in checks["no permission issues"].observed
    assert r.summary.startswith("NEEDS ATTENTION: ")


def test_size_rotations_that_eat_the_history_fail_the_kept_days() -> None:
    many = [entry(f"app.log.{i}.gz", age=timedelta(hours=i)) for i in range(1, 31)]
    checks, _ = _checks(inv_of(entry("app.log"), *many))
    assert checks["7 days kept"].status is CheckStatus.FAIL
    assert checks["30 days kept"].status is CheckStatus.FAIL
    few = [entry(f"app.log.{i}.gz", age=timedelta(days=i)) for i in range(1, 4)]
    checks, _ = _checks(inv_of(entry("app.log"), *few))  # fewer than KEEP: nothing dropped yet
    assert checks["7 days kept"].status is CheckStatus.PASS


def test_errors_warn_with_their_counts() -> None:
    found = scan.LogErrors()
    scan.count_lines(b"x CRITICAL y\n", found, "app.log")
    checks, r = _checks(inv_of(entry("app.log")), errors={"app.log": found})
    c = checks["errors since the previous report"]
    assert c.status is CheckStatus.WARN and "1 CRITICAL (severity High)" in c.observed
    assert r.figures["error_counts"] == {"ERROR": 0, "CRITICAL": 1}


# --- hosts and settings ----------------------------------------------------------------------


def test_a_log_task_naming_a_host_goes_to_its_queue() -> None:
    assert hosts.queue_for("logs.rotate", {"host": "web1"}) == "logs.web1"
    assert hosts.queue_for("logs.rotate", {}) is None
    assert hosts.queue_for("db.stats", {"host": "web1"}) is None


def test_a_log_task_for_another_host_refuses_to_run() -> None:
    hosts.check_host("logs.rotate", None, "web1")
    hosts.check_host("logs.rotate", "web1", "web1")
    with pytest.raises(ParamError, match=r"for host 'web2'.*MAINT_LOG_HOST='web1'.*-Q logs\.web2"):
        hosts.check_host("logs.rotate", "web2", "web1")


@pytest.mark.parametrize(
    ("var", "value", "says"),
    [
        ("MAINT_LOG_PATTERNS", '["*"]', "would match rotated"),
        ("MAINT_LOG_PATTERNS", '["../x.log"]', "directly in MAINT_LOG_ROOT"),
        ("MAINT_LOG_PATTERNS", '["sub/*.log"]', "directly in MAINT_LOG_ROOT"),
        ("MAINT_LOG_CREATE_MODE", "0666", "world-writable"),
        ("MAINT_LOG_CREATE_MODE", "rw-r-----", "not an octal mode"),
        ("MAINT_LOG_REOPEN_SIGNAL", "KILL", "would stop the application"),
        ("MAINT_LOG_REOPEN_SIGNAL", "NOPE", "not a signal name"),
        ("MAINT_LOG_DATEFORMAT", "-%Y%m%d-%A", "use only"),
        ("MAINT_LOG_REOPEN_COMMAND", "[]", "JSON list of arguments"),
        ("MAINT_LOG_REOPEN_PIDFILE", "app.pid", "absolute path"),
        ("MAINT_LOG_HOSTS", '["web1", "web1"]', "named twice"),
        ("MAINT_LOG_HOST", "web 1", "letters, digits"),
        ("MAINT_LOG_KEEP", "0", "MAINT_LOG_KEEP"),
    ],
)
def test_a_bad_log_setting_is_refused_by_name(
    monkeypatch: pytest.MonkeyPatch, var: str, value: str, says: str
) -> None:
    monkeypatch.setenv(var, value)
    with pytest.raises(ConfigError, match=f"{var}.*{says}" if says != var else var):
        load_settings()


def test_the_log_settings_defaults() -> None:
    s = load_settings()
    assert s.log_patterns == ["*.log"] and s.log_keep == 30 and s.log_create_mode == 0o640
    assert s.log_max_bytes == 100 * 1024 * 1024 and s.log_disk_limit_bytes == 50 * 1000**3
    assert s.managed_log_hosts == [s.log_host]
    assert load_settings(log_create_mode="640").log_create_mode == 0o640


def test_beat_fans_the_log_calendar_out_to_every_configured_host() -> None:
    import beat_schedule

    schedule = beat_schedule.build(load_settings(log_hosts=["web1", "web2"]))
    logs = {k: v for k, v in schedule.items() if v["task"].startswith("logs.")}
    assert sorted(logs) == sorted(
        f"{what}@{host}"
        for host in ("web1", "web2")
        for what in (
            "daily-log-rotation",
            "hourly-log-size-check",
            "weekly-log-cleanup",
            "daily-log-report",
        )
    )
    for name, item in logs.items():
        host = name.split("@")[1]
        assert item["options"]["queue"] == f"logs.{host}" and item["kwargs"]["host"] == host
    assert logs["hourly-log-size-check@web1"]["kwargs"] == {"host": "web1", "only_oversized": True}
    # local-time cron in MAINT_TIMEZONE (docs/calendar.md): 01:00 daily, Sunday 03:00
    assert logs["daily-log-rotation@web2"]["schedule"].entry.cron == "0 1 * * *"
    assert logs["weekly-log-cleanup@web1"]["schedule"].entry.cron == "0 3 * * SUN"
    # without MAINT_LOG_HOSTS: this host only
    solo = beat_schedule.build(load_settings(log_hosts=[], log_host="db1"))
    assert {k for k in solo if "log" in k and "@" in k} == {
        "daily-log-rotation@db1",
        "hourly-log-size-check@db1",
        "weekly-log-cleanup@db1",
        "daily-log-report@db1",
    }

"""The Celery app is configured for long unattended jobs (design.md, "Known traps")."""

from __future__ import annotations

import beat_schedule
from maintenance import catalog
from maintenance.config import get_settings
from maintenance.results import Trigger
from tasks.app import app, visibility_timeout
from tasks.base import TRIGGER_HEADER, trigger_of


def test_json_only_and_utc_inside() -> None:
    conf = app.conf
    assert conf.task_serializer == "json"
    assert conf.result_serializer == "json"
    assert list(conf.accept_content) == ["json"]
    assert conf.enable_utc is True
    assert conf.timezone == get_settings().timezone


def test_late_acks_one_message_at_a_time() -> None:
    assert app.conf.task_acks_late is True
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.worker_cancel_long_running_tasks_on_connection_loss is True


def test_visibility_timeout_exceeds_every_hard_time_limit_everywhere() -> None:
    longest = max(s.time_limit for s in catalog.SPECS)
    vt = visibility_timeout(get_settings())
    assert vt > longest
    assert app.conf.broker_transport_options["visibility_timeout"] == vt
    assert app.conf.result_backend_transport_options["visibility_timeout"] == vt


def test_every_task_is_registered_with_its_time_limits() -> None:
    app.loader.import_default_modules()
    for spec in catalog.SPECS:
        task = app.tasks[spec.name]
        assert task.soft_time_limit == spec.soft_time_limit
        assert task.time_limit == spec.time_limit
        assert task.acks_late is True
        assert task.max_retries == spec.max_retries


def test_time_limit_overrides_raise_the_visibility_timeout_too() -> None:
    from maintenance.config import load_settings

    s = load_settings(time_limits={"db.stats": (50_000, 60_000)})
    assert visibility_timeout(s) > 60_000


def test_a_time_limit_override_for_an_unknown_task_is_a_config_error() -> None:
    import pytest

    from maintenance.config import load_settings
    from maintenance.errors import ConfigError
    from tasks.app import celery_config

    with pytest.raises(ConfigError, match=r"MAINT_TIME_LIMITS: unknown task 'db\.stat'"):
        celery_config(load_settings(time_limits={"db.stat": (1, 2)}))


def test_beat_entries_name_real_tasks_and_say_they_are_beat() -> None:
    app.loader.import_default_modules()
    schedule = beat_schedule.build(get_settings())
    assert schedule, "the calendar is empty"
    for name, entry in schedule.items():
        assert entry["task"] in app.tasks, name
        assert entry["options"]["headers"][TRIGGER_HEADER] == "beat"
        # every entry goes to the shared queue, but a log task to its own host's queue
        wanted = (
            f"logs.{entry['kwargs']['host']}"
            if entry["task"].startswith("logs.")
            else get_settings().queue
        )
        assert entry["options"]["queue"] == wanted, name


class _Req:
    def __init__(self, **kw: object) -> None:
        self.__dict__.update(kw)


def test_trigger_comes_from_the_headers_and_defaults_to_adhoc() -> None:
    assert trigger_of(_Req()) == (Trigger.ADHOC, None)
    assert trigger_of(_Req(maint_trigger="beat")) == (Trigger.BEAT, None)
    assert trigger_of(_Req(headers={"maint_trigger": "window", "maint_window_run_id": "12"})) == (
        Trigger.WINDOW,
        12,
    )
    # a message cannot claim to be an in-process CLI run
    assert trigger_of(_Req(maint_trigger="cli")) == (Trigger.ADHOC, None)


def test_the_monthly_backup_replaces_that_sundays_weekly_one() -> None:
    """First Sunday: monthly (quarterly window or monthly); other Sundays: weekly. Never
    both, never neither (the calendar's plan, docs/calendar.md)."""
    from collections import Counter
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from maintenance.calendar import plan

    entries = [*beat_schedule.entries(get_settings()), *beat_schedule.steps(get_settings())]
    by_name = {e.name: e for e in entries}
    assert by_name["weekly-backup"].kwargs == {"tier": "weekly"}
    assert by_name["monthly-backup"].kwargs == {"tier": "monthly"}
    zone = ZoneInfo("America/New_York")
    sundays: Counter[object] = Counter()
    for p in plan.occurrences(
        entries, datetime(2026, 1, 1, 5, tzinfo=UTC), datetime(2028, 1, 1, 5, tzinfo=UTC), zone
    ):
        tier = p.entry.kwargs.get("tier") if p.entry.task == "backup.create" else None
        if tier in ("weekly", "monthly"):
            day = p.at.astimezone(zone).date()
            assert day.isoweekday() == 7 and (tier == "monthly") == (day.day <= 7), (day, tier)
            sundays[day] += 1
    assert len(sundays) > 100 and set(sundays.values()) == {1}
    assert by_name["weekly-retention"].kwargs == {"dry_run": False}


def test_importing_the_app_reads_no_setting_and_celery_dash_a_tasks_finds_it() -> None:
    """A bad setting does not break ``import tasks.app`` (nothing is read at import);
    ``celery -A tasks`` (Celery's convention for a package) finds the same app."""
    import os
    import subprocess
    import sys

    code = (
        "import tasks.app\n"
        "from celery.app.utils import find_app\n"
        "assert find_app('tasks') is tasks.app.app\n"
        "assert find_app('tasks.app') is tasks.app.app\n"
        "print('imported')\n"
        "tasks.app.app.conf.broker_url\n"  # first use of the configuration: now it is read
    )
    env = {**os.environ, "MAINT_HEARTBEAT_INTERVAL_S": "not-a-number"}
    res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert res.stdout.strip() == "imported", res.stderr
    assert res.returncode != 0 and "MAINT_HEARTBEAT_INTERVAL_S" in res.stderr

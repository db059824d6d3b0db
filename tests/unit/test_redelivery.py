"""The redelivery decision, the waiter's decision and the per-task lost-run policy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from maintenance import catalog
from maintenance.cli.follow import AGREE_S, settled
from maintenance.history.models import JobRun
from maintenance.redelivery import NEVER, LostRetry, PriorRun, decide
from maintenance.results import RunStatus

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
POLICY = LostRetry(attempts=1, within_s=20 * 3600)


def _run(status: RunStatus, attempt: int = 1, started_h_ago: float = 7, run_id: int = 5) -> PriorRun:
    started = NOW - timedelta(hours=started_h_ago)
    finished = None if status is RunStatus.RUNNING else started + timedelta(minutes=10)
    return PriorRun(run_id, attempt, status, started, finished, host="w1", pid=42)


def test_a_lost_run_of_a_task_that_never_retries_is_not_run_again() -> None:
    lost = _run(RunStatus.LOST)
    decision = decide(lost, [lost], NEVER, NOW)
    assert not decision.retry
    assert decision.reason.startswith("redelivered after the run was lost at 2026-12-01 05:10:00Z")
    assert "run 5, attempt 1" in decision.reason


@pytest.mark.parametrize("status", [RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.SKIPPED])
def test_an_ended_run_is_never_run_again_whatever_the_policy(status: RunStatus) -> None:
    ended = _run(status)
    decision = decide(ended, [ended], POLICY, NOW)
    assert not decision.retry and f"already ended {status.value}" in decision.reason


def test_a_run_still_running_is_not_run_beside_it() -> None:
    running = _run(RunStatus.RUNNING)
    decision = decide(running, [running], POLICY, NOW)
    assert not decision.retry and "still running on w1 pid 42" in decision.reason


def test_a_lost_backup_is_retried_once_while_due() -> None:
    lost = _run(RunStatus.LOST)
    decision = decide(lost, [lost], POLICY, NOW)
    assert decision.retry and decision.reason.endswith("retried as attempt 2")


def test_a_lost_retry_that_was_lost_too_is_not_retried_again() -> None:
    first, second = _run(RunStatus.LOST), _run(RunStatus.LOST, attempt=2, started_h_ago=1)
    decision = decide(second, [first, second], POLICY, NOW)
    assert not decision.retry and "1 lost run(s) already retried" in decision.reason


def test_a_lost_run_no_longer_due_is_not_retried() -> None:
    lost = _run(RunStatus.LOST, started_h_ago=21)
    decision = decide(lost, [lost], POLICY, NOW)
    assert not decision.retry and "no longer due" in decision.reason and "21 h ago" in decision.reason


def test_policies_restore_never_retries_a_lost_run_backup_once() -> None:
    assert catalog.get("restore.run").lost_retry == NEVER
    assert catalog.get("backup.create").lost_retry.attempts == 1
    others = {s.name for s in catalog.SPECS if s.lost_retry.attempts} - {"backup.create"}
    assert others == set()  # the default is never


def test_a_retry_policy_needs_a_window() -> None:
    with pytest.raises(ValueError, match="within_s"):
        LostRetry(attempts=1)


def _row(status: RunStatus, finished_s_ago: float | None = 1.0) -> JobRun:
    finished = None if finished_s_ago is None else NOW - timedelta(seconds=finished_s_ago)
    return JobRun(id=1, status=status.value, attempt=1, finished_at=finished)


def test_the_waiter_stops_at_a_lost_row_whatever_celery_says() -> None:
    done = settled([_row(RunStatus.LOST)], "STARTED", NOW)
    assert done is not None and done.last.status == "lost"


def test_the_waiter_waits_for_a_running_row_and_for_an_announced_retry() -> None:
    assert settled([], "PENDING", NOW) is None
    assert settled([_row(RunStatus.RUNNING, None)], "STARTED", NOW) is None
    assert settled([_row(RunStatus.FAILED, AGREE_S * 10)], "RETRY", NOW) is None


def test_the_waiter_believes_a_finished_row_once_celery_agrees_or_after_a_grace() -> None:
    assert settled([_row(RunStatus.SUCCEEDED)], "SUCCESS", NOW) is not None
    assert settled([_row(RunStatus.FAILED, 1.0)], "STARTED", NOW) is None
    assert settled([_row(RunStatus.FAILED, AGREE_S + 1)], "STARTED", NOW) is not None

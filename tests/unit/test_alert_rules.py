"""The alert decision (pure): change, wait, repeat, recovery, holds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from maintenance.alerts.rules import (
    FAIL,
    PASS,
    WARN,
    Action,
    Hold,
    Notified,
    Observation,
    Policy,
    decide,
    streak,
)

T0 = datetime(2026, 12, 6, 7, 0, tzinfo=UTC)
POLICY = Policy(wait_s=240, repeat_s=4 * 3600)
EVERY = timedelta(minutes=5)


def seen(*statuses: str, end: datetime = T0) -> list[Observation]:
    """Samples every 5 minutes, oldest first in the arguments, newest first returned."""
    n = len(statuses)
    return [
        Observation(end - EVERY * (n - 1 - i), s, "" if s == PASS else f"{s} output")
        for i, s in enumerate(statuses)
    ][::-1]


def run(
    statuses: tuple[str, ...],
    notified: Notified | None = None,
    holds: tuple[Hold, ...] = (),
    now: datetime | None = None,
    policy: Policy = POLICY,
):
    obs = seen(*statuses)
    return decide("health:api", "api", obs, notified, holds, policy, now or obs[0].at)


def test_streak_is_the_newest_run_of_equal_statuses() -> None:
    obs = seen(PASS, FAIL, FAIL, FAIL)
    assert streak(obs) == (FAIL, T0 - 2 * EVERY, T0)
    assert streak([]) is None


def test_a_blip_never_pages_and_a_lasting_change_pages_once() -> None:
    assert run((PASS, FAIL)).action is Action.WAIT  # first bad sample: wait
    assert run((PASS, FAIL, PASS)).action is Action.NONE  # cleared on the next: nothing
    fire = run((PASS, FAIL, FAIL))
    assert fire.action is Action.FIRE and fire.status == FAIL and fire.previous == PASS
    assert fire.since == T0 - EVERY
    # once notified, the same status does not page again before the repeat interval
    after = Notified(FAIL, T0, opened_at=T0 - EVERY)
    assert run((PASS, FAIL, FAIL, FAIL), after, now=T0 + EVERY).action is Action.NONE


def test_escalation_and_partial_recovery_are_changes() -> None:
    degraded = Notified(WARN, T0 - timedelta(hours=1), opened_at=T0 - timedelta(hours=1))
    assert run((WARN, FAIL), degraded).action is Action.WAIT
    up = run((WARN, FAIL, FAIL), degraded)
    assert up.action is Action.FIRE and (up.previous, up.status) == (WARN, FAIL)
    critical = Notified(FAIL, T0 - timedelta(hours=1))
    down = run((FAIL, WARN, WARN), critical)
    assert down.action is Action.FIRE and down.status == WARN


def test_recovery_is_announced_once_after_the_wait() -> None:
    open_ = Notified(FAIL, T0 - timedelta(minutes=30), opened_at=T0 - timedelta(minutes=40))
    assert run((FAIL, PASS), open_).action is Action.WAIT
    resolved = run((FAIL, PASS, PASS), open_)
    assert resolved.action is Action.RESOLVE and resolved.notifies
    assert run((PASS, PASS, PASS), Notified(PASS, T0)).action is Action.NONE


def test_repeat_interval() -> None:
    notified = Notified(FAIL, T0 - timedelta(hours=4) + timedelta(seconds=1))
    assert run((FAIL, FAIL), notified).action is Action.NONE
    later = run((FAIL, FAIL), notified, now=T0 + timedelta(seconds=1))
    assert later.action is Action.REPEAT and "still critical" in later.reason


def test_zero_wait_pages_on_the_first_sample() -> None:
    assert run((PASS, FAIL), policy=Policy(wait_s=0, repeat_s=600)).action is Action.FIRE


@pytest.mark.parametrize(
    ("ends_in", "component", "expected"),
    [
        (timedelta(minutes=30), "api", Action.HOLD),  # the window takes the API down
        (timedelta(minutes=30), "cache", Action.FIRE),  # but not this one
        (-timedelta(minutes=1), "api", Action.FIRE),  # the window ended: still down
        (None, "api", Action.HOLD),  # running, no planned end: held while it runs
    ],
)
def test_a_window_holds_the_components_it_takes_down(
    ends_in: timedelta | None, component: str, expected: Action
) -> None:
    hold = Hold(
        7,
        "weekly",
        T0 - timedelta(hours=1),
        T0 + ends_in if ends_in is not None else None,
        frozenset({"api", "database"}),
    )
    obs = seen(PASS, FAIL, FAIL)
    d = decide(f"health:{component}", component, obs, None, [hold], POLICY, T0)
    assert d.action is expected
    if expected is Action.HOLD:
        assert d.held_by is hold and "weekly window (run 7)" in d.reason
        assert not d.notifies


def test_recovery_is_never_held() -> None:
    hold = Hold(7, "weekly", T0 - timedelta(hours=1), T0 + timedelta(hours=1), frozenset({"api"}))
    open_ = Notified(FAIL, T0 - timedelta(hours=1))
    d = decide("health:api", "api", seen(FAIL, PASS, PASS), open_, [hold], POLICY, T0)
    assert d.action is Action.RESOLVE


def test_a_window_that_has_not_started_holds_nothing() -> None:
    hold = Hold(8, "monthly", T0 + timedelta(hours=1), T0 + timedelta(hours=7), frozenset({"api"}))
    assert run((PASS, FAIL, FAIL), holds=(hold,)).action is Action.FIRE


def test_no_sample_decides_nothing() -> None:
    d = decide("health:api", "api", [], None, [], POLICY, T0)
    assert d.action is Action.NONE and d.status == PASS


def test_one_message_per_check_with_a_key_made_of_the_decisions() -> None:
    from maintenance.alerts.evaluate import health_message
    from maintenance.notify import Severity

    def fired(component: str, status: str) -> object:
        obs = seen(PASS, status, status)
        return decide(f"health:{component}", component, obs, None, [], POLICY, T0)

    api, cache = fired("api", FAIL), fired("cache", WARN)
    message = health_message([cache, api], {}, "residency scheduler")
    assert message.subject == "residency scheduler: api critical, cache degraded"
    assert message.severity is Severity.CRITICAL and message.kind == "alert"
    assert message.text.splitlines()[0].startswith("- api: critical, critical for 5 min")
    # the same decisions give the same key (a crash between send and record is harmless)
    assert health_message([api, cache], {}, "x").dedup_key == message.dedup_key
    # a repeat after a later notice is a new message
    later = {"health:api": Notified(FAIL, T0 - timedelta(hours=5))}
    repeat = decide("health:api", "api", seen(FAIL, FAIL), later["health:api"], [], POLICY, T0)
    assert repeat.action is Action.REPEAT
    again = health_message([repeat], later, "x")
    assert again.kind == "repeat" and again.dedup_key != message.dedup_key
    resolved = decide(
        "health:api",
        "api",
        seen(FAIL, PASS, PASS),
        Notified(FAIL, T0 - timedelta(hours=1)),
        [],
        POLICY,
        T0,
    )
    ok = health_message([resolved], {}, "x")
    assert ok.severity is Severity.OK and ok.kind == "recovery"
    assert ok.text == "- api: healthy again (was critical)"

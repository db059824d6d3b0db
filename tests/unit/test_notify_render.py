"""Notices rendered from their template files (pure): every kind with the right local
times across a DST change in America/New_York, the dedup keys, a field a template asks
for but the notice lacks; the webhook payload, the e-mail text and the backoff."""

from __future__ import annotations

import tomllib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from maintenance.errors import ConfigError
from maintenance.notify import notices, retry, webhook
from maintenance.notify.message import Message, Severity
from maintenance.notify.notices import NoticeKind, Request
from maintenance.windows import WindowKind

NY = ZoneInfo("America/New_York")
ROOT = Path(__file__).resolve().parents[2]


def build(req: Request, now: datetime) -> notices.Notice:
    text, where = notices.template(req.kind, None)
    return notices.build(req, now, NY, text, where)


def test_the_weekly_notice_of_the_spring_forward_sunday() -> None:
    friday = datetime(2027, 3, 12, 20, 0, tzinfo=UTC)  # Friday 15:00 EST
    n = build(Request(NoticeKind.WEEKLY, WindowKind.WEEKLY), friday)
    assert n.date == date(2027, 3, 14)
    assert n.subject == (
        "Scheduled maintenance: Weekly maintenance on Sunday 14 March 2027, 03:00-07:00 EDT"
    )
    assert "03:30-04:30  Backup operations" in n.text
    assert "Sent Friday 12 March 2027 15:00 EST." in n.text
    assert "America/New_York" in n.text and "about 4 hours" in n.text
    assert n.dedup_key == "notice:weekly:2027-03-14"
    assert ("Time", "03:00-07:00 EDT (America/New_York)") in n.fields
    msg = n.message(force=False, run_id=3)
    assert (msg.kind, msg.severity, msg.dedup_key, msg.run_id) == ("notice", "info", n.dedup_key, 3)
    assert n.message(force=True, run_id=3).dedup_key is None


def test_the_monthly_notice_of_the_fall_back_sunday() -> None:
    sent = datetime(2026, 10, 18, 19, 0, tzinfo=UTC)  # 15:00 EDT, two weeks ahead
    n = build(Request(NoticeKind.MONTHLY, WindowKind.MONTHLY), sent)
    assert n.date == date(2026, 11, 1)
    assert "Sunday 1 November 2026, 02:00-08:00 EST" in n.subject
    assert "Sent Sunday 18 October 2026 15:00 EDT." in n.text
    assert "about 6 hours" in n.text


def test_the_quarterly_notice_sent_in_winter_time_for_a_summer_time_window() -> None:
    sent = datetime(2027, 3, 7, 20, 0, tzinfo=UTC)  # 15:00 EST, 28 days before 4 April
    n = build(Request(NoticeKind.QUARTERLY, WindowKind.QUARTERLY), sent)
    assert n.date == date(2027, 4, 4)
    assert "Sunday 4 April 2027, 02:00-10:00 EDT" in n.subject
    assert "Sent Sunday 7 March 2027 15:00 EST." in n.text


def test_an_emergency_across_the_gap_says_both_offsets() -> None:
    start = datetime(2027, 3, 14, 1, 30, tzinfo=NY)
    req = Request(
        NoticeKind.EMERGENCY,
        WindowKind.EMERGENCY,
        start=start,
        duration=timedelta(minutes=90),
        reason="database disk failing",
    )
    n = build(req, start.astimezone(UTC) - timedelta(minutes=10))
    assert n.subject == (
        "EMERGENCY maintenance Sunday 14 March 2027 from 01:30 EST/EDT: database disk failing"
    )
    assert "01:30 to about 04:00 EST/EDT" in n.text and "about 1 h 30 min" in n.text
    assert n.dedup_key == "notice:emergency:2027-03-14T01:30-0500"
    assert ("Reason", "database disk failing") in n.fields
    assert n.message(force=False, run_id=None).severity is Severity.WARNING


def test_status_all_clear_and_problem_during_the_spring_forward_window() -> None:
    during = datetime(2027, 3, 14, 8, 10, tzinfo=UTC)  # 04:10 EDT
    status = build(Request(NoticeKind.STATUS, WindowKind.WEEKLY, message="On plan"), during)
    assert status.subject == (
        "Maintenance status 04:10 EDT: Weekly maintenance of Sunday 14 March 2027 in progress"
    )
    assert "Working:  Backup operations (03:30-04:30)" in status.text
    assert "Status:   On plan" in status.text
    assert status.dedup_key == "notice:status:weekly:2027-03-14:2027-03-14T04"
    later = build(Request(NoticeKind.STATUS, WindowKind.WEEKLY), during + timedelta(hours=1))
    assert later.dedup_key.endswith("T05") and "proceeding as planned" in later.text
    done = build(Request(NoticeKind.ALL_CLEAR, WindowKind.WEEKLY), during + timedelta(hours=3))
    assert "Finished:  07:10 EDT" in done.text
    assert "(03:00 to 07:00 EDT, America/New_York)" in done.text
    assert done.dedup_key == "notice:all_clear:weekly:2027-03-14"
    assert done.message(force=False, run_id=None).severity is Severity.OK
    bad = build(Request(NoticeKind.PROBLEM, WindowKind.WEEKLY, what_failed="weekly backup"), during)
    assert bad.subject.endswith(": weekly backup")
    assert bad.message(force=False, run_id=None).severity is Severity.CRITICAL


def test_a_field_the_notice_does_not_provide_is_an_error_naming_it() -> None:
    with pytest.raises(ConfigError, match=r"my.txt: field \$pager is not provided") as info:
        notices.render("Subject: x $date\n\n$pager\n", {"date": "Sunday"}, where="my.txt")
    assert "$date" in str(info.value)  # the fields it could use are listed
    with pytest.raises(ConfigError, match=r"write \$\$ for a dollar sign"):
        notices.render("Subject: costs $5\n", {}, where="t")
    with pytest.raises(ConfigError, match=r"first line must be 'Subject: \.\.\.'"):
        notices.render("Hello $date\n", {"date": "d"}, where="t")
    assert notices.render("Subject: $$5 on $date\n\nbody\n", {"date": "d"}, where="t") == (
        "$5 on d",
        "body\n",
    )


def test_a_template_folder_replaces_only_the_files_it_holds(tmp_path: Path) -> None:
    (tmp_path / "weekly.txt").write_text("Subject: ours $date\n\nbody\n")
    assert notices.template(NoticeKind.WEEKLY, tmp_path) == (
        "Subject: ours $date\n\nbody\n",
        str(tmp_path / "weekly.txt"),
    )
    text, where = notices.template(NoticeKind.MONTHLY, tmp_path)
    assert where == "shipped template monthly.txt" and text.startswith("Subject:")


def test_every_notice_has_a_shipped_template_and_the_wheel_ships_them() -> None:
    folder = ROOT / "maintenance" / "notify" / "templates"
    assert {p.stem for p in folder.glob("*.txt")} == {k.value for k in NoticeKind}
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "notify/templates/*.txt" in data["package-data"]["maintenance"]


def test_the_webhook_payload_is_slack_compatible() -> None:
    m = Message(
        kind="alert",
        severity=Severity.WARNING,
        subject="Cache at 85 %",
        text="Memory high",
        fields=(("Component", "cache"), ("Used", "85 %")),
        dedup_key="k",
        run_id=4,
    )
    body = webhook.payload(m, sent_at=datetime(2026, 12, 7, tzinfo=UTC))
    assert body["text"] == "[WARNING] Cache at 85 %"
    assert [b["type"] for b in body["blocks"]] == ["header", "section", "section", "context"]
    assert body["blocks"][2]["fields"][0] == {"type": "mrkdwn", "text": "*Component*\ncache"}
    assert body["attachments"][0]["color"] == webhook.COLOURS[Severity.WARNING]
    assert body["maint"]["dedup_key"] == "k" and body["maint"]["run_id"] == 4


def test_backoff_doubles_honours_a_longer_retry_after_and_is_capped() -> None:
    assert [retry.backoff(n, 1.0) for n in (1, 2, 3)] == [1.0, 2.0, 4.0]
    assert retry.backoff(1, 1.0, hint_s=7) == 7
    assert retry.backoff(10, 1.0) == retry.MAX_WAIT_S
    slept: list[float] = []
    tries = iter(
        [retry.Try(False, "HTTP 503", True), retry.Try(False, "HTTP 503", True), retry.Try(True)]
    )
    out = retry.attempt(lambda: next(tries), 4, 0.5, sleep=slept.append)
    assert (out, slept) == (retry.Attempted(True, 3, None), [0.5, 1.0])
    out = retry.attempt(lambda: retry.Try(False, "HTTP 404"), 4, 0.5, sleep=slept.append)
    assert out == retry.Attempted(False, 1, "HTTP 404")

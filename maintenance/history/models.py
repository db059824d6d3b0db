"""Tables of the job-history database.

``job_runs``: one row per run of a task, whoever started it. Inserted as ``running`` when
the run starts, completed when it ends; ``heartbeat_at`` is refreshed while it runs so
that a run whose worker died can be told apart from a long one and marked ``lost``.

``window_runs``: one row per maintenance-window run (daily, weekly, monthly, quarterly,
emergency); its steps are ``job_runs`` rows pointing at it. ``ends_at`` and
``expected_down`` say until when and which health components it takes down (alerts for
them are held until it ends).

``health_samples``: every ``health.check``'s document (the Health Check Response Format),
pruned by age. ``alert_state``: per alert key, the status last notified and when.
``notifications``: every message sent, per channel; a ``dedup_key`` goes out once per
channel.

``report_approvals``: the monthly report's sign-offs (``maint report approve``), one row
each, never updated (docs/reports.md).

``beat_dispatches``: beat's claims, one row per occurrence (entry, due instant in UTC)
inserted before it is sent; only the inserter sends it (docs/beat.md).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from maintenance.results import RunStatus, Trigger

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _in(column: str, values: list[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


STATUSES = [s.value for s in RunStatus]
TRIGGERS = [t.value for t in Trigger]


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class WindowRun(Base):
    __tablename__ = "window_runs"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(Text)  # daily, weekly, monthly, quarterly, emergency
    local_date: Mapped[date] = mapped_column(Date)  # the night it belongs to, system time
    scheduled_for: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    trigger: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, default=RunStatus.RUNNING.value)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str | None] = mapped_column(Text)  # emergency override, skip reason
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    #: When the window is planned to end: alerts it holds are sent if still open then.
    ends_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: Health components the window takes down (api, database, cache ...).
    expected_down: Mapped[list[str]] = mapped_column(
        ARRAY(Text), server_default=text("'{}'::text[]")
    )

    __table_args__ = (
        CheckConstraint(_in("status", STATUSES), name="status"),
        CheckConstraint(_in("trigger", TRIGGERS), name="trigger"),
        Index(None, "kind", "local_date"),
    )


class JobRun(Base):
    __tablename__ = "job_runs"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    task: Mapped[str] = mapped_column(Text)
    celery_task_id: Mapped[str | None] = mapped_column(Text)
    attempt: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))
    trigger: Mapped[str] = mapped_column(Text)
    window_run_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("window_runs.id", ondelete="SET NULL")
    )
    params: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    status: Mapped[str] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    duration_s: Mapped[float | None] = mapped_column(Double)
    host: Mapped[str | None] = mapped_column(Text)
    pid: Mapped[int | None] = mapped_column(Integer)
    summary: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    error_type: Mapped[str | None] = mapped_column(Text)
    error_message: Mapped[str | None] = mapped_column(Text)
    #: A step of a longer run (a restore's forensic dump, load, swap ...): its parent.
    parent_run_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("job_runs.id", ondelete="CASCADE")
    )
    step: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint(_in("status", STATUSES), name="status"),
        CheckConstraint(_in("trigger", TRIGGERS), name="trigger"),
        CheckConstraint(
            "(status = 'running') = (finished_at IS NULL)", name="finished_iff_not_running"
        ),
        Index(None, "parent_run_id"),
        Index(None, "celery_task_id"),
        Index("ix_job_runs_running", "heartbeat_at", postgresql_where=text("status = 'running'")),
    )


HEALTH_STATUSES = ["pass", "warn", "fail"]
DELIVERY_STATUSES = ["sending", "sent", "failed"]


class HealthSample(Base):
    __tablename__ = "health_samples"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    taken_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: The document's overall status: pass (healthy), warn (degraded), fail (critical).
    status: Mapped[str] = mapped_column(Text)
    duration_ms: Mapped[float | None] = mapped_column(Double)
    #: The health.check run that took it (None: taken by ``maint health``).
    run_id: Mapped[int | None] = mapped_column(BigInteger)
    #: application/health+json (draft-inadarei-api-health-check-06).
    document: Mapped[dict[str, Any]] = mapped_column(JSONB)

    __table_args__ = (CheckConstraint(_in("status", HEALTH_STATUSES), name="status"),)


class AlertState(Base):
    """What was last notified for one alert key (``health:api`` ...)."""

    __tablename__ = "alert_state"

    key: Mapped[str] = mapped_column(Text, primary_key=True)
    notified_status: Mapped[str] = mapped_column(Text)
    notified_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: When the open incident began (None when the last notice was a recovery).
    opened_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: Since when a change is held by a maintenance window (None: not held).
    held_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSONB)

    __table_args__ = (
        CheckConstraint(_in("notified_status", HEALTH_STATUSES), name="notified_status"),
    )


class Notification(Base):
    """One message on one channel."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    kind: Mapped[str] = mapped_column(Text)  # alert, recovery, repeat, run, test, notice
    severity: Mapped[str] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(Text)  # webhook, email
    #: Claimed once per channel: a message with this key is sent at most once there.
    dedup_key: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    error: Mapped[str | None] = mapped_column(Text)
    run_id: Mapped[int | None] = mapped_column(BigInteger)
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSONB)

    __table_args__ = (
        CheckConstraint(_in("status", DELIVERY_STATUSES), name="status"),
        Index(
            "uq_notifications_dedup_key_channel",
            "dedup_key",
            "channel",
            unique=True,
            postgresql_where=text("dedup_key IS NOT NULL"),
        ),
    )


DISPATCH_OUTCOMES = ["sending", "sent", "send_failed", "missed"]


class BeatDispatch(Base):
    """One occurrence of one beat entry, claimed before it is sent."""

    __tablename__ = "beat_dispatches"

    entry: Mapped[str] = mapped_column(Text, primary_key=True)
    #: The occurrence's due instant (UTC) from the entry's schedule, not when it was sent.
    scheduled_for: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    claimed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: The beat that claimed it: ``PID@HOST``.
    claimed_by: Mapped[str] = mapped_column(Text)
    task: Mapped[str] = mapped_column(Text)
    #: sending (claimed, being sent), sent, send_failed, missed (recorded, never sent).
    outcome: Mapped[str] = mapped_column(Text)
    #: Sent later than on time: a missed occurrence caught up.
    late: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    celery_task_id: Mapped[str | None] = mapped_column(Text)
    #: The job_runs row that records it (missed, or a send that failed).
    run_id: Mapped[int | None] = mapped_column(BigInteger)
    detail: Mapped[str | None] = mapped_column(Text)
    #: The MAINT_TIMEZONE the claiming beat ran in: a beat started in another zone
    #: resumes from now instead of catching up what the new zone's times put in between.
    zone: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint(_in("outcome", DISPATCH_OUTCOMES), name="outcome"),
        # claims a dead beat never confirmed: the next leader looks for them
        Index(
            "ix_beat_dispatches_sending",
            "claimed_at",
            postgresql_where=text("outcome = 'sending'"),
        ),
    )


REPORT_ROLES = ["verified", "approved"]


class ReportApproval(Base):
    """One sign-off of one month's report: the playbook's "Verified By" (role
    ``verified``) or "Approved By" (role ``approved``)."""

    __tablename__ = "report_approvals"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    month: Mapped[str] = mapped_column(Text)  # YYYY-MM
    role: Mapped[str] = mapped_column(Text)
    approved_by: Mapped[str] = mapped_column(Text)
    approved_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    note: Mapped[str | None] = mapped_column(Text)
    #: SHA-256 of the report's JSON file as it was signed.
    report_sha256: Mapped[str] = mapped_column(Text)
    report_generated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: The report.approve run that recorded it.
    run_id: Mapped[int | None] = mapped_column(BigInteger)

    __table_args__ = (
        CheckConstraint("month ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'", name="month"),
        CheckConstraint(_in("role", REPORT_ROLES), name="role"),
        CheckConstraint("length(btrim(approved_by)) > 0", name="approver"),
    )


Index("ix_report_approvals_month", ReportApproval.month, ReportApproval.approved_at.desc())
Index("ix_beat_dispatches_claimed_at", BeatDispatch.claimed_at.desc())
Index("ix_health_samples_taken_at", HealthSample.taken_at.desc())
Index("ix_notifications_created_at", Notification.created_at.desc())

# Newest-first listings (`maint history`, `maint history --task T`).
Index("ix_job_runs_started_at", JobRun.started_at.desc())
Index("ix_job_runs_task_started_at", JobRun.task, JobRun.started_at.desc())

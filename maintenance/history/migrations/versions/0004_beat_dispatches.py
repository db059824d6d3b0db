"""beat_dispatches (beat's claims of due occurrences); the run status ``missed``

``beat_dispatches``: one row per occurrence of a beat entry (its name and due instant in
UTC), inserted before the occurrence is sent (INSERT ... ON CONFLICT DO NOTHING on the
primary key): whoever inserted the row sends it, so two beats (a split brain) still send
each occurrence once. The table is also beat's persistent state: an entry's last claimed
occurrence is where its missed runs start (docs/beat.md). ``missed``: a run beat did not
send because it was not running when it was due, and did not catch up.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

OLD_STATUS = "status IN ('running', 'succeeded', 'failed', 'skipped', 'lost')"
NEW_STATUS = "status IN ('running', 'succeeded', 'failed', 'skipped', 'lost', 'missed')"
OUTCOME = "outcome IN ('sending', 'sent', 'send_failed', 'missed')"


def _status(check: str) -> None:
    for table in ("job_runs", "window_runs"):
        op.drop_constraint(op.f(f"ck_{table}_status"), table, type_="check")
        op.create_check_constraint(op.f(f"ck_{table}_status"), table, check)


def upgrade() -> None:
    op.create_table(
        "beat_dispatches",
        sa.Column("entry", sa.Text(), nullable=False),
        sa.Column("scheduled_for", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.Text(), nullable=False),
        sa.Column("task", sa.Text(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False, server_default=sa.text("false")),
        sa.Column("celery_task_id", sa.Text()),
        sa.Column("run_id", sa.BigInteger()),
        sa.Column("detail", sa.Text()),
        sa.Column("zone", sa.Text()),
        sa.CheckConstraint(OUTCOME, name=op.f("ck_beat_dispatches_outcome")),
        sa.PrimaryKeyConstraint("entry", "scheduled_for", name=op.f("pk_beat_dispatches")),
    )
    op.create_index(
        "ix_beat_dispatches_claimed_at", "beat_dispatches", [sa.text("claimed_at DESC")]
    )
    op.create_index(
        "ix_beat_dispatches_sending",
        "beat_dispatches",
        ["claimed_at"],
        postgresql_where=sa.text("outcome = 'sending'"),
    )
    _status(NEW_STATUS)


def downgrade() -> None:
    op.execute("DELETE FROM job_runs WHERE status = 'missed'")
    op.execute("DELETE FROM window_runs WHERE status = 'missed'")
    _status(OLD_STATUS)
    op.drop_index("ix_beat_dispatches_sending", "beat_dispatches")
    op.drop_index("ix_beat_dispatches_claimed_at", "beat_dispatches")
    op.drop_table("beat_dispatches")

"""job history: job_runs and window_runs

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

STATUS = "status IN ('running', 'succeeded', 'failed', 'skipped', 'lost')"
TRIGGER = "trigger IN ('beat', 'adhoc', 'cli', 'window')"


def upgrade() -> None:
    op.create_table(
        "window_runs",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("local_date", sa.Date(), nullable=False),
        sa.Column("scheduled_for", sa.DateTime(timezone=True)),
        sa.Column("trigger", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("reason", sa.Text()),
        sa.Column("result", postgresql.JSONB()),
        sa.CheckConstraint(STATUS, name=op.f("ck_window_runs_status")),
        sa.CheckConstraint(TRIGGER, name=op.f("ck_window_runs_trigger")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_window_runs")),
    )
    op.create_index(op.f("ix_window_runs_kind_local_date"), "window_runs", ["kind", "local_date"])

    op.create_table(
        "job_runs",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("task", sa.Text(), nullable=False),
        sa.Column("celery_task_id", sa.Text()),
        sa.Column("attempt", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("trigger", sa.Text(), nullable=False),
        sa.Column("window_run_id", sa.BigInteger()),
        sa.Column("params", postgresql.JSONB(), server_default=sa.text("'{}'::jsonb"), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True)),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("duration_s", sa.Double()),
        sa.Column("host", sa.Text()),
        sa.Column("pid", sa.Integer()),
        sa.Column("summary", sa.Text()),
        sa.Column("result", postgresql.JSONB()),
        sa.Column("error_type", sa.Text()),
        sa.Column("error_message", sa.Text()),
        sa.CheckConstraint(STATUS, name=op.f("ck_job_runs_status")),
        sa.CheckConstraint(TRIGGER, name=op.f("ck_job_runs_trigger")),
        sa.CheckConstraint(
            "(status = 'running') = (finished_at IS NULL)",
            name=op.f("ck_job_runs_finished_iff_not_running"),
        ),
        sa.ForeignKeyConstraint(
            ["window_run_id"], ["window_runs.id"], ondelete="SET NULL",
            name=op.f("fk_job_runs_window_run_id_window_runs"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_runs")),
    )
    op.create_index(op.f("ix_job_runs_task_started_at"), "job_runs", ["task", sa.text("started_at DESC")])
    op.create_index(op.f("ix_job_runs_started_at"), "job_runs", [sa.text("started_at DESC")])
    op.create_index(op.f("ix_job_runs_celery_task_id"), "job_runs", ["celery_task_id"])
    op.create_index(
        "ix_job_runs_running", "job_runs", ["heartbeat_at"],
        postgresql_where=sa.text("status = 'running'"),
    )


def downgrade() -> None:
    op.drop_table("job_runs")
    op.drop_table("window_runs")

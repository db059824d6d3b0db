"""health samples, alert state, notifications; window_runs.ends_at and expected_down

``health_samples``: every health check's document (its own table, pruned by age), so that
deltas (the cache's hit ratio) and trends work and alert state can be computed from what
was seen. ``alert_state``: per alert key, what was last notified and when (healthchecks'
rule: the state is computed from stored timestamps, not a flag that can drift).
``notifications``: every message sent on every channel; a ``dedup_key`` is claimed once
per channel (a failed run alerts once, a notice goes out once). A window run records when
it is planned to end and which components it takes down, so alerts for them are held.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

HEALTH = "status IN ('pass', 'warn', 'fail')"
DELIVERY = "status IN ('sending', 'sent', 'failed')"


def upgrade() -> None:
    op.create_table(
        "health_samples",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("duration_ms", sa.Double()),
        sa.Column("run_id", sa.BigInteger()),
        sa.Column("document", postgresql.JSONB(), nullable=False),
        sa.CheckConstraint(HEALTH, name=op.f("ck_health_samples_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_health_samples")),
    )
    op.create_index(
        "ix_health_samples_taken_at", "health_samples", [sa.text("taken_at DESC")]
    )

    op.create_table(
        "alert_state",
        sa.Column("key", sa.Text(), primary_key=True),
        sa.Column("notified_status", sa.Text(), nullable=False),
        sa.Column("notified_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True)),
        sa.Column("held_since", sa.DateTime(timezone=True)),
        sa.Column("detail", postgresql.JSONB()),
        sa.CheckConstraint(HEALTH.replace("status", "notified_status", 1),
                           name=op.f("ck_alert_state_notified_status")),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_alert_state")),
    )

    op.create_table(
        "notifications",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("severity", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("dedup_key", sa.Text()),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("error", sa.Text()),
        sa.Column("run_id", sa.BigInteger()),
        sa.Column("payload", postgresql.JSONB()),
        sa.CheckConstraint(DELIVERY, name=op.f("ck_notifications_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    op.create_index(
        "ix_notifications_created_at", "notifications", [sa.text("created_at DESC")]
    )
    op.create_index(
        "uq_notifications_dedup_key_channel",
        "notifications",
        ["dedup_key", "channel"],
        unique=True,
        postgresql_where=sa.text("dedup_key IS NOT NULL"),
    )

    op.add_column("window_runs", sa.Column("ends_at", sa.DateTime(timezone=True)))
    op.add_column(
        "window_runs",
        sa.Column(
            "expected_down",
            postgresql.ARRAY(sa.Text()),
            nullable=False,
            server_default=sa.text("'{}'::text[]"),
        ),
    )


def downgrade() -> None:
    op.drop_column("window_runs", "expected_down")
    op.drop_column("window_runs", "ends_at")
    op.drop_index("uq_notifications_dedup_key_channel", "notifications")
    op.drop_index("ix_notifications_created_at", "notifications")
    op.drop_table("notifications")
    op.drop_table("alert_state")
    op.drop_index("ix_health_samples_taken_at", "health_samples")
    op.drop_table("health_samples")

"""run steps: job_runs.parent_run_id and job_runs.step

A long operation (a restore) records each of its steps as a row of its own, pointing at
the run it belongs to.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("job_runs", sa.Column("parent_run_id", sa.BigInteger()))
    op.add_column("job_runs", sa.Column("step", sa.Text()))
    op.create_foreign_key(
        op.f("fk_job_runs_parent_run_id_job_runs"), "job_runs", "job_runs",
        ["parent_run_id"], ["id"], ondelete="CASCADE",
    )
    op.create_index(op.f("ix_job_runs_parent_run_id"), "job_runs", ["parent_run_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_job_runs_parent_run_id"), "job_runs")
    op.drop_constraint(op.f("fk_job_runs_parent_run_id_job_runs"), "job_runs")
    op.drop_column("job_runs", "step")
    op.drop_column("job_runs", "parent_run_id")

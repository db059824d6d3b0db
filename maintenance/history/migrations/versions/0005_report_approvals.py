"""report_approvals: the monthly report's sign-off lines, as records

``report_approvals``: one row per sign-off of a month's report (``maint report approve
MONTH --by NAME``): the month, the role (``verified``: the playbook's "Verified By", the
backup administrator; ``approved``: "Approved By", the IT manager), who, when, a note,
and the SHA-256 of the report's JSON file that was signed. Never updated or deleted: a
second approval is a second row, and the report shows the latest of each role.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

MONTH = "month ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'"
ROLE = "role IN ('verified', 'approved')"


def upgrade() -> None:
    op.create_table(
        "report_approvals",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("month", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("approved_by", sa.Text(), nullable=False),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text()),
        sa.Column("report_sha256", sa.Text(), nullable=False),
        sa.Column("report_generated_at", sa.DateTime(timezone=True)),
        sa.Column("run_id", sa.BigInteger()),
        sa.CheckConstraint(MONTH, name=op.f("ck_report_approvals_month")),
        sa.CheckConstraint(ROLE, name=op.f("ck_report_approvals_role")),
        sa.CheckConstraint(
            "length(btrim(approved_by)) > 0", name=op.f("ck_report_approvals_approver")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_approvals")),
    )
    op.create_index(
        "ix_report_approvals_month", "report_approvals", ["month", sa.text("approved_at DESC")]
    )


def downgrade() -> None:
    op.drop_index("ix_report_approvals_month", "report_approvals")
    op.drop_table("report_approvals")

"""scheduler: job runs with leases, the owner's job switches, indexes for the daily selections

Revision ID: 0006_scheduler
Revises: 0005_ledger_accounts
Create Date: 2026-12-06 11:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_scheduler"
down_revision: str | None = "0005_ledger_accounts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "job_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job", sa.String(length=40), nullable=False),
        sa.Column("period", sa.String(length=20), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(length=200), nullable=False),
        sa.CheckConstraint(
            "state IN ('running', 'done', 'failed', 'skipped')", name=op.f("ck_job_runs_state")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_runs")),
        sa.UniqueConstraint("job", "period", name="uq_job_runs_job_period"),
    )
    op.create_table(
        "job_settings",
        sa.Column("job", sa.String(length=40), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("job", name=op.f("pk_job_settings")),
    )
    op.create_index("ix_customers_birthday", "customers", ["birthday"], unique=False)
    op.create_index(
        "ix_ledger_entries_open_expiry",
        "ledger_entries",
        ["expires_at"],
        unique=False,
        postgresql_where=sa.text("remaining > 0"),
        sqlite_where=sa.text("remaining > 0"),
    )


def downgrade() -> None:
    op.drop_index("ix_ledger_entries_open_expiry", table_name="ledger_entries")
    op.drop_index("ix_customers_birthday", table_name="customers")
    op.drop_table("job_settings")
    op.drop_table("job_runs")

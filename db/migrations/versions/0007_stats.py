"""audit log, imported customers, indexes for statistics

Revision ID: 0007_stats
Revises: 0006_scheduler
Create Date: 2026-12-06 11:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_stats"
down_revision: str | None = "0006_scheduler"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.CheckConstraint(
            "channel IN ('messenger', 'pos', 'shell')", name=op.f("ck_audit_log_channel")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"], unique=False)
    with op.batch_alter_table("customers") as batch:
        batch.alter_column("telegram_id", existing_type=sa.BigInteger(), nullable=True)
        batch.add_column(sa.Column("imported_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column("consent_pending", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch.create_index("ix_customers_status_signed_up", ["status", "signed_up_at"])
        batch.create_index("ix_customers_status_source", ["status", "source_id"])
    with op.batch_alter_table("ledger_entries") as batch:
        batch.create_index("ix_ledger_entries_live", ["remaining", "expires_at"])
    with op.batch_alter_table("purchases") as batch:
        batch.create_index(
            "ix_purchases_customer_figures",
            ["customer_id", "created_at", "amount", "refunded_amount"],
        )
        batch.create_index("ix_purchases_created_at", ["created_at"])


def downgrade() -> None:
    with op.batch_alter_table("purchases") as batch:
        batch.drop_index("ix_purchases_created_at")
        batch.drop_index("ix_purchases_customer_figures")
    with op.batch_alter_table("ledger_entries") as batch:
        batch.drop_index("ix_ledger_entries_live")
    op.execute("DELETE FROM customers WHERE telegram_id IS NULL")
    with op.batch_alter_table("customers") as batch:
        batch.drop_index("ix_customers_status_source")
        batch.drop_index("ix_customers_status_signed_up")
        batch.drop_column("consent_pending")
        batch.drop_column("imported_at")
        batch.alter_column("telegram_id", existing_type=sa.BigInteger(), nullable=False)
    op.drop_index(op.f("ix_audit_log_at"), table_name="audit_log")
    op.drop_table("audit_log")

"""deliveries outbox and unreachable customers

Revision ID: 0004_deliveries
Revises: 0003_receipt_qr
Create Date: 2026-12-06 10:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_deliveries"
down_revision: str | None = "0003_receipt_qr"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("chat_id", sa.BigInteger(), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("advertising", sa.Boolean(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("dedup_key", sa.String(length=120), nullable=True),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("error", sa.String(length=200), nullable=False),
        sa.CheckConstraint(
            "state IN ('pending', 'sending', 'sent', 'failed', 'skipped')",
            name=op.f("ck_deliveries_state"),
        ),
        sa.CheckConstraint(
            "customer_id IS NOT NULL OR chat_id IS NOT NULL",
            name=op.f("ck_deliveries_recipient"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_deliveries_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
        sa.UniqueConstraint("dedup_key", name=op.f("uq_deliveries_dedup_key")),
    )
    op.create_index("ix_deliveries_due", "deliveries", ["state", "due_at"], unique=False)
    op.create_index(op.f("ix_deliveries_customer_id"), "deliveries", ["customer_id"], unique=False)
    op.create_index(op.f("ix_deliveries_campaign_id"), "deliveries", ["campaign_id"], unique=False)
    with op.batch_alter_table("customers") as batch:
        batch.add_column(sa.Column("unreachable_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.drop_column("unreachable_at")
    op.drop_index(op.f("ix_deliveries_campaign_id"), table_name="deliveries")
    op.drop_index(op.f("ix_deliveries_customer_id"), table_name="deliveries")
    op.drop_index("ix_deliveries_due", table_name="deliveries")
    op.drop_table("deliveries")

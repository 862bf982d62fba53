"""receipt QR tokens

Revision ID: 0003_receipt_qr
Revises: 0002_loyalty
Create Date: 2026-11-24 21:53:36.057513
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_receipt_qr"
down_revision: str | None = "0002_loyalty"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "receipt_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("store", sa.String(length=100), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("receipt_id", sa.String(length=64), nullable=False),
        sa.Column("receipt_key", sa.String(length=200), nullable=False),
        sa.Column("issued_by", sa.String(length=64), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.Integer(), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("purchase_id", sa.Integer(), nullable=True),
        sa.Column("voided_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("amount > 0", name=op.f("ck_receipt_tokens_amount")),
        sa.ForeignKeyConstraint(
            ["claimed_by"],
            ["customers.id"],
            name=op.f("fk_receipt_tokens_claimed_by_customers"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["purchase_id"],
            ["purchases.id"],
            name=op.f("fk_receipt_tokens_purchase_id_purchases"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_receipt_tokens")),
        sa.UniqueConstraint("receipt_key", name=op.f("uq_receipt_tokens_receipt_key")),
    )


def downgrade() -> None:
    op.drop_table("receipt_tokens")

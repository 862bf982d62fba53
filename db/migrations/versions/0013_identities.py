"""identities: a customer's messenger accounts (Telegram, WhatsApp) and links between them

Revision ID: 0013_identities
Revises: 0012_program
Create Date: 2026-12-06 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_identities"
down_revision: str | None = "0012_program"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "identities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_message_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "channel IN ('telegram', 'whatsapp')", name=op.f("ck_identities_channel")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_identities_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identities")),
        sa.UniqueConstraint("channel", "account_id", name=op.f("uq_identities_channel_account_id")),
    )
    op.create_index(op.f("ix_identities_customer_id"), "identities", ["customer_id"])
    op.create_table(
        "identity_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_identity_links_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_links")),
        sa.UniqueConstraint("code", name=op.f("uq_identity_links_code")),
    )
    op.create_index(op.f("ix_identity_links_customer_id"), "identity_links", ["customer_id"])
    with op.batch_alter_table("funnel_events") as batch:
        batch.add_column(
            sa.Column("channel", sa.String(length=16), server_default="telegram", nullable=False)
        )
    # Every customer who came through Telegram keeps that account, unchanged, as an identity.
    op.execute(
        "INSERT INTO identities (customer_id, channel, account_id, created_at)"
        " SELECT id, 'telegram', CAST(telegram_id AS VARCHAR(64)), created_at"
        " FROM customers WHERE telegram_id IS NOT NULL"
    )


def downgrade() -> None:
    # customers.telegram_id was kept all along; a WhatsApp-only customer keeps their row,
    # points and purchases, and loses only the account (they cannot be written to any more).
    with op.batch_alter_table("funnel_events") as batch:
        batch.drop_column("channel")
    op.drop_index(op.f("ix_identity_links_customer_id"), table_name="identity_links")
    op.drop_table("identity_links")
    op.drop_index(op.f("ix_identities_customer_id"), table_name="identities")
    op.drop_table("identities")

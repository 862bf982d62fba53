"""saved segments, campaigns and their members (the holdout among them)

Revision ID: 0009_campaigns
Revises: 0008_rights
Create Date: 2026-12-06 13:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_campaigns"
down_revision: str | None = "0008_rights"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "segments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_segments")),
        sa.UniqueConstraint("name", name=op.f("uq_segments_name")),
    )
    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("photo_file_id", sa.String(length=200), nullable=True),
        sa.Column("photo_data", sa.LargeBinary(), nullable=True),
        sa.Column("button_url", sa.String(length=500), nullable=True),
        sa.Column("segment_name", sa.String(length=100), nullable=True),
        sa.Column("segment", sa.JSON(), nullable=False),
        sa.Column("holdout_percent", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("targeted", sa.Integer(), server_default="0", nullable=False),
        sa.Column("held_out", sa.Integer(), server_default="0", nullable=False),
        sa.Column("expand_until", sa.Integer(), server_default="0", nullable=False),
        sa.Column("expanded_through", sa.Integer(), server_default="0", nullable=False),
        sa.CheckConstraint(
            "state IN ('draft', 'scheduled', 'running', 'paused', 'cancelled', 'done')",
            name=op.f("ck_campaigns_state"),
        ),
        sa.CheckConstraint(
            "holdout_percent >= 0 AND holdout_percent <= 90", name=op.f("ck_campaigns_holdout")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
    )
    op.create_index("ix_campaigns_state_start_at", "campaigns", ["state", "start_at"])
    op.create_table(
        "campaign_members",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("holdout", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_members_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_campaign_members_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("campaign_id", "customer_id", name=op.f("pk_campaign_members")),
    )
    op.create_index(
        op.f("ix_campaign_members_customer_id"), "campaign_members", ["customer_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_campaign_members_customer_id"), table_name="campaign_members")
    op.drop_table("campaign_members")
    op.drop_index("ix_campaigns_state_start_at", table_name="campaigns")
    op.drop_table("campaigns")
    op.drop_table("segments")

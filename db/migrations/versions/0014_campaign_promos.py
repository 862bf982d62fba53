"""campaign promos: a campaign's personal-code promotion; the promo code of a redemption request

Revision ID: 0014_campaign_promos
Revises: 0013_identities
Create Date: 2026-12-06 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_campaign_promos"
down_revision: str | None = "0013_identities"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(sa.Column("promotion_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_campaigns_promotion_id_promotions"),
            "promotions",
            ["promotion_id"],
            ["id"],
            ondelete="SET NULL",
        )
    with op.batch_alter_table("redemptions") as batch:
        batch.add_column(sa.Column("promo_code", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("redemptions") as batch:
        batch.drop_column("promo_code")
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_constraint(op.f("fk_campaigns_promotion_id_promotions"), type_="foreignkey")
        batch.drop_column("promotion_id")

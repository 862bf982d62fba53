"""a forgotten customer stays as an anonymous accounting record

Revision ID: 0008_rights
Revises: 0007_stats
Create Date: 2026-12-06 12:15:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008_rights"
down_revision: str | None = "0007_stats"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.drop_constraint(op.f("ck_customers_status"), type_="check")
        batch.create_check_constraint("status", "status IN ('pending', 'active', 'forgotten')")


def downgrade() -> None:
    # A forgotten customer has no place in the old schema: their row and, by cascade, its
    # anonymous records go (the behaviour before this revision).
    op.execute("DELETE FROM customers WHERE status = 'forgotten'")
    with op.batch_alter_table("customers") as batch:
        batch.drop_constraint(op.f("ck_customers_status"), type_="check")
        batch.create_check_constraint("status", "status IN ('pending', 'active')")

"""drop the indexes on customer_id alone of ledger_entries and purchases

Revision ID: 0016_lean_indexes
Revises: 0015_source_staff
Create Date: 2026-12-06 17:40:00

Each was the first column of a wider index on the same table (ix_ledger_entries_lots,
ix_purchases_customer_figures), which serves the same look-ups; every sale paid for writing
them (two more pages of the write-ahead log per purchase).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0016_lean_indexes"
down_revision: str | None = "0015_source_staff"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_ledger_entries_customer_id", table_name="ledger_entries")
    op.drop_index("ix_purchases_customer_id", table_name="purchases")


def downgrade() -> None:
    op.create_index("ix_purchases_customer_id", "purchases", ["customer_id"])
    op.create_index("ix_ledger_entries_customer_id", "ledger_entries", ["customer_id"])

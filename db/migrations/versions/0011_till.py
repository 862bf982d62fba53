"""the till in the messenger: redemptions the customer confirms; a lot drained by its allocation

Revision ID: 0011_till
Revises: 0010_promos
Create Date: 2026-12-06 13:50:00

Two things:
- `redemptions`: a cashier's (or a till's) request to spend a customer's points, waiting for the
  customer's tap in their own chat or the one-time code they read out. No points move until it
  is taken (a conditional UPDATE of `status`).
- A trigger on `ledger_allocations`: inserting an allocation takes its points out of the lot it
  names (`remaining -= points`; a negative allocation gives them back). The ledger used to send
  that UPDATE itself, a statement of its own on every redemption; now an allocation and its
  effect on the lot cannot be written apart, and a redemption is five statements (issue 9).
  SQLite speaks the trigger directly; PostgreSQL through a plpgsql function.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_till"
down_revision: str | None = "0010_promos"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TRIGGER = "trg_ledger_allocations_take"
FUNCTION = "ledger_allocation_take"
TAKE = "UPDATE ledger_entries SET remaining = remaining - NEW.points WHERE id = NEW.lot_id;"


def _create_trigger() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            f"CREATE TRIGGER {TRIGGER} AFTER INSERT ON ledger_allocations "
            f"FOR EACH ROW BEGIN {TAKE} END"
        )
        return
    op.execute(
        f"CREATE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN {TAKE} RETURN NULL; END $$"
    )
    op.execute(
        f"CREATE TRIGGER {TRIGGER} AFTER INSERT ON ledger_allocations "
        f"FOR EACH ROW EXECUTE FUNCTION {FUNCTION}()"
    )


def _drop_trigger() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"DROP TRIGGER IF EXISTS {TRIGGER}")
        return
    op.execute(f"DROP TRIGGER IF EXISTS {TRIGGER} ON ledger_allocations")
    op.execute(f"DROP FUNCTION IF EXISTS {FUNCTION}()")


def upgrade() -> None:
    op.create_table(
        "redemptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("store", sa.String(length=100), nullable=False),
        sa.Column("receipt_id", sa.String(length=64), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("notify_chat", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'confirmed', 'declined', 'cancelled')",
            name=op.f("ck_redemptions_status"),
        ),
        sa.CheckConstraint("points > 0", name=op.f("ck_redemptions_points")),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_redemptions_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_redemptions")),
        sa.UniqueConstraint("store", "receipt_id", name=op.f("uq_redemptions_store_receipt_id")),
    )
    op.create_index(
        op.f("ix_redemptions_customer_id"), "redemptions", ["customer_id"], unique=False
    )
    _create_trigger()


def downgrade() -> None:
    _drop_trigger()
    op.drop_index(op.f("ix_redemptions_customer_id"), table_name="redemptions")
    op.drop_table("redemptions")

"""loyalty: lots, purchases, staff, pos tokens

Revision ID: 0002_loyalty
Revises: 0001_signup
Create Date: 2026-11-24 21:39:40.266204
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_loyalty"
down_revision: str | None = "0001_signup"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = "kind IN ('accrual', 'bonus', 'redemption', 'expiry', 'reversal', 'refund', 'adjustment')"


def upgrade() -> None:
    op.create_table(
        "pos_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("store", sa.String(length=100), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pos_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_pos_tokens_token_hash")),
    )
    op.create_table(
        "staff",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("telegram_id", sa.BigInteger(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("store", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff")),
        sa.UniqueConstraint("telegram_id", name=op.f("uq_staff_telegram_id")),
    )
    op.create_table(
        "staff_invites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("store", sa.String(length=100), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_by", sa.BigInteger(), nullable=True),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_invites")),
    )
    op.create_table(
        "purchases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("store", sa.String(length=100), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("redeemed", sa.Integer(), nullable=False),
        sa.Column("accrued", sa.Integer(), nullable=False),
        sa.Column("refunded_amount", sa.BigInteger(), nullable=False),
        sa.Column("receipt_id", sa.String(length=64), nullable=True),
        sa.Column("receipt_key", sa.String(length=200), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_purchases_amount")),
        sa.CheckConstraint(
            "refunded_amount >= 0 AND refunded_amount <= amount", name=op.f("ck_purchases_refunded")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_purchases_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purchases")),
        sa.UniqueConstraint("receipt_key", name=op.f("uq_purchases_receipt_key")),
    )
    with op.batch_alter_table("purchases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_purchases_customer_id"), ["customer_id"], unique=False)

    op.create_table(
        "purchase_refunds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("purchase_id", sa.Integer(), nullable=False),
        sa.Column("refund_key", sa.String(length=200), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("reversed_points", sa.Integer(), nullable=False),
        sa.Column("returned_points", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["purchase_id"],
            ["purchases.id"],
            name=op.f("fk_purchase_refunds_purchase_id_purchases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_purchase_refunds")),
        sa.UniqueConstraint("refund_key", name=op.f("uq_purchase_refunds_refund_key")),
    )
    with op.batch_alter_table("purchase_refunds", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_purchase_refunds_purchase_id"), ["purchase_id"], unique=False
        )
    op.create_table(
        "ledger_allocations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("lot_id", sa.Integer(), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["ledger_entries.id"],
            name=op.f("fk_ledger_allocations_entry_id_ledger_entries"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["lot_id"],
            ["ledger_entries.id"],
            name=op.f("fk_ledger_allocations_lot_id_ledger_entries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_allocations")),
    )
    with op.batch_alter_table("ledger_allocations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_ledger_allocations_entry_id"), ["entry_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_ledger_allocations_lot_id"), ["lot_id"], unique=False)

    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("card_code", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("referrer_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("ledger_version", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.create_unique_constraint(batch_op.f("uq_customers_card_code"), ["card_code"])
        batch_op.create_foreign_key(
            batch_op.f("fk_customers_referrer_id_customers"),
            "customers",
            ["referrer_id"],
            ["id"],
            ondelete="SET NULL",
        )

    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("remaining", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("purchase_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("actor", sa.String(length=64), server_default="", nullable=False)
        )
        batch_op.create_index("ix_ledger_entries_lots", ["customer_id", "remaining"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_ledger_entries_purchase_id"), ["purchase_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_ledger_entries_purchase_id_purchases"),
            "purchases",
            ["purchase_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_check_constraint("kind", KINDS)
        batch_op.create_check_constraint("remaining", "remaining IS NULL OR remaining >= 0")

    # Credits made before lots existed (welcome bonuses) become lots holding all their points.
    op.execute("UPDATE ledger_entries SET remaining = points WHERE points > 0")
    _give_card_codes()


def _give_card_codes() -> None:
    """Members who joined before cards existed get a card number like everyone after them."""
    from bot.domain.cards import new_card_code

    connection = op.get_bind()
    customers = sa.table("customers", sa.column("id", sa.Integer), sa.column("card_code"))
    ids = connection.execute(
        sa.select(customers.c.id).where(customers.c.card_code.is_(None))
    ).scalars()
    used: set[str] = set()
    for customer_id in list(ids):
        code = new_card_code()
        while code in used:
            code = new_card_code()
        used.add(code)
        connection.execute(
            customers.update().where(customers.c.id == customer_id).values(card_code=code)
        )


def downgrade() -> None:
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_ledger_entries_remaining"), type_="check")
        batch_op.drop_constraint(op.f("ck_ledger_entries_kind"), type_="check")
        batch_op.drop_constraint(
            batch_op.f("fk_ledger_entries_purchase_id_purchases"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_ledger_entries_purchase_id"))
        batch_op.drop_index("ix_ledger_entries_lots")
        batch_op.drop_column("actor")
        batch_op.drop_column("purchase_id")
        batch_op.drop_column("expires_at")
        batch_op.drop_column("remaining")

    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_customers_referrer_id_customers"), type_="foreignkey"
        )
        batch_op.drop_constraint(batch_op.f("uq_customers_card_code"), type_="unique")
        batch_op.drop_column("ledger_version")
        batch_op.drop_column("referrer_id")
        batch_op.drop_column("card_code")

    with op.batch_alter_table("ledger_allocations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_allocations_lot_id"))
        batch_op.drop_index(batch_op.f("ix_ledger_allocations_entry_id"))

    op.drop_table("ledger_allocations")
    op.drop_table("purchase_refunds")
    with op.batch_alter_table("purchases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_purchases_customer_id"))

    op.drop_table("purchases")
    op.drop_table("staff_invites")
    op.drop_table("staff")
    op.drop_table("pos_tokens")

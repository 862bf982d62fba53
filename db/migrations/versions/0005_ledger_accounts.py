"""ledger accounts on the customer row; receipts and refunds keyed by their parts

The customer row keeps what the ledger lock statement hands back (spend net of returns and the
number of purchases), filled here from the purchases. Receipts were keyed "store:id", which
collides across stores whose names hold ":" (store "A" receipt "B:1" vs store "A:B" receipt
"1"): purchases and receipt QR tokens get a unique (store, receipt_id) instead, and refunds a
unique (purchase_id, refund_id) instead of "purchase:refund".

Revision ID: 0005_ledger_accounts
Revises: 0004_deliveries
Create Date: 2026-12-06 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_ledger_accounts"
down_revision: str | None = "0004_deliveries"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

customers = sa.table(
    "customers",
    sa.column("id", sa.Integer),
    sa.column("spend", sa.BigInteger),
    sa.column("purchase_count", sa.Integer),
)
purchases = sa.table(
    "purchases",
    sa.column("id", sa.Integer),
    sa.column("customer_id", sa.Integer),
    sa.column("store", sa.String),
    sa.column("receipt_id", sa.String),
    sa.column("receipt_key", sa.String),
    sa.column("amount", sa.BigInteger),
    sa.column("refunded_amount", sa.BigInteger),
)
tokens = sa.table(
    "receipt_tokens",
    sa.column("store", sa.String),
    sa.column("receipt_id", sa.String),
    sa.column("receipt_key", sa.String),
)
refunds = sa.table(
    "purchase_refunds",
    sa.column("id", sa.Integer),
    sa.column("purchase_id", sa.Integer),
    sa.column("refund_id", sa.String),
    sa.column("refund_key", sa.String),
)


def upgrade() -> None:
    with op.batch_alter_table("customers") as batch:
        batch.add_column(sa.Column("spend", sa.BigInteger(), server_default="0", nullable=False))
        batch.add_column(
            sa.Column("purchase_count", sa.Integer(), server_default="0", nullable=False)
        )
    mine = purchases.c.customer_id == customers.c.id
    op.execute(
        customers.update().values(
            spend=sa.select(
                sa.func.coalesce(sa.func.sum(purchases.c.amount - purchases.c.refunded_amount), 0)
            )
            .where(mine)
            .scalar_subquery(),
            purchase_count=sa.select(sa.func.count()).where(mine).scalar_subquery(),
        )
    )
    # A blank receipt id was stored as "" with no key: it never made two purchases one.
    op.execute(purchases.update().where(purchases.c.receipt_id == "").values(receipt_id=None))
    with op.batch_alter_table("purchases") as batch:
        batch.drop_constraint("uq_purchases_receipt_key", type_="unique")
        batch.drop_column("receipt_key")
        batch.create_unique_constraint("uq_purchases_store_receipt_id", ["store", "receipt_id"])
    with op.batch_alter_table("receipt_tokens") as batch:
        batch.drop_constraint("uq_receipt_tokens_receipt_key", type_="unique")
        batch.drop_column("receipt_key")
        batch.create_unique_constraint(
            "uq_receipt_tokens_store_receipt_id", ["store", "receipt_id"]
        )
    with op.batch_alter_table("purchase_refunds") as batch:
        batch.add_column(sa.Column("refund_id", sa.String(length=64), nullable=True))
    connection = op.get_bind()
    for row_id, purchase_id, key in connection.execute(
        sa.select(refunds.c.id, refunds.c.purchase_id, refunds.c.refund_key)
    ):
        refund_id = key[len(f"{purchase_id}:") :][:64]
        connection.execute(
            refunds.update().where(refunds.c.id == row_id).values(refund_id=refund_id)
        )
    with op.batch_alter_table("purchase_refunds") as batch:
        batch.alter_column("refund_id", existing_type=sa.String(length=64), nullable=False)
        batch.drop_constraint("uq_purchase_refunds_refund_key", type_="unique")
        batch.drop_column("refund_key")
        batch.create_unique_constraint(
            "uq_purchase_refunds_purchase_id_refund_id", ["purchase_id", "refund_id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("purchase_refunds") as batch:
        batch.add_column(sa.Column("refund_key", sa.String(length=200), nullable=True))
    connection = op.get_bind()
    for row_id, purchase_id, refund_id in connection.execute(
        sa.select(refunds.c.id, refunds.c.purchase_id, refunds.c.refund_id)
    ):
        connection.execute(
            refunds.update()
            .where(refunds.c.id == row_id)
            .values(refund_key=f"{purchase_id}:{refund_id}")
        )
    with op.batch_alter_table("purchase_refunds") as batch:
        batch.alter_column("refund_key", existing_type=sa.String(length=200), nullable=False)
        batch.drop_constraint("uq_purchase_refunds_purchase_id_refund_id", type_="unique")
        batch.drop_column("refund_id")
        batch.create_unique_constraint("uq_purchase_refunds_refund_key", ["refund_key"])
    glued = tokens.c.store + ":" + tokens.c.receipt_id
    with op.batch_alter_table("receipt_tokens") as batch:
        batch.add_column(sa.Column("receipt_key", sa.String(length=200), nullable=True))
    op.execute(tokens.update().values(receipt_key=glued))
    with op.batch_alter_table("receipt_tokens") as batch:
        batch.alter_column("receipt_key", existing_type=sa.String(length=200), nullable=False)
        batch.drop_constraint("uq_receipt_tokens_store_receipt_id", type_="unique")
        batch.create_unique_constraint("uq_receipt_tokens_receipt_key", ["receipt_key"])
    with op.batch_alter_table("purchases") as batch:
        batch.add_column(sa.Column("receipt_key", sa.String(length=200), nullable=True))
    op.execute(
        purchases.update()
        .where(purchases.c.receipt_id.is_not(None))
        .values(receipt_key=purchases.c.store + ":" + purchases.c.receipt_id)
    )
    with op.batch_alter_table("purchases") as batch:
        batch.drop_constraint("uq_purchases_store_receipt_id", type_="unique")
        batch.create_unique_constraint("uq_purchases_receipt_key", ["receipt_key"])
    # SQLite (3.35+) drops a plain column in place: no copy of the customers table needed.
    op.drop_column("customers", "purchase_count")
    op.drop_column("customers", "spend")

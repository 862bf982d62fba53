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

OLD = "status IN ('pending', 'active')"
NEW = "status IN ('pending', 'active', 'forgotten')"


def _replace_status_check(before: str, after: str) -> None:
    """Swap the CHECK on customers.status.

    SQLite cannot alter a constraint. A CHECK that only accepts more values does not change a
    byte of the stored rows, so SQLite's documented procedure for such changes applies instead
    of copying the whole table: rewrite the table's definition in the schema and bump the schema
    version (sqlite.org/lang_altertable.html, s. 7).
    """
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        op.drop_constraint(op.f("ck_customers_status"), "customers", type_="check")
        op.create_check_constraint(op.f("ck_customers_status"), "customers", after)
        return
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
    bind.exec_driver_sql("PRAGMA writable_schema=ON")
    bind.exec_driver_sql(
        "UPDATE sqlite_master SET sql = replace(sql, ?, ?) WHERE type = 'table' AND name = ?",
        (before, after, "customers"),
    )
    bind.exec_driver_sql(f"PRAGMA schema_version={int(version) + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema=OFF")


def upgrade() -> None:
    _replace_status_check(OLD, NEW)


FORGOTTEN = "SELECT id FROM customers WHERE status = 'forgotten'"
THEIR_ENTRIES = f"SELECT id FROM ledger_entries WHERE customer_id IN ({FORGOTTEN})"
THEIR_PURCHASES = f"SELECT id FROM purchases WHERE customer_id IN ({FORGOTTEN})"


def downgrade() -> None:
    # A forgotten customer has no place in the old schema: the row and its anonymous records go,
    # as withdrawal did before this revision. Spelled out rather than left to ON DELETE, since
    # SQLite migrations run with foreign keys off (`db.migrate`).
    for statement in (
        f"DELETE FROM ledger_allocations WHERE entry_id IN ({THEIR_ENTRIES})"
        f" OR lot_id IN ({THEIR_ENTRIES})",
        f"DELETE FROM ledger_entries WHERE customer_id IN ({FORGOTTEN})",
        f"DELETE FROM purchase_refunds WHERE purchase_id IN ({THEIR_PURCHASES})",
        f"UPDATE receipt_tokens SET purchase_id = NULL WHERE purchase_id IN ({THEIR_PURCHASES})",
        f"UPDATE receipt_tokens SET claimed_by = NULL WHERE claimed_by IN ({FORGOTTEN})",
        f"DELETE FROM purchases WHERE customer_id IN ({FORGOTTEN})",
        f"DELETE FROM consents WHERE customer_id IN ({FORGOTTEN})",
        f"DELETE FROM deliveries WHERE customer_id IN ({FORGOTTEN})",
        f"UPDATE customers SET referrer_id = NULL WHERE referrer_id IN ({FORGOTTEN})",
        "DELETE FROM customers WHERE status = 'forgotten'",
    ):
        op.execute(statement)
    _replace_status_check(NEW, OLD)

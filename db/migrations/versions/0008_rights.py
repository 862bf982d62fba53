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

    SQLite cannot alter a constraint, and the batch way (copy the table, drop the old one) runs
    with foreign keys on, so dropping `customers` would cascade away every purchase, ledger entry
    and consent. A CHECK that only accepts more values does not change a byte of the stored rows,
    so SQLite's documented procedure for such changes applies instead: rewrite the table's
    definition in the schema and bump the schema version (sqlite.org/lang_altertable.html, s. 7).
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


def downgrade() -> None:
    # A forgotten customer has no place in the old schema: the row and, by cascade, its
    # anonymous records go, as withdrawal did before this revision.
    op.execute("DELETE FROM customers WHERE status = 'forgotten'")
    _replace_status_check(NEW, OLD)

"""an employee's QR code names the member of staff it belongs to (sources.staff_id)

Revision ID: 0015_source_staff
Revises: 0014_campaign_promos
Create Date: 2026-12-06 15:05:00

Existing employee sources are linked once, by name: a source whose employee name equals
exactly one member of staff's name (case and spaces aside) gets that member; an ambiguous or
unknown name stays unlinked.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_source_staff"
down_revision: str | None = "0014_campaign_promos"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _key(name: str) -> str:
    return " ".join((name or "").split()).casefold()


def upgrade() -> None:
    with op.batch_alter_table("sources", schema=None) as batch_op:
        batch_op.add_column(sa.Column("staff_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_sources_staff_id_staff"),
            "staff",
            ["staff_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_index(batch_op.f("ix_sources_staff_id"), ["staff_id"], unique=False)
    bind = op.get_bind()
    by_name: dict[str, list[int]] = {}
    for staff_id, name in bind.execute(sa.text("SELECT id, name FROM staff")):
        if _key(name):
            by_name.setdefault(_key(name), []).append(staff_id)
    rows = bind.execute(sa.text("SELECT id, employee FROM sources WHERE employee <> ''")).all()
    for source_id, employee in rows:
        matches = by_name.get(_key(employee), [])
        if len(matches) == 1:
            bind.execute(
                sa.text("UPDATE sources SET staff_id = :staff WHERE id = :id"),
                {"staff": matches[0], "id": source_id},
            )


def downgrade() -> None:
    with op.batch_alter_table("sources", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sources_staff_id"))
        batch_op.drop_constraint(batch_op.f("fk_sources_staff_id_staff"), type_="foreignkey")
        batch_op.drop_column("staff_id")

"""Half-filled forms (aiogram FSM records): every change is one statement, built once."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, bindparam, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from db.base import utcnow
from db.hot import Hot
from db.models import FsmRecord

Form = tuple[str | None, dict[str, Any]]  # (state, data)
# Core statements on the table: no ORM unit of work for a row that is only ever replaced whole.
_TABLE: Table = FsmRecord.__table__  # type: ignore[assignment]
# Parameters are named apart from the columns: SQLAlchemy keeps column names for itself.
_VALUES: dict[str, Any] = {
    "state": bindparam("p_state"),
    "data": bindparam("p_data"),
    "updated_at": bindparam("p_at"),
}
_ALL = select(_TABLE.c.key, _TABLE.c.state, _TABLE.c.data)
# A form step writes one of these: hot statements (db/hot.py), sent as one driver call each.
_ADD = Hot(insert(_TABLE).values(key=bindparam("p_key"), **_VALUES))
_CHANGE = Hot(update(_TABLE).where(_TABLE.c.key == bindparam("p_key")).values(**_VALUES))
_DROP = Hot(delete(_TABLE).where(_TABLE.c.key == bindparam("p_key")))


async def all_forms(session: AsyncSession) -> list[tuple[str, str | None, dict[str, Any]]]:
    """Every open form: a cleared form leaves no row, so these are the forms people are in."""
    return [(key, state, dict(data or {})) for key, state, data in await session.execute(_ALL)]


def _change_of(key: str, new: Form | None, old: Form | None) -> tuple[Hot, dict[str, Any]]:
    """The one statement that takes the stored form `old` to `new` (None: no row)."""
    if new is None:
        return _DROP, {"p_key": key}
    return (_ADD if old is None else _CHANGE), _params(key, *new)


async def write_form(session: AsyncSession, key: str, new: Form | None, old: Form | None) -> None:
    """One form's change inside the session's unit of work."""
    hot, params = _change_of(key, new, old)
    await hot.rows(session, **params)


async def save_form(engine: AsyncEngine, key: str, new: Form | None, old: Form | None) -> None:
    """One form's change as a unit of work of its own: one statement, committed."""
    hot, params = _change_of(key, new, old)
    await hot.once(engine, **params)


def _params(key: str, state: str | None, data: dict) -> dict[str, Any]:
    return {"p_key": key, "p_state": state, "p_data": data, "p_at": utcnow()}

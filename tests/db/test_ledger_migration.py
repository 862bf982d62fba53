"""Migration 0005 carries existing purchases, receipt QR tokens and refunds over, both ways."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from db import migrate

ROWS_AT_0004 = [
    "INSERT INTO customers (id, telegram_id, status, language, interests, ads_opt_in,"
    " created_at, ledger_version) VALUES (1, 101, 'active', 'ru', '[]', false,"
    " '2026-01-01 00:00:00', 3)",
    "INSERT INTO purchases (id, customer_id, store, amount, redeemed, accrued, refunded_amount,"
    " receipt_id, receipt_key, channel, actor, created_at) VALUES"
    " (1, 1, 'A:B', 10000, 0, 5, 4000, '1', 'A:B:1', 'pos', 'pos', '2026-01-01 00:00:00'),"
    " (2, 1, 'A', 20000, 0, 10, 0, NULL, NULL, 'pos', 'pos', '2026-01-01 00:00:00'),"
    " (3, 1, 'A', 30000, 0, 15, 0, '', NULL, 'pos', 'pos', '2026-01-01 00:00:00'),"
    " (4, 1, 'A', 40000, 0, 20, 0, '', NULL, 'pos', 'pos', '2026-01-01 00:00:00')",
    "INSERT INTO purchase_refunds (id, purchase_id, refund_key, amount, reversed_points,"
    " returned_points, actor, created_at) VALUES"
    " (1, 1, '1:ret:7', 4000, 2, 0, 'pos', '2026-01-02 00:00:00')",
    "INSERT INTO receipt_tokens (id, store, amount, receipt_id, receipt_key, issued_by,"
    " issued_at, purchase_id) VALUES (1, 'A:B', 500, '9', 'A:B:9', 'pos',"
    " '2026-01-01 00:00:00', 1)",
    "INSERT INTO ledger_entries (id, customer_id, kind, points, reason, idempotency_key,"
    " created_at, remaining, purchase_id, actor) VALUES (1, 1, 'accrual', 5, '', 'accrual:1',"
    " '2026-01-01 00:00:00', 5, 1, 'pos')",
]


async def _rows(engine: AsyncEngine, sql: str) -> list[tuple]:
    async with engine.connect() as connection:
        return [tuple(row) for row in await connection.execute(text(sql))]


async def test_rows_are_carried_over_and_back(engine: AsyncEngine) -> None:
    await migrate.downgrade(engine, "0004_deliveries")
    async with engine.begin() as connection:
        for statement in ROWS_AT_0004:
            await connection.execute(text(statement))
    await migrate.upgrade(engine)
    assert await _rows(engine, "SELECT spend, purchase_count FROM customers") == [
        (10000 - 4000 + 20000 + 30000 + 40000, 4)
    ]
    assert await _rows(engine, "SELECT id, store, receipt_id FROM purchases ORDER BY id") == [
        (1, "A:B", "1"),
        (2, "A", None),
        (3, "A", None),  # a blank receipt id never made two purchases one
        (4, "A", None),
    ]
    assert await _rows(engine, "SELECT purchase_id, refund_id FROM purchase_refunds") == [
        (1, "ret:7")
    ]
    assert await _rows(engine, "SELECT store, receipt_id, purchase_id FROM receipt_tokens") == [
        ("A:B", "9", 1)
    ]
    assert await _rows(engine, "SELECT purchase_id FROM ledger_entries") == [(1,)]
    await migrate.downgrade(engine, "0004_deliveries")
    assert await _rows(engine, "SELECT refund_key FROM purchase_refunds") == [("1:ret:7",)]
    assert await _rows(engine, "SELECT receipt_key FROM receipt_tokens") == [("A:B:9",)]
    assert await _rows(engine, "SELECT purchase_id FROM ledger_entries") == [(1,)]
    assert await _rows(engine, "SELECT receipt_key FROM purchases ORDER BY id") == [
        ("A:B:1",),
        (None,),
        (None,),
        (None,),
    ]

"""Export and import of the base, the audit entries they leave, and an imported customer who
comes to the bot later: on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import time
from datetime import UTC, date, datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.domain import sheets
from bot.domain.questionnaire import Step
from bot.services import audit, exchange, ledger, signup
from bot.services.permissions import SHELL
from bot.texts import texts_for
from db.models import AuditEntry, Consent, Customer, LedgerEntry
from tests.db.conftest import PROGRAM

LINK_KEY = b"test-link-key-0123456789"
NOW = datetime(2026, 3, 18, 12, 0, tzinfo=UTC)
RU = texts_for("ru")


def _csv(*lines: str) -> bytes:
    return "\n".join(lines).encode("utf-8")


async def _import(
    sessions: async_sessionmaker, data: bytes, now: datetime | None = NOW
) -> exchange.ImportResult:
    async with sessions() as session:
        return await exchange.run_import(
            session,
            PROGRAM,
            LINK_KEY,
            data,
            actor="shell",
            channel=audit.Channel.SHELL,
            language="ru",
            now=now,
            by=SHELL,
        )


async def _export(sessions: async_sessionmaker, fmt: str = "xlsx") -> exchange.Export:
    async with sessions() as session:
        return await exchange.export(
            session,
            LINK_KEY,
            PROGRAM,
            RU,
            (fmt,),
            actor="tg:900001",
            channel=audit.Channel.MESSENGER,
            bot_username="shop_bot",
            now=NOW,
            by=SHELL,
        )


async def _count(sessions: async_sessionmaker, model: type) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def _balances(sessions: async_sessionmaker) -> dict[str, int]:
    async with sessions() as session:
        customers = list(await session.scalars(select(Customer).order_by(Customer.id)))
        return {c.phone or "": await ledger.points_of(session, c.id, NOW) for c in customers}


OLD_BASE = _csv(
    "Имя;Телефон;День рождения;Пол;Город;Баллы;Согласие",
    "Анна Петрова;8 (916) 123-45-67;25.03.1990;ж;Москва;150;01.02.2024",
    "Борис;+7 916 222 33 44;1985-07-01;муж;Тверь;;15.11.2023",
    '=HYPERLINK("http://evil");9163334455;;;;20;2024-05-05',
    "Вера;+79165556677;;;;;",
)


async def test_export_then_import_round_trip(sessions: async_sessionmaker) -> None:
    await _import(sessions, OLD_BASE)
    before = await _balances(sessions)
    exported = await _export(sessions)
    assert (exported.customers, exported.with_personal_data) == (4, 3)

    book = load_workbook(io.BytesIO(exported.files[0].data))
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert rows[0] == RU.export_columns
    header = {name: index for index, name in enumerate(rows[0])}
    by_phone = {row[header["Телефон"]]: row for row in rows[1:]}
    anna = by_phone["'+79161234567"]  # neutralised: a cell starting with + is not a formula
    assert anna[header["Имя"]] == "Анна Петрова" and anna[header["Баллы"]] == 150
    assert (
        anna[header["Согласие"]] == "2024-02-01" and anna[header["Статус согласия"]] == "действует"
    )
    evil = by_phone["'+79163334455"]
    assert evil[header["Имя"]] == '\'=HYPERLINK("http://evil")'
    # Vera gave no dated consent: no personal data leaves, only her invite link.
    vera = next(row for row in rows[1:] if row[header["Статус согласия"]] == "ждёт согласия")
    assert vera[header["Имя"]] is None and vera[header["Телефон"]] is None
    assert vera[header["Ссылка-приглашение"]].startswith("https://t.me/shop_bot?start=m")

    async with sessions() as session:
        await session.execute(delete(Customer))
        await session.commit()
    result = await _import(sessions, exported.files[0].data)
    # Vera's row carries no phone (no consent, no personal data): the only row not taken.
    assert result.plan.refused == (sheets.Refused(5, "phone_missing", ""),)
    assert result.plan.new_customers == 3
    after = await _balances(sessions)
    assert after == {phone: points for phone, points in before.items() if phone != "+79165556677"}
    async with sessions() as session:
        anna_row = await session.scalar(select(Customer).where(Customer.phone == "+79161234567"))
        evil_row = await session.scalar(select(Customer).where(Customer.phone == "+79163334455"))
    assert anna_row is not None and anna_row.birthday == date(1990, 3, 25)
    assert anna_row.gender == "female" and anna_row.city == "Москва"
    assert evil_row is not None and evil_row.name == '=HYPERLINK("http://evil")'


async def test_csv_export_neutralises_formulas(sessions: async_sessionmaker) -> None:
    await _import(sessions, OLD_BASE)
    text = (await _export(sessions, "csv")).files[0].data.decode("utf-8-sig")
    cells = [cell for row in csv.reader(io.StringIO(text), delimiter=";") for cell in row]
    assert '\'=HYPERLINK("http://evil")' in cells and "'+79161234567" in cells
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@")]


async def test_dry_run_names_bad_rows_and_writes_nothing(sessions: async_sessionmaker) -> None:
    data = _csv(
        "Name,Phone,Birthday,Points,Consent date",
        "Anna,+7 916 123-45-67,1990-03-25,10,",
        "No phone,,,,",
        "Bad phone,12345,,,",
        "Bad birthday,+79160000002,31.02.1990,,",
        "Bad points,+79160000003,,ten,",
        "Future consent,+79160000004,,,01.01.2099",
        "Anna again,89161234567,,5,",
    )
    async with sessions() as session:
        plan = await exchange.plan_import(session, data, today=NOW.date(), by=SHELL)
    assert [(r.number, r.reason) for r in plan.refused] == [
        (3, "phone_missing"),
        (4, "phone"),
        (5, "birthday"),
        (6, "points"),
        (7, "consent"),
    ]
    assert plan.merges == (exchange.Merge(8, 2, None),)
    assert (plan.rows, plan.new_customers, plan.points, plan.consent_pending) == (7, 1, 15, 1)
    report = exchange.plan_text(plan, texts_for("en"))
    assert "row 4: phone not recognised" in report
    assert "row 7: consent date not recognised or in the future" in report
    assert "row 8 → row 2 (same phone)" in report
    assert await _count(sessions, Customer) == 0
    assert await _count(sessions, AuditEntry) == 0


async def test_duplicates_against_the_base_get_points_not_a_new_profile(
    sessions: async_sessionmaker,
) -> None:
    async with sessions() as session:
        session.add(Customer(telegram_id=77, status="active", name="Анна", phone="+79161234567"))
        await session.commit()
    data = _csv("Имя;Телефон;Баллы", "Другое имя;+79161234567;40", "Пётр;+79160000009;")
    result = await _import(sessions, data)
    assert result.plan.merges[0].customer_id is not None and result.plan.new_customers == 1
    again = await _import(sessions, data)  # the same file twice credits nobody twice
    assert again.plan.new_customers == 0
    async with sessions() as session:
        anna = await session.scalar(select(Customer).where(Customer.telegram_id == 77))
        assert anna is not None and anna.name == "Анна"
        assert await ledger.points_of(session, anna.id, NOW) == 40


async def test_a_failure_midway_leaves_nothing(
    sessions: async_sessionmaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def failing(*args: object, **kwargs: object) -> int:
        raise RuntimeError("disk full")  # after the customers and consents were written

    monkeypatch.setattr(ledger, "grant_bonuses", failing)
    with pytest.raises(RuntimeError):
        await _import(sessions, OLD_BASE)
    assert await _count(sessions, Customer) == 0
    assert await _count(sessions, LedgerEntry) == 0
    assert await _count(sessions, AuditEntry) == 0


async def test_export_and_import_are_audited(sessions: async_sessionmaker) -> None:
    await _import(sessions, OLD_BASE)
    await _export(sessions)
    async with sessions() as session:
        shown = await audit.page(session, by=SHELL)
    assert [(r.action, r.actor, r.channel) for r in shown.records] == [
        ("export", "tg:900001", "messenger"),
        ("import", "shell", "shell"),
    ]
    assert shown.records[0].details == {"formats": "xlsx", "customers": 4, "with_personal_data": 3}
    assert shown.records[1].details["created"] == 4
    flat = repr([r.details for r in shown.records])
    assert "7916" not in flat and "Анна" not in flat  # no personal data in the audit log


async def test_ten_thousand_rows_in_one_transaction(sessions: async_sessionmaker) -> None:
    lines = ["Имя;Телефон;День рождения;Баллы;Согласие"]
    lines += [
        f"Клиент {i};+7916{i:07d};{1 + i % 28:02d}.{1 + i % 12:02d}.19{50 + i % 50};{i % 7 * 10};"
        + ("01.02.2024" if i % 2 else "")
        for i in range(10_000)
    ]
    started = time.perf_counter()
    result = await _import(sessions, "\n".join(lines).encode())
    elapsed = time.perf_counter() - started
    print(f"10 000 rows imported in {elapsed:.1f} s")
    assert result.plan.new_customers == 10_000 and result.plan.refused == ()
    assert len(result.invites) == 5_000
    assert await _count(sessions, Customer) == 10_000
    assert await _count(sessions, Consent) == 5_000
    async with sessions() as session:
        total = await session.scalar(select(func.sum(LedgerEntry.remaining)))
    assert total == sum(i % 7 * 10 for i in range(10_000))


async def test_an_imported_customer_is_taken_over_only_by_a_proved_phone(
    sessions: async_sessionmaker,
) -> None:
    result = await _import(sessions, _csv("Имя;Телефон;Баллы", "Вера;+79165556677;300"), None)
    imported_id = result.invites[0].customer_id
    async with sessions() as session:
        await signup.give_consent(session, 4242, "ru", None, "consent text")
        await signup.save_answer(session, 4242, Step.NAME, "Вера Н.")
        typed = await signup.save_phone(session, LINK_KEY, 4242, "+79165556677")
        assert typed is not None and typed.imported  # a typed number proves nothing
        shared = await signup.save_phone(
            session, LINK_KEY, 4242, "+79165556677", shared_contact=True
        )
    assert shared is None
    async with sessions() as session:
        welcome = await signup.complete(session, 4242, False, "ads", "ru", PROGRAM)
    assert welcome.balance == 300 + PROGRAM.welcome_bonus
    async with sessions() as session:
        rows = list(await session.scalars(select(Customer)))
    assert [(c.telegram_id, c.phone, c.name) for c in rows] == [(4242, "+79165556677", "Вера Н.")]
    assert rows[0].id != imported_id


def test_neutralise() -> None:
    for dangerous in ("=1+1", "+7916", "-2", "@SUM(A1)", "\tx", "\rx"):
        assert sheets.neutralise(dangerous) == "'" + dangerous
    assert sheets.neutralise("Анна") == "Анна" and sheets.neutralise(-5) == -5

"""The base in and out of spreadsheets: `/export`, `/import` and their shell twins.

Export: every member with consent state, source, tier, balance and purchase figures; personal
data only where the personal-data consent is in force.

Import: the shop's old spreadsheet. `plan_import` is the dry run (every refused row by its row
number and why, every merge by phone); `run_import` writes the plan in the caller's one
transaction, so a failure leaves nothing behind. Balances become ledger bonus lots (reason
"import") through `ledger.grant_bonuses` (the batch twin of `grant_bonus`), keyed by the
file's digest and row, so importing the same file twice credits nobody twice. Imported people
without a dated consent are kept with `consent_pending` and no messenger account: nothing can
be sent to them until they come to the bot, consent, and share the same phone with the
contact button (see `adopt_imported`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import links, sheets
from bot.domain.cards import new_card_code
from bot.domain.consent import ConsentKind
from bot.domain.program import Program
from bot.services import audit, ledger
from bot.services.permissions import Action, Actor, require
from bot.services.sources import list_sources
from bot.texts import Texts
from db.base import utcnow
from db.repositories import consents
from db.repositories import exchange as repo

IMPORT_KIND = "m"  # a personal invite link for an imported customer
IMPORT_CONSENT_VERSION = "import"
IMPORT_CONSENT_TEXT = (
    "Consent collected by the shop before the bot, outside it; its date comes from the "
    "imported spreadsheet. The shop keeps the signed original."
)


@dataclass(frozen=True)
class ExportFile:
    name: str
    data: bytes


@dataclass(frozen=True)
class Export:
    files: tuple[ExportFile, ...]
    customers: int
    with_personal_data: int


@dataclass(frozen=True)
class Merge:
    """Row `row` repeats a phone: of an earlier row of the file, or of a customer in the base."""

    row: int
    into_row: int | None
    customer_id: int | None


@dataclass(frozen=True)
class ImportPlan:
    digest: str
    rows: int
    new_customers: int
    refused: tuple[sheets.Refused, ...]
    merges: tuple[Merge, ...]
    points: int
    consent_pending: int


@dataclass(frozen=True)
class Invite:
    row: int
    customer_id: int
    payload: str  # a signed /start payload (see `deep_link`)


@dataclass(frozen=True)
class ImportResult:
    plan: ImportPlan
    invites: tuple[Invite, ...]


class SheetUnreadableError(Exception):
    """The file is no spreadsheet we can read, or has no phone column; `reason` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def invite_payload(link_key: bytes, customer_id: int) -> str:
    return links.sign(link_key, IMPORT_KIND, customer_id)


# --- export ---------------------------------------------------------------------------------


async def export(
    session: AsyncSession,
    link_key: bytes,
    program: Program,
    texts: Texts,
    formats: Sequence[str],
    *,
    by: Actor,
    actor: str,
    channel: audit.Channel,
    bot_username: str | None = None,
    now: datetime | None = None,
) -> Export:
    """The base as XLSX and/or CSV, audited in the same transaction (committed here)."""
    require(by, Action.EXPORT)
    now = now or utcnow()
    labels = {link.id: link.label for link in await list_sources(session, link_key)}
    rows: list[list[object]] = []
    with_data = 0
    for customer, granted, consent_at, points, purchases, net, last_at in await repo.export_rows(
        session, now
    ):
        if granted:
            state, personal = texts.export_consent_active, True
        elif customer.consent_pending:
            state, personal = texts.export_consent_pending, False
        else:
            state, personal = texts.export_consent_withdrawn, False
        with_data += personal
        invite = ""
        if customer.telegram_id is None and customer.imported_at is not None:
            payload = invite_payload(link_key, customer.id)
            invite = f"https://t.me/{bot_username}?start={payload}" if bot_username else payload
        rows.append(
            [
                customer.id,
                customer.card_code or "",
                customer.name if personal else None,
                customer.phone if personal else None,
                customer.birthday.isoformat() if personal and customer.birthday else None,
                customer.gender if personal else None,
                customer.city if personal else None,
                labels.get(customer.source_id, "") if customer.source_id else "",
                state,
                consent_at.date().isoformat() if granted and consent_at else None,
                texts.export_yes if customer.ads_opt_in and personal else texts.export_no,
                program.tier_for(int(net)).name,
                int(points),
                int(purchases),
                Decimal(int(net)) / 100,  # roubles, exact: money is never a float
                last_at.date().isoformat() if last_at else None,
                texts.export_yes if customer.imported_at else texts.export_no,
                invite,
            ]
        )
    files = tuple(
        ExportFile(
            f"customers-{now.date().isoformat()}.{fmt}",
            (sheets.write_xlsx if fmt == "xlsx" else sheets.write_csv)(texts.export_columns, rows),
        )
        for fmt in formats
    )
    await audit.record(
        session,
        actor,
        channel,
        "export",
        None,
        formats=",".join(formats),
        customers=len(rows),
        with_personal_data=with_data,
    )
    await session.commit()
    return Export(files, len(rows), with_data)


# --- import ---------------------------------------------------------------------------------


def _read(data: bytes) -> list[sheets.SheetRow]:
    try:
        return sheets.read_table(data)
    except sheets.SheetError as error:
        raise SheetUnreadableError(error.reason) from None


@dataclass(frozen=True)
class _Draft:
    plan: ImportPlan
    people: dict[str, sheets.Person]  # phone → the first row with it, merged with later ones
    points: dict[str, list[tuple[int, int]]]  # phone → (row, points) of every row with points
    existing: dict[str, int]  # phone → customer id already in the base


def _merged(first: sheets.Person, later: sheets.Person) -> sheets.Person:
    """The first row wins; a later row with the same phone only fills what the first lacks."""
    return sheets.Person(
        first.number,
        first.phone,
        first.name or later.name,
        first.birthday or later.birthday,
        first.gender or later.gender,
        first.city or later.city,
        first.points,
        first.consent_at or later.consent_at,
    )


async def _draft(session: AsyncSession, data: bytes, today: date) -> _Draft:
    rows = _read(data)
    refused: list[sheets.Refused] = []
    merges: list[Merge] = []
    people: dict[str, sheets.Person] = {}
    points: dict[str, list[tuple[int, int]]] = {}
    for row in rows:
        parsed = sheets.person(row, today)
        if isinstance(parsed, sheets.Refused):
            refused.append(parsed)
            continue
        if parsed.points:
            points.setdefault(parsed.phone, []).append((parsed.number, parsed.points))
        if (first := people.get(parsed.phone)) is not None:
            merges.append(Merge(parsed.number, first.number, None))
            people[parsed.phone] = _merged(first, parsed)
        else:
            people[parsed.phone] = parsed
    existing = await repo.ids_by_phone(session, list(people))
    for phone, customer_id in existing.items():
        merges.append(Merge(people[phone].number, None, customer_id))
    new = [p for phone, p in people.items() if phone not in existing]
    plan = ImportPlan(
        digest=hashlib.sha256(data).hexdigest()[:16],
        rows=len(rows),
        new_customers=len(new),
        refused=tuple(refused),
        merges=tuple(sorted(merges, key=lambda merge: merge.row)),
        points=sum(p for entries in points.values() for _, p in entries),
        consent_pending=sum(1 for p in new if p.consent_at is None),
    )
    return _Draft(plan, people, points, existing)


async def plan_import(
    session: AsyncSession, data: bytes, today: date | None = None, *, by: Actor
) -> ImportPlan:
    """The dry run: reads the file and the base, writes nothing."""
    require(by, Action.IMPORT)
    return (await _draft(session, data, today or utcnow().date())).plan


async def _free_card_codes(session: AsyncSession, count: int) -> list[str]:
    codes: set[str] = set()
    while len(codes) < count:
        fresh = {new_card_code() for _ in range(count - len(codes))} - codes
        codes |= fresh - await repo.taken_card_codes(session, sorted(fresh))
    return sorted(codes)


async def run_import(
    session: AsyncSession,
    program: Program,
    link_key: bytes,
    data: bytes,
    *,
    by: Actor,
    actor: str,
    channel: audit.Channel,
    language: str,
    now: datetime | None = None,
) -> ImportResult:
    """Write what the dry run showed, in one transaction; committed here, or nothing at all."""
    require(by, Action.IMPORT)
    now = now or utcnow()
    try:
        draft = await _draft(session, data, now.date())
        new = [p for phone, p in draft.people.items() if phone not in draft.existing]
        codes = await _free_card_codes(session, len(new))
        await repo.insert_customers(
            session,
            [
                {
                    "telegram_id": None,
                    "status": "active",
                    "language": language,
                    "name": p.name,
                    "phone": p.phone,
                    "birthday": p.birthday,
                    "gender": p.gender,
                    "city": p.city,
                    "interests": [],
                    "ads_opt_in": False,
                    "created_at": now,
                    "card_code": code,
                    "imported_at": now,
                    "consent_pending": p.consent_at is None,
                    "ledger_version": 0,
                }
                for p, code in zip(new, codes, strict=True)
            ],
        )
        ids = await repo.ids_by_phone(session, list(draft.people))
        dated = [p for p in new if p.consent_at is not None]
        if dated:
            await consents.remember_text(
                session,
                IMPORT_CONSENT_VERSION,
                ConsentKind.PERSONAL_DATA,
                language,
                IMPORT_CONSENT_TEXT,
            )
            await repo.insert_consents(
                session,
                [
                    {
                        "customer_id": ids[p.phone],
                        "kind": ConsentKind.PERSONAL_DATA.value,
                        "granted": True,
                        "text_version": IMPORT_CONSENT_VERSION,
                        "created_at": p.consent_at,
                    }
                    for p in dated
                ],
            )
        await ledger.grant_bonuses(
            session,
            program,
            [
                (ids[phone], points, f"import:{draft.plan.digest}:{row}")
                for phone, entries in draft.points.items()
                for row, points in entries
            ],
            reason="import",
            actor=actor,
            now=now,
        )
        plan = draft.plan
        await audit.record(
            session,
            actor,
            channel,
            "import",
            None,
            digest=plan.digest,
            rows=plan.rows,
            created=plan.new_customers,
            merged=len(plan.merges),
            refused=len(plan.refused),
            points=plan.points,
        )
        await session.commit()
    except BaseException:
        await session.rollback()
        raise
    invites = tuple(
        Invite(p.number, ids[p.phone], invite_payload(link_key, ids[p.phone]))
        for p in new
        if p.consent_at is None
    )
    return ImportResult(plan, invites)


async def adopt_imported(session: AsyncSession, customer_id: int, phone: str) -> bool:
    """At the end of signup: a person who consented in the bot and proved this phone takes
    over the imported customer with it (points, purchases, consent records); the imported row
    goes. Runs in the signup's transaction; False when no unclaimed import holds the phone."""
    imported_id = await repo.unclaimed_import(session, phone)
    if imported_id is None or imported_id == customer_id:
        return False
    return await repo.hand_over(session, imported_id, customer_id)


async def is_unclaimed_import(session: AsyncSession, phone: str) -> bool:
    return await repo.unclaimed_import(session, phone) is not None


def refusal_text(refused: sheets.Refused, texts: Texts) -> str:
    reasons = {
        "phone_missing": texts.import_reason_phone_missing,
        "phone": texts.import_reason_phone,
        "birthday": texts.import_reason_birthday,
        "points": texts.import_reason_points,
        "consent": texts.import_reason_consent,
    }
    return texts.import_refused_line.format(row=refused.number, reason=reasons[refused.reason])


def plan_text(plan: ImportPlan, texts: Texts) -> str:
    """The dry-run report, the same in the bot and in the shell (plain text, no markup)."""
    lines = [
        texts.import_summary.format(
            rows=plan.rows,
            new=plan.new_customers,
            merged=len(plan.merges),
            refused=len(plan.refused),
            points=plan.points,
            pending=plan.consent_pending,
        )
    ]
    if plan.refused:
        lines += ["", texts.import_refused_title]
        lines += [refusal_text(refused, texts) for refused in plan.refused]
    if plan.merges:
        lines += ["", texts.import_merges_title]
        for merge in plan.merges:
            if merge.into_row is not None:
                lines.append(texts.import_merge_row.format(row=merge.row, into=merge.into_row))
            else:
                lines.append(
                    texts.import_merge_base.format(row=merge.row, customer=merge.customer_id)
                )
    return "\n".join(lines)


def invites_csv(result: ImportResult, bot_username: str | None) -> bytes:
    """Row of the file → the personal invite link, for the shop to send as it sees fit."""
    rows: list[list[Any]] = [
        [
            invite.row,
            invite.customer_id,
            f"https://t.me/{bot_username}?start={invite.payload}"
            if bot_username
            else invite.payload,
        ]
        for invite in result.invites
    ]
    return sheets.write_csv(("row", "customer", "invite"), rows)

"""The owner's `/promo`: list promotions with their uses, or create one with a shared code.

`/promo percent 10 30 Autumn sale`: kind, value (percent, roubles or points), days, name.
Personal codes are handed out by a broadcast or the win-back job, not here.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aiogram import Router, html
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.promos import Kind, parse_value
from bot.services import audit, promos
from bot.services.permissions import Action
from bot.services.staff import StaffMember
from bot.settings import Settings
from bot.telegram.filters import Permitted
from bot.telegram.promo_texts import effect
from bot.texts import Texts

MAX_DAYS = 3650


def _listing(texts: Texts, rows: list[promos.PromotionView]) -> str:
    if not rows:
        return texts.promo_list_empty
    lines = [texts.promo_list_title]
    for row in rows:
        lines.append(
            texts.promo_list_line.format(
                id=row.id,
                state="✅" if row.active else "⏸",
                name=html.quote(row.name),
                effect=effect(texts, row.kind, row.value),
                code=f", <code>{row.code}</code>" if row.code else "",
                uses=row.uses,
            )
        )
    return "\n".join(lines)


async def cmd_promo(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    texts: Texts,
    settings: Settings,
    staff: StaffMember,
) -> None:
    words = (command.args or "").split(maxsplit=3)
    if not words:
        rows = await promos.list_promotions(session, by=staff)
        await message.answer(f"{_listing(texts, rows)}\n\n{texts.promo_usage}")
        return
    kind = Kind(words[0].lower()) if words[0].lower() in set(Kind) else None
    value = parse_value(kind, words[1]) if kind and len(words) > 1 else None
    days = words[2] if len(words) > 2 else ""
    if kind is None or value is None or len(words) < 4 or not days.isdigit():
        await message.answer(texts.promo_usage)
        return
    if not 1 <= int(days) <= MAX_DAYS:
        await message.answer(texts.promo_usage)
        return
    now = datetime.now(UTC)
    made = await promos.create_promotion(
        session,
        name=words[3],
        kind=kind,
        value=value,
        expires_at=now + timedelta(days=int(days)),
        actor=audit.messenger_actor(staff.telegram_id),
        channel=audit.Channel.MESSENGER,
        now=now,
        by=staff,
    )
    assert made.expires_at is not None
    await message.answer(
        texts.promo_created.format(
            name=html.quote(made.name),
            effect=effect(texts, made.kind, made.value),
            date=f"{made.expires_at.astimezone(settings.zone):%d.%m.%Y}",
            code=made.code,
        )
    )


async def refuse(message: Message, texts: Texts) -> None:
    await message.answer(texts.owner_only)


def build_router() -> Router:
    router = Router(name="promos")
    router.message.register(cmd_promo, Command("promo"), Permitted(Action.PROMOS))
    router.message.register(refuse, Command("promo"))
    return router

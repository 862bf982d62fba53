"""`/campaigns` (owner: all; manager: their own): recent broadcasts, their progress and
results, and the buttons that pause, resume or cancel one (also under `/broadcast`'s progress)."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.campaigns import CampaignState
from bot.services import audit, campaigns
from bot.services.permissions import NotAllowedError
from bot.services.staff import StaffMember
from bot.settings import Settings
from bot.telegram import campaign_view
from bot.telegram.broadcast import owner_only
from bot.telegram.campaign_view import CampaignCb, ProgressWatcher
from bot.texts import Texts

LISTED = 10


async def cmd_campaigns(
    message: Message, session: AsyncSession, texts: Texts, staff: StaffMember
) -> None:
    listed = await campaigns.listing(session, limit=LISTED, by=staff)
    await session.rollback()
    if not listed:
        await message.answer(texts.campaigns_empty)
        return
    await message.answer(
        texts.campaigns_title.format(count=len(listed)),
        reply_markup=campaign_view.listing_markup(texts, listed),
    )


_CHANGES = {"pause": campaigns.pause, "resume": campaigns.resume, "stop": campaigns.cancel}


async def on_campaign_button(
    query: CallbackQuery,
    callback_data: CampaignCb,
    bot: Bot,
    session: AsyncSession,
    texts: Texts,
    settings: Settings,
    staff: StaffMember,
    campaign_watch: ProgressWatcher,
) -> None:
    action, view, campaign_id = callback_data.action, callback_data.view, callback_data.id
    message = query.message if isinstance(query.message, Message) else None
    if action not in campaign_view.ACTIONS or view not in campaign_view.VIEWS:
        await query.answer(texts.already_done)  # a forged button
        return
    try:
        if action != "list":  # a manager's own campaigns only; ids in buttons are checked
            await campaigns.allowed_campaign(session, staff, campaign_id)
        if action in _CHANGES:
            await _CHANGES[action](
                session,
                campaign_id,
                actor=audit.messenger_actor(staff.telegram_id),
                channel=audit.Channel.MESSENGER,
                by=staff,
            )
        if action == "list" and message is not None:
            listed = await campaigns.listing(session, limit=LISTED, by=staff)
            await session.rollback()
            await query.answer()
            await campaign_view.edit(
                bot,
                message.chat.id,
                message.message_id,
                texts.campaigns_title.format(count=len(listed)),
                campaign_view.listing_markup(texts, listed),
            )
            return
        if action == "open":
            view = "card"
        text, markup, state, left = await campaign_view.render(
            session,
            texts,
            campaign_id,
            view,
            rate=settings.delivery_speed,
            results_days=settings.campaign_results_days,
            zone=settings.zone,
        )
    except (campaigns.CampaignNotFoundError, NotAllowedError):
        await query.answer(texts.campaign_not_found)
        return
    except campaigns.WrongStateError as wrong:
        label = campaign_view.state_label(texts, CampaignState(wrong.state))
        await query.answer(texts.campaign_wrong_state.format(state=label))
        await session.rollback()
        return
    await query.answer()
    if message is None:  # too old for Telegram to send along: nothing to edit
        return
    await campaign_view.edit(bot, message.chat.id, message.message_id, text, markup)
    if view == "progress" and state is CampaignState.RUNNING and left:
        campaign_watch.watch(bot, message.chat.id, message.message_id, campaign_id, texts)


async def refuse(message: Message, texts: Texts) -> None:
    await message.answer(texts.owner_only)


async def refuse_button(query: CallbackQuery, texts: Texts) -> None:
    await query.answer(texts.owner_only, show_alert=True)


def build_router() -> Router:
    router = Router(name="campaigns")
    owner = owner_only()
    router.message.register(cmd_campaigns, Command("campaigns"), owner)
    router.message.register(refuse, Command("campaigns"))
    router.callback_query.register(on_campaign_button, CampaignCb.filter(), owner)
    router.callback_query.register(refuse_button, CampaignCb.filter())
    return router

"""`/broadcast` (owner): segment → text, photo, link → preview and recipients → send or schedule.

The steps and buttons live in bot/telegram/broadcast.py, the live progress message in
bot/telegram/campaign_view.py; segments and campaigns are services. Nothing is stored until
"send now" or a valid time (a saved segment only when the owner saves it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiogram import Bot, Router, html
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.campaigns import CampaignError, check_button_url, check_text
from bot.domain.segments import SegmentError, SegmentFilter
from bot.domain.send_time import SendTimeError, parse_send_time
from bot.services import audit, campaigns, promos, segments
from bot.services.staff import StaffMember
from bot.settings import Settings
from bot.telegram import broadcast as ui
from bot.telegram import campaign_view
from bot.telegram.broadcast import (
    SAMPLE_CODE,
    BroadcastCb,
    BroadcastForm,
    PreviewPromoCb,
    PreviewUnsubscribeCb,
    owner_only,
)
from bot.telegram.filters import NotCommand
from bot.telegram.keyboards import cancel_only
from bot.texts import Texts


def _campaign_error(texts: Texts, error: CampaignError) -> str:
    field_texts = {
        "text": texts.broadcast_bad_text,
        "button_url": texts.broadcast_bad_button,
        "start_at": texts.broadcast_past_time,
        "promotion": texts.broadcast_bad_promotion,
    }
    return field_texts.get(error.field) or texts.broadcast_refused.format(problem=error.field)


@dataclass
class _BroadcastChat:
    """The owner's `/broadcast` conversation in one chat."""

    bot: Bot
    chat_id: int
    state: FSMContext
    session: AsyncSession
    texts: Texts
    settings: Settings
    staff: StaffMember

    @property
    def _actor(self) -> dict[str, Any]:
        return {
            "actor": audit.messenger_actor(self.staff.telegram_id),
            "channel": audit.Channel.MESSENGER,
            "by": self.staff,
        }

    async def segment(self) -> SegmentFilter:
        return SegmentFilter.from_dict((await self.state.get_data()).get("segment", {}))

    async def size(self, segment: SegmentFilter) -> segments.SegmentSize:
        """Counted as it would be sent: a manager's cut down to their customers."""
        segment = await campaigns.restricted(self.session, self.staff, segment)
        size = await segments.size(self.session, segment, segments.rules_from(self.settings))
        await self.session.rollback()
        return size

    async def send(self, text: str, **extra: Any) -> Message:
        return await self.bot.send_message(self.chat_id, text, **extra)

    async def begin(self) -> None:
        rules = segments.rules_from(self.settings)
        saved = await segments.saved(self.session, rules)
        everyone = await self.size(SegmentFilter())
        await self.state.set_state(BroadcastForm.segment)
        await self.state.set_data({})
        markup = ui.segment_choice(self.texts, saved, everyone)
        await self.send(self.texts.broadcast_pick_segment, reply_markup=markup)

    async def choose(self, segment: SegmentFilter, name: str | None) -> bool:
        """Take the segment and ask for the text; False (nothing changes) when nobody in it
        may receive advertising."""
        if (await self.size(segment)).recipients == 0:
            await self.send(self.texts.broadcast_nobody)
            return False
        await self.state.update_data(segment=segment.to_dict(), segment_name=name)
        await self.state.set_state(BroadcastForm.text)
        await self.send(self.texts.broadcast_ask_text, reply_markup=cancel_only(self.texts))
        return True

    async def show_builder(self, message: Message | None, segment: SegmentFilter) -> None:
        """The builder with the segment's size, edited in place when `message` is given."""
        text = ui.builder_text(self.texts, segment, await self.size(segment))
        markup = ui.builder_markup(self.texts, self.settings, segment)
        await self.state.set_state(BroadcastForm.filters)
        await self.state.update_data(segment=segment.to_dict())
        if message is None:
            await self.send(text, reply_markup=markup)
        else:
            await campaign_view.edit(self.bot, self.chat_id, message.message_id, text, markup)

    async def save_segment(self, name: str) -> None:
        segment = await self.segment()
        try:
            saved = await segments.save(self.session, name, segment, **self._actor)
        except segments.SegmentNameError as bad:
            texts = self.texts
            taken = texts.segment_name_taken.format(name=html.quote(bad.name))
            await self.send(taken if bad.taken else texts.segment_name_bad)
            return
        await self.send(self.texts.segment_saved_as.format(name=html.quote(saved.name)))
        if not await self.choose(segment, saved.name):
            await self.show_builder(None, segment)

    async def take_text(self, text: str | None, photo: str | None) -> None:
        data = await self.state.get_data()
        photo = photo or data.get("photo")
        if photo and not text:
            await self.state.update_data(photo=photo)
            await self.send(self.texts.broadcast_photo_no_text)
            return
        try:
            text = check_text(text or "", with_photo=bool(photo))
        except CampaignError as error:
            await self.send(_campaign_error(self.texts, error))
            return
        await self.state.update_data(text=text, photo=photo)
        await self.state.set_state(BroadcastForm.button)
        await self.send(self.texts.broadcast_ask_button, reply_markup=ui.no_button(self.texts))

    async def take_button(self, url: str | None) -> None:
        try:
            url = check_button_url(url)
        except CampaignError as error:
            await self.send(_campaign_error(self.texts, error))
            return
        await self.state.update_data(button_url=url)
        await self.ask_promotion()

    async def offered_promotions(self) -> list[promos.PromotionView]:
        offered = await promos.campaign_promotions(self.session, by=self.staff)
        await self.session.rollback()
        return offered

    async def ask_promotion(self) -> None:
        """The optional step: attach a personal-code promotion (skipped when there is none)."""
        offered = await self.offered_promotions()
        if not offered:
            await self.preview()
            return
        await self.state.set_state(BroadcastForm.promotion)
        markup = ui.promotion_choice(self.texts, offered)
        await self.send(self.texts.broadcast_ask_promotion, reply_markup=markup)

    async def take_promotion(self, value: str) -> None:
        """A promotion from the list offered (a forged or stale id picks nothing), or none."""
        chosen = None
        if value.isdigit():
            offered = await self.offered_promotions()
            chosen = next((p for p in offered if p.id == int(value)), None)
            if chosen is None:
                await self.send(self.texts.broadcast_bad_promotion)
                return
        await self.state.update_data(promotion_id=chosen.id if chosen else None)
        await self.preview()

    async def preview(self) -> None:
        data = await self.state.get_data()
        await ui.send_preview(
            self.bot,
            self.chat_id,
            self.texts,
            data["text"],
            data.get("photo"),
            data.get("button_url"),
            promotion=data.get("promotion_id") is not None,
        )
        size = await self.size(await self.segment())
        await self.state.set_state(BroadcastForm.confirm)
        confirm = self.texts.broadcast_confirm.format(
            recipients=size.recipients,
            members=size.members,
            holdout=self.settings.broadcast_holdout_percent,
        )
        await self.send(confirm, reply_markup=ui.confirm_markup(self.texts))

    async def _create(self, start_at: datetime | None) -> campaigns.CampaignInfo | None:
        """The campaign from the form, the form closed; None (form kept) when refused."""
        data = await self.state.get_data()
        current = await self.state.get_state()
        await self.state.clear()  # the button acts once
        try:
            return await campaigns.create(
                self.session,
                text=data["text"],
                segment=SegmentFilter.from_dict(data.get("segment", {})),
                segment_name=data.get("segment_name"),
                photo_file_id=data.get("photo"),
                button_url=data.get("button_url"),
                promotion_id=data.get("promotion_id"),
                start_at=start_at,
                holdout_percent=self.settings.broadcast_holdout_percent,
                **self._actor,
            )
        except CampaignError as error:
            await self.state.set_state(current)
            await self.state.set_data(data)
            await self.send(_campaign_error(self.texts, error))
            return None

    async def send_now(
        self,
        watcher: campaign_view.ProgressWatcher,
        sessions: async_sessionmaker[AsyncSession],
    ) -> None:
        """Scheduled for now and started in the background: the owner is answered at once
        (the progress says "preparing") while a big segment is expanded; should this process
        die first, the scheduler's tick starts it. Exactly one of them starts it."""
        created = await self._create(datetime.now(UTC))
        if created is None:
            return
        rules = segments.rules_from(self.settings)
        campaigns.start_in_background(sessions, created.id, rules, **self._actor)
        text, markup, _, _ = await campaign_view.render(
            self.session,
            self.texts,
            created.id,
            "progress",
            rate=self.settings.delivery_speed,
            results_days=self.settings.campaign_results_days,
            zone=self.settings.zone,
        )
        sent = await self.send(text, reply_markup=markup)
        watcher.watch(self.bot, self.chat_id, sent.message_id, created.id, self.texts)

    async def ask_time(self) -> None:
        await self.state.set_state(BroadcastForm.when)
        ask = self.texts.broadcast_ask_time.format(zone=self.settings.timezone)
        await self.send(ask, reply_markup=cancel_only(self.texts))

    async def schedule(self, typed: str) -> None:
        try:
            start_at = parse_send_time(typed, datetime.now(UTC), self.settings.zone)
        except SendTimeError as error:
            bad = self.texts.broadcast_bad_time.format(text=html.quote(typed[:40]))
            await self.send(self.texts.broadcast_past_time if error.reason == "past" else bad)
            return
        created = await self._create(start_at)
        if created is None:
            return
        size = await self.size(created.segment)
        await self.send(
            self.texts.broadcast_scheduled.format(
                id=created.id,
                at=f"{start_at.astimezone(self.settings.zone):%Y-%m-%d %H:%M}",
                zone=self.settings.timezone,
                recipients=size.recipients,
            )
        )


async def cmd_broadcast(
    message: Message,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    texts: Texts,
    settings: Settings,
    staff: StaffMember,
) -> None:
    await _BroadcastChat(bot, message.chat.id, state, session, texts, settings, staff).begin()


async def on_text(
    message: Message,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    texts: Texts,
    settings: Settings,
    staff: StaffMember,
) -> None:
    """A typed answer: the segment's name, the text (or photo), the link, or the time."""
    chat = _BroadcastChat(bot, message.chat.id, state, session, texts, settings, staff)
    current = await state.get_state()
    typed = message.text
    if current == BroadcastForm.text.state:
        photo = message.photo[-1].file_id if message.photo else None
        has_text = message.text is not None or message.caption is not None
        if not has_text and photo is None:
            await message.answer(texts.broadcast_text_expected)
            return
        await chat.take_text(message.html_text if has_text else None, photo)
    elif typed is None:
        await message.answer(texts.broadcast_text_expected)
    elif current == BroadcastForm.name.state:
        await chat.save_segment(typed)
    elif current == BroadcastForm.button.state:
        await chat.take_button(typed)
    elif current == BroadcastForm.when.state:
        await chat.schedule(typed)
    else:  # a step that takes buttons
        await message.answer(texts.use_buttons)


async def on_button(
    query: CallbackQuery,
    callback_data: BroadcastCb,
    bot: Bot,
    state: FSMContext,
    session: AsyncSession,
    texts: Texts,
    settings: Settings,
    staff: StaffMember,
    campaign_watch: campaign_view.ProgressWatcher,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    current = await state.get_state() or ""
    if current.split(":")[-1] != callback_data.step:
        await query.answer(texts.already_done)  # an old message, a double tap, a forgery
        return
    await query.answer()
    chat = _BroadcastChat(bot, query.from_user.id, state, session, texts, settings, staff)
    message = query.message if isinstance(query.message, Message) else None
    action, value = callback_data.action, callback_data.value
    try:
        if current == BroadcastForm.segment.state:
            await _on_segment_button(chat, action, value)
        elif current == BroadcastForm.filters.state:
            await _on_builder_button(chat, message, action, value)
        elif current == BroadcastForm.button.state and action == "none":
            await chat.take_button(None)
        elif current == BroadcastForm.promotion.state and action == "promo":
            await chat.take_promotion(value)
        elif current == BroadcastForm.confirm.state and action == "now":
            await chat.send_now(campaign_watch, sessions)
        elif current == BroadcastForm.confirm.state and action == "schedule":
            await chat.ask_time()
    except SegmentError as error:
        await bot.send_message(query.from_user.id, texts.segment_bad.format(field=error.field))


async def _on_segment_button(chat: _BroadcastChat, action: str, value: str) -> None:
    if action == "all":
        await chat.choose(SegmentFilter(), None)
    elif action == "build":
        await chat.show_builder(None, SegmentFilter())
    elif action == "saved" and value.isdigit():
        found = next((s for s in await segments.saved(chat.session) if s.id == int(value)), None)
        await chat.session.rollback()
        if found is not None:
            await chat.choose(found.segment, found.name)


async def _on_builder_button(
    chat: _BroadcastChat, message: Message | None, action: str, value: str
) -> None:
    segment = await chat.segment()
    texts, settings = chat.texts, chat.settings
    if action == "open" and value in ui.FIELDS and message is not None:
        markup = ui.options_markup(texts, settings, segment, value)
        await message.edit_reply_markup(reply_markup=markup)
    elif action == "set":
        field, _, option = value.partition("=")
        changed = ui.apply_option(settings, texts, segment, field, option)
        if field == "cities" and option and message is not None:
            # Cities are picked several at once: stay on the list, the size updated.
            size = await chat.size(changed)
            await chat.state.update_data(segment=changed.to_dict())
            await campaign_view.edit(
                chat.bot,
                chat.chat_id,
                message.message_id,
                ui.builder_text(texts, changed, size),
                ui.options_markup(texts, settings, changed, field),
            )
        else:
            await chat.show_builder(message, changed)
    elif action == "back":
        await chat.show_builder(message, segment)
    elif action == "reset":
        await chat.show_builder(message, SegmentFilter())
    elif action == "next":
        if not await chat.choose(segment, None):
            return
    elif action == "save":
        await chat.state.set_state(BroadcastForm.name)
        await chat.send(texts.segment_ask_name, reply_markup=cancel_only(texts))


async def on_preview_unsubscribe(query: CallbackQuery, texts: Texts) -> None:
    await query.answer(texts.broadcast_preview_unsubscribe, show_alert=True)


async def on_preview_promo(query: CallbackQuery, texts: Texts) -> None:
    await query.answer(texts.promo_your_code_alert.format(code=SAMPLE_CODE), show_alert=True)


async def refuse(message: Message, texts: Texts) -> None:
    await message.answer(texts.owner_only)


def build_router() -> Router:
    """Commands first, then the steps (which refuse commands: `/cancel` and others win)."""
    router = Router(name="broadcast")
    owner = owner_only()
    router.message.register(cmd_broadcast, Command("broadcast"), owner)
    router.message.register(refuse, Command("broadcast"))
    router.message.register(on_text, StateFilter(BroadcastForm), NotCommand(), owner)
    router.callback_query.register(
        on_button, StateFilter(BroadcastForm), BroadcastCb.filter(), owner
    )
    router.callback_query.register(on_preview_unsubscribe, PreviewUnsubscribeCb.filter())
    router.callback_query.register(on_preview_promo, PreviewPromoCb.filter())
    return router

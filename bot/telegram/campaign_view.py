"""A campaign in the owner's chat: the live progress message, the card with results, their
buttons, and the watcher that edits a progress message in place while the campaign runs.

The watcher is a bounded background task per message (never the update's handler): it polls
`campaigns.progress` every BROADCAST_PROGRESS_SECONDS, edits only when the text changed, and
stops when the campaign is no longer running, nothing is left, or after MAX_POLLS. A restart
loses it; the message's Refresh button still works, and any button press starts it again.
"""

from __future__ import annotations

import asyncio
import contextlib
import html as markup_
import logging
from datetime import datetime, timedelta, tzinfo

from aiogram import Bot, html
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.domain.campaigns import CampaignState
from bot.domain.money import format_rub
from bot.domain.segments import SegmentFilter
from bot.services import campaigns
from bot.telegram.broadcast import describe_segment
from bot.texts import Texts

log = logging.getLogger(__name__)

MAX_POLLS = 2_000  # a watcher gives up after this many polls (hours at the default pace)
ACTIONS = ("refresh", "pause", "resume", "stop", "open", "list")
VIEWS = ("progress", "card")


class CampaignCb(CallbackData, prefix="cmp"):
    """A button under a campaign's message: `view` says which message it is (to re-render the
    same), `action` what to do. Both are checked against ACTIONS / VIEWS before use."""

    action: str
    id: int
    view: str = "progress"


def plain_name(info: campaigns.CampaignInfo) -> str:
    """The campaign's name as plain text (it is cut from the HTML text, entities and all)."""
    return markup_.unescape(info.name)


def state_label(texts: Texts, state: CampaignState) -> str:
    return dict(texts.campaign_states).get(state.value, state.value)


def eta(texts: Texts, left: timedelta, running: bool) -> str:
    if not running:
        return texts.campaign_eta_unknown
    minutes, seconds = divmod(int(left.total_seconds()), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}"


def _buttons(
    texts: Texts, campaign_id: int, state: CampaignState, view: str
) -> InlineKeyboardMarkup:
    def button(label: str, action: str) -> InlineKeyboardButton:
        data = CampaignCb(action=action, id=campaign_id, view=view).pack()
        return InlineKeyboardButton(text=label, callback_data=data)

    first = [button(texts.campaign_refresh, "refresh")]
    if state is CampaignState.RUNNING:
        first.append(button(texts.campaign_pause, "pause"))
    elif state is CampaignState.PAUSED:
        first.append(button(texts.campaign_resume, "resume"))
    rows = [first]
    if state not in (CampaignState.DONE, CampaignState.CANCELLED):
        rows.append([button(texts.campaign_stop, "stop")])
    if view == "progress":
        rows.append([button(texts.campaign_results_button, "open")])
    else:
        rows.append([button(texts.campaigns_back, "list")])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def progress_text(texts: Texts, info: campaigns.CampaignInfo, got: campaigns.Progress) -> str:
    return texts.campaign_progress.format(
        id=info.id,
        name=html.quote(plain_name(info)),
        # "Send now" is scheduled for now and started in the background: running to the owner.
        state=state_label(
            texts, CampaignState.RUNNING if got.preparing and info.start_at else got.state
        ),
        sent=got.sent,
        failed=got.failed,
        blocked=got.blocked,
        skipped=got.skipped,
        left=got.left,
        eta=eta(texts, got.time_left, got.state is CampaignState.RUNNING),
    ) + ("\n\n" + texts.campaign_preparing if got.preparing else "")


def _local(moment: datetime, zone: tzinfo) -> str:
    return f"{moment.astimezone(zone):%Y-%m-%d %H:%M}"


def _money(kopecks: int | float | None) -> str:
    return "—" if kopecks is None else format_rub(round(kopecks))


def results_text(texts: Texts, got: campaigns.Results) -> str:
    r, h = got.recipients, got.holdout
    lift = texts.campaign_no_holdout if got.incremental_revenue is None else None
    return texts.campaign_results_text.format(
        days=got.days,
        delivered=got.delivered,
        failed=got.failed,
        blocked=got.blocked,
        unsubscribed=got.unsubscribed,
        heads=r.heads,
        buyers=r.buyers,
        purchases=r.purchases,
        revenue=_money(r.revenue),
        per_head=_money(r.revenue_per_head),
        h_heads=h.heads,
        h_buyers=h.buyers,
        h_purchases=h.purchases,
        h_revenue=_money(h.revenue),
        h_per_head=_money(h.revenue_per_head),
        lift=lift or _money(got.incremental_revenue),
        promos="—" if got.promo_redemptions is None else got.promo_redemptions,
    )


def segment_label(texts: Texts, name: str | None, segment: SegmentFilter) -> str:
    return html.quote(name) if name else describe_segment(texts, segment)


async def render(
    session: AsyncSession,
    texts: Texts,
    campaign_id: int,
    view: str,
    *,
    rate: float,
    results_days: int,
    zone: tzinfo,
) -> tuple[str, InlineKeyboardMarkup, CampaignState, int]:
    """(text, buttons, state, left) of a campaign's message; CampaignNotFoundError if none."""
    info = await campaigns.get(session, campaign_id)
    got = await campaigns.progress(session, campaign_id, rate)
    if view == "progress":
        text = progress_text(texts, info, got)
    else:
        start = info.started_at or info.start_at
        text = texts.campaign_card.format(
            id=info.id,
            name=html.quote(plain_name(info)),
            state=state_label(texts, got.state),
            segment=segment_label(texts, info.segment_name, info.segment),
            created=_local(info.created_at, zone),
            start=texts.campaign_start_line.format(at=_local(start, zone)) if start else "",
            sent=got.sent,
            total=got.total,
            failed=got.failed + got.blocked,
            left=got.left,
        )
        if info.started_at is not None:
            text += "\n\n" + results_text(
                texts, await campaigns.results(session, campaign_id, results_days)
            )
    await session.rollback()  # read only: no transaction left open while Telegram answers
    left = max(got.left, 1) if got.preparing else got.left  # preparing: more to come
    return text, _buttons(texts, campaign_id, got.state, view), got.state, left


def listing_markup(texts: Texts, listed: list[campaigns.CampaignInfo]) -> InlineKeyboardMarkup:
    rows = [
        [
            InlineKeyboardButton(
                text=f"№{info.id} · {state_label(texts, info.state)} · {plain_name(info)}"[:60],
                callback_data=CampaignCb(action="open", id=info.id, view="card").pack(),
            )
        ]
        for info in listed
    ]
    return InlineKeyboardMarkup(inline_keyboard=rows)


async def edit(
    bot: Bot, chat_id: int, message_id: int, text: str, markup: InlineKeyboardMarkup
) -> None:
    """Edit in place; "message is not modified" is no error here."""
    try:
        await bot.edit_message_text(
            text=text, chat_id=chat_id, message_id=message_id, reply_markup=markup
        )
    except TelegramBadRequest as error:
        if "not modified" not in error.message:
            raise


class ProgressWatcher:
    """Edits progress messages in place while their campaigns run (one task per message)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        rate: float,
        every: float,
        results_days: int,
        zone: tzinfo,
    ) -> None:
        self._sessions = sessions
        self._rate = rate
        self._every = every
        self._results_days = results_days
        self._zone = zone
        self._tasks: dict[tuple[int, int], asyncio.Task[None]] = {}

    def watch(
        self, bot: Bot, chat_id: int, message_id: int, campaign_id: int, texts: Texts
    ) -> None:
        key = (chat_id, message_id)
        if key in self._tasks and not self._tasks[key].done():
            return
        task = asyncio.create_task(self._run(bot, key, campaign_id, texts))
        self._tasks[key] = task
        task.add_done_callback(lambda _: self._tasks.pop(key, None))

    async def _run(self, bot: Bot, key: tuple[int, int], campaign_id: int, texts: Texts) -> None:
        last = None
        for _ in range(MAX_POLLS):
            await asyncio.sleep(self._every)
            try:
                async with self._sessions() as session:
                    text, markup, state, left = await render(
                        session,
                        texts,
                        campaign_id,
                        "progress",
                        rate=self._rate,
                        results_days=self._results_days,
                        zone=self._zone,
                    )
                if text != last:
                    await edit(bot, key[0], key[1], text, markup)
                    last = text
            except asyncio.CancelledError:
                raise
            except Exception as error:  # a lost message, a gone campaign, a database hiccup
                log.warning("progress watcher stops: %s", type(error).__name__)
                return
            if state not in (CampaignState.RUNNING, CampaignState.SCHEDULED) or left == 0:
                return

    async def close(self) -> None:
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

"""`clientbase broadcast|campaigns|segments`: queue a broadcast, follow campaigns, save segments.

The shell only queues: the running bot process sends (its delivery engine finds the new rows
by polling), so these commands work while the bot runs, on SQLite as on PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli.database import ShopDatabase
from bot.domain.campaigns import CampaignError
from bot.domain.money import format_rub
from bot.domain.segments import SegmentError, SegmentFilter
from bot.services import campaigns, segments
from bot.services.audit import Channel
from bot.services.permissions import SHELL
from bot.settings import Settings
from bot.texts import ShellTexts, shell_texts_for

ACTOR = "shell"


def _money(kopecks: int | None) -> str:
    return "—" if kopecks is None else format_rub(kopecks)


def _describe(segment_name: str | None, segment: SegmentFilter) -> str:
    if segment_name:
        return segment_name
    return segments.ALL if segment.is_everyone else segment.to_json()


async def broadcast(settings: Settings, args: argparse.Namespace) -> int:
    shell = shell_texts_for(settings.default_language)
    start_at = None
    if args.at:
        try:
            local = datetime.strptime(args.at.strip(), "%Y-%m-%d %H:%M")
        except ValueError:
            print(shell.not_a_time.format(text=args.at), file=sys.stderr)
            return 2
        start_at = local.replace(tzinfo=settings.zone).astimezone(UTC)
    photo = None
    if args.photo is not None:
        try:
            photo = await asyncio.to_thread(Path(args.photo).read_bytes)
        except OSError:
            print(shell.no_file.format(path=args.photo), file=sys.stderr)
            return 2
    holdout = settings.broadcast_holdout_percent if args.holdout is None else args.holdout
    rules = segments.rules_from(settings)
    async with ShopDatabase(settings) as db, db.sessions() as session:
        try:
            segment = await segments.resolve(session, args.segment)
        except segments.UnknownSegmentError as unknown:
            names = ", ".join(unknown.names) or "—"
            print(shell.segment_unknown.format(name=unknown.name, names=names), file=sys.stderr)
            return 2
        size = await segments.size(session, segment, rules)
        await session.rollback()
        print(shell.broadcast_count.format(**vars(size), holdout=holdout))
        if not args.yes:
            print(shell.broadcast_ask, end="", flush=True)
            answer = sys.stdin.readline().strip().casefold()
            if answer not in ("y", "yes", "д", "да"):
                print(shell.broadcast_aborted)
                return 1
        name = None if args.segment.strip().casefold() == segments.ALL else args.segment.strip()
        try:
            created = await campaigns.create(
                session,
                text=args.text,
                segment=segment,
                segment_name=name,
                photo_data=photo,
                button_url=args.button_url,
                promotion_id=getattr(args, "promotion", None),
                start_at=start_at,
                holdout_percent=holdout,
                actor=ACTOR,
                by=SHELL,
                channel=Channel.SHELL,
            )
        except CampaignError as error:
            print(shell.broadcast_refused.format(problem=error), file=sys.stderr)
            return 2
        if start_at is not None:
            at = f"{start_at.astimezone(settings.zone):%Y-%m-%d %H:%M}"
            print(shell.broadcast_scheduled.format(id=created.id, at=at))
            return 0
        started = await campaigns.start(
            session, created.id, rules, actor=ACTOR, channel=Channel.SHELL, by=SHELL
        )
    print(
        shell.broadcast_queued.format(id=created.id, queued=started.queued, held=started.held_out)
    )
    return 0


def _eta(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


async def _print_campaign(
    session: AsyncSession, settings: Settings, shell: ShellTexts, info: campaigns.CampaignInfo
) -> None:
    progress = await campaigns.progress(session, info.id, settings.delivery_speed)
    zone = settings.zone
    start = info.started_at or info.start_at
    print(
        shell.campaign_line.format(
            id=info.id,
            state=info.state.value,
            name=info.name,
            segment=_describe(info.segment_name, info.segment),
            created=f"{info.created_at.astimezone(zone):%Y-%m-%d %H:%M}",
            start=f"{start.astimezone(zone):%Y-%m-%d %H:%M}" if start else "—",
            sent=progress.sent,
            failed=progress.failed,
            blocked=progress.blocked,
            skipped=progress.skipped,
            left=progress.left,
            eta=_eta(progress.time_left.total_seconds()),
        )
    )
    if info.started_at is None:
        return
    got = await campaigns.results(session, info.id, settings.campaign_results_days)
    print(
        shell.campaign_results.format(
            days=got.days,
            heads=got.recipients.heads,
            buyers=got.recipients.buyers,
            revenue=_money(got.recipients.revenue),
            h_heads=got.holdout.heads,
            h_buyers=got.holdout.buyers,
            h_revenue=_money(got.holdout.revenue),
            lift=_money(got.incremental_revenue),
            unsubscribed=got.unsubscribed,
            promos="—" if got.promo_redemptions is None else got.promo_redemptions,
        )
    )


async def campaigns_command(settings: Settings, args: argparse.Namespace) -> int:
    shell = shell_texts_for(settings.default_language)
    actions = {
        "pause": campaigns.pause,
        "resume": campaigns.resume,
        "cancel": campaigns.cancel,
    }
    async with ShopDatabase(settings) as db, db.sessions() as session:
        for action, change in actions.items():
            campaign_id = getattr(args, action)
            if campaign_id is None:
                continue
            try:
                info = await change(
                    session, campaign_id, actor=ACTOR, channel=Channel.SHELL, by=SHELL
                )
            except campaigns.CampaignNotFoundError:
                print(shell.campaign_missing.format(id=campaign_id), file=sys.stderr)
                return 2
            except campaigns.WrongStateError as wrong:
                print(shell.campaign_wrong_state.format(id=campaign_id, state=wrong.state))
                return 1
            print(shell.campaign_changed.format(id=info.id, state=info.state.value))
            return 0
        listed = await campaigns.listing(session, limit=args.limit, by=SHELL)
        if not listed:
            print(shell.campaigns_none)
        for info in listed:
            await _print_campaign(session, settings, shell, info)
    return 0


def _filter_from(args: argparse.Namespace) -> SegmentFilter:
    def when(text: str | None) -> datetime | None:
        if text is None:
            return None
        try:
            local = datetime.strptime(text.strip(), "%Y-%m-%d")
        except ValueError:
            raise SegmentError("last_purchase", f"not a date: {text!r} (YYYY-MM-DD)") from None
        return local.replace(tzinfo=args.zone).astimezone(UTC)

    def kopecks(roubles: int | None) -> int | None:
        return None if roubles is None else roubles * 100

    return SegmentFilter(
        lifecycle=args.lifecycle,
        gender=args.gender,
        age_min=args.age_min,
        age_max=args.age_max,
        birthday_month=args.birthday_month,
        cities=tuple(args.city),
        interests=tuple(args.interest),
        source_ids=tuple(args.source),
        tier=args.tier,
        spend_min=kopecks(args.spend_min),
        spend_max=kopecks(args.spend_max),
        purchases_min=args.purchases_min,
        purchases_max=args.purchases_max,
        last_purchase_before=when(args.last_purchase_before),
        last_purchase_after=when(args.last_purchase_after),
        rfm_min=args.rfm,
    )


async def segments_command(settings: Settings, args: argparse.Namespace) -> int:
    shell = shell_texts_for(settings.default_language)
    rules = segments.rules_from(settings)
    async with ShopDatabase(settings) as db, db.sessions() as session:
        if args.segments_command == "save":
            args.zone = settings.zone
            try:
                segment = _filter_from(args)
                if segment.tier is not None:
                    rules.tier_range(segment.tier)
            except SegmentError as error:
                print(shell.segment_bad.format(problem=error), file=sys.stderr)
                return 2
            try:
                saved = await segments.save(
                    session,
                    args.name,
                    segment,
                    actor=ACTOR,
                    channel=Channel.SHELL,
                    by=SHELL,
                )
            except segments.SegmentNameError as taken:
                print(shell.segment_taken.format(name=taken.name), file=sys.stderr)
                return 2
            size = await segments.size(session, segment, rules)
            print(shell.segment_saved.format(name=saved.name, **vars(size)))
            return 0
        if args.segments_command == "delete":
            if not await segments.delete(
                session, args.name, actor=ACTOR, channel=Channel.SHELL, by=SHELL
            ):
                names = ", ".join(s.name for s in await segments.saved(session)) or "—"
                print(shell.segment_unknown.format(name=args.name, names=names), file=sys.stderr)
                return 2
            print(shell.segment_deleted.format(name=args.name))
            return 0
        listed = await segments.saved(session, rules)
        if not listed:
            print(shell.segments_none)
        for saved in listed:
            assert saved.size is not None
            print(
                shell.segment_line.format(
                    name=saved.name, **vars(saved.size), definition=saved.segment.to_json()
                )
            )
    return 0

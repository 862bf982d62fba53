"""Scheduled jobs: birthdays, expiring-points reminders, points expiry, the balance digest,
privacy housekeeping and win-back codes, one module each, run exactly once per period by
`runner`."""

from __future__ import annotations

from bot.services.jobs.context import JobConfig, JobCounts
from bot.settings import Settings
from bot.texts import texts_for

__all__ = ["JobConfig", "JobCounts", "config_from"]


def config_from(settings: Settings) -> JobConfig:
    """The jobs' settings as plain values, built once by whoever runs them."""
    return JobConfig(
        zone=settings.zone,
        program=settings.program,
        catch_up_days=settings.jobs_catch_up_days,
        birthday_hour=settings.birthday_hour,
        birthday_days_before=settings.birthday_days_before,
        birthday_bonus_days=settings.birthday_bonus_days,
        expiring_points_hour=settings.expiring_points_hour,
        expiring_points_days=settings.expiring_points_days,
        points_expiry_hour=settings.points_expiry_hour,
        balance_digest_hour=settings.balance_digest_hour,
        balance_digest_day=settings.balance_digest_day,
        housekeeping_hour=settings.housekeeping_hour,
        pending_purge_days=settings.pending_purge_days,
        receipt_window=settings.receipt_window,
        winback_hour=settings.winback_hour,
        winback_days=settings.winback_days,
        winback_every_days=settings.winback_every_days,
        winback_kind=settings.winback_kind,
        # WINBACK_VALUE is in roubles for a fixed discount; the promotion keeps kopecks.
        winback_value=settings.winback_value * (100 if settings.winback_kind == "fixed" else 1),
        winback_code_days=settings.winback_code_days,
        winback_name=texts_for(settings.default_language).winback_promotion,
    )

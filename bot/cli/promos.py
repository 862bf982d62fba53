"""`clientbase promos`: promotions with their codes and uses; `promos create` makes one.

A mistake in the arguments is one line and exit code 2; the creation is audited (shell).
"""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta

from bot.domain.money import format_rub
from bot.domain.promos import Kind, parse_value
from bot.services import audit, promos
from bot.services.permissions import SHELL
from bot.settings import Settings
from bot.texts import shell_texts_for
from db import migrate
from db.base import utcnow
from db.engine import create_engine, create_session_factory


def _fail(message: str) -> int:
    print(f"clientbase promos: {message}", file=sys.stderr)
    return 2


def _value(kind: Kind, value: int) -> str:
    if kind is Kind.PERCENT:
        return f"{value}%"
    return format_rub(value) if kind is Kind.FIXED else f"+{value}"


async def create(settings: Settings, args: argparse.Namespace) -> int:
    kind = Kind(args.kind)
    value = parse_value(kind, args.value)
    if value is None:
        return _fail(f"--value {args.value!r} does not fit --kind {kind} (percent: 1-99)")
    if args.days is not None and args.days <= 0:
        return _fail("--days: a positive number of days")
    if args.max_uses is not None and args.max_uses <= 0:
        return _fail("--max-uses: a positive number")
    now = utcnow()
    engine = create_engine(settings.database_url)
    try:
        await migrate.upgrade(engine)
        async with create_session_factory(engine)() as session:
            try:
                made = await promos.create_promotion(
                    session,
                    name=args.name,
                    kind=kind,
                    value=value,
                    expires_at=now + timedelta(days=args.days) if args.days else None,
                    multi_use=args.multi,
                    personal=args.personal,
                    max_uses=args.max_uses,
                    actor=f"shell:{args.by}"[:64],
                    channel=audit.Channel.SHELL,
                    now=now,
                    by=SHELL,
                )
            except ValueError as error:
                return _fail(str(error))
    finally:
        await engine.dispose()
    shell = shell_texts_for(settings.default_language)
    print(shell.promo_created.format(id=made.id, name=made.name, code=made.code or "—"))
    return 0


async def list_promos(settings: Settings, enable: int | None, disable: int | None) -> int:
    shell = shell_texts_for(settings.default_language)
    engine = create_engine(settings.database_url)
    try:
        await migrate.upgrade(engine)
        async with create_session_factory(engine)() as session:
            for promotion_id, active in ((enable, True), (disable, False)):
                if promotion_id is not None and not await promos.set_active(
                    session,
                    promotion_id,
                    active,
                    actor="shell:owner",
                    channel=audit.Channel.SHELL,
                    by=SHELL,
                ):
                    return _fail(f"no promotion #{promotion_id}")
            rows = await promos.list_promotions(session, by=SHELL)
    finally:
        await engine.dispose()
    if not rows:
        print(shell.promo_none)
    zone = settings.zone
    for row in rows:
        expires = f"{row.expires_at.astimezone(zone):%Y-%m-%d}" if row.expires_at else "—"
        mode = ("personal" if row.personal else "shared") + (" multi" if row.multi_use else "")
        if row.max_uses:
            mode += f" max {row.max_uses}"
        print(
            shell.promo_line.format(
                id=row.id,
                state=shell.source_on if row.active else shell.source_off,
                name=row.name,
                kind=row.kind.value,
                value=_value(row.kind, row.value),
                expires=expires,
                mode=mode,
                code=row.code or "—",
                codes=row.codes,
                uses=row.uses,
            )
        )
    return 0

"""Failures the user cannot cause (a database gone, a bug): a short apology and a log line.

The line carries the exception's type, the update id and where in our code it happened: never
the exception's message, which can quote a statement's parameters (a phone, a name).
"""

from __future__ import annotations

import logging
from pathlib import Path

from aiogram import Bot
from aiogram.types import ErrorEvent, Update

from bot.texts import Texts

log = logging.getLogger("clientbase.errors")
_PROJECT = Path(__file__).resolve().parents[2]


def _where(error: BaseException) -> str:
    """The innermost frame of our own code: enough to find the line, nothing of the data."""
    where = ""
    frame = error.__traceback__
    while frame is not None:
        path = Path(frame.tb_frame.f_code.co_filename)
        if path.is_relative_to(_PROJECT) and ".venv" not in path.parts:
            where = f"{path.relative_to(_PROJECT)}:{frame.tb_lineno}"
        frame = frame.tb_next
    return where


def _chat_of(update: Update) -> int | None:
    if update.message is not None:
        return update.message.chat.id
    if update.callback_query is not None:
        return update.callback_query.from_user.id
    return None


async def apologise(
    bot: Bot, update: Update, texts: Texts | None, error: BaseException, *, answered: bool = False
) -> None:
    """Log the failure with ids only, and tell the person to try again later (unless the update
    was answered already and only what aiogram does after it failed)."""
    log.log(
        logging.WARNING if answered else logging.ERROR,
        "update failed after it was answered" if answered else "update failed",
        extra={"update_id": update.update_id, "error": type(error).__name__, "at": _where(error)},
    )
    if answered:
        return
    chat = _chat_of(update)
    if chat is None or texts is None:
        return
    try:
        await bot.send_message(chat, texts.sorry)
    except Exception as failed:  # Telegram down too: the log line above is all we can do
        log.warning(
            "apology not sent",
            extra={"update_id": update.update_id, "error": type(failed).__name__},
        )


async def on_error(
    event: ErrorEvent, bot: Bot, texts: Texts | None = None, update_handled: bool = False
) -> bool:
    """aiogram's error handler: the update is answered and the process goes on."""
    await apologise(bot, event.update, texts, event.exception, answered=update_handled)
    return True

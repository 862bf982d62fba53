"""Sending what does not fit one plain message: long reports, files."""

from __future__ import annotations

from aiogram import Bot, html
from aiogram.types import BufferedInputFile, InputMediaDocument

from bot.services.printables import Printables

MESSAGE_LIMIT = 3800  # Telegram allows 4096 characters; leave room for the <pre> markup


def pre_chunks(text: str) -> list[str]:
    """Monospace blocks cut on line boundaries, each short enough for one message."""
    chunks: list[str] = []
    current: list[str] = []
    for line in text.splitlines():
        if current and len("\n".join([*current, line])) > MESSAGE_LIMIT:
            chunks.append("\n".join(current))
            current = []
        current.append(line[:MESSAGE_LIMIT])
    if current:
        chunks.append("\n".join(current))
    return [f"<pre>{html.quote(chunk)}</pre>" for chunk in chunks]


async def send_printables(bot: Bot, chat_id: int, files: Printables, caption: str) -> None:
    await bot.send_photo(chat_id, BufferedInputFile(files.qr.data, files.qr.name), caption=caption)
    if files.whatsapp_qr is not None:
        wa = files.whatsapp_qr
        await bot.send_photo(
            chat_id, BufferedInputFile(wa.data, wa.name), caption=f"WhatsApp: {files.whatsapp_url}"
        )
    await bot.send_media_group(
        chat_id,
        [InputMediaDocument(media=BufferedInputFile(f.data, f.name)) for f in files.posters],
    )

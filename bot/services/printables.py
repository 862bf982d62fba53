"""The files a shop prints for one source: the QR code and posters for the wall and the table."""

from __future__ import annotations

from dataclasses import dataclass, replace

from bot.render import posters, qr
from bot.services.sources import SourceLink, whatsapp_link
from bot.texts import Texts

POSTER_SIZES: tuple[posters.PosterSize, ...] = ("a4", "a6")


@dataclass(frozen=True)
class PrintFile:
    name: str
    data: bytes


@dataclass(frozen=True)
class Printables:
    link: SourceLink
    url: str
    qr: PrintFile
    posters: list[PrintFile]
    # The same source as a wa.me link and its QR, when the shop is on WhatsApp too.
    whatsapp_url: str = ""
    whatsapp_qr: PrintFile | None = None


def printables(
    link: SourceLink,
    bot_username: str,
    texts: Texts,
    *,
    shop_name: str,
    welcome_bonus: int,
    fmt: posters.Format = "pdf",
    whatsapp_number: str | None = None,
) -> Printables:
    url = link.url(bot_username)
    title = " — ".join(part for part in (shop_name, link.store) if part)
    text = posters.PosterText(
        title=title,
        call_to_action=texts.poster_call(texts.points(welcome_bonus) if welcome_bonus else None),
        subtitle=texts.poster_subtitle.format(shop=shop_name),
        link_hint=texts.poster_link_hint,
    )
    stem = posters.poster_filename(link.store, link.campaign, link.employee, "a4", "png")
    stem = stem.removesuffix("_a4.png")
    # With WhatsApp on, the posters carry both codes side by side.
    wa_url = (
        whatsapp_link(whatsapp_number, texts.wa_qr_line, link.payload) if whatsapp_number else ""
    )
    pages = [
        PrintFile(
            posters.poster_filename(link.store, link.campaign, link.employee, size, fmt),
            posters.poster(url, text, size=size, fmt=fmt, whatsapp=wa_url or None),
        )
        for size in POSTER_SIZES
    ]
    files = Printables(link, url, PrintFile(f"{stem}_qr.png", qr.qr_png(url)), pages)
    if wa_url:
        wa_qr = PrintFile(f"{stem}_whatsapp_qr.png", qr.qr_png(wa_url))
        files = replace(files, whatsapp_url=wa_url, whatsapp_qr=wa_qr)
    return files

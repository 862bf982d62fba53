"""Wall posters (A4) and table tents (A6) carrying a source's QR code and its link in text."""

from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

from PIL import Image, ImageDraw

from bot.render.qr import QUIET_ZONE, qr_image, qr_modules
from bot.render.text import (
    ACCENT,
    INK,
    MUTED,
    PAPER,
    Block,
    draw_block,
    fit_text,
    load_font,
    pack,
    text_line_height,
)

PosterSize = Literal["a4", "a6"]


Format = Literal["png", "pdf"]


DPI = 300


# Pixel sizes of A4 and A6 portrait at 300 dpi (210×297 mm and 105×148 mm).
PAGE_PX: dict[PosterSize, tuple[int, int]] = {"a4": (2480, 3508), "a6": (1240, 1748)}


_LINK_SEAMS = re.compile(r"(?<=[/&])|(?=\?)")


# The hint and link sit inside the QR's lower quiet zone, this many modules below the code:
# enough white for scanners, while the full four would detach the link from the code.
_QUIET_UNDER_TEXT = 2


# Below ~7 pt print gets hard to read; a long link wraps instead of shrinking further.
_MIN_LINK_PX = round(7 / 72 * DPI)


@dataclass(frozen=True)
class PosterText:
    """Wording typed by the shop owner: any field may be any length, the layout adapts to it."""

    title: str
    call_to_action: str
    subtitle: str = ""
    link_hint: str = ""


def poster(
    link: str,
    text: PosterText,
    *,
    size: PosterSize = "a4",
    fmt: Format = "pdf",
    whatsapp: str | None = None,
    labels: tuple[str, str] = ("Telegram", "WhatsApp"),
) -> bytes:
    """Renders at 300 dpi so the PDF carries the real page size and prints without scaling.

    With `whatsapp` (the same source's wa.me link) the page carries both codes side by side,
    each under its messenger's name and over its own link.
    """
    image = _render_poster(link, text, size, whatsapp, labels)
    buffer = io.BytesIO()
    if fmt == "pdf":
        # RGB goes into the PDF as JPEG: high quality and no chroma subsampling keep the QR
        # module edges and the small text crisp.
        image.save(buffer, "PDF", resolution=DPI, quality=95, subsampling=0)
    else:
        # No `optimize`: it doubles the render time of an A4 page to save a tenth of its size.
        image.save(buffer, "PNG", dpi=(DPI, DPI))
    return buffer.getvalue()


def poster_filename(store: str, campaign: str, employee: str, size: PosterSize, fmt: Format) -> str:
    """ASCII only: the file travels through Telegram, e-mail and copy-shop Windows machines."""
    parts = [slug for slug in (_slug(store), _slug(campaign), _slug(employee)) if slug]
    return "_".join([*(parts or ["poster"]), size]) + f".{fmt}"


def _render_poster(
    link: str,
    text: PosterText,
    size: PosterSize,
    whatsapp: str | None = None,
    labels: tuple[str, str] = ("Telegram", "WhatsApp"),
) -> Image.Image:
    width, height = PAGE_PX[size]
    unit = width / 100  # every length below is in hundredths of the page width
    margin_x = round(8 * unit)
    margin_top = round(8 * unit)
    margin_bottom = round(6 * unit)
    content = width - 2 * margin_x

    title = fit_text(
        text.title,
        "bold",
        content,
        max_size=round(5 * unit),
        min_size=round(1.9 * unit),
        max_lines=2,
    )
    cta = fit_text(
        text.call_to_action,
        "bold",
        content,
        max_size=round(8 * unit),
        min_size=round(3 * unit),
        max_lines=3,
        max_height=round(22 * unit),
    )

    def small(line: str) -> Block | None:
        """The muted two-line texts: the hint above the link and the subtitle at the foot."""
        if not line:
            return None
        size = {"max_size": round(2.4 * unit), "min_size": round(1.8 * unit)}
        return fit_text(line, "regular", content, max_lines=2, fill=MUTED, **size)

    hint = small(text.link_hint)
    link_block = fit_link(link, content, max_size=round(2.6 * unit))
    subtitle = small(text.subtitle)

    image = Image.new("RGB", (width, height), PAPER)
    draw = ImageDraw.Draw(image)
    centre = width // 2

    y = margin_top
    y = draw_block(draw, title, centre, y)
    rule_y = y + round(2 * unit)
    rule_half = round(6 * unit)
    draw.rectangle(
        (centre - rule_half, rule_y, centre + rule_half, rule_y + max(2, round(0.5 * unit))),
        fill=ACCENT,
    )
    y = rule_y + round(3.5 * unit)
    top_end = draw_block(draw, cta, centre, y)

    bottom = height - margin_bottom
    if subtitle is not None:
        bottom -= subtitle.height
        draw_block(draw, subtitle, centre, bottom)
        bottom -= round(4.5 * unit)

    if whatsapp is not None:
        _draw_pair(image, [(labels[0], link), (labels[1], whatsapp)], top_end, bottom, unit)
        return image

    # The QR group (code, hint, link) takes all the space between the headline and the footer;
    # the code's own quiet zone is the white space separating it from the text around it.
    under_qr = link_block.height + (hint.height + round(0.8 * unit) if hint else 0)
    modules = qr_modules(link)
    span = len(modules) + QUIET_ZONE + _QUIET_UNDER_TEXT
    space = bottom - top_end
    # The dark modules may use the full content width; the quiet zone may reach into the margin.
    box = max(1, min((space - under_qr) // span, content // (len(modules) + 2)))
    qr = qr_image(modules, box, QUIET_ZONE)
    pulled_up = (QUIET_ZONE - _QUIET_UNDER_TEXT) * box
    y = top_end + (space - (qr.height - pulled_up + under_qr)) // 2
    image.paste(qr, (centre - qr.width // 2, y))
    y += qr.height - pulled_up
    if hint is not None:
        y = draw_block(draw, hint, centre, y) + round(0.8 * unit)
    draw_block(draw, link_block, centre, y)
    return image


def _draw_pair(
    image: Image.Image, codes: list[tuple[str, str]], top: int, bottom: int, unit: float
) -> None:
    """Two codes side by side between the headline and the footer: name, QR, link in each."""
    draw = ImageDraw.Draw(image)
    width = image.width
    gap = round(4 * unit)
    column = (width - 2 * round(5 * unit) - gap) // 2
    lefts = [round(5 * unit), round(5 * unit) + column + gap]
    blocks = []
    for label, url in codes:
        name = fit_text(
            label, "bold", column, max_size=round(4 * unit), min_size=round(2 * unit), max_lines=1
        )
        blocks.append((name, fit_link(url, column, max_size=round(1.8 * unit)), qr_modules(url)))
    space = bottom - top
    under = max(name.height + link.height for name, link, _ in blocks) + round(1.6 * unit)
    # Each code as large as its column allows, so both print at about the same size.
    codes_drawn = [
        qr_image(
            modules,
            max(1, min((space - under) // (len(modules) + 2 * QUIET_ZONE), column // len(modules))),
            QUIET_ZONE,
        )
        for _, _, modules in blocks
    ]
    tallest = max(
        name.height + round(0.8 * unit) + qr.height + link.height
        for (name, link, _), qr in zip(blocks, codes_drawn, strict=True)
    )
    first = top + max(0, (space - tallest) // 2)
    for left, (name, link_block, modules), qr in zip(lefts, blocks, codes_drawn, strict=True):
        centre = left + column // 2
        box = qr.width // (len(modules) + 2 * QUIET_ZONE)
        y = draw_block(draw, name, centre, first) + round(0.8 * unit)
        image.paste(qr, (centre - qr.width // 2, y))
        y += qr.height - (QUIET_ZONE - _QUIET_UNDER_TEXT) * box
        draw_block(draw, link_block, centre, y)


def fit_link(link: str, width: int, *, max_size: int) -> Block:
    """A link is never cut: it shrinks to a legible floor, then wraps.

    Monospace, because a customer retyping it must tell l from I and 0 from O. Wrapping prefers
    the seams a reader expects (before `?`, after `/` or `&`) over the middle of the payload.
    """
    size = max_size
    while size > _MIN_LINK_PX and load_font("mono", size).getlength(link) > width:
        size -= 1
    font = load_font("mono", size)
    lines = pack(_LINK_SEAMS.split(link), "", font, width)
    return Block(tuple(lines), font, INK, text_line_height(font))


_TRANSLIT = str.maketrans(
    {
        "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh",
        "з": "z", "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o",
        "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts",
        "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu",
        "я": "ya",
    }
)  # fmt: skip


def _slug(value: str, limit: int = 40) -> str:
    latin = unicodedata.normalize("NFKD", value.lower().translate(_TRANSLIT))
    ascii_only = latin.encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_only).strip("-")[:limit].strip("-")

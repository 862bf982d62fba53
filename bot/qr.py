"""Printable artefacts for a shop: QR codes for deep links, wall posters and table tents.

Everything here is pure rendering (no bot, no database, no network), so it can be called from a
handler, a CLI or a test alike. Fonts come from the DejaVu TTFs inside matplotlib: they cover
Cyrillic and are present on every machine that pip-installs the project, unlike system fonts.
"""

from __future__ import annotations

import io
import math
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

import qrcode
from PIL import Image, ImageDraw, ImageFont
from qrcode.constants import ERROR_CORRECT_Q

PosterSize = Literal["a4", "a6"]
Format = Literal["png", "pdf"]
FontStyle = Literal["regular", "bold", "mono"]

# The QR standard asks for a 4-module quiet zone; scanners misread codes without it.
QUIET_ZONE = 4
DPI = 300
# Pixel sizes of A4 and A6 portrait at 300 dpi (210×297 mm and 105×148 mm).
PAGE_PX: dict[PosterSize, tuple[int, int]] = {"a4": (2480, 3508), "a6": (1240, 1748)}
# Printable width of 58 mm and 80 mm thermal rolls at 203 dpi.
RECEIPT_PX: dict[int, int] = {58: 384, 80: 576}

_FONT_FILES: dict[FontStyle, str] = {
    "regular": "DejaVuSans.ttf",
    "bold": "DejaVuSans-Bold.ttf",
    "mono": "DejaVuSansMono.ttf",
}
_INK = (17, 17, 17)
_MUTED = (85, 85, 85)
_ACCENT = (34, 158, 217)  # Telegram blue: tells the customer where the link will open
_PAPER = (255, 255, 255)
# Russian typography keeps a dash at the end of a line, never at the start of the next one.
_DASH_GLUE = re.compile(r"\s+([—–])(?=\s)")
_NBSP = "\u00a0"
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


@dataclass(frozen=True)
class _Block:
    """Text already wrapped for its box, so layout can measure it before anything is drawn."""

    lines: tuple[str, ...]
    font: ImageFont.FreeTypeFont
    fill: tuple[int, int, int]
    line_height: int

    @property
    def height(self) -> int:
        return self.line_height * len(self.lines)


def qr_png(link: str, *, box_size: int = 12, border: int = QUIET_ZONE) -> bytes:
    """A bare code for the bot to send as a picture; 1-bit, so it stays sharp when resized."""
    return _png(_qr_image(_qr_modules(link), box_size, border).convert("1"))


def receipt_qr_png(
    link: str, *, paper_mm: Literal[58, 80] = 58, caption: str | None = None
) -> bytes:
    """A 1-bit image exactly as wide as the thermal head, so the printer never rescales it.

    Rescaling by a printer driver blurs module edges into grey, which thermal paper renders as
    random dots; whole-pixel modules and pure black/white avoid that.
    """
    width = RECEIPT_PX[paper_mm]
    modules = _qr_modules(link)
    box = width // (len(modules) + 2 * QUIET_ZONE)
    qr = _qr_image(modules, box, QUIET_ZONE)
    caption_block = None
    height = qr.height
    if caption:
        margin = width // 24
        caption_block = _fit_text(
            caption,
            "bold",
            width - 2 * margin,
            max_size=width // 15,
            min_size=width // 24,
            max_lines=4,
        )
        height += caption_block.height + margin
    image = Image.new("RGB", (width, height), _PAPER)
    image.paste(qr, ((width - qr.width) // 2, 0))
    if caption_block is not None:
        _draw_block(ImageDraw.Draw(image), caption_block, width // 2, qr.height)
    # A hard threshold, not dithering: anti-aliased glyph edges would otherwise print as speckle.
    gray = image.convert("L")
    return _png(gray.point(lambda value: 255 if value >= 128 else 0).convert("1"))


def poster(link: str, text: PosterText, *, size: PosterSize = "a4", fmt: Format = "pdf") -> bytes:
    """Renders at 300 dpi so the PDF carries the real page size and prints without scaling."""
    image = _render_poster(link, text, size)
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


def _render_poster(link: str, text: PosterText, size: PosterSize) -> Image.Image:
    width, height = PAGE_PX[size]
    unit = width / 100  # every length below is in hundredths of the page width
    margin_x = round(8 * unit)
    margin_top = round(8 * unit)
    margin_bottom = round(6 * unit)
    content = width - 2 * margin_x

    title = _fit_text(
        text.title,
        "bold",
        content,
        max_size=round(5 * unit),
        min_size=round(1.9 * unit),
        max_lines=2,
    )
    cta = _fit_text(
        text.call_to_action,
        "bold",
        content,
        max_size=round(8 * unit),
        min_size=round(3 * unit),
        max_lines=3,
        max_height=round(22 * unit),
    )

    def small(line: str) -> _Block | None:
        """The muted two-line texts: the hint above the link and the subtitle at the foot."""
        if not line:
            return None
        size = {"max_size": round(2.4 * unit), "min_size": round(1.8 * unit)}
        return _fit_text(line, "regular", content, max_lines=2, fill=_MUTED, **size)

    hint = small(text.link_hint)
    link_block = _fit_link(link, content, max_size=round(2.6 * unit))
    subtitle = small(text.subtitle)

    image = Image.new("RGB", (width, height), _PAPER)
    draw = ImageDraw.Draw(image)
    centre = width // 2

    y = margin_top
    y = _draw_block(draw, title, centre, y)
    rule_y = y + round(2 * unit)
    rule_half = round(6 * unit)
    draw.rectangle(
        (centre - rule_half, rule_y, centre + rule_half, rule_y + max(2, round(0.5 * unit))),
        fill=_ACCENT,
    )
    y = rule_y + round(3.5 * unit)
    top_end = _draw_block(draw, cta, centre, y)

    bottom = height - margin_bottom
    if subtitle is not None:
        bottom -= subtitle.height
        _draw_block(draw, subtitle, centre, bottom)
        bottom -= round(4.5 * unit)

    # The QR group (code, hint, link) takes all the space between the headline and the footer;
    # the code's own quiet zone is the white space separating it from the text around it.
    under_qr = link_block.height + (hint.height + round(0.8 * unit) if hint else 0)
    modules = _qr_modules(link)
    span = len(modules) + QUIET_ZONE + _QUIET_UNDER_TEXT
    space = bottom - top_end
    # The dark modules may use the full content width; the quiet zone may reach into the margin.
    box = max(1, min((space - under_qr) // span, content // (len(modules) + 2)))
    qr = _qr_image(modules, box, QUIET_ZONE)
    pulled_up = (QUIET_ZONE - _QUIET_UNDER_TEXT) * box
    y = top_end + (space - (qr.height - pulled_up + under_qr)) // 2
    image.paste(qr, (centre - qr.width // 2, y))
    y += qr.height - pulled_up
    if hint is not None:
        y = _draw_block(draw, hint, centre, y) + round(0.8 * unit)
    _draw_block(draw, link_block, centre, y)
    return image


def _qr_modules(link: str) -> list[list[bool]]:
    """Level Q keeps the code readable with ~25% of it damaged: a crease, a stain, a logo."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_Q, border=0)
    code.add_data(link)
    code.make(fit=True)
    return code.get_matrix()


def _qr_image(modules: list[list[bool]], box: int, border: int) -> Image.Image:
    """Whole pixels per module: a fractional scale would smear edges and confuse scanners."""
    small = Image.new("L", (len(modules) + 2 * border,) * 2, 255)
    for row, line in enumerate(modules):
        for col, dark in enumerate(line):
            if dark:
                small.putpixel((col + border, row + border), 0)
    return small.resize((small.width * box, small.height * box), Image.Resampling.NEAREST)


@lru_cache(maxsize=1)
def _font_dir() -> Path:
    import matplotlib  # deferred: only rendering needs it, and it is slow to import

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


@lru_cache(maxsize=256)
def _font(style: FontStyle, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(_font_dir() / _FONT_FILES[style]), size)


def _line_height(font: ImageFont.FreeTypeFont) -> int:
    ascent, descent = font.getmetrics()
    return round((ascent + descent) * 1.08)


def _fit_text(
    text: str,
    style: FontStyle,
    width: int,
    *,
    max_size: int,
    min_size: int,
    max_lines: int,
    max_height: int | None = None,
    fill: tuple[int, int, int] = _INK,
) -> _Block:
    """The largest size at which the text fits its box; an ellipsis only past `min_size`.

    Store names come from shop owners and can be any length: shrinking keeps the poster
    intact, and the ellipsis guarantees nothing ever overflows into the QR code.
    """
    text = _DASH_GLUE.sub(_NBSP + r"\1", text)
    size = max_size
    while True:
        font = _font(style, size)
        lines = _wrap(text, font, width)
        line_height = _line_height(font)
        fits_height = max_height is None or line_height * len(lines) <= max_height
        if len(lines) <= max_lines and fits_height:
            return _Block(tuple(_wrap_balanced(text, font, width)), font, fill, line_height)
        if size <= min_size:
            break
        size = max(min_size, size - max(1, size // 30))
    if max_height is not None:
        max_lines = max(1, min(max_lines, max_height // line_height))
    kept = lines[:max_lines]
    kept[-1] = _ellipsize(kept[-1], font, width)
    return _Block(tuple(kept), font, fill, line_height)


def _fit_link(link: str, width: int, *, max_size: int) -> _Block:
    """A link is never cut: it shrinks to a legible floor, then wraps.

    Monospace, because a customer retyping it must tell l from I and 0 from O. Wrapping prefers
    the seams a reader expects (before `?`, after `/` or `&`) over the middle of the payload.
    """
    size = max_size
    while size > _MIN_LINK_PX and _font("mono", size).getlength(link) > width:
        size -= 1
    font = _font("mono", size)
    lines = _pack(_LINK_SEAMS.split(link), "", font, width)
    return _Block(tuple(lines), font, _INK, _line_height(font))


def _wrap_balanced(text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """Greedy wrapping leaves a lonely last word; equal-length lines read as a headline.

    Finds the narrowest width that still needs no more lines than greedy wrapping does, but no
    narrower than the widest word, so balancing never breaks a word that would otherwise fit.
    """
    lines = _wrap(text, font, width)
    if len(lines) < 2:
        return lines
    low = min(width, max(math.ceil(font.getlength(word)) for word in _words(text)))
    high = width
    while low < high:
        middle = (low + high) // 2
        if len(_wrap(text, font, middle)) <= len(lines):
            high = middle
        else:
            low = middle + 1
    return _wrap(text, font, low)


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    return _pack(_words(text), " ", font, width)


def _pack(tokens: list[str], joiner: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """Greedy line filling; a token wider than the line on its own is broken between chars."""
    lines: list[str] = []
    current = ""
    for token in tokens:
        candidate = f"{current}{joiner}{token}" if current else token
        if font.getlength(candidate) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        pieces = _break_chars(token, font, width)
        lines.extend(pieces[:-1])
        current = pieces[-1]
    if current:
        lines.append(current)
    return lines


def _words(text: str) -> list[str]:
    """Splits on ordinary whitespace only: a no-break space must keep its neighbours together."""
    return [word for word in re.split(r"[ \t\r\n]+", text) if word]


def _break_chars(text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """Only for a single word or a link wider than the box: better broken than overflowing."""
    pieces: list[str] = []
    current = ""
    for char in text:
        if current and font.getlength(current + char) > width:
            pieces.append(current)
            current = char
        else:
            current += char
    pieces.append(current)
    return pieces


def _ellipsize(text: str, font: ImageFont.FreeTypeFont, width: int) -> str:
    while text and font.getlength(text + "…") > width:
        text = text[:-1]
    return text.rstrip() + "…"


def _draw_block(draw: ImageDraw.ImageDraw, block: _Block, centre: int, top: int) -> int:
    """Draws centred lines from `top` and returns where the next block may start."""
    for index, line in enumerate(block.lines):
        y = top + index * block.line_height
        draw.text((centre, y), line, font=block.font, fill=block.fill, anchor="ma")
    return top + block.height


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


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

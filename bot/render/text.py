"""Text on printed and sent images: fonts, fitting, wrapping, drawing.

Fonts come from the DejaVu TTFs inside matplotlib: they cover Cyrillic and are present on every
machine that pip-installs the project, unlike system fonts. Pure rendering, no bot, no database.
"""

from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

from PIL import Image, ImageDraw, ImageFont

FontStyle = Literal["regular", "bold", "mono"]


_FONT_FILES: dict[FontStyle, str] = {
    "regular": "DejaVuSans.ttf",
    "bold": "DejaVuSans-Bold.ttf",
    "mono": "DejaVuSansMono.ttf",
}


INK = (17, 17, 17)


MUTED = (85, 85, 85)


ACCENT = (34, 158, 217)  # Telegram blue: tells the customer where the link will open


PAPER = (255, 255, 255)


# Russian typography keeps a dash at the end of a line, never at the start of the next one.
_DASH_GLUE = re.compile(r"\s+([—–])(?=\s)")


_NBSP = "\u00a0"


@dataclass(frozen=True)
class Block:
    """Text already wrapped for its box, so layout can measure it before anything is drawn."""

    lines: tuple[str, ...]
    font: ImageFont.FreeTypeFont
    fill: tuple[int, int, int]
    line_height: int

    @property
    def height(self) -> int:
        return self.line_height * len(self.lines)


@lru_cache(maxsize=1)
def font_dir() -> Path:
    import matplotlib  # deferred: only rendering needs it, and it is slow to import

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"


@lru_cache(maxsize=256)
def load_font(style: FontStyle, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(font_dir() / _FONT_FILES[style]), size)


def text_line_height(font: ImageFont.FreeTypeFont) -> int:
    ascent, descent = font.getmetrics()
    return round((ascent + descent) * 1.08)


def fit_text(
    text: str,
    style: FontStyle,
    width: int,
    *,
    max_size: int,
    min_size: int,
    max_lines: int,
    max_height: int | None = None,
    fill: tuple[int, int, int] = INK,
) -> Block:
    """The largest size at which the text fits its box; an ellipsis only past `min_size`.

    Store names come from shop owners and can be any length: shrinking keeps the poster
    intact, and the ellipsis guarantees nothing ever overflows into the QR code.
    """
    text = _DASH_GLUE.sub(_NBSP + r"\1", text)
    size = max_size
    while True:
        font = load_font(style, size)
        lines = _wrap(text, font, width)
        line_height = text_line_height(font)
        fits_height = max_height is None or line_height * len(lines) <= max_height
        if len(lines) <= max_lines and fits_height:
            return Block(tuple(_wrap_balanced(text, font, width)), font, fill, line_height)
        if size <= min_size:
            break
        size = max(min_size, size - max(1, size // 30))
    if max_height is not None:
        max_lines = max(1, min(max_lines, max_height // line_height))
    kept = lines[:max_lines]
    kept[-1] = ellipsize(kept[-1], font, width)
    return Block(tuple(kept), font, fill, line_height)


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
    return pack(_words(text), " ", font, width)


def pack(tokens: list[str], joiner: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
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


def ellipsize(text: str, font: ImageFont.FreeTypeFont, width: int) -> str:
    while text and font.getlength(text + "…") > width:
        text = text[:-1]
    return text.rstrip() + "…"


def draw_block(draw: ImageDraw.ImageDraw, block: Block, centre: int, top: int) -> int:
    """Draws centred lines from `top` and returns where the next block may start."""
    for index, line in enumerate(block.lines):
        y = top + index * block.line_height
        draw.text((centre, y), line, font=block.font, fill=block.fill, anchor="ma")
    return top + block.height


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()

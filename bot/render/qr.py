"""QR codes for deep links: a bare code for the chat and one as wide as a receipt roll."""

from __future__ import annotations

from typing import Literal

import qrcode
from PIL import Image, ImageDraw
from qrcode.constants import ERROR_CORRECT_Q

from bot.render.text import PAPER, draw_block, fit_text, png_bytes

# The QR standard asks for a 4-module quiet zone; scanners misread codes without it.
QUIET_ZONE = 4


# Printable width of 58 mm and 80 mm thermal rolls at 203 dpi.
RECEIPT_PX: dict[int, int] = {58: 384, 80: 576}


def qr_png(link: str, *, box_size: int = 12, border: int = QUIET_ZONE) -> bytes:
    """A bare code for the bot to send as a picture; 1-bit, so it stays sharp when resized."""
    return png_bytes(qr_image(qr_modules(link), box_size, border).convert("1"))


def receipt_qr_png(
    link: str, *, paper_mm: Literal[58, 80] = 58, caption: str | None = None
) -> bytes:
    """A 1-bit image exactly as wide as the thermal head, so the printer never rescales it.

    Rescaling by a printer driver blurs module edges into grey, which thermal paper renders as
    random dots; whole-pixel modules and pure black/white avoid that.
    """
    width = RECEIPT_PX[paper_mm]
    modules = qr_modules(link)
    box = width // (len(modules) + 2 * QUIET_ZONE)
    qr = qr_image(modules, box, QUIET_ZONE)
    caption_block = None
    height = qr.height
    if caption:
        margin = width // 24
        caption_block = fit_text(
            caption,
            "bold",
            width - 2 * margin,
            max_size=width // 15,
            min_size=width // 24,
            max_lines=4,
        )
        height += caption_block.height + margin
    image = Image.new("RGB", (width, height), PAPER)
    image.paste(qr, ((width - qr.width) // 2, 0))
    if caption_block is not None:
        draw_block(ImageDraw.Draw(image), caption_block, width // 2, qr.height)
    # A hard threshold, not dithering: anti-aliased glyph edges would otherwise print as speckle.
    gray = image.convert("L")
    return png_bytes(gray.point(lambda value: 255 if value >= 128 else 0).convert("1"))


def qr_modules(link: str) -> list[list[bool]]:
    """Level Q keeps the code readable with ~25% of it damaged: a crease, a stain, a logo."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_Q, border=0)
    code.add_data(link)
    code.make(fit=True)
    return code.get_matrix()


def qr_image(modules: list[list[bool]], box: int, border: int) -> Image.Image:
    """Whole pixels per module: a fractional scale would smear edges and confuse scanners."""
    small = Image.new("L", (len(modules) + 2 * border,) * 2, 255)
    for row, line in enumerate(modules):
        for col, dark in enumerate(line):
            if dark:
                small.putpixel((col + border, row + border), 0)
    return small.resize((small.width * box, small.height * box), Image.Resampling.NEAREST)

"""The member's loyalty card: the picture the bot sends on /card, shown to the cashier on a phone.

The cashier scans the QR code from the customer's screen, or types the short numeric code
printed under it. Screens are glossy and often dimmed, so the code is pure black on pure white,
keeps its full quiet zone and is drawn with whole-pixel modules; everything around it is there
to make the card look like something a shop is proud to hand out.

Portrait rather than a landscape bank-card ratio: Telegram shows a photo as wide as the chat, so
on a phone held upright a portrait card gives the QR code most of the screen width, while a
1.586 landscape card would leave it about a third of the screen: too small to scan well.

Pure rendering like the rest of `bot.render`, whose QR and font helpers it reuses:
no bot, no database.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFilter, ImageFont

from bot.render.qr import QUIET_ZONE, qr_image, qr_modules
from bot.render.text import Block, ellipsize, fit_text, font_dir, load_font, text_line_height

RGB = tuple[int, int, int]
Box = tuple[int, int, int, int]

CARD_SIZE = (1080, 1500)
# Below this a code shown on a phone screen and held up to a till scanner reads unreliably.
MIN_MODULE_PX = 8
_MAX_MODULE_PX = 24

_WHITE: RGB = (255, 255, 255)
_BLACK: RGB = (0, 0, 0)  # the QR and the digits: the most contrast a dimmed screen can give
MUTED: RGB = (88, 94, 106)
# Curves are drawn this many times larger and scaled down: Pillow does not anti-alias shapes.
_SUPERSAMPLE = 4

# Fixed geometry: texts shrink, wrap or end in "…" inside their rows, the rows never move. So
# every member's card looks alike, and no text can ever push into the QR code.
_MARGIN = 64
_LOGO = 92
_SHOP_TOP, _SHOP_ROW = 56, 110
_NAME_TOP, _NAME_ROW = _SHOP_TOP + _SHOP_ROW + 36, 136
_BALANCE_TOP, _BALANCE_ROW = _NAME_TOP + _NAME_ROW + 28, 76
_CHIP_H = 66
_PANEL_OVERLAP = 84  # the white panel rises over the header like a sheet laid on a card
_HEADER_H = _BALANCE_TOP + _BALANCE_ROW + 48 + _PANEL_OVERLAP
_PANEL: Box = (_MARGIN, _HEADER_H - _PANEL_OVERLAP, CARD_SIZE[0] - _MARGIN, CARD_SIZE[1] - 56)
_PANEL_RADIUS = 44
_DIGITS_PX = 92
_CAPTION_PX = 40
_CAPTION_GAP = 16


@dataclass(frozen=True)
class CardFace:
    """What the card says; every field comes from the shop or the customer, any length."""

    shop_name: str  # "Кофейня «Зерно»"
    holder_name: str  # the customer's first name as they gave it: "Анна"
    card_code: str  # 8 digits, "40123457"; printed grouped by four: "4012 3457"
    tier_name: str  # "Серебро"
    balance_text: str  # "1 250 баллов"
    caption: str  # "Покажите кассиру"


@dataclass(frozen=True)
class Palette:
    """The header gradient runs from `start` (top left) to `end` (bottom right)."""

    start: RGB
    end: RGB
    accent: RGB  # the tier badge's and the logo's letters, on white
    page: RGB  # around the white panel


_DEFAULT_PALETTE = Palette(
    start=(18, 60, 104), end=(28, 134, 178), accent=(20, 84, 132), page=(234, 241, 247)
)
_PALETTES: dict[str, Palette] = {
    "base": Palette(
        start=(22, 88, 84), end=(38, 150, 128), accent=(24, 104, 94), page=(233, 243, 240)
    ),
    "bronze": Palette(
        start=(104, 52, 26), end=(184, 106, 58), accent=(128, 66, 32), page=(246, 238, 232)
    ),
    "silver": Palette(
        start=(58, 68, 86), end=(126, 140, 162), accent=(66, 78, 98), page=(236, 239, 243)
    ),
    "gold": Palette(
        start=(132, 88, 10), end=(214, 160, 40), accent=(136, 92, 8), page=(248, 242, 226)
    ),
    "platinum": Palette(
        start=(30, 32, 44), end=(92, 96, 124), accent=(40, 42, 58), page=(233, 234, 240)
    ),
}
_TIER_WORDS: dict[str, str] = {
    "base": "base", "basic": "base", "standard": "base", "start": "base",
    "базовый": "base", "базовая": "base", "базовое": "base", "стандарт": "base", "старт": "base",
    "bronze": "bronze", "бронза": "bronze", "бронзовый": "bronze", "бронзовая": "bronze",
    "silver": "silver", "серебро": "silver", "серебряный": "silver", "серебряная": "silver",
    "gold": "gold", "золото": "gold", "золотой": "gold", "золотая": "gold",
    "platinum": "platinum", "платина": "platinum", "платиновый": "platinum",
    "платиновая": "platinum", "vip": "platinum",
}  # fmt: skip


def tier_palette(tier_name: str) -> Palette:
    """Known tier names in Russian or English, as a word anywhere ("Золотой клиент")."""
    for word in re.findall(r"\w+", tier_name.casefold().replace("ё", "е")):
        if word in _TIER_WORDS:
            return _PALETTES[_TIER_WORDS[word]]
    return _DEFAULT_PALETTE


def format_card_code(code: str) -> str:
    """Groups of four, as on a bank card: "40123457" → "4012 3457"."""
    digits = "".join(code.split())
    return " ".join(digits[index : index + 4] for index in range(0, len(digits), 4))


def card_png(link: str, face: CardFace) -> bytes:
    """The card as an RGB PNG of `CARD_SIZE` (about 110 KB), its QR code encoding `link`."""
    buffer = io.BytesIO()
    # Plain zlib rather than `optimize`: that triples the encoding time to save 7%.
    render_card(link, face).save(buffer, "PNG", compress_level=6)
    return buffer.getvalue()


def render_card(link: str, face: CardFace) -> Image.Image:
    width = CARD_SIZE[0]
    palette = tier_palette(face.tier_name)
    content = width - 2 * _MARGIN
    canvas = _background(palette).copy()
    draw = ImageDraw.Draw(canvas)
    shop_name, holder_name, tier = (
        _printable(face.shop_name),
        _printable(face.holder_name),
        _printable(face.tier_name),
    )
    balance_text, caption_text = _printable(face.balance_text), _printable(face.caption)

    # Header: round logo and shop name; holder name; balance, with the tier badge on its right.
    shop_left = _MARGIN + _LOGO + 28
    shop = fit_text(
        shop_name,
        "bold",
        width - _MARGIN - shop_left,
        max_size=44,
        min_size=28,
        max_lines=2,
        max_height=_SHOP_ROW,
    )
    name = fit_text(
        holder_name,
        "bold",
        content,
        max_size=96,
        min_size=48,
        max_lines=2,
        max_height=_NAME_ROW,
    )
    chip_font = load_font("bold", 34)
    tier = " ".join(tier.split())
    chip_text = _single_line(f"★ {tier}", chip_font, content * 2 // 5) if tier else ""
    chip_w = round(chip_font.getlength(chip_text)) + 60 if chip_text else 0
    balance = fit_text(
        balance_text,
        "bold",
        content - chip_w - 32,
        max_size=60,
        min_size=34,
        max_lines=1,
        max_height=_BALANCE_ROW,
    )

    # White text with a soft shadow, so it stays legible on the light end of any gradient.
    ink = Image.new("L", (width, _HEADER_H), 0)
    ink_draw = ImageDraw.Draw(ink)
    _draw_left(ink_draw, shop, shop_left, _SHOP_TOP + (_SHOP_ROW - shop.height) // 2)
    _draw_left(ink_draw, name, _MARGIN, _NAME_TOP + (_NAME_ROW - name.height) // 2)
    _draw_left(ink_draw, balance, _MARGIN, _BALANCE_TOP + (_BALANCE_ROW - balance.height) // 2)
    glow = ink.filter(ImageFilter.GaussianBlur(6)).point(lambda value: value * 60 // 255)
    canvas.paste(_mix(palette.start, _BLACK, 0.6), (0, 3, width, _HEADER_H + 3), glow)
    canvas.paste(_WHITE, (0, 0, width, _HEADER_H), ink)

    logo = _logo_box()
    initial = _initial(shop_name)
    draw.text(_middle(logo), initial, font=load_font("bold", 50), fill=palette.accent, anchor="mm")
    if chip_text:
        chip_top = _BALANCE_TOP + (_BALANCE_ROW - _CHIP_H) // 2
        chip = (width - _MARGIN - chip_w, chip_top, width - _MARGIN, chip_top + _CHIP_H)
        canvas.paste(_WHITE, chip, _rounded_mask((chip_w, _CHIP_H), _CHIP_H // 2))
        draw.text(_middle(chip), chip_text, font=chip_font, fill=palette.accent, anchor="mm")

    # The panel: the QR code with its whole quiet zone, the code in digits, the caption.
    code_text = format_card_code(face.card_code)
    digits_font = _fit_font("mono-bold", code_text, content - 80, _DIGITS_PX)
    digits_h = sum(_card_font("mono-bold", _DIGITS_PX).getmetrics())
    caption = fit_text(
        caption_text,
        "regular",
        content - 80,
        max_size=_CAPTION_PX,
        min_size=28,
        max_lines=2,
        fill=MUTED,
    )
    under_qr = digits_h + _CAPTION_GAP + 2 * text_line_height(load_font("regular", _CAPTION_PX))
    modules = qr_modules(link)
    span = len(modules) + 2 * QUIET_ZONE
    panel_w, panel_h = _PANEL[2] - _PANEL[0], _PANEL[3] - _PANEL[1]
    # The quiet zone is as white as the panel, so the code may take the panel's full height.
    box = min(_MAX_MODULE_PX, (panel_w - 2 * _MARGIN) // span, (panel_h - under_qr) // span)
    qr = qr_image(modules, max(1, box), QUIET_ZONE)
    qr_top = _PANEL[1] + max(0, (panel_h - qr.height - under_qr) // 2)
    centre = width // 2
    canvas.paste(qr.convert("RGB"), (centre - qr.width // 2, qr_top))

    digits_top = qr_top + qr.height
    # Centred on the full-size line, so a long code that had to shrink stays in its place.
    digits_middle = digits_top + digits_h // 2
    draw.text((centre, digits_middle), code_text, font=digits_font, fill=_BLACK, anchor="mm")
    caption_top = digits_top + digits_h + _CAPTION_GAP
    for index, line in enumerate(caption.lines):
        top = caption_top + index * caption.line_height
        draw.text((centre, top), line, font=caption.font, fill=caption.fill, anchor="ma")
    return canvas


@lru_cache(maxsize=8)
def _background(palette: Palette) -> Image.Image:
    """Everything that is the same on every card of a tier: drawn once per process."""
    width, height = CARD_SIZE
    canvas = Image.new("RGB", CARD_SIZE, palette.page)
    canvas.paste(_header(width, _HEADER_H, palette), (0, 0))

    # A soft shadow under the panel, blurred at a quarter of the size: it has no edges to keep.
    shrink = 4
    shadow = Image.new("L", (width // shrink, height // shrink), 0)
    left, top, right, bottom = (value // shrink for value in _PANEL)
    ImageDraw.Draw(shadow).rounded_rectangle(
        (left, top + 14 // shrink, right, bottom + 10 // shrink), _PANEL_RADIUS // shrink, fill=40
    )
    shadow = shadow.filter(ImageFilter.GaussianBlur(22 / shrink))
    canvas.paste((20, 30, 50), (0, 0, width, height), shadow.resize(CARD_SIZE))

    panel_size = (_PANEL[2] - _PANEL[0], _PANEL[3] - _PANEL[1])
    canvas.paste(_WHITE, _PANEL, _rounded_mask(panel_size, _PANEL_RADIUS))
    canvas.paste(_WHITE, _logo_box(), _disc(_LOGO))
    return canvas


def _header(width: int, height: int, palette: Palette) -> Image.Image:
    """A diagonal metallic gradient with two faint discs, as printed plastic cards have."""
    small = Image.new("RGB", (width // 16, height // 16))
    for y in range(small.height):
        for x in range(small.width):
            t = 0.7 * x / (small.width - 1) + 0.3 * y / (small.height - 1)
            # A lighter band across the middle reads as a sheen on metal or plastic.
            sheen = max(0.0, 1 - abs(t - 0.62) / 0.22)
            colour = _mix(palette.start, palette.end, t)
            small.putpixel((x, y), _mix(colour, _WHITE, 0.10 * sheen))
    header = small.resize((width, height), Image.Resampling.BICUBIC)
    for centre_x, centre_y, radius in ((0.92, -0.06, 0.36), (1.04, 0.42, 0.26)):
        diameter = round(2 * radius * width)
        disc = _disc(diameter, supersample=2).point(lambda value: value * 18 // 255)
        left = round(centre_x * width) - diameter // 2
        top = round(centre_y * height) - diameter // 2
        header.paste(_WHITE, (left, top, left + diameter, top + diameter), disc)
    return header


def _logo_box() -> Box:
    top = _SHOP_TOP + (_SHOP_ROW - _LOGO) // 2
    return (_MARGIN, top, _MARGIN + _LOGO, top + _LOGO)


@lru_cache(maxsize=16)
def _disc(diameter: int, *, supersample: int = _SUPERSAMPLE) -> Image.Image:
    """An anti-aliased filled circle as a mask."""
    big = Image.new("L", (diameter * supersample,) * 2, 0)
    ImageDraw.Draw(big).ellipse((0, 0, big.width - 1, big.height - 1), fill=255)
    return big.resize((diameter, diameter), Image.Resampling.BOX)


def _rounded_mask(size: tuple[int, int], radius: int) -> Image.Image:
    """A rounded rectangle as a mask: straight edges are exact anyway, only corners need AA."""
    width, height = size
    radius = min(radius, width // 2, height // 2)
    mask = Image.new("L", size, 255)
    if radius <= 0:
        return mask
    corners = _disc(2 * radius)
    for x, y in ((0, 0), (1, 0), (0, 1), (1, 1)):
        quarter = corners.crop((x * radius, y * radius, (x + 1) * radius, (y + 1) * radius))
        mask.paste(quarter, (x * (width - radius), y * (height - radius)))
    return mask


def _draw_left(draw: ImageDraw.ImageDraw, block: Block, left: int, top: int) -> None:
    """Onto a mask: the lines are the ink, whatever colour the block was fitted with."""
    for index, line in enumerate(block.lines):
        y = top + index * block.line_height
        draw.text((left, y), line, font=block.font, fill=255, anchor="la")


def _middle(box: Box) -> tuple[int, int]:
    return ((box[0] + box[2]) // 2, (box[1] + box[3]) // 2)


def _single_line(text: str, font: ImageFont.FreeTypeFont, width: int) -> str:
    text = " ".join(text.split())
    return text if font.getlength(text) <= width else ellipsize(text, font, width)


def _fit_font(style: str, text: str, width: int, size: int) -> ImageFont.FreeTypeFont:
    """The largest size, in steps of 2 px, at which one line of text fits the width."""
    while size > 24 and _card_font(style, size).getlength(text) > width:
        size -= 2
    return _card_font(style, size)


@lru_cache(maxsize=32)
def _card_font(style: str, size: int) -> ImageFont.FreeTypeFont:
    """`bot.render.text.load_font` plus the bold monospace the card code is printed in."""
    if style == "mono-bold":
        return ImageFont.truetype(str(font_dir() / "DejaVuSansMono-Bold.ttf"), size)
    return load_font(style, size)  # type: ignore[arg-type]


def _printable(text: str) -> str:
    """Drops what DejaVu has no glyph for (emoji, mostly) rather than drawing empty boxes."""
    glyphs = _glyphs()
    return "".join(char for char in text if ord(char) in glyphs or char.isspace())


@lru_cache(maxsize=1)
def _glyphs() -> frozenset[int]:
    """Code points of DejaVu Sans Bold; the regular face covers the same letters and signs."""
    from matplotlib.ft2font import FT2Font  # deferred like `bot.render.text.font_dir`

    return frozenset(FT2Font(str(font_dir() / "DejaVuSans-Bold.ttf")).get_charmap())


def _initial(shop_name: str) -> str:
    """The brand's first letter for the round logo: inside «quotes» if there are any."""
    quoted = re.search(r"[«\"“]([^»\"”]+)", shop_name)
    for source in (quoted.group(1) if quoted else "", shop_name):
        letters = [char for char in source if char.isalnum()]
        if letters:
            return letters[0].upper()
    return "★"


def _mix(start: RGB, end: RGB, t: float) -> RGB:
    return (
        round(start[0] + (end[0] - start[0]) * t),
        round(start[1] + (end[1] - start[1]) * t),
        round(start[2] + (end[2] - start[2]) * t),
    )

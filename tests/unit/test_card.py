"""The loyalty card is checked the way the till sees it: decoded by a real QR reader."""

from __future__ import annotations

import io
from functools import cache

import pytest
from PIL import Image, ImageChops

from bot.render.card import (
    CARD_SIZE,
    MIN_MODULE_PX,
    CardFace,
    card_png,
    format_card_code,
    tier_palette,
)
from bot.render.qr import QUIET_ZONE, qr_modules
from tests.qr_reading import decode_png, read_qr

LINK = "https://t.me/clientbase_test_bot?start=c42_AbCdEfGhIjKl"
# Longest realistic link: a 32-character bot username and a long signed payload.
LONG_LINK = "https://t.me/clientbase_loyalty_program_b_bot?start=c123456789012345678_AbCdEfGhIjKl"

FACE = CardFace(
    shop_name="Кофейня «Зерно»",
    holder_name="Анна",
    card_code="40123457",
    tier_name="Серебро",
    balance_text="1 250 баллов",
    caption="Покажите кассиру",
)
LONG_HOLDER = "Александра-Виктория Константиновна Преображенская-Оболенская"
LONG_SHOP = (
    "Сеть семейных пекарен и кондитерских «Хлебный дом у Никитских ворот» — "
    "Большая Никитская улица, дом 12, строение 3, двор"
)
LONG_FACE = CardFace(
    shop_name=LONG_SHOP,
    holder_name=LONG_HOLDER,
    card_code="40123457",
    tier_name="Серебряный клиент премиальной программы",
    balance_text="1 250 000 000 баллов и ещё немного",
    caption="Покажите кассиру этот код или продиктуйте цифры под ним, если сканер не работает",
)
BLANK_FACE = CardFace("", "", "", FACE.tier_name, "", "")
# Nothing may be drawn this close to the card's left and right edges.
SIDE_BAND = 40


@cache
def rendered(link: str, face: CardFace) -> bytes:
    return card_png(link, face)


def image_of(link: str, face: CardFace) -> Image.Image:
    return Image.open(io.BytesIO(rendered(link, face)))


def module_grid(image: Image.Image, link: str) -> tuple[int, int, int]:
    """Left, top and pixel size of the code's modules, after checking every one of them.

    Each module must be a solid square of pure black or pure white exactly where the QR matrix
    puts it, and the quiet zone around the code must be pure white: that is what "whole-pixel
    modules, black on white" means to a scanner looking at a screen.
    """
    modules = qr_modules(link)
    count = len(modules)
    gray = image.convert("L")
    corner = read_qr(image).position.top_left
    # The outer corner of the top-left finder pattern: black, with white above and to the left.
    left, top = min(
        (
            (x, y)
            for x in range(corner.x - 8, corner.x + 9)
            for y in range(corner.y - 8, corner.y + 9)
            if gray.getpixel((x, y)) == 0
            and gray.getpixel((x - 1, y)) == 255
            and gray.getpixel((x, y - 1)) == 255
        ),
        key=sum,
    )
    run = 0
    while gray.getpixel((left + run, top)) == 0:
        run += 1
    assert run % 7 == 0, f"the finder pattern is {run} px wide: not 7 whole modules"
    box = run // 7
    for row, line in enumerate(modules):
        for col, dark in enumerate(line):
            x, y = left + col * box, top + row * box
            expected = (0, 0) if dark else (255, 255)
            assert gray.crop((x, y, x + box, y + box)).getextrema() == expected, (row, col)
    quiet = QUIET_ZONE * box
    outer = (left - quiet, top - quiet, left + count * box + quiet, top + count * box + quiet)
    ring = gray.crop(outer)
    ring.paste(255, (quiet, quiet, quiet + count * box, quiet + count * box))
    assert ring.getextrema() == (255, 255), "the quiet zone is not pure white"
    return left, top, box


def test_card_decodes_to_the_exact_link_at_level_q() -> None:
    code = read_qr(image_of(LINK, FACE))

    assert code.text == LINK
    assert code.ec_level == "Q"
    assert decode_png(rendered(LINK, FACE)) == LINK


def test_card_is_a_small_rgb_png_of_phone_size() -> None:
    data = rendered(LINK, FACE)
    image = image_of(LINK, FACE)

    assert image.format == "PNG"
    assert image.mode == "RGB"
    assert image.size == CARD_SIZE == (1080, 1500)
    assert len(data) < 300_000


@pytest.mark.parametrize(
    "face",
    [
        pytest.param(CardFace(**{**vars(FACE), "holder_name": LONG_HOLDER}), id="long-holder"),
        pytest.param(CardFace(**{**vars(FACE), "holder_name": "Ы" * 60}), id="unbroken-holder"),
        pytest.param(CardFace(**{**vars(FACE), "shop_name": LONG_SHOP}), id="long-shop"),
        pytest.param(LONG_FACE, id="everything-long"),
    ],
)
def test_long_texts_keep_the_code_readable(face: CardFace) -> None:
    assert len(LONG_HOLDER) == 60

    assert decode_png(rendered(LINK, face)) == LINK


def test_long_texts_stay_inside_their_rows() -> None:
    """Long texts shrink and end in "…": compared with a blank card, only the text areas change."""
    blank = image_of(LINK, BLANK_FACE)
    full = image_of(LINK, LONG_FACE)
    left, top, box = module_grid(blank, LINK)
    quiet = QUIET_ZONE * box
    size = len(qr_modules(LINK)) * box
    code_area = (left - quiet, top - quiet, left + size + quiet, top + size + quiet)

    changed = ImageChops.difference(blank, full)

    assert changed.getbbox() is not None  # the texts were drawn at all
    changed_left, _, changed_right, _ = changed.getbbox()
    assert changed_left >= SIDE_BAND
    assert changed_right <= CARD_SIZE[0] - SIDE_BAND
    assert changed.crop(code_area).getbbox() is None  # no text reaches the code or its quiet zone


@pytest.mark.parametrize("link", [LINK, LONG_LINK])
def test_qr_modules_are_whole_pixels_big_enough_for_a_screen(link: str) -> None:
    image = image_of(link, FACE)

    _, _, box = module_grid(image, link)

    assert box >= MIN_MODULE_PX
    assert decode_png(rendered(link, FACE)) == link


def test_card_survives_telegram_photo_recompression() -> None:
    """Sent as a photo, Telegram may scale the card to 1280 px and re-encode it as JPEG."""
    image = image_of(LONG_LINK, LONG_FACE)
    scale = 1280 / max(image.size)
    small = image.resize(
        (round(image.width * scale), round(image.height * scale)), Image.Resampling.LANCZOS
    )
    buffer = io.BytesIO()
    small.save(buffer, "JPEG", quality=70)

    assert decode_png(buffer.getvalue()) == LONG_LINK


def test_characters_without_a_glyph_are_left_out_not_drawn_as_boxes() -> None:
    with_emoji = CardFace(
        **{**vars(FACE), "holder_name": "Анна 🌸", "shop_name": "🫘 Кофейня «Зерно» 🌿"}
    )

    assert image_of(LINK, with_emoji).tobytes() == image_of(LINK, FACE).tobytes()


def test_tier_colours_follow_known_tier_names() -> None:
    default = tier_palette("Друг заведения")

    assert tier_palette("Серебро") == tier_palette("silver") == tier_palette("СЕРЕБРЯНЫЙ")
    assert tier_palette("Золото") == tier_palette("Gold") == tier_palette("Золотой клиент")
    assert tier_palette("Базовый") == tier_palette("Base")
    assert len({tier_palette("Base"), tier_palette("Silver"), tier_palette("Gold"), default}) == 4
    assert tier_palette("") == default


def test_card_code_is_grouped_by_four() -> None:
    assert format_card_code("40123457") == "4012 3457"
    assert format_card_code("4012 3457") == "4012 3457"
    assert format_card_code("123456789") == "1234 5678 9"


def test_only_ascii_digits_make_a_card_number() -> None:
    """Full-width or Arabic-Indic digits pass `str.isdigit` but are no card a till can type."""
    from bot.domain.cards import is_card_code, new_card_code

    code = new_card_code()
    assert is_card_code(code)
    full_width = "".join(chr(ord(char) - ord("0") + 0xFF10) for char in code)
    arabic = "".join(chr(ord(char) - ord("0") + 0x0660) for char in code)
    assert not is_card_code(full_width)
    assert not is_card_code(arabic)

"""Every artefact is checked the way a customer's phone sees it: decoded by a real QR reader."""

from __future__ import annotations

import io
from functools import cache
from typing import Literal

import pytest
from PIL import Image

from bot.render.posters import Format, PosterSize, PosterText, fit_link, poster, poster_filename
from bot.render.qr import qr_png, receipt_qr_png
from tests.qr_reading import read_qr as decode
from tests.qr_reading import render_pdf

LINK = "https://t.me/clientbase_test_bot?start=s42_AbCdEfGhIjKl"
# Longest realistic link: a 32-character bot username and a 32-character signed payload.
LONG_LINK = (
    "https://t.me/" + "clientbase_loyalty_program_b_bot" + "?start=s123456789012345678_AbCdEfGhIjKl"
)

TEXT = PosterText(
    title="Кофейня «Зерно» — Тверская, 1",
    call_to_action="Сканируйте и получите 100 баллов",
    subtitle="Программа лояльности в Telegram",
    link_hint="Не получается отсканировать? Откройте ссылку:",
)
LONG_TITLE = (
    "Сеть семейных пекарен и кондитерских «Хлебный дом у Никитских ворот» — "
    "Большая Никитская улица, дом 12, строение 3, двор"
)
LONG_TEXT = PosterText(
    title=LONG_TITLE,
    call_to_action=(
        "Сканируйте QR-код камерой телефона и получите 300 приветственных баллов на первую покупку"
    ),
    subtitle="Акция «Осенний кофе» до 30 ноября",
    link_hint="Не получается отсканировать? Откройте ссылку:",
)
# Points per page side: what a printer reads from the PDF.
PAGE_POINTS = {"a4": (595, 842), "a6": (298, 420)}
PAGE_PX = {"a4": (2480, 3508), "a6": (1240, 1748)}


@cache
def rendered(link: str, text: PosterText, size: PosterSize, fmt: Format) -> bytes:
    """Posters are slow to render at 300 dpi; each combination is made once per session."""
    return poster(link, text, size=size, fmt=fmt)


def assert_margins_blank(image: Image.Image, fraction: float = 0.05) -> None:
    """Anything printed in the outer 5% overflowed its box (and may be cut off by the printer)."""
    gray = image.convert("L")
    width, height = gray.size
    band = int(width * fraction)
    for box in (
        (0, 0, band, height),
        (width - band, 0, width, height),
        (0, 0, width, band),
        (0, height - band, width, height),
    ):
        darkest, _ = gray.crop(box).getextrema()
        assert darkest >= 250, f"ink in the margin {box}"


def test_qr_png_decodes_to_the_exact_link_at_level_q() -> None:
    image = Image.open(io.BytesIO(qr_png(LINK)))

    code = decode(image)

    assert image.format == "PNG"
    assert code.text == LINK
    assert code.ec_level == "Q"


def test_qr_png_keeps_a_four_module_quiet_zone() -> None:
    box_size = 10
    image = Image.open(io.BytesIO(qr_png(LINK, box_size=box_size))).convert("L")

    quiet = 4 * box_size
    darkest, _ = image.crop((0, 0, image.width, quiet)).getextrema()
    first_module, _ = image.crop((quiet, quiet, quiet + box_size, quiet + box_size)).getextrema()

    assert darkest == 255
    assert first_module == 0  # the finder pattern starts right after the quiet zone


@pytest.mark.parametrize(("paper_mm", "width"), [(58, 384), (80, 576)])
def test_receipt_qr_is_one_bit_at_the_exact_printer_width(
    paper_mm: Literal[58, 80], width: int
) -> None:
    caption = "Сканируйте, чтобы получить баллы"
    plain = Image.open(io.BytesIO(receipt_qr_png(LINK, paper_mm=paper_mm)))
    captioned = Image.open(io.BytesIO(receipt_qr_png(LINK, paper_mm=paper_mm, caption=caption)))

    for image in (plain, captioned):
        assert image.mode == "1"
        assert image.width == width
        assert decode(image).text == LINK
    assert captioned.height > plain.height


def test_receipt_qr_fills_the_roll_width() -> None:
    image = Image.open(io.BytesIO(receipt_qr_png(LINK, paper_mm=80)))

    corners = decode(image).position
    dark_width = corners.top_right.x - corners.top_left.x

    assert dark_width >= 0.75 * image.width


def test_receipt_caption_wraps_within_the_paper() -> None:
    caption = "Сканируйте, чтобы получить баллы за эту и следующие покупки в нашем магазине"
    image = Image.open(io.BytesIO(receipt_qr_png(LINK, paper_mm=58, caption=caption)))

    gray = image.convert("L")
    qr_side = image.width  # the caption sits below a square QR at most this tall
    text_area = gray.crop((0, qr_side, image.width, image.height))

    assert text_area.getextrema()[0] == 0  # the caption was printed
    assert gray.crop((0, 0, 4, image.height)).getextrema()[0] == 255
    assert gray.crop((image.width - 4, 0, image.width, image.height)).getextrema()[0] == 255


@pytest.mark.parametrize("size", ["a4", "a6"])
@pytest.mark.parametrize("text", [TEXT, LONG_TEXT], ids=["short", "long"])
def test_poster_png_decodes_with_print_dpi(size: PosterSize, text: PosterText) -> None:
    image = Image.open(io.BytesIO(rendered(LINK, text, size, "png")))

    assert image.format == "PNG"
    assert image.size == PAGE_PX[size]
    assert image.info["dpi"] == pytest.approx((300, 300), abs=0.01)
    assert decode(image).text == LINK
    assert_margins_blank(image)


@pytest.mark.parametrize("size", ["a4", "a6"])
@pytest.mark.parametrize("text", [TEXT, LONG_TEXT], ids=["short", "long"])
def test_poster_pdf_has_the_physical_page_size_and_decodes(
    size: PosterSize, text: PosterText
) -> None:
    data = rendered(LINK, text, size, "pdf")

    (width, height), image = render_pdf(data)

    assert data.startswith(b"%PDF")
    assert (width, height) == pytest.approx(PAGE_POINTS[size], abs=1.5)
    assert decode(image).text == LINK


@pytest.mark.parametrize("text", [TEXT, LONG_TEXT], ids=["short", "long"])
def test_a4_qr_spans_at_least_60_percent_of_the_page(text: PosterText) -> None:
    image = Image.open(io.BytesIO(rendered(LINK, text, "a4", "png")))

    corners = decode(image).position
    dark_width = corners.top_right.x - corners.top_left.x

    assert dark_width >= 0.6 * image.width


def test_long_texts_are_as_long_as_the_brief_demands() -> None:
    assert len(LONG_TEXT.title) == 120
    assert len(LONG_TEXT.call_to_action) >= 80


def test_absurdly_long_texts_are_ellipsized_not_overflowing() -> None:
    text = PosterText(
        title="Магазин " * 60,
        call_to_action="Получите баллы " * 40,
        subtitle="Акция " * 50,
        link_hint="Откройте ссылку " * 20,
    )
    image = Image.open(io.BytesIO(poster(LINK, text, size="a6", fmt="png")))

    assert decode(image).text == LINK
    assert_margins_blank(image)


@pytest.mark.parametrize("size", ["a4", "a6"])
def test_longest_realistic_link_fits_the_page(size: PosterSize) -> None:
    image = Image.open(io.BytesIO(poster(LONG_LINK, TEXT, size=size, fmt="png")))

    assert decode(image).text == LONG_LINK
    assert_margins_blank(image)


def test_a_link_too_long_for_one_line_wraps_at_the_query_without_losing_characters() -> None:
    # The printed link cannot be decoded from pixels, so this checks the laid-out lines.
    block = fit_link(LONG_LINK, 1066, max_size=32)  # the A6 content width and link size

    assert "".join(block.lines) == LONG_LINK
    assert len(block.lines) == 2
    assert block.lines[1].startswith("?start=")


def test_poster_without_optional_texts_still_renders() -> None:
    text = PosterText(title="Цветы на Ленина", call_to_action="Сканируйте и получите скидку")
    image = Image.open(io.BytesIO(poster(LINK, text, size="a6", fmt="png")))

    assert decode(image).text == LINK


def test_poster_filename_transliterates_cyrillic() -> None:
    name = poster_filename("Тверская, 1", "Касса", "Мария", "a4", "pdf")

    assert name == "tverskaya-1_kassa_mariya_a4.pdf"


def test_poster_filename_is_safe_for_any_input() -> None:
    name = poster_filename("../../etc/пароль", "Весна 2025 / 🌸", "C:\\Users\\Ёжик", "a6", "png")

    assert name == "etc-parol_vesna-2025_c-users-ezhik_a6.png"
    assert "/" not in name and "\\" not in name and " " not in name


def test_poster_filename_falls_back_when_nothing_is_printable() -> None:
    assert poster_filename("🌸", "", "  ", "a6", "png") == "poster_a6.png"

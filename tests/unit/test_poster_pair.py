"""With WhatsApp on, a poster carries both codes side by side; a phone reads each of them."""

from __future__ import annotations

import io

import pytest
import zxingcpp
from PIL import Image

from bot.render.posters import PAGE_PX, PosterSize, PosterText, poster
from bot.services.sources import whatsapp_link

TG = "https://t.me/clientbase_demo_bot?start=s12_AbCdEfGhIjKl"
WA = whatsapp_link("79990001122", "Хочу в программу лояльности, мой код:", "s12_AbCdEfGhIjKl")
TEXT = PosterText(
    title="Кофейня — Тверская",
    call_to_action="Сканируйте и получите 100 баллов",
    subtitle="Программа лояльности",
    link_hint="или откройте ссылку",
)


@pytest.mark.parametrize("size", ["a4", "a6"])
def test_a_poster_with_both_codes_side_by_side(size: PosterSize) -> None:
    image = Image.open(io.BytesIO(poster(TG, TEXT, size=size, fmt="png", whatsapp=WA)))
    assert image.size == PAGE_PX[size]
    found = zxingcpp.read_barcodes(image.convert("L"))
    by_x = sorted(found, key=lambda code: code.position.top_left.x)
    assert [code.text for code in by_x] == [TG, WA]  # Telegram on the left, WhatsApp right
    left, right = by_x
    assert left.position.top_right.x < image.width // 2 < right.position.top_left.x


def test_printables_put_both_codes_on_the_posters_when_whatsapp_is_on() -> None:
    from bot.services.printables import printables
    from bot.services.sources import SourceLink
    from bot.texts import texts_for

    link = SourceLink(12, "Тверская", "", "", "s12_AbCdEfGhIjKl")
    files = printables(
        link,
        "clientbase_demo_bot",
        texts_for("ru"),
        shop_name="Кофейня",
        welcome_bonus=100,
        fmt="png",
        whatsapp_number="79990001122",
    )
    assert files.whatsapp_qr is not None
    for page in files.posters:
        found = zxingcpp.read_barcodes(Image.open(io.BytesIO(page.data)).convert("L"))
        assert {code.text for code in found} == {files.url, files.whatsapp_url}

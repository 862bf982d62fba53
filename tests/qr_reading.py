"""Reading QR codes the way a customer's phone does, for tests: a real decoder (zxing-cpp)."""

from __future__ import annotations

import io

import pypdfium2 as pdfium
import zxingcpp
from PIL import Image


def read_qr(image: Image.Image) -> zxingcpp.Barcode:
    found = [code for code in zxingcpp.read_barcodes(image) if code.format == zxingcpp.QRCode]
    assert len(found) == 1, f"expected one QR code, found {len(found)}"
    return found[0]


def decode(image: Image.Image) -> str:
    return read_qr(image).text


def decode_png(data: bytes) -> str:
    return decode(Image.open(io.BytesIO(data)))


def render_pdf(data: bytes) -> tuple[tuple[float, float], Image.Image]:
    """Page 1 of a PDF as a printer would lay it out: its size in points, and an image of it."""
    document = pdfium.PdfDocument(data)
    page = document[0]
    size = page.get_size()
    image = page.render(scale=150 / 72).to_pil()
    document.close()
    return size, image


def decode_pdf(data: bytes) -> str:
    return decode(render_pdf(data)[1])

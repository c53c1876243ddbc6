"""QR code images (PNG), drawn with qrcode + Pillow, and a cache of the codes drawn for URLs.

A rotating check-in token changes every 15 seconds, so the cache holds only the last few codes of each
open activity; every phone that polls for the current code within a step gets the cached PNG instead of
paying 5–15 ms to draw it again. Personal codes change only when a session version is bumped.
"""
from __future__ import annotations

import io
from functools import lru_cache

import qrcode
from qrcode.constants import ERROR_CORRECT_M

CACHE_SIZE = 2048


def qr_png(data: str, *, box_size: int = 10, border: int = 2) -> bytes:
    """A PNG of data as a QR code; medium error correction survives a scuffed poster or a glare."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=box_size, border=border)
    code.add_data(data)
    code.make(fit=True)
    image = code.make_image(fill_color="black", back_color="white")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@lru_cache(maxsize=CACHE_SIZE)
def cached_qr_png(url: str, box_size: int = 10) -> bytes:
    """The PNG of url as a QR code, drawn once per (url, size)."""
    return qr_png(url, box_size=box_size)

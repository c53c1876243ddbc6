"""QR images of check-in URLs, cached per URL.

A rotating token changes every 15 seconds, so the cache holds only the last few codes of each open
activity; every phone that polls for the current code within a step gets the cached PNG instead of
paying 5–15 ms to draw it again. Personal codes change only when a session version is bumped.
"""
from __future__ import annotations

from functools import lru_cache

from ..qr import qr_png

CACHE_SIZE = 2048


@lru_cache(maxsize=CACHE_SIZE)
def cached_qr_png(url: str, box_size: int = 10) -> bytes:
    """The PNG of url as a QR code, drawn once per (url, size)."""
    return qr_png(url, box_size=box_size)

"""Helpers shared by several test files (fixtures that build apps are in conftest.py)."""
from __future__ import annotations

import io


def read_qr(page, element_id: str) -> str:
    """The text of the QR code shown in the <img id=element_id>, read the way a phone camera would."""
    import zxingcpp
    from PIL import Image

    page.locator(f"#{element_id}").wait_for()
    page.wait_for_function(f"document.getElementById('{element_id}').complete"
                           f" && document.getElementById('{element_id}').naturalWidth > 0")
    results = zxingcpp.read_barcodes(Image.open(io.BytesIO(page.locator(f"#{element_id}").screenshot())))
    assert results, f"no QR code found in #{element_id}"
    return results[0].text

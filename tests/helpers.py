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


def sms_code(session, phone: str) -> str:
    """The code in the newest outbox message to phone (what the person reads on their phone)."""
    from sqlmodel import select

    from volunteer_app.models import SmsOutbox

    session.rollback()  # see what the requests committed
    params = session.exec(select(SmsOutbox.params).where(SmsOutbox.phone == phone)
                          .order_by(SmsOutbox.id.desc())).first()
    session.rollback()  # and leave no read transaction open: later reads see later requests
    assert params is not None, f"no message to {phone}"
    return params[0]


def registration_code(client, session, phone: str) -> str:
    """Ask for a registration code for phone through the page and read it from the outbox."""
    from volunteer_app.accounts.phone import normalise_phone

    response = client.post("/register/code", data={"phone": phone})
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return sms_code(session, normalise_phone(phone))

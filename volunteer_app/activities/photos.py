"""Activity photos: re-encoded by Pillow so that nothing of the uploaded file survives but the pixels.

    add_photo(*, session, activity_id, data: bytes, uploaded_by_id) -> Photo
        Codes: too_many_photos, empty_file, too_large, not_an_image, image_too_big (decompression bomb).

The file is decoded only after its header says it is a JPEG, PNG or WebP of at most MAX_PIXELS pixels;
orientation from EXIF is applied, then the image is written as a fresh JPEG (≤ 1600 px, no EXIF, so no
GPS position) plus a thumbnail. Both live in the database so that any app server can serve them.
"""
from __future__ import annotations

import io
import warnings

from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import func
from sqlmodel import Session, select

from ..errors import DomainError
from ..models import Photo

MAX_PHOTOS = 9
MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 50_000_000  # a 50-megapixel phone photo; anything larger is a bomb, not a photo
MAX_SIDE = 1600
THUMB_SIDE = 320
ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP"}

Image.MAX_IMAGE_PIXELS = MAX_PIXELS


class PhotoError(DomainError):
    status = 400
    messages = {
        "too_many_photos": _l("An activity can have at most 9 photos."),
        "empty_file": _l("The file is empty."),
        "too_large": _l("A photo can be at most 10 MB."),
        "not_an_image": _l("Only JPEG, PNG or WebP photos can be uploaded."),
        "image_too_big": _l("This image has too many pixels to be a photo."),
    }


def add_photo(*, session: Session, activity_id: int, data: bytes, uploaded_by_id: int | None) -> Photo:
    """Store one photo of the activity, re-encoded; the caller checked the uploader's rights."""
    count = session.exec(select(func.count(Photo.id)).where(Photo.activity_id == activity_id)).one()
    if count >= MAX_PHOTOS:
        raise PhotoError("too_many_photos")
    image, thumb, width, height = reencode(data)
    photo = Photo(activity_id=activity_id, uploaded_by_id=uploaded_by_id, width=width, height=height,
                  size_bytes=len(image), image=image, thumbnail=thumb)
    session.add(photo)
    session.flush()
    return photo


def reencode(data: bytes) -> tuple[bytes, bytes, int, int]:
    """(JPEG ≤ 1600 px without EXIF, thumbnail JPEG, width, height) or PhotoError."""
    if not data:
        raise PhotoError("empty_file")
    if len(data) > MAX_BYTES:
        raise PhotoError("too_large")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:  # reads the header only
                if probe.format not in ALLOWED_FORMATS:
                    raise PhotoError("not_an_image")
                if probe.width * probe.height > MAX_PIXELS:
                    raise PhotoError("image_too_big")
                probe.load()
                image = ImageOps.exif_transpose(probe)
                image = image.convert("RGB")
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PhotoError("image_too_big") from None
    except PhotoError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError):
        raise PhotoError("not_an_image") from None
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    full = _jpeg(image, quality=85)
    thumb_image = image.copy()
    thumb_image.thumbnail((THUMB_SIDE, THUMB_SIDE))
    return full, _jpeg(thumb_image, quality=75), image.width, image.height


def _jpeg(image: Image.Image, *, quality: int) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality, optimize=True)  # no exif= argument: nothing is carried over
    return buffer.getvalue()

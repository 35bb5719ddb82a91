"""Photos sent with a report: checked to be a real JPEG, PNG or WebP picture (Pillow reads its
header and verifies the file; a decompression bomb is refused before it is decoded), at most
``MAX_BYTES`` each and ``MAX_PHOTOS`` per report, stored under the data directory by content
hash. Kept private until staff approve them."""

from __future__ import annotations

import hashlib
import io
import warnings
from pathlib import Path

from PIL import Image, UnidentifiedImageError
from sqlalchemy.orm import Session

from dieuhanh.citizen.models import CitizenReport, ReportPhoto
from dieuhanh.core.errors import InvalidInput

MAX_BYTES = 10 * 1024 * 1024
MAX_PHOTOS = 3
MAX_PIXELS = 40_000_000  # a 40-megapixel photo; larger is refused, not decoded
FORMATS = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
}


def folder(data_dir: Path) -> Path:
    return data_dir / "citizen" / "photos"


def checked(data: bytes, filename: str) -> tuple[str, str, int, int]:
    """(content type, extension, width, height) of a photo, or InvalidInput naming the file."""
    name = filename[:80] or "photo"
    if len(data) > MAX_BYTES:
        raise InvalidInput(f"{name}: {len(data) // (1024 * 1024)} MB; a photo may have at most "
                           f"{MAX_BYTES // (1024 * 1024)} MB.", code="photo_too_large")  # fmt: skip
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                kind, (width, height) = image.format, image.size
                if width * height > MAX_PIXELS:
                    raise InvalidInput(f"{name}: {width}×{height} pixels is too large a picture.",
                                       code="photo_too_large")  # fmt: skip
                image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError,
            Image.DecompressionBombError, Image.DecompressionBombWarning):  # fmt: skip
        raise InvalidInput(f"{name} is not a photo (JPEG, PNG or WebP).",
                           code="not_a_photo") from None  # fmt: skip
    if kind not in FORMATS:
        raise InvalidInput(f"{name}: {kind} pictures are not taken; send JPEG, PNG or WebP.",
                           code="not_a_photo")  # fmt: skip
    content_type, extension = FORMATS[kind]
    return content_type, extension, width, height


def store(
    session: Session, data_dir: Path, report: CitizenReport, photos: list[tuple[bytes, str]]
) -> list[ReportPhoto]:
    """Check every photo first (one bad file stores none), then write them."""
    if len(photos) > MAX_PHOTOS:
        raise InvalidInput(f"At most {MAX_PHOTOS} photos per report.", code="too_many_photos")
    described = [(data, checked(data, filename)) for data, filename in photos if data]
    target = folder(data_dir)
    target.mkdir(parents=True, exist_ok=True)
    rows = []
    for data, (content_type, extension, width, height) in described:
        digest = hashlib.sha256(data).hexdigest()
        path = f"{digest}.{extension}"
        file = target / path
        if not file.exists():
            partial = file.with_suffix(".part")
            partial.write_bytes(data)
            partial.replace(file)
        row = ReportPhoto(report_id=report.id, path=path, content_type=content_type,
                          size=len(data), width=width, height=height, sha256=digest)  # fmt: skip
        session.add(row)
        rows.append(row)
    session.flush()
    return rows

"""Reading an uploaded file with a size limit (a wrong file must not fill the memory)."""

from __future__ import annotations

from fastapi import UploadFile

from dieuhanh.core.errors import DieuhanhError

CHUNK = 1 << 16


class PayloadTooLarge(DieuhanhError):
    status = 413
    code = "payload_too_large"


def read_upload(upload: UploadFile, max_bytes: int) -> tuple[bytes, str]:
    filename = (upload.filename or "upload").rsplit("/", 1)[-1][:200]
    chunks = []
    size = 0
    while chunk := upload.file.read(CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise PayloadTooLarge(
                f"{filename} is larger than {max_bytes // (1024 * 1024)} MB.", code="file_too_large"
            )
        chunks.append(chunk)
    return b"".join(chunks), filename

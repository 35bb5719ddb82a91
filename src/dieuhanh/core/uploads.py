"""Reading an uploaded file with a size limit (a wrong file must not fill the memory), and the
dependencies of the import routes, which accept a body larger than the app's default.

An import route declares its limit by depending on :class:`ImportBody` or :class:`ImportUpload`.
The dependency logs the request in first (it depends on the principal), then raises the request's
limit in the body-limit middleware (:mod:`dieuhanh.core.http.bodylimit`) and reads the body: an
anonymous import is refused before a byte of its body is read (issue #10).
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO, cast

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from dieuhanh.core.errors import DieuhanhError, InvalidInput
from dieuhanh.core.http import bodylimit
from dieuhanh.core.http.deps import CurrentPrincipal
from dieuhanh.core.text import size_text

CHUNK = 1 << 16
SPOOL_BYTES = 1 << 20
MAX_FORM_FIELDS = 20
TRUE_WORDS = frozenset({"true", "1", "on", "yes"})
FALSE_WORDS = frozenset({"false", "0", "off", "no", ""})


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
                f"{filename} is larger than {size_text(max_bytes)}.", code="file_too_large"
            )
        chunks.append(chunk)
    return b"".join(chunks), filename


class LargeBody:
    """A route dependency declaring that the route accepts up to ``max_bytes`` of body."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes


class ImportBody(LargeBody):
    """The raw body (a dataValueSet in JSON or CSV), read after login into a temporary file
    (in memory up to 1 MB): an import of any size costs the same memory."""

    async def __call__(
        self, request: Request, principal: CurrentPrincipal
    ) -> AsyncIterator[BinaryIO]:
        too_large = (
            f"The import is larger than {size_text(self.max_bytes)}; split it "
            "(e.g. one file per period)."
        )
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spooled:
            async for chunk in body_chunks(
                request, self.max_bytes, too_large, code="file_too_large"
            ):
                spooled.write(chunk)
            spooled.seek(0)
            yield cast(BinaryIO, spooled)


async def read_body(request: Request, max_bytes: int, too_large: str, *, code: str) -> bytes:
    """The request's body, up to ``max_bytes`` (raised for this request only: call it once the
    caller is known); past it, 413 with ``too_large`` before the rest is read."""
    return b"".join(
        [chunk async for chunk in body_chunks(request, max_bytes, too_large, code=code)]
    )


async def body_chunks(
    request: Request, max_bytes: int, too_large: str, *, code: str
) -> AsyncIterator[bytes]:
    """The request's body as it arrives, under the same limit as :func:`read_body`."""
    bodylimit.allow(request, max_bytes)
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise PayloadTooLarge(too_large, code=code)
        yield chunk


@dataclass(frozen=True)
class Upload:
    """A multipart upload: the file in the field ``file`` and the form's other fields."""

    data: bytes
    filename: str
    fields: dict[str, str] = field(default_factory=dict)

    def flag(self, name: str) -> bool:
        word = self.fields.get(name, "").strip().lower()
        if word not in TRUE_WORDS | FALSE_WORDS:
            raise InvalidInput(f"{name}: '{word[:20]}' is not true or false.", code="invalid_input")
        return word in TRUE_WORDS

    def text(self, name: str, max_length: int) -> str | None:
        value = self.fields.get(name, "").strip()
        if len(value) > max_length:
            raise InvalidInput(f"{name}: at most {max_length} characters.", code="invalid_input")
        return value or None


class ImportUpload(LargeBody):
    """A file sent as multipart form data, read after login. ``fields``: the form's other
    fields and their descriptions, for the OpenAPI description."""

    def __init__(self, max_bytes: int, file: str, fields: dict[str, str] | None = None) -> None:
        super().__init__(max_bytes)
        self.file_description = file
        self.fields = fields or {}

    async def __call__(self, request: Request, principal: CurrentPrincipal) -> Upload:
        bodylimit.allow(request, self.max_bytes)
        form = await request.form(max_files=1, max_fields=MAX_FORM_FIELDS)
        try:
            upload = form.get("file")
            if upload is None or isinstance(upload, str):
                raise InvalidInput(
                    "Send the file as multipart/form-data in the field 'file'.",
                    code="missing_file",
                )
            data, filename = await run_in_threadpool(read_upload, upload, self.max_bytes)
            fields = {key: value for key, value in form.multi_items() if isinstance(value, str)}
        finally:
            await form.close()
        return Upload(data, filename, fields)

    @property
    def openapi(self) -> dict[str, Any]:
        """The multipart body, as FastAPI would describe File and Form parameters."""
        properties: dict[str, Any] = {
            "file": {"type": "string", "format": "binary", "description": self.file_description}
        }
        for name, description in self.fields.items():
            properties[name] = {"type": "string", "description": description}
        schema = {"type": "object", "required": ["file"], "properties": properties}
        return {
            "requestBody": {
                "required": True,
                "content": {"multipart/form-data": {"schema": schema}},
            },
            "x-max-body-bytes": self.max_bytes,
        }

"""Files attached to a directive by its issuer, and to a recipient's progress or result report
(issue #13: "a text, attachments, a deadline, a priority").

What a file is comes from its first bytes, never from its name or the type the browser claims:
PDF, PNG, JPEG, WebP, Word and Excel (the OOXML ``docx``/``xlsx`` — a zip holding
``word/document.xml`` or ``xl/workbook.xml`` — and the older OLE2 ``doc``/``xls``, told apart by
the name only once the bytes say OLE2) and plain zip archives. Anything else is refused. The
size limit is ``alerts.attachment_max_bytes``.

Stored as citizen report photos are: under the data directory, named by content hash (one copy
of a file attached twice), a row per attachment (audited). Who may download one is who may see
it: the directive's own files, whoever may see the directive; a recipient's files, the issuer's
side and that recipient's unit (a commune does not read another commune's report).
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from dieuhanh.alerts.models import Directive, DirectiveAttachment, DirectiveRecipient
from dieuhanh.core.access import Principal
from dieuhanh.core.errors import Forbidden, InvalidInput, NotFound
from dieuhanh.core.text import size_text
from dieuhanh.core.uploads import PayloadTooLarge
from dieuhanh.units.models import Unit

MAX_PER_OWNER = 20  # files on one directive, or on one recipient's report
ZIP_MAGIC = b"PK\x03\x04"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ALLOWED = "PDF, Word, Excel, PNG, JPEG, WebP or zip"
OLE2_TYPES = {".doc": ("application/msword", "doc"), ".xls": ("application/vnd.ms-excel", "xls")}
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Kind:
    content_type: str
    extension: str


def folder(data_dir: Path) -> Path:
    return data_dir / "alerts" / "attachments"


def clean_name(filename: str) -> str:
    """The name people see: no folders, no control characters, at most 200 characters."""
    name = re.sub(r"[\x00-\x1f\x7f]", "", filename.replace("\\", "/").rsplit("/", 1)[-1])
    return name.strip()[-200:] or "tep-dinh-kem"


def kind_of(data: bytes, filename: str) -> Kind:
    """What the bytes are, or InvalidInput naming the file and what is taken."""
    head = data[:16]
    if head.startswith(b"%PDF-"):
        return Kind("application/pdf", "pdf")
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return Kind("image/png", "png")
    if head.startswith(b"\xff\xd8\xff"):
        return Kind("image/jpeg", "jpg")
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return Kind("image/webp", "webp")
    if head.startswith(ZIP_MAGIC):
        return _zip_kind(data, filename)
    if head.startswith(OLE2_MAGIC):
        suffix = Path(filename.lower()).suffix
        if suffix in OLE2_TYPES:
            return Kind(*OLE2_TYPES[suffix])
        raise InvalidInput(f"{filename}: an Office 97-2003 file must be a .doc or .xls.",
                           code="attachment_type")  # fmt: skip
    raise InvalidInput(f"{filename} is not a file that is taken ({ALLOWED}); its content was "
                       "checked, not its name.", code="attachment_type")  # fmt: skip


def _zip_kind(data: bytes, filename: str) -> Kind:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        raise InvalidInput(f"{filename} looks like a zip archive but cannot be read.",
                           code="attachment_type") from None  # fmt: skip
    if "word/document.xml" in names:
        return Kind(DOCX, "docx")
    if "xl/workbook.xml" in names:
        return Kind(XLSX, "xlsx")
    return Kind("application/zip", "zip")


def attach(
    session: Session, data_dir: Path, max_bytes: int, directive: Directive,
    recipient: DirectiveRecipient | None, data: bytes, filename: str, by: str, now: datetime,
) -> DirectiveAttachment:  # fmt: skip
    """Check the file, write it (once per content), and record it; the caller commits."""
    name = clean_name(filename)
    if not data:
        raise InvalidInput(f"{name} is empty.", code="attachment_empty")
    if len(data) > max_bytes:
        raise PayloadTooLarge(f"{name}: {size_text(len(data))}; an attachment may have at "
                              f"most {size_text(max_bytes)} (alerts.attachment_max_bytes).",
                              code="attachment_too_large")  # fmt: skip
    kind = kind_of(data, name)
    owner = DirectiveAttachment.recipient_id
    count = len(session.scalars(select(DirectiveAttachment.id).where(
        DirectiveAttachment.directive_id == directive.id,
        owner.is_(None) if recipient is None else owner == recipient.id)).all())  # fmt: skip
    if count >= MAX_PER_OWNER:
        raise InvalidInput(f"At most {MAX_PER_OWNER} files here.", code="too_many_attachments")
    digest = hashlib.sha256(data).hexdigest()
    path = f"{digest}.{kind.extension}"
    _write(folder(data_dir), path, data)
    row = DirectiveAttachment(
        directive_id=directive.id, recipient_id=recipient.id if recipient else None,
        unit_id=recipient.unit_id if recipient else directive.issuer_unit_id, filename=name,
        content_type=kind.content_type, size=len(data), sha256=digest, path=path,
        uploaded_by=by, created_at=now,
    )  # fmt: skip
    session.add(row)
    session.flush()
    return row


def _write(target: Path, path: str, data: bytes) -> None:
    target.mkdir(parents=True, exist_ok=True)
    file = target / path
    if not file.exists():  # the same bytes are the same file
        partial = file.with_suffix(".part")
        partial.write_bytes(data)
        partial.replace(file)


def recipient_of(session: Session, directive: Directive, unit_code: str) -> DirectiveRecipient:
    recipient = session.scalar(
        select(DirectiveRecipient).join(Unit, Unit.id == DirectiveRecipient.unit_id)
        .where(DirectiveRecipient.directive_id == directive.id, Unit.code == unit_code[:32])
    )  # fmt: skip
    if recipient is None:
        raise NotFound(f"{directive.code} was not sent to unit {unit_code[:32]}.",
                       code="not_a_recipient")  # fmt: skip
    return recipient


def may_read(principal: Principal, directive: Directive, attachment: DirectiveAttachment) -> bool:
    """The directive's own files: whoever may see it (checked before); a recipient's: the
    issuer's side and that unit."""
    scope = principal.read_scope
    return attachment.recipient_id is None or scope.allows(directive.issuer_unit_id) or (
        scope.allows(attachment.unit_id))  # fmt: skip


def readable(
    session: Session, principal: Principal, directive: Directive, attachment_id: int
) -> DirectiveAttachment:
    found = session.get(DirectiveAttachment, attachment_id)
    if found is None or found.directive_id != directive.id:
        raise NotFound(f"No attachment {attachment_id} on {directive.code}.",
                       code="attachment_not_found")  # fmt: skip
    if not may_read(principal, directive, found):
        raise Forbidden(f"{found.filename} belongs to another unit's report.",
                        code="out_of_scope")  # fmt: skip
    return found


def described(attachment: DirectiveAttachment, code: str) -> dict[str, object]:
    return {"id": attachment.id, "filename": attachment.filename,
            "content_type": attachment.content_type, "size": attachment.size,
            "uploaded_by": attachment.uploaded_by, "created_at": attachment.created_at,
            "url": f"/api/v1/directives/{code}/attachments/{attachment.id}"}  # fmt: skip


def listing(
    session: Session, principal: Principal, directives: dict[int, Directive]
) -> dict[tuple[int, int | None], list[dict[str, object]]]:
    """The files of these directives the principal may read, by (directive, recipient or
    None for the directive's own), oldest first."""
    found: dict[tuple[int, int | None], list[dict[str, object]]] = {}
    if not directives:
        return found
    for attachment in session.scalars(select(DirectiveAttachment).where(
            DirectiveAttachment.directive_id.in_(list(directives)))
            .order_by(DirectiveAttachment.id)):  # fmt: skip
        directive = directives[attachment.directive_id]
        if may_read(principal, directive, attachment):
            key = (attachment.directive_id, attachment.recipient_id)
            found.setdefault(key, []).append(described(attachment, directive.code))
    return found

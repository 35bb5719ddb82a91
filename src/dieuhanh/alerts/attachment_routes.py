"""Attachments of directives: the issuer's files on the directive, a recipient's on its report;
uploaded as multipart (the kernel's bounded reader, after login), downloaded by those who may
see them. Registered before the directive routes: ``…/recipients/{unit}/attachments`` must not
be taken for a step."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import FileResponse

from dieuhanh.alerts import attachments
from dieuhanh.alerts.directive_routes import AttachmentOut
from dieuhanh.alerts.directives import get_directive
from dieuhanh.alerts.models import Directive, DirectiveRecipient
from dieuhanh.core.access import authorize
from dieuhanh.core.db.base import utcnow
from dieuhanh.core.http.deps import CurrentPrincipal, Db, get_runtime
from dieuhanh.core.http.routing import api_router
from dieuhanh.core.uploads import ImportUpload, Upload
from dieuhanh.units.models import Unit

router = api_router("directives")
FILE = f"The file: {attachments.ALLOWED}, recognised by its content"
MULTIPART_SLACK = 64 * 1024  # the form's boundaries and headers around the file
DESCRIBED = ImportUpload(20 * 1024 * 1024, FILE)  # the OpenAPI description (default limit)


async def attachment_upload(request: Request, principal: CurrentPrincipal) -> Upload:
    """The file, read only once the caller is logged in, up to the setting's limit."""
    limit = get_runtime(request).settings.alerts.attachment_max_bytes
    return await ImportUpload(limit + MULTIPART_SLACK, FILE)(request, principal)


AttachmentUpload = Annotated[Upload, Depends(attachment_upload)]


def _store(
    request: Request, db: Db, principal: CurrentPrincipal, directive: Directive,
    recipient: DirectiveRecipient | None, upload: Upload,
) -> AttachmentOut:  # fmt: skip
    settings = get_runtime(request).settings
    stored = attachments.attach(db, settings.data_dir, settings.alerts.attachment_max_bytes,
                                directive, recipient, upload.data, upload.filename,
                                principal.username, utcnow())  # fmt: skip
    db.commit()
    return AttachmentOut.model_validate(attachments.described(stored, directive.code))


@router.post("/directives/{code}/attachments", response_model=AttachmentOut, status_code=201,
             summary="Attach a file to a directive (its issuer's unit)",
             description=f"Multipart, field `file`. {attachments.ALLOWED}: the type is read "
             "from the content, not the name (422 `attachment_type`); at most "
             "`alerts.attachment_max_bytes` (413); 403 for another unit.",
             openapi_extra=DESCRIBED.openapi)  # fmt: skip
def attach_to_directive(
    code: str, request: Request, db: Db, principal: CurrentPrincipal, upload: AttachmentUpload
) -> AttachmentOut:
    directive = get_directive(db, principal, code)
    issuer = db.get_one(Unit, directive.issuer_unit_id)
    authorize(principal, "write", issuer.id, issuer.name)
    return _store(request, db, principal, directive, None, upload)


@router.post("/directives/{code}/recipients/{unit_code}/attachments",
             response_model=AttachmentOut, status_code=201,
             summary="Attach a file to a recipient's progress or result report (that unit)",
             description="As the directive's attachments; only that unit's people (or the "
             "province) may attach, and only they and the issuer's side may download it.",
             openapi_extra=DESCRIBED.openapi)  # fmt: skip
def attach_to_report(
    code: str, unit_code: str, request: Request, db: Db, principal: CurrentPrincipal,
    upload: AttachmentUpload,
) -> AttachmentOut:  # fmt: skip
    directive = get_directive(db, principal, code)
    recipient = attachments.recipient_of(db, directive, unit_code)
    unit = db.get_one(Unit, recipient.unit_id)
    authorize(principal, "write", unit.id, unit.name)
    return _store(request, db, principal, directive, recipient, upload)


@router.get("/directives/{code}/attachments/{attachment_id}", response_class=FileResponse,
            summary="Download an attachment (those who may see it)",
            responses={200: {"content": {"application/octet-stream": {}}}})  # fmt: skip
def download_attachment(
    code: str, attachment_id: int, request: Request, db: Db, principal: CurrentPrincipal
) -> FileResponse:
    directive = get_directive(db, principal, code)
    found = attachments.readable(db, principal, directive, attachment_id)
    path = attachments.folder(get_runtime(request).settings.data_dir) / found.path
    return FileResponse(path, media_type=found.content_type, filename=found.filename,
                        headers={"X-Content-Type-Options": "nosniff"})  # fmt: skip

"""Pushes from units' systems: the source's own token instead of a person's login.

The token is made by someone who manages sources (shown once), stored only as its SHA-256 and
compared in constant time. It opens exactly one door: pushing records to that one source.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Annotated

from fastapi import Header, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel
from sqlalchemy import select

from dieuhanh.core.access import Permission, require
from dieuhanh.core.errors import InvalidInput, Unauthorized
from dieuhanh.core.http.deps import CurrentPrincipal, Db, get_runtime
from dieuhanh.core.http.routing import api_router
from dieuhanh.core.text import size_text
from dieuhanh.core.uploads import read_body
from dieuhanh.datahub.connectors import Upload as SentFile
from dieuhanh.datahub.models import DataSource, Trigger
from dieuhanh.datahub.routes import UploadResult
from dieuhanh.datahub.runs import get_source, run_source

router = api_router("datahub")
public = api_router("datahub", public=True)
MAX_PUSH_BYTES = 10 * 1024 * 1024
TOKEN_PREFIX = "dhp_"


class PushToken(BaseModel):
    token: str


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@router.post(
    "/sources/{code}/push-token",
    response_model=PushToken,
    summary="Make a push source's token (shown once)",
    description="A new token replaces the old one at once. Give it to the unit's system, which "
    "sends it as `Authorization: Bearer <token>` to `POST /api/v1/sources/{code}/push`.",
)
def make_push_token(code: str, db: Db, principal: CurrentPrincipal) -> PushToken:
    require(principal, Permission.MANAGE_SOURCES)
    source = get_source(db, code)
    if source.kind != "push":
        raise InvalidInput(f"Data source '{code}' is not a push source.", code="not_a_push_source")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    source.push_token_hash = token_hash(token)
    db.commit()
    return PushToken(token=token)


@public.post(
    "/sources/{code}/push",
    response_model=UploadResult,
    summary="Push records to a push source (with the source's token)",
    description='Body `{"records": [...]}` (at most 10 MB), with `Authorization: Bearer '
    "<source token>`. Runs the source on these records: `{run_id, status, fetched, new, "
    "updated, unchanged, rejected, error, problems}`; 401 without the source's token, 409 "
    "`source_running` while another push to it is being stored.",
)
async def push(
    code: str,
    request: Request,
    authorization: Annotated[str | None, Header()] = None,
) -> UploadResult:
    runtime = get_runtime(request)
    if not authorization or not authorization.startswith("Bearer "):
        raise Unauthorized(
            "Send the source's push token as 'Authorization: Bearer <token>'.",
            code="not_authenticated",
        )
    offered = token_hash(authorization[7:].strip())
    with runtime.sessions() as session:
        stored = session.scalar(select(DataSource.push_token_hash).where(DataSource.code == code))
    # One answer for an unknown source and a wrong token: a caller learns nothing by guessing.
    if stored is None or not hmac.compare_digest(stored, offered):
        raise Unauthorized("This token does not open this source.", code="invalid_token")
    body = await read_body(
        request,
        MAX_PUSH_BYTES,
        f"A push is at most {size_text(MAX_PUSH_BYTES)}; send the records in parts.",
        code="payload_too_large",
    )
    outcome = await run_in_threadpool(
        run_source,
        runtime,
        code,
        trigger=Trigger.PUSH,
        started_by="push",
        upload=SentFile(body, f"push to {code}"),
    )
    return UploadResult.model_validate(outcome.to_json() | {"problems": outcome.problems})

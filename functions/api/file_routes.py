"""File routes: start an upload (a presigned POST), complete it, download (a presigned GET)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from parley import wiring
from parley.domain import files
from parley.domain.caller import Caller
from parley.edge.http import token_caller
from parley.edge.schemas import CreateFileUpload, FileDownloadReply, FileReply, FileUploadReply

router = Router()


def _caller() -> Caller:
    """No provisioning here: only workspace members reach a file, and joining a workspace
    already provisioned them."""
    return token_caller(router.current_event)


@router.post("/workspaces/<wid>/files", responses={201: {"description": "upload started"}})
def start_upload(wid: str, body: CreateFileUpload) -> Response[FileUploadReply]:
    config = wiring.configured()
    file, upload = files.start_upload(
        _caller(), wid, body, wiring.file_bucket(), config.max_upload_bytes
    )
    reply = FileUploadReply(file=file, upload=upload)
    return Response(status_code=201, content_type="application/json", body=reply)


@router.post("/files/<fid>/complete")
def complete_upload(fid: str) -> FileReply:
    return FileReply(file=files.complete_upload(_caller(), fid, wiring.file_bucket()))


@router.get("/files/<fid>")
def get_file(fid: str) -> FileDownloadReply:
    found = files.download(_caller(), fid, wiring.file_bucket())
    return FileDownloadReply(file=found.file, downloadUrl=found.url)

"""Slack import routes: create an import (a presigned POST of the export's zip), start it,
read its status."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router

from parley import wiring
from parley.domain import imports
from parley.domain.caller import Caller
from parley.edge.http import token_caller
from parley.edge.schemas import CreateImport, ImportReply, ImportUploadReply

router = Router()


def _caller() -> Caller:
    """No provisioning here: only a workspace's admins reach its imports, and joining (or
    creating) a workspace already provisioned them."""
    return token_caller(router.current_event)


@router.post(
    "/workspaces/<wid>/imports",
    responses={201: {"description": "an import, pending until its zip is uploaded"}},
)
def create_import(wid: str, body: CreateImport) -> Response[ImportUploadReply]:
    config = wiring.configured()
    found, upload = imports.create_import(
        _caller(), wid, body, wiring.file_bucket(), config.max_import_bytes
    )
    reply = ImportUploadReply(import_=found, upload=upload)
    return Response(status_code=201, content_type="application/json", body=reply)


@router.post("/imports/<importId>/start", responses={202: {"description": "started"}})
def start_import(importId: str) -> Response[ImportReply]:
    config = wiring.configured()
    found = imports.start_import(
        _caller(), importId, wiring.file_bucket(), wiring.import_queue(config)
    )
    return Response(
        status_code=202, content_type="application/json", body=ImportReply(import_=found)
    )


@router.get("/imports/<importId>")
def get_import(importId: str) -> ImportReply:
    return ImportReply(import_=imports.get_import(_caller(), importId))

"""GET /workspaces/{wid}/search: the caller's readable messages that match `q`."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from parley.adapters.opensearch import SearchUnavailable
from parley.domain.caller import Caller
from parley.edge.http import token_caller
from parley.errors import ParleyError
from parley.search.service import SearchReply, search_messages
from parley.wiring import configured, message_index

router = Router()


class SearchDown(ParleyError):
    status, code = 503, "unavailable"


def _caller() -> Caller:
    """No provisioning here: only workspace members may search, and joining a workspace
    already provisioned them."""
    return token_caller(router.current_event)


@router.get("/workspaces/<wid>/search")
def search(
    wid: str,
    q: Annotated[str, Query(min_length=1, max_length=1000)],
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=16)] = None,
) -> SearchReply:
    caller = _caller()
    try:
        engine = message_index(configured())
        return search_messages(caller, wid, q=q, limit=limit, cursor=cursor, engine=engine)
    except SearchUnavailable as error:
        raise SearchDown(f"search is unavailable: {error}") from None

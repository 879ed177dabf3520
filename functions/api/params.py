"""Query parameters that several routes share, validated as API.md states them."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query

from parley.edge.schemas import TS_PATTERN

Limit = Annotated[int, Query(ge=1, le=200)]
Cursor = Annotated[str | None, Query(max_length=512)]
TsQuery = Annotated[str | None, Query(pattern=TS_PATTERN)]

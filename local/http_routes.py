"""HTTP API route selection, as API Gateway does it.

The most specific route wins: a full match beats a greedy `{proxy+}` match, which beats the
`$default` route. Among full matches a literal segment beats a `{param}` at the first place
they differ; among greedy ones the longer fixed prefix wins; a route with the request's own
method beats `ANY`. Path parameters match on the raw path (so `%2F` stays inside one
segment) and reach the function decoded.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass

from local.sam import HttpRoute


@dataclass(frozen=True)
class RouteMatch:
    route: HttpRoute
    path_parameters: dict[str, str]


@dataclass(frozen=True)
class _Pattern:
    route: HttpRoute
    segments: tuple[str, ...]  # before a greedy variable, if any
    greedy: str | None  # the greedy variable's name

    @classmethod
    def of(cls, route: HttpRoute) -> _Pattern:
        assert route.path is not None
        segments = tuple(route.path.split("/")[1:])
        if segments and segments[-1].startswith("{") and segments[-1].endswith("+}"):
            return cls(route, segments[:-1], segments[-1][1:-2])
        return cls(route, segments, None)

    def specificity(self) -> tuple[bool, int, tuple[bool, ...], bool]:
        """Sorts most specific first."""
        return (
            self.greedy is not None,
            -len(self.segments),
            tuple(_is_variable(segment) for segment in self.segments),
            self.route.method == "ANY",
        )

    def match(self, segments: list[str]) -> dict[str, str] | None:
        fixed = len(self.segments)
        if self.greedy is None and len(segments) != fixed:
            return None
        if self.greedy is not None and (len(segments) <= fixed or not any(segments[fixed:])):
            return None
        parameters = {}
        for pattern, segment in zip(self.segments, segments, strict=False):
            if _is_variable(pattern):
                if not segment:
                    return None
                parameters[pattern[1:-1]] = urllib.parse.unquote(segment)
            elif pattern != segment:
                return None
        if self.greedy is not None:
            parameters[self.greedy] = urllib.parse.unquote("/".join(segments[fixed:]))
        return parameters


def _is_variable(segment: str) -> bool:
    return segment.startswith("{") and segment.endswith("}")


class RouteTable:
    def __init__(self, routes: Iterable[HttpRoute]) -> None:
        routes = list(routes)
        self._default = next((route for route in routes if route.path is None), None)
        self._patterns = sorted(
            (_Pattern.of(route) for route in routes if route.path is not None),
            key=_Pattern.specificity,
        )

    def match(self, method: str, raw_path: str) -> RouteMatch | None:
        segments = raw_path.split("/")[1:]
        for pattern in self._patterns:
            if pattern.route.method not in (method, "ANY"):
                continue
            parameters = pattern.match(segments)
            if parameters is not None:
                return RouteMatch(pattern.route, parameters)
        return RouteMatch(self._default, {}) if self._default else None

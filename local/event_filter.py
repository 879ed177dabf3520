"""Event source mapping filters (`FilterCriteria`): EventBridge-style patterns matched against
each record; a record passes when any pattern matches.

Supported, as Lambda documents them for event source mappings: literal values (a list is
"any of"), nested objects, `prefix`, `suffix`, `equals-ignore-case`, `anything-but` (a
value, a list, or `{"prefix": ...}`), `numeric` comparisons and `exists`. An array in the
record matches when any of its elements does.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable, Mapping, Sequence
from typing import Any

_MISSING = object()

_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def passes(patterns: Sequence[Mapping[str, Any]], record: Mapping[str, Any]) -> bool:
    return not patterns or any(_matches_object(pattern, record) for pattern in patterns)


def sqs_filter_view(record: Mapping[str, Any]) -> dict[str, Any]:
    """What an SQS filter sees: the record, with a JSON body as an object."""
    try:
        body = json.loads(record.get("body", ""))
    except ValueError:
        return dict(record)
    return {**record, "body": body}


def _matches_object(pattern: Mapping[str, Any], value: Any) -> bool:
    for key, expected in pattern.items():
        actual = value.get(key, _MISSING) if isinstance(value, Mapping) else _MISSING
        if isinstance(expected, Mapping):
            if not _matches_object(expected, actual):
                return False
        elif not _matches_values(expected, actual):
            return False
    return True


def _matches_values(expected: Any, actual: Any) -> bool:
    conditions = expected if isinstance(expected, list) else [expected]
    candidates = actual if isinstance(actual, list) else [actual]
    return any(_matches(condition, item) for condition in conditions for item in candidates)


def _matches(condition: Any, actual: Any) -> bool:
    if not isinstance(condition, Mapping):
        return actual is not _MISSING and _same_value(condition, actual)
    if len(condition) != 1:
        return False
    ((kind, argument),) = condition.items()
    if kind == "exists":
        return (actual is not _MISSING) == bool(argument)
    operator_ = _OPERATORS.get(kind)
    return actual is not _MISSING and operator_ is not None and operator_(argument, actual)


def _anything_but(argument: Any, actual: Any) -> bool:
    if isinstance(argument, Mapping):
        return not _matches(argument, actual)
    return actual not in (argument if isinstance(argument, list) else [argument])


def _same_value(expected: Any, actual: Any) -> bool:
    """Equality without Python's conveniences: "1" is not 1, and true is not 1."""
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual
    if isinstance(expected, int | float) and isinstance(actual, int | float):
        return expected == actual
    return type(expected) is type(actual) and expected == actual


def _numeric(argument: Sequence[Any], actual: Any) -> bool:
    """Numbers, and numeric strings too: DynamoDB images carry numbers as `{"N": "42"}`."""
    if isinstance(actual, bool) or not isinstance(actual, int | float | str):
        return False
    try:
        number = float(actual)
    except ValueError:
        return False
    pairs = zip(argument[::2], argument[1::2], strict=True)
    return all(_COMPARISONS[op](number, float(bound)) for op, bound in pairs)


_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "prefix": lambda prefix, actual: isinstance(actual, str) and actual.startswith(prefix),
    "suffix": lambda suffix, actual: isinstance(actual, str) and actual.endswith(suffix),
    "equals-ignore-case": lambda text, actual: (
        isinstance(actual, str) and actual.lower() == str(text).lower()
    ),
    "anything-but": _anything_but,
    "numeric": _numeric,
}

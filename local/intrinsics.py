"""CloudFormation intrinsic functions, resolved against local physical names.

`Resolver.register` records what a resource became locally (its `Ref` value and its
`GetAtt` attributes) as the stack creates it; `Resolver.resolve` then turns any template
value into plain data. Anything the local runtime cannot honour raises `TemplateError`
naming the culprit, rather than passing an unresolved expression to a function.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from local.template import Resource, Template, TemplateError

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
PARTITION = "aws"


class _NoValue:
    """`AWS::NoValue`: removes the property or list item that holds it."""


NO_VALUE = _NoValue()

_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


def _sub_parts(text: str) -> Iterable[tuple[str, str | None]]:
    """Splits a `Fn::Sub` string into (literal, variable-or-None) pieces; `${!x}` is literal."""
    position = 0
    for match in _SUB_VARIABLE.finditer(text):
        literal = text[position : match.start()]
        name = match.group(1)
        if name.startswith("!"):
            yield literal + "${" + name[1:] + "}", None
        else:
            yield literal, name.strip()
        position = match.end()
    yield text[position:], None


def references(value: Any) -> set[str]:
    """Names used by `Ref`, `Fn::GetAtt` and `Fn::Sub` inside a value (no resolution)."""
    found: set[str] = set()
    if isinstance(value, list):
        for item in value:
            found |= references(item)
    elif isinstance(value, Mapping):
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref" and isinstance(argument, str):
                return {argument}
            if key == "Fn::GetAtt" and isinstance(argument, list) and argument:
                return {str(argument[0])}
            if key == "Fn::Sub":
                text, variables = (argument, {}) if isinstance(argument, str) else argument
                names = {name.split(".", 1)[0] for _, name in _sub_parts(text) if name}
                return (names - set(variables)) | references(variables)
        for item in value.values():
            found |= references(item)
    return found


def _parameter_value(spec: Any, value: Any) -> Any:
    """A list parameter (CommaDelimitedList, List<...>) given as text is its items, as
    CloudFormation's `Ref` of it gives them."""
    kind = str(spec.get("Type", "")) if isinstance(spec, Mapping) else ""
    is_list = kind == "CommaDelimitedList" or kind.startswith("List<")
    if is_list and isinstance(value, str):
        return [item.strip() for item in value.split(",")]
    return value


class Resolver:
    def __init__(
        self,
        template: Template,
        parameter_overrides: Mapping[str, str] | None = None,
        stack_name: str = "parley-local",
    ) -> None:
        self._template = template
        self.stack_name = stack_name
        self._parameters: dict[str, Any] = {
            name: _parameter_value(template.parameters.get(name), value)
            for name, value in {
                **template.parameter_defaults(),
                **(parameter_overrides or {}),
            }.items()
        }
        missing = set(template.parameters) - set(self._parameters)
        if missing:
            raise TemplateError(f"parameters without a default or override: {sorted(missing)}")
        self._pseudo: dict[str, Any] = {
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::Partition": PARTITION,
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": stack_name,
            "AWS::StackId": (
                f"arn:{PARTITION}:cloudformation:{REGION}:{ACCOUNT_ID}:stack/{stack_name}/local"
            ),
            "AWS::NotificationARNs": [],
            "AWS::NoValue": NO_VALUE,
        }
        self._refs: dict[str, Any] = {}
        self._attributes: dict[str, dict[str, Any]] = {}
        self._condition_cache: dict[str, bool] = {}

    # ------------------------------------------------------------------ registry

    def register(self, logical_id: str, ref: Any, **attributes: Any) -> None:
        self._refs[logical_id] = ref
        self._attributes.setdefault(logical_id, {}).update(attributes)

    def ref(self, logical_id: str) -> Any:
        return self.resolve({"Ref": logical_id})

    def get_att(self, logical_id: str, attribute: str) -> Any:
        return self.resolve({"Fn::GetAtt": [logical_id, attribute]})

    def active(self, resources: Iterable[Resource]) -> list[Resource]:
        """The resources whose `Condition` holds."""
        return [r for r in resources if r.condition is None or self.condition(r.condition)]

    # ------------------------------------------------------------------ resolution

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            items = [self.resolve(item) for item in value]
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(value, Mapping):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref":
                return self._resolve_ref(argument)
            if key == "Condition":
                return self.condition(argument)
            if key.startswith("Fn::"):
                return self._resolve_function(key, argument)
        resolved = {key: self.resolve(item) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not NO_VALUE}

    def _resolve_ref(self, name: Any) -> Any:
        if not isinstance(name, str):
            raise TemplateError(f"Ref needs a name, got {name!r}")
        if name in self._pseudo:
            return self._pseudo[name]
        if name in self._parameters:
            return self._parameters[name]
        if name in self._refs:
            return self._refs[name]
        if name in self._template.resources:
            raise TemplateError(f"Ref {name}: the local runtime has no physical id for it")
        raise TemplateError(f"Ref {name}: no such parameter or resource")

    def _resolve_get_att(self, argument: Any) -> Any:
        if isinstance(argument, str):
            argument = argument.split(".", 1)
        if not isinstance(argument, list) or len(argument) != 2:
            raise TemplateError(f"Fn::GetAtt needs [resource, attribute], got {argument!r}")
        logical_id, attribute = argument[0], self.resolve(argument[1])
        try:
            return self._attributes[logical_id][attribute]
        except KeyError:
            raise TemplateError(
                f"Fn::GetAtt {logical_id}.{attribute}: not available in the local runtime"
            ) from None

    def _resolve_sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else argument
        if not isinstance(text, str) or not isinstance(variables, Mapping):
            raise TemplateError(f"Fn::Sub needs a string and a map, got {argument!r}")
        local_values = {name: self.resolve(item) for name, item in variables.items()}
        pieces: list[str] = []
        for literal, name in _sub_parts(text):
            pieces.append(literal)
            if name is None:
                continue
            if name in local_values:
                value = local_values[name]
            elif "." in name and not name.startswith("AWS::"):
                value = self._resolve_get_att(name.split(".", 1))
            else:
                value = self._resolve_ref(name)
            pieces.append(as_string(value))
        return "".join(pieces)

    def _resolve_function(self, name: str, argument: Any) -> Any:
        # Functions that resolve their argument themselves (lazily, or as a condition),
        # then those that work on the resolved argument.
        lazy = {
            "Fn::GetAtt": self._resolve_get_att,
            "Fn::Sub": self._resolve_sub,
            "Fn::If": self._resolve_if,
            "Fn::Equals": self._equals,
            "Fn::Not": lambda operands: not self._conditions(operands)[0],
            "Fn::And": lambda operands: all(self._conditions(operands)),
            "Fn::Or": lambda operands: any(self._conditions(operands)),
        }
        eager = {
            "Fn::Join": lambda args: args[0].join(as_string(item) for item in args[1]),
            "Fn::Select": lambda args: args[1][int(args[0])],
            "Fn::Split": lambda args: args[1].split(args[0]),
            "Fn::FindInMap": self._find_in_map,
            "Fn::Base64": lambda text: base64.b64encode(as_string(text).encode()).decode(),
            "Fn::GetAZs": lambda _region: [f"{REGION}{zone}" for zone in "abc"],
            "Fn::ToJsonString": lambda value: json.dumps(value, separators=(",", ":")),
        }
        try:
            if name in lazy:
                return lazy[name](argument)
            if name in eager:
                return eager[name](self.resolve(argument))
        except (ValueError, TypeError, IndexError, AttributeError) as error:
            raise TemplateError(f"{name} {argument!r}: {error}") from None
        raise TemplateError(f"{name} is not supported by the local runtime")

    def _resolve_if(self, argument: Any) -> Any:
        condition, when_true, when_false = argument
        return self.resolve(when_true if self.condition(condition) else when_false)

    def _find_in_map(self, argument: Any) -> Any:
        map_name, top_key, second_key = argument
        try:
            return self.resolve(self._template.mappings[map_name][top_key][second_key])
        except KeyError:
            raise TemplateError(f"Fn::FindInMap {argument}: no such entry") from None

    # ------------------------------------------------------------------ conditions

    def condition(self, name: Any) -> bool:
        if not isinstance(name, str) or name not in self._template.conditions:
            raise TemplateError(f"no such condition: {name!r}")
        if name not in self._condition_cache:
            self._condition_cache[name] = bool(self.resolve(self._template.conditions[name]))
        return self._condition_cache[name]

    def _conditions(self, operands: Any) -> list[Any]:
        return [self.resolve(operand) for operand in operands]

    def _equals(self, operands: Any) -> bool:
        left, right = self._conditions(operands)
        return as_string(left) == as_string(right)


def as_string(value: Any) -> str:
    """CloudFormation's string form of a scalar (booleans as `true`/`false`)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise TemplateError(f"expected a string, got {value!r}")

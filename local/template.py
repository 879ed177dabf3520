"""The SAM/CloudFormation template as data: YAML with CloudFormation's short tags, parameters,
conditions, resources (with SAM's `Globals` merged in) and outputs.

The one reader of template.yaml: the local runtime builds everything from it, so that local
and deployed never drift, and the template tests (tests/template) check it as read here.
Intrinsic functions stay unresolved (`{"Ref": ...}`, `{"Fn::GetAtt": [...]}`); see
`local.intrinsics` for their resolution. Whether a Ref or GetAtt names something is
cfn-lint's to say (tests/template/test_template_lint.py); this module only refuses what it
cannot read.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml


class TemplateError(Exception):
    """The template uses something the local runtime cannot honour, or is malformed."""


class _CloudFormationLoader(yaml.SafeLoader):
    """SafeLoader that understands `!Ref`, `!GetAtt`, `!Sub` and the other short tags."""


def _construct_short_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    elif isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    else:  # pragma: no cover - yaml has no other node kinds
        raise TemplateError(f"unsupported YAML node for !{suffix}")
    if suffix in ("Ref", "Condition"):
        return {suffix: value}
    if suffix == "GetAtt" and isinstance(value, str):
        # `!GetAtt Res.Attr.Sub` names resource `Res` and attribute `Attr.Sub`.
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


_CloudFormationLoader.add_multi_constructor("!", _construct_short_tag)
# CloudFormation reads unquoted dates as strings; YAML would make them `datetime.date`.
_CloudFormationLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_yaml(text: str) -> Any:
    """Parses CloudFormation YAML (or JSON, a subset of YAML)."""
    return yaml.load(text, Loader=_CloudFormationLoader)  # noqa: S506 - a SafeLoader subclass


@dataclass(frozen=True)
class Resource:
    logical_id: str
    type: str
    properties: Mapping[str, Any]
    condition: str | None = None
    depends_on: tuple[str, ...] = ()
    metadata: Mapping[str, Any] = field(default_factory=dict)


def _merge_globals(global_value: Any, own_value: Any) -> Any:
    """SAM's Globals rules: maps merge (the resource wins), lists add up, scalars are replaced."""
    if isinstance(global_value, dict) and isinstance(own_value, dict):
        merged = dict(global_value)
        for key, value in own_value.items():
            merged[key] = _merge_globals(global_value[key], value) if key in merged else value
        return merged
    if isinstance(global_value, list) and isinstance(own_value, list):
        return [*global_value, *own_value]
    return own_value


# Globals section name for each SAM resource type that supports it.
_GLOBALS_SECTIONS = {
    "AWS::Serverless::Function": "Function",
    "AWS::Serverless::HttpApi": "HttpApi",
    "AWS::Serverless::SimpleTable": "SimpleTable",
}


class Template:
    """A parsed template; `root` is the directory that `CodeUri`/`ContentUri` are relative to."""

    def __init__(self, document: Mapping[str, Any], root: Path) -> None:
        if not isinstance(document, Mapping) or not isinstance(document.get("Resources"), Mapping):
            raise TemplateError("a template needs a Resources mapping")
        self.document = document
        self.root = root
        self.parameters: Mapping[str, Mapping[str, Any]] = document.get("Parameters") or {}
        self.conditions: Mapping[str, Any] = document.get("Conditions") or {}
        self.mappings: Mapping[str, Any] = document.get("Mappings") or {}
        self.globals: Mapping[str, Any] = document.get("Globals") or {}
        self.outputs: Mapping[str, Mapping[str, Any]] = document.get("Outputs") or {}
        self.resources: dict[str, Resource] = {
            logical_id: self._resource(logical_id, body)
            for logical_id, body in document["Resources"].items()
        }

    @classmethod
    def load(cls, path: Path) -> Template:
        try:
            document = load_yaml(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as error:
            raise TemplateError(f"cannot read the template: {error}") from None
        return cls(document, path.parent.resolve())

    def _resource(self, logical_id: str, body: Any) -> Resource:
        if not isinstance(body, Mapping) or not isinstance(body.get("Type"), str):
            raise TemplateError(f"resource {logical_id} needs a Type")
        properties = copy.deepcopy(dict(body.get("Properties") or {}))
        section = _GLOBALS_SECTIONS.get(body["Type"])
        if section and section in self.globals:
            properties = _merge_globals(copy.deepcopy(self.globals[section]), properties)
        depends_on = body.get("DependsOn") or ()
        return Resource(
            logical_id,
            body["Type"],
            properties,
            body.get("Condition"),
            (depends_on,) if isinstance(depends_on, str) else tuple(depends_on),
            body.get("Metadata") or {},
        )

    def of_type(self, *types: str) -> list[Resource]:
        return [resource for resource in self.resources.values() if resource.type in types]

    def parameter_defaults(self) -> dict[str, Any]:
        return {
            name: spec["Default"]
            for name, spec in self.parameters.items()
            if isinstance(spec, Mapping) and "Default" in spec
        }

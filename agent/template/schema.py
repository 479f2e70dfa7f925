"""Pydantic models, and strict JSON schemas, built from a compiled template.

One model per section and one for the whole plan. Their schemas follow OpenAI's strict
structured-output rules (every property required, `additionalProperties: false`, nullable instead
of optional, no `$ref`), so the same schema also serves as an Anthropic tool `input_schema`.
"""

from __future__ import annotations

import copy
import re
from functools import cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from agent.template.model import (
    HEADER,
    FieldSpec,
    Repeat,
    Section,
    Template,
    flat_field,
    has_fields,
    header_fields,
    local_fields,
)

STRICT = ConfigDict(extra="forbid")
MAX_OBJECT_DEPTH = 10  # OpenAI's strict structured outputs nest objects at most this deep
FORBIDDEN_KEYS = {"allOf", "not", "if", "then", "else", "oneOf", "patternProperties", "$ref", "$defs"}


@cache
def plan_model(template: Template) -> type[BaseModel]:
    """The whole plan: the header (front matter, title, shared variables) and one property per section."""
    fields: dict[str, tuple[Any, str]] = {}
    if header_fields(template):
        header = {spec.name: (field_type(spec), _field_description(spec)) for spec in header_fields(template)}
        fields[HEADER] = (_model("Header", header), "Plan header: title, metadata, front matter")
    for unit in template.units:
        if has_fields(unit):
            fields[unit.name] = (node_type(unit), _node_description(unit))
    return _model("Plan", fields)


@cache
def unit_model(template: Template, unit: str) -> type[BaseModel]:
    """What one section call asks for: the plan model cut down to that one property."""
    full = plan_model(template).model_fields
    if unit not in {info.alias for info in full.values()}:
        raise KeyError(f"no section named {unit!r}")
    info = next(info for info in full.values() if info.alias == unit)
    return _model(f"Ask_{unit}", {unit: (info.annotation, info.description or "")})


def unit_names(template: Template) -> list[str]:
    """The parts drafted one call each: sections with nothing to fill are rendered, not asked for."""
    names = [unit.name for unit in template.units if has_fields(unit)]
    return ([HEADER] if header_fields(template) else []) + names


def json_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema with every `$ref` inlined: some OpenAI-compatible servers reject refs."""
    schema = model.model_json_schema(by_alias=True)
    definitions = schema.pop("$defs", {})
    return _inline(schema, definitions)  # type: ignore[no-any-return]


def strict_problems(schema: dict[str, Any], path: str = "$", depth: int = 1) -> list[str]:
    """Why `schema` would be rejected as an OpenAI strict structured-output schema (empty when fine)."""
    problems = []
    if path == "$" and schema.get("type") != "object":
        problems.append("$: the root must be an object")
    if schema.get("type") == "object" and depth > MAX_OBJECT_DEPTH:
        problems.append(f"{path}: objects nest {depth} deep; strict mode allows {MAX_OBJECT_DEPTH}")
    problems += [f"{path}: uses `{key}`" for key in FORBIDDEN_KEYS & schema.keys()]
    properties = schema.get("properties", {})
    if schema.get("type") == "object":
        if schema.get("additionalProperties") is not False:
            problems.append(f"{path}: objects need `additionalProperties: false` (no dict[str, X])")
        if set(schema.get("required", [])) != set(properties):
            problems.append(f"{path}: every property must be required")
        if not properties:
            problems.append(f"{path}: an object needs at least one property")
    children = list(properties.items())
    if isinstance(schema.get("items"), dict):
        children.append(("[]", schema["items"]))
    children += [(f"anyOf[{i}]", sub) for i, sub in enumerate(schema.get("anyOf", []))]
    for key, child in children:
        problems += strict_problems(child, f"{path}.{key}", depth + (schema.get("type") == "object"))
    return problems


def node_type(node: Section | Repeat) -> Any:
    if isinstance(node, Repeat):
        fields: dict[str, tuple[Any, str]] = {"title": (str, node.title.description)} if node.title is not None else {}
        fields.update(_section_fields(node.prototype))
        return list[_model(f"Item_{node.name}", fields)]  # type: ignore[misc]
    flat = flat_field(node)
    base = _bare_type(flat) if flat else _model(f"Section_{node.name}", _section_fields(node))
    return base | None if node.optional or (flat and flat.optional) else base


def field_type(spec: FieldSpec) -> Any:
    base = _bare_type(spec)
    return base | None if spec.optional else base


def _bare_type(spec: FieldSpec) -> Any:
    if spec.kind == "enum":
        return Literal[spec.choices]  # type: ignore[valid-type]
    if spec.kind == "list":
        return list[str]
    if spec.kind == "table":  # a row asks only for the columns the template leaves open
        columns: dict[str, tuple[Any, str]] = {
            column.key: (Literal[column.choices] if column.choices else str, column.description or column.name)  # type: ignore[valid-type]
            for column in spec.columns if column.literal is None
        }
        return list[_model(f"Row_{spec.name}", columns)]  # type: ignore[misc]
    return str


def _section_fields(section: Section) -> dict[str, tuple[Any, str]]:
    fields = {spec.name: (field_type(spec), _field_description(spec)) for spec in local_fields(section.children)}
    for child in section.children:
        if isinstance(child, Section | Repeat) and has_fields(child):
            fields[child.name] = (node_type(child), _node_description(child))
    return fields


def _model(name: str, fields: dict[str, tuple[Any, str]]) -> type[BaseModel]:
    """A strict model whose JSON property names are `fields`' keys, whatever Python allows as names."""
    definitions = {
        f"f{index}_" + re.sub(r"\W", "_", alias): (annotation, Field(alias=alias, description=description))
        for index, (alias, (annotation, description)) in enumerate(fields.items())
    }
    return create_model(re.sub(r"\W", "_", name), __config__=STRICT, **definitions)  # type: ignore[call-overload, no-any-return]


def _field_description(spec: FieldSpec) -> str:
    text = spec.description
    if spec.kind == "list" and spec.checkbox:
        text += " (rendered as a checklist; write each item without the checkbox)"
    if spec.kind == "list" and spec.item_label:
        shown = spec.label(1).strip()
        text += f" (each item is shown after its numbered label, like `{shown}`; write only what follows it)"
    if spec.kind == "code":
        text += f" (the body of a ```{spec.lang} block, without the fences)"
    if spec.optional:
        text = text.rstrip(" .") + ". Use null only when it does not apply to this plan."
    return text


def _node_description(node: Section | Repeat) -> str:
    if isinstance(node, Repeat):
        head = f"{node.prefix}N".strip() if node.numbered else "item"
        start = f", numbered from {node.numbering.start}" if node.numbered and node.numbering.start != 1 else ""
        return f"One entry per {head} (the template repeats this block{start}; number them in order)."
    text = f"Section '{node.label}'. {node.description}".strip()
    if flat := flat_field(node):
        text += " " + _field_description(flat)
    if node.optional:
        text = text.rstrip(" .") + ". Use null only when this section does not apply."
    return text


def _inline(schema: Any, definitions: dict[str, Any]) -> Any:
    if isinstance(schema, list):
        return [_inline(item, definitions) for item in schema]
    if not isinstance(schema, dict):
        return schema
    if "$ref" in schema:
        target = copy.deepcopy(definitions[schema["$ref"].split("/")[-1]])
        merged = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
        return _inline(merged, definitions)
    return {key: _inline(value, definitions) for key, value in schema.items()}

"""A compiled template described for people: what `plan templates show` prints."""

from __future__ import annotations

from agent.template.model import (
    FieldBlock,
    FieldSpec,
    Line,
    LiteralText,
    Node,
    Repeat,
    Section,
    Slot,
    Template,
)


def describe_template(template: Template) -> str:
    lines = [f"template {template.name}  ({len(template.units)} sections drafted one call each)"]
    for key in template.front_matter:
        lines.append(f"  front matter {key.key}: {_field(key.field) if key.field else 'literal'}")
    lines += _nodes(template.header, 1, "header")
    for unit in template.units:
        lines += _node(unit, 1)
    return "\n".join(lines)


def _nodes(nodes: list[Node], depth: int, where: str = "") -> list[str]:
    out = []
    if where:
        out.append(f"{'  ' * depth}[{where}]")
    for node in nodes:
        out += _node(node, depth + (1 if where else 0))
    return out


def _node(node: Node, depth: int) -> list[str]:
    pad = "  " * depth
    if isinstance(node, Section):
        flags = " (optional)" if node.optional else ""
        return [f"{pad}{'#' * node.level} {node.label}  → {node.name}{flags}", *_nodes(node.children, depth + 1)]
    if isinstance(node, Repeat):
        number = f"{node.prefix}N" if node.numbered else "(heading)"
        head = f"{pad}{'#' * node.level} {number}{node.separator}<title>  → {node.name}[] (repeated)"
        return [head, *_nodes(node.prototype.children, depth + 1)]
    if isinstance(node, FieldBlock):
        return [f"{pad}{node.field.name}: {_field(node.field)}"]
    if isinstance(node, Line):
        slots = [part for part in node.parts if isinstance(part, Slot)]
        return [f"{pad}{s.field.name}: {_field(s.field)}{' (shared)' if s.variable else ''}" for s in slots]
    if isinstance(node, LiteralText):
        return [f"{pad}literal: {node.lines[0].strip()[:60]}"]
    return []


def _field(spec: FieldSpec) -> str:
    kind: str = spec.kind
    if spec.kind == "enum":
        kind = "enum " + "|".join(spec.choices)
    elif spec.kind == "table":
        kind = "table " + ", ".join(c.name + ("=" + c.literal if c.literal else "") for c in spec.columns)
    elif spec.kind == "list":
        kind = ("checklist" if spec.checkbox else "list") + (" (numbered)" if spec.marker == "1." else "")
    elif spec.kind == "code":
        kind = f"code {spec.lang}".strip()
    optional = "?" if spec.optional else ""
    role = f" [files to {spec.role}]" if spec.role else ""
    return f"{kind}{optional}{role} — {spec.description[:70]}"

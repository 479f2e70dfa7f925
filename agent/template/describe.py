"""A compiled template described for people: what `plan templates show` prints, and what
`plan templates check` warns about.

In: a compiled `Template`. Out: text, one line per block, each marked with its template line and what
the tool does with it: `fill` (the model writes it), `keep` (copied as written), `guidance` (shown to the
model, never written into the plan) or `tool` (the tool writes it: today's date).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from agent.template import placeholders as ph
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
    has_fields,
    walk,
)


def describe_template(template: Template) -> str:
    lines = [f"template {template.name}  ({len(template.units)} sections drafted one call each)"]
    for key in template.front_matter:
        mark = "tool" if key.field and key.field.tool else "fill" if key.field else "keep"
        lines.append(f"  {mark:<8} front matter {key.key}: {_field(key.field) if key.field else 'literal'}")
    guidance = list(template.guidance)
    lines += _nodes(template.header, 1, guidance, "header")
    for unit in template.units:
        lines += _node(unit, 1, guidance)
    lines += [f"  L{line:<5} guidance {_short(text)}" for line, text in guidance]
    return "\n".join(lines)


def _nodes(nodes: list[Node], depth: int, guidance: list[tuple[int, str]], where: str = "") -> list[str]:
    out = []
    if where:
        out.append(f"{'  ' * depth}[{where}]")
    for node in nodes:
        out += _node(node, depth + (1 if where else 0), guidance)
    return out


def _node(node: Node, depth: int, guidance: list[tuple[int, str]]) -> list[str]:
    pad = "  " * depth
    line = getattr(node, "line", 0)
    out = []
    while line and guidance and guidance[0][0] < line:  # guidance read above this node is shown above it
        at, text = guidance.pop(0)
        out.append(f"{pad}L{at:<5} guidance {_short(text)}")
    if isinstance(node, Section):
        flags = " (optional)" if node.optional else ""
        out.append(f"{pad}L{node.line:<5} {'#' * node.level} {node.label}  → {node.name}{flags}")
        return out + _nodes(node.children, depth + 1, guidance)
    if isinstance(node, Repeat):
        number = f"{node.prefix}N" if node.numbered else f"{node.prefix}(heading)"
        out.append(f"{pad}L{node.line:<5} {'#' * node.level} {number}{node.separator}<title>  → {node.name}[] "
                   "(repeated)")
        return out + _nodes(node.prototype.children, depth + 1, guidance)
    if isinstance(node, FieldBlock):
        return [*out, f"{pad}L{line:<5} fill     {node.field.name}: {_field(node.field)}"]
    if isinstance(node, Line):
        slots = [part for part in node.parts if isinstance(part, Slot)]
        if not slots:
            text = "".join(part for part in node.parts if isinstance(part, str))
            return [*out, f"{pad}L{line:<5} keep     {_short(text)}"]
        return out + [f"{pad}L{line:<5} {'tool' if s.field.tool else 'fill':<8} {s.field.name}: {_field(s.field)}"
                      f"{' (shared)' if s.variable else ''}{' (slug in a path)' if s.in_path else ''}" for s in slots]
    if isinstance(node, LiteralText):
        mark = "keep (annotated)" if node.kept else "keep"
        return [*out, f"{pad}L{line:<5} {mark:<8} {_short(node.lines[0])}"]
    return out


def _short(text: str) -> str:
    return text.strip()[:60]


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
    tool = " [the tool writes today's date]" if spec.tool else ""
    return f"{kind}{optional}{role}{tool} — {spec.description[:70]}"


@dataclass(frozen=True)
class TemplateWarning:
    line: int
    message: str


GUIDANCE_WORDS = re.compile(r"\b(?:you|your|describe|explain|replace|remove|delete|fill (?:in|out)|example)\b", re.I)


def check_template(template: Template) -> list[TemplateWarning]:
    """Where the heuristics may have guessed wrong: kept text that reads like guidance, and sections with
    nothing to fill. Each says which annotation settles it."""
    warnings: list[TemplateWarning] = []
    for node in walk(template.header + list(template.units)):
        if isinstance(node, LiteralText) and not node.kept:
            text = " ".join(line.strip() for line in node.lines)
            if _reads_like_guidance(text):
                warnings.append(TemplateWarning(node.line, f"kept as written but reads like guidance: {_short(text)!r}; "
                                                "put `<!-- plan: fill -->` before it if the plan should replace it, "
                                                "or `<!-- plan: keep -->` to keep it and silence this"))
        elif (isinstance(node, Section) and not has_fields(node)  # unless `plan: keep` says it is meant so
              and not any(isinstance(child, LiteralText) and child.kept for child in node.children)):
            warnings.append(TemplateWarning(node.line, f"section {node.label!r} has nothing to fill and is copied "
                                            "as written; add a placeholder or `<!-- plan: fill -->` if the plan "
                                            "should write it, or `<!-- plan: keep -->` to silence this"))
    return sorted(warnings, key=lambda warning: warning.line)


def _reads_like_guidance(text: str) -> bool:
    plain = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # a link's words, not its address
    return bool(plain.strip()) and not re.fullmatch(r"[-*_\s]+", plain) and (
        plain.rstrip().endswith("?") or bool(GUIDANCE_WORDS.search(plain)) or ph.looks_like_example(plain))

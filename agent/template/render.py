"""Filled plan data → markdown in the template's own shape.

Same headings in the same order, repeated blocks numbered the template's way, front matter keys
kept, tables with their columns, checklists as checklists, code fences with their language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import yaml

from agent.output import slugify
from agent.template.model import (
    HEADER,
    FieldBlock,
    FieldSpec,
    Line,
    LiteralText,
    Node,
    Repeat,
    Section,
    Slot,
    Template,
    flat_field,
)

RULE = re.compile(r"^\s*(?:-{3,}|\*{3,}|_{3,})\s*$")
LIST_OR_ROW = re.compile(r"^\s*(?:[-*+]\s|\d+[.)]\s|\|)")


@dataclass
class Scope:
    values: dict[str, Any]
    header: dict[str, Any]
    counters: dict[str, int] = field(default_factory=dict)
    parent_number: int | None = None
    today: date = field(default_factory=date.today)

    def inner(self, values: Any, parent_number: int | None = None) -> Scope:
        number = parent_number if parent_number is not None else self.parent_number
        return Scope(values if isinstance(values, dict) else {}, self.header, self.counters, number, self.today)

    def known(self, spec: FieldSpec) -> str:
        """The value the tool writes for `spec` itself (today's date), or "" when the model's answer stands."""
        return self.today.strftime(spec.tool.removeprefix("today:")) if spec.tool.startswith("today:") else ""


def render_plan(template: Template, plan: dict[str, Any], today: date | None = None) -> str:
    scope = Scope(plan, plan.get(HEADER) or {}, today=today or date.today())
    blocks = _header(template, scope)
    for unit in template.units:
        blocks += _node(unit, scope)
    return _join(blocks) + "\n"


def render_unit(template: Template, plan: dict[str, Any], name: str) -> str:
    """One unit (`header` or a section) exactly as `render_plan` writes it, without a final newline;
    `plan` needs that unit's value, and the header's for any shared variable the unit shows."""
    scope = Scope(plan, plan.get(HEADER) or {})
    return _join(_header(template, scope) if name == HEADER else _node(template.unit(name), scope))


def _header(template: Template, scope: Scope) -> list[str]:
    return _front_matter(template, scope) + _nodes(template.header, scope.inner(scope.header))


def _join(blocks: list[str]) -> str:
    kept: list[str] = []
    for block in blocks:
        if block != "" and not (kept and RULE.match(block) and RULE.match(kept[-1])):  # two rules in a row say nothing more
            kept.append(block)
    return "\n\n".join(kept)


def _front_matter(template: Template, scope: Scope) -> list[str]:
    if not template.front_matter:
        return []
    lines = ["---"]
    for key in template.front_matter:
        value = key.literal if key.field is None else scope.known(key.field) or scope.header.get(key.field.name)
        lines.append(f"{key.key}: {_yaml_value(value)}")
    return ["\n".join([*lines, "---"])]


def _yaml_value(value: Any) -> str:
    """One YAML value on one line: lists in flow style, as front matter is usually written."""
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return value  # a date, as front matter writes one (YAML reads it back as a date)
    flow = isinstance(value, list | dict)
    dumped = yaml.safe_dump(value, default_flow_style=flow, allow_unicode=True, width=10**6)
    return dumped.strip().removesuffix("\n...").removesuffix("...").strip()


def _nodes(nodes: list[Node], scope: Scope) -> list[str]:
    blocks: list[str] = []
    for node in nodes:
        rendered = _node(node, scope)
        if isinstance(node, Line | LiteralText) and node.joined and blocks and not RULE.match(rendered[0]):
            # `**Status:** Draft` over `**Owner:** Ana`: a hard break, or markdown would join them into one line.
            last, following = blocks[-1].rsplit("\n", 1)[-1], rendered[0]
            items = (LIST_OR_ROW.match(last) and LIST_OR_ROW.match(following)) or ("|" in last and "|" in following)
            blocks[-1] += ("\n" if items or last.endswith(("  ", "\\")) or not last.strip() else "  \n") + following
        else:
            blocks += rendered  # a `---` rule always stands alone: under a line it would make that line a heading
    return blocks


def _node(node: Node, scope: Scope) -> list[str]:
    if isinstance(node, LiteralText):
        return ["\n".join(node.lines)]
    if isinstance(node, Line):
        return [render_line(node, scope)]
    if isinstance(node, FieldBlock):
        return [_field_block(node, scope.values.get(node.field.name))]
    if isinstance(node, Section):
        value = scope.values.get(node.name)
        if node.optional and value is None and node.name in scope.values:
            return []  # an optional section the plan does not need is dropped whole, never left empty
        flat = flat_field(node)  # the schema asks for a one-field section's value bare, not in an object
        inner = scope.inner({flat.name: value} if flat else value)
        return [render_line(node.heading, scope), *_nodes(node.children, inner)]
    blocks: list[str] = []  # a Repeat: each item under a heading of its own
    for index, item in enumerate(scope.values.get(node.name) or [], start=1):
        title = (item or {}).get("title", "") if isinstance(item, dict) else ""
        blocks.append(repeat_heading(node, _number(node, index, scope), title, index))
        blocks += _nodes(node.prototype.children, scope.inner(item, parent_number=index))
    return blocks


def _number(repeat: Repeat, index: int, scope: Scope) -> str:
    if not repeat.numbered:
        return ""
    if repeat.numbering.continues:
        scope.counters[repeat.name] = scope.counters.get(repeat.name, 0) + 1
        index = scope.counters[repeat.name]
    return repeat.numbering.format(index, scope.parent_number)


def repeat_heading(repeat: Repeat, number: str, title: str, index: int = 1) -> str:
    text = f"{repeat.prefix}{number}"
    if repeat.title is not None:
        text += f"{repeat.separator}{_one_line(title)}" if text else _one_line(title)
    text += repeat.suffix.replace("{n}", str(repeat.numbering.start + index - 1))
    return f"{'#' * repeat.level} {text}"


def render_line(line: Line, scope: Scope) -> str:
    out = []
    for part in line.parts:
        if isinstance(part, Slot):
            source = scope.header if part.variable else scope.values
            value = _one_line(scope.known(part.field) or source.get(part.field.name))
            out.append(slugify(value) if part.in_path else value)
        else:
            out.append(part)
    return "".join(out)


def _field_block(block: FieldBlock, value: Any) -> str:
    spec = block.field
    if spec.kind == "list":
        return _list(block, value or [])
    if spec.kind == "table":
        return _table(spec, value or [])
    if spec.kind == "code" and value is not None:  # the renderer owns the fence, whether or not the model wrote one
        code = re.sub(r"\n```$", "", re.sub(r"^```[\w+-]*\n", "", str(value).strip("\n")))
        return f"```{spec.lang}\n{code}\n```"
    return "" if value is None else str(value).strip()


def _list(block: FieldBlock, items: list[Any]) -> str:
    spec = block.field
    lines = list(block.fixed_before)
    for index, item in enumerate(items, start=1):
        marker = f"{index}." if spec.marker == "1." else spec.marker
        box = "[ ] " if spec.checkbox else ""
        label = spec.label(index)
        head, subs = _sub_items(item)
        lines.append(f"{marker} {box}{label}{_item_text(head, spec.item_label)}")
        lines += [f"{' ' * (len(marker) + 1)}- {_item_text(sub)}" for sub in subs]
    return "\n".join(lines + block.fixed_after)


def _sub_items(item: Any) -> tuple[str, list[str]]:
    """An item's own text, and the sub-items written on the lines below it as `- sub-item` (a template's example
    item with nested bullets asks for them)."""
    lines = [line for line in str(item if item is not None else "").split("\n") if line.strip()]
    subs = [line for line in lines[1:] if re.match(r"^\s*(?:[-*+]|\d+[.)])\s+", line)]
    text = " ".join(line.strip() for line in [*lines[:1], *(line for line in lines[1:] if line not in subs)])
    return text, subs


def _item_text(item: Any, label: str = "") -> str:
    """Models sometimes repeat the list syntax, or the item's numbered label, inside the item; the renderer
    owns both."""
    text = _one_line(item)
    text = re.sub(r"^(?:[-*+]|\d+[.)])\s+", "", text)
    text = re.sub(r"^\[[ xX]\]\s+", "", text)
    if label:
        text = re.sub("^" + re.escape(label).replace(re.escape("{n}"), r"\d+"), "", text)
    return text


def _table(spec: FieldSpec, rows: list[Any]) -> str:
    names = [column.name for column in spec.columns]
    lines = ["| " + " | ".join(names) + " |", "|" + "|".join("---" for _ in names) + "|"]
    for row in rows:
        values = row if isinstance(row, dict) else {}
        # A `|` in a value would end its cell.
        cells = [column.literal if column.literal is not None else _one_line(values.get(column.key)).replace("|", "\\|")
                 for column in spec.columns]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _one_line(value: Any) -> str:
    return " ".join(str(value).split()) if value is not None else ""


def plan_json(template: Template, plan: dict[str, Any]) -> dict[str, Any]:
    """The JSON form of a plan: exactly the data the markdown was rendered from."""
    return {"schema_version": 1, "template": template.name, "plan": plan}

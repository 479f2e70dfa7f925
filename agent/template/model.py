"""A compiled template: the tree of sections, literal text and fields that a plan fills.

The compiler builds it from markdown; the schema, the renderer and the validator all walk the same
tree, so what the model is asked for, what is written and what is checked cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Literal

FieldKind = Literal["text", "line", "list", "table", "code", "enum"]
FileRole = Literal["modify", "create", "mixed", ""]


@dataclass(frozen=True)
class Column:
    name: str
    key: str
    choices: tuple[str, ...] = ()
    literal: str | None = None  # a column the template leaves fixed, such as "Actual Time" = "-"
    description: str = ""


@dataclass
class FieldSpec:
    """One value the model fills. `description` is written for the model."""

    name: str
    kind: FieldKind
    description: str
    optional: bool = False
    choices: tuple[str, ...] = ()
    columns: tuple[Column, ...] = ()
    marker: str = "-"  # list item marker: "-", "*" or "1."
    checkbox: bool = False
    item_label: str = ""  # numbered label each item starts with, e.g. "**Step {n}**: " (`{n}` from 1)
    label_width: int = 0  # `**FR-001**`: the number zero-padded to this many digits
    lang: str = ""
    examples: tuple[str, ...] = ()
    role: FileRole = ""
    # A value the tool knows and writes itself, whatever the model answers: "today:%Y-%m-%d" is the
    # drafting date in the template's format.
    tool: str = ""

    def label(self, number: int) -> str:
        """The numbered label of item `number` (from 1), numbered the template's way: `**FR-002**: `."""
        return self.item_label.replace("{n}", str(number).zfill(self.label_width))


@dataclass
class LiteralText:
    """Template text copied into every plan unchanged."""

    lines: list[str]
    joined: bool = False
    line: int = 0  # where it is in the template file, for `plan templates show`
    kept: bool = False  # the author annotated it `<!-- plan: keep -->`


@dataclass
class FieldBlock:
    """A block filled from one field; fixed list items around the generated ones stay as written."""

    field: FieldSpec
    fixed_before: list[str] = dataclass_field(default_factory=list)
    fixed_after: list[str] = dataclass_field(default_factory=list)
    line: int = 0


@dataclass
class Slot:
    field: FieldSpec
    variable: bool = False  # a `{{NAME}}` shared by the whole plan, filled once in the header
    in_path: bool = False  # `plans/{feature-name}/plan.md`: written as a slug of the value


@dataclass
class Line:
    """A single line of literal text with slots: a heading, `**Key**: value`, `Updated: {{DATE}}`."""

    parts: list[str | Slot]
    joined: bool = False  # follows the previous line directly, with no blank line between
    line: int = 0


@dataclass
class Section:
    level: int
    heading: Line
    label: str
    name: str
    children: list[Node]
    optional: bool = False
    description: str = ""
    line: int = 0


@dataclass
class Numbering:
    """How a repeated block numbers its instances: `Phase 1`, `task-001`, `Step 1.2`."""

    width: int = 0
    hierarchical: bool = False
    continues: bool = False  # numbers carry on across parents (task-003 under Phase 2)
    key: str = ""
    start: int = 1  # the template's first number: `Phase 0` starts at 0

    def format(self, index: int, parent: int | None) -> str:
        """The number of the `index`-th instance (from 1)."""
        number = str(self.start + index - 1).zfill(self.width)
        return f"{parent}.{number}" if self.hierarchical and parent is not None else number


@dataclass
class Repeat:
    """Headings that repeat one shape (`Phase 1`, `Phase 2`): an array of the prototype's fields."""

    level: int
    name: str
    prefix: str
    separator: str
    numbered: bool
    numbering: Numbering
    title: FieldSpec | None
    prototype: Section
    examples: list[str] = dataclass_field(default_factory=list)
    line: int = 0
    suffix: str = ""  # words after the title (`(Phase {n})`), `{n}` the item's number


Node = LiteralText | FieldBlock | Line | Section | Repeat


@dataclass
class FrontMatterKey:
    key: str
    field: FieldSpec | None
    literal: object = None


@dataclass(eq=False)  # hashed by identity: schemas are cached per compiled template
class Template:
    name: str
    path: str
    front_matter: list[FrontMatterKey]
    header: list[Node]  # title heading, preamble and everything before the first section
    units: list[Section | Repeat]  # the sections drafted one call each
    variables: dict[str, FieldSpec]
    guidance_lines: frozenset[str] = frozenset()
    literal_lines: frozenset[str] = frozenset()
    guidance: list[tuple[int, str]] = dataclass_field(default_factory=list)  # (line, text) read as guidance only

    def unit(self, name: str) -> Section | Repeat:
        for unit in self.units:
            if unit.name == name:
                return unit
        known = ", ".join(unit.name for unit in self.units)
        raise KeyError(f"no section named {name!r}; sections: {known}")

    @property
    def unit_names(self) -> list[str]:
        return [unit.name for unit in self.units]


HEADER = "header"


def walk(nodes: list[Node]) -> Iterator[Node]:
    """Every node below `nodes`, depth first, repeats' prototypes included."""
    for node in nodes:
        yield node
        if isinstance(node, Section):
            yield from walk(node.children)
        elif isinstance(node, Repeat):
            yield from walk(node.prototype.children)


def header_fields(template: Template) -> list[FieldSpec]:
    """Fields filled in the header call: front matter, title and preamble slots, shared variables."""
    fields = [key.field for key in template.front_matter if key.field is not None]
    fields += local_fields(template.header)
    fields += list(template.variables.values())
    unique: dict[str, FieldSpec] = {}
    for spec in fields:  # one field per name, the first to claim it
        unique.setdefault(spec.name, spec)
    return list(unique.values())


def local_fields(nodes: list[Node]) -> list[FieldSpec]:
    """Fields that belong to this object itself, not to a sub-section or repeat."""
    fields: list[FieldSpec] = []
    for node in nodes:
        if isinstance(node, FieldBlock):
            fields.append(node.field)
        elif isinstance(node, Line):
            fields += [part.field for part in node.parts if isinstance(part, Slot) and not part.variable]
    return fields


def flat_field(section: Section) -> FieldSpec | None:
    """A section holding exactly one field is that field in the schema, not an object around it."""
    has_sub = any(has_fields(child) for child in section.children if isinstance(child, Section | Repeat))
    fields = local_fields(section.children)
    if has_sub or len(fields) != 1:
        return None
    return fields[0]


def has_fields(node: Node) -> bool:
    """Whether anything under `node` is for the model to fill (shared variables are the header's)."""
    if isinstance(node, Repeat):
        return True
    if isinstance(node, Section):
        return bool(local_fields(node.children)) or any(has_fields(child) for child in node.children)
    return False


def unique_names(nodes: list[Section | Repeat]) -> list[Section | Repeat]:
    """Two headings with the same name under one parent are told apart as `name`, `name_2`, ..."""
    seen: set[str] = set()
    for node in nodes:
        node.name = _free_name(node.name, seen)
    return nodes


def _free_name(name: str, seen: set[str]) -> str:
    """`name`, or `name_2`, `name_3`... the first not in `seen`; added to `seen`."""
    free, count = name, 1
    while free in seen:
        count += 1
        free = f"{name}_{count}"
    seen.add(free)
    return free


def dedupe_fields(nodes: list[Node], taken: set[str]) -> None:
    """Two fields of one section never share a name: the later ones get `_2`, `_3`."""
    seen = set(taken)
    for spec in local_fields(nodes):
        spec.name = _free_name(spec.name, seen)

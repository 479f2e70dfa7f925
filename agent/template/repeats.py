"""Sibling sections that repeat one shape (`Phase 0`, `Phase 1`; `Feature: [Name]` twice) → one Repeat.

The compiler hands over a parent's compiled sub-sections; out come the same sections with each run of
instances grouped into a Repeat whose prototype takes the fullest, best-guided shape of its examples.
"""

from __future__ import annotations

import re

from agent.template import placeholders as ph
from agent.template.classify import slug
from agent.template.model import (
    FieldSpec,
    Line,
    Node,
    Numbering,
    Repeat,
    Section,
    Slot,
    dedupe_fields,
    has_fields,
    local_fields,
    walk,
)

NUMBERED = re.compile(r"^(?P<prefix>.*?[A-Za-z][\w -]*?[ -])(?P<num>\d+(?:\.\d+)?)(?P<rest>(?::|\s+[-–—]\s+|$).*)$")


def group_repeats(sections: list[Section]) -> list[Section | Repeat]:
    """`sections` with each run of instances of one repeated block made one Repeat."""
    grouped: list[Section | Repeat] = []
    for section in sections:
        key = _repeat_key(section)
        previous = grouped[-1] if grouped else None
        # `{Title of option 1}` then `{Title of other option}`: headings that are all placeholder, side by side at
        # one level, are instances of one list however their guidance words differ (the plan cannot tell them apart).
        if key and isinstance(previous, Repeat) and (
                previous.numbering.key == key or (previous.numbering.key.startswith("*") and key.startswith("*"))):
            _absorb(previous, section)
        elif key:
            grouped.append(_start_repeat(section, key))
        else:
            grouped.append(section)
    return grouped


def _repeat_key(section: Section) -> str:
    """`Phase 1: [Name]` and `Phase 2: Core` share the key `phase`; a heading that is all placeholder repeats too."""
    text = _heading_text(section)
    if ph.is_whole_placeholder(text) or (ph.has_placeholder(text) and not ph.strip_placeholders(text).strip(" :-–—")):
        return "*" + slug(ph.find_placeholders(text)[0].guidance)  # `[DRAFT/WIP] [Title]` is all placeholder too
    match = NUMBERED.match(text)
    if match is None:
        if (titled := _titled(text)) is not None:  # `Feature: [Name]`: each instance names itself
            return f"{section.level}:~{slug(titled[0])}~{slug(re.sub(r'[0-9]+', '', titled[2]))}"
        return ""
    if not match.group("rest").strip(" :-–—") and not has_fields(section):
        return ""  # `### Week 1` over fixed text: nothing in it varies, so it stays as the template wrote it
    return f"{section.level}:{match.group('prefix').strip().lower()}"


def _heading_text(section: Section) -> str:
    return "".join(part if isinstance(part, str) else part.field.examples[0] for part in section.heading.parts)[
        section.level + 1 :
    ]


def _titled(text: str) -> tuple[str, str, str] | None:
    """`Capability: [Name]` → ("Capability: ", "[Name]", ""), `[Layer] (Phase 1)` → ("", "[Layer]", " (Phase 1)"):
    fixed words around one placeholder that names the instance."""
    found = [p for p in ph.find_placeholders(text) if p.kind != "variable"]
    if len(found) != 1:
        return None
    prefix, suffix = text[: found[0].start], text[found[0].end :]
    return (prefix, found[0].raw, suffix) if (prefix + suffix).strip(" :-–—") else None


def _start_repeat(section: Section, key: str) -> Repeat:
    text = _heading_text(section)
    match = NUMBERED.match(text)
    title: FieldSpec | None
    if match is None:
        prefix, rest, suffix = _titled(text) or ("", text, "")
        guidance = ph.find_placeholders(rest)[0].guidance
        title = FieldSpec("title", "line", f"Heading for this item: {guidance}", examples=(text,))
        separator = ""
        number = "".join(re.findall(r"[0-9]+", suffix)[:1])
        suffix = re.sub(r"[0-9]+", "{n}", suffix, count=1)  # `(Phase 1)`, `(Phase 2)`: numbered item by item
    else:
        suffix = ""
        prefix, number, rest = match.group("prefix"), match.group("num"), match.group("rest")
        separator = re.match(r"^(:\s*|\s+[-–—]\s+|)", rest).group(0)  # type: ignore[union-attr]
        title = None
        if rest.strip(" :-–—"):  # `Phase 1: [Name]` or `Phase 1: Setup`: each instance has its own title
            example = rest[len(separator) :]
            found = ph.find_placeholders(example)
            said = found[0].guidance if found and ph.is_whole_placeholder(example) else f"e.g. {example.strip()}"
            title = FieldSpec("title", "line", f"Short title of this item ({said})", examples=(example.strip(),))
    last = number.split(".")[-1]
    numbering = Numbering(width=len(last) if last.startswith("0") and len(last) > 1 else 0,
                          hierarchical="." in number, key=key, start=0 if last == "0" else 1)  # `Phase 0` first
    prototype = Section(section.level, section.heading, section.label, section.name, section.children,
                        section.optional, section.description, section.line)
    stem = slug(prefix) or re.sub(r"_(name|title)$", "", slug(ph.find_placeholders(text)[0].guidance))
    name = _plural(stem or "item")
    return Repeat(section.level, name, prefix, separator, match is not None, numbering, title, prototype,
                  examples=[text], line=section.line, suffix=suffix)


def _absorb(repeat: Repeat, section: Section) -> None:
    """Another instance of the repeated block: the shape takes the fuller body and the fuller sub-headings,
    since templates often spell out the body in the first instance and the sub-blocks in a later one."""
    repeat.examples.append(_heading_text(section))
    mine, theirs = repeat.prototype.children, section.children
    # The instance whose fields carry the template's examples, then the longer: `...` or a bare key says less.
    local = max(_local(mine), _local(theirs), key=lambda nodes: (sum(bool(spec.examples) for spec in local_fields(nodes)),
                                                               len(nodes)))
    other = _local(theirs) if local is _local(mine) or local == _local(mine) else _local(mine)
    keys = {_line_key(node) for node in local}
    # `**Goal**:` left bare in one instance and `**Goal**: [What it establishes]` in another: one field, the
    # guidance of the instance that gives it.
    guided = {_line_key(node): node for node in other if isinstance(node, Line) and _line_key(node) and _guided(node)}
    local = [guided.get(_line_key(node), node) if isinstance(node, Line) and not _guided(node) else node for node in local]
    local = [*local, *(node for node in other if isinstance(node, Line) and _line_key(node) not in keys)]
    subs = max(_subs(mine), _subs(theirs), key=lambda nodes: _size(Section(0, Line([]), "", "", list(nodes))))
    if local is not _local(mine) or subs != _subs(mine):
        dedupe_fields(local, {node.name for node in subs})
        repeat.prototype.children = [*local, *subs]
    _mark_continuing_numbers(repeat.prototype, section)


def _line_key(node: Node) -> str:
    """`**Goal**: ` for a `**Goal**: [...]` line: what tells one instance's metadata line from another's."""
    return node.parts[0] if isinstance(node, Line) and node.parts and isinstance(node.parts[0], str) else ""


def _guided(line: Line) -> bool:
    """Whether a line's slots carry the template's example, not only the key's name."""
    return all(part.field.examples for part in line.parts if isinstance(part, Slot))


def _local(nodes: list[Node]) -> list[Node]:
    return [node for node in nodes if not isinstance(node, Section | Repeat)]


def _subs(nodes: list[Node]) -> list[Section | Repeat]:
    return [node for node in nodes if isinstance(node, Section | Repeat)]


def _mark_continuing_numbers(prototype: Section, other: Section) -> None:
    """`task-003` under the second phase means task numbers carry on across phases."""
    for child in other.children:
        if isinstance(child, Repeat) and child.numbered:
            number = NUMBERED.match(child.examples[0])
            if number and not child.numbering.hierarchical and int(number.group("num")) > 1:
                for mine in prototype.children:
                    if isinstance(mine, Repeat) and mine.numbering.key == child.numbering.key:
                        mine.numbering.continues = True


def _size(section: Section) -> tuple[int, int]:
    """How full an instance is: its sub-headings first (`...` under a heading is not a fuller shape), then nodes."""
    nodes = list(walk(section.children))
    return sum(isinstance(node, Section | Repeat) for node in nodes), len(nodes)


def _plural(word: str) -> str:
    if word.endswith("y") and not word.endswith(("ay", "ey", "oy")):
        return word[:-1] + "ies"
    return word + ("es" if word.endswith(("s", "x", "ch")) else "s")

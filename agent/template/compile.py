"""Compile a markdown implementation-plan template, in whatever placeholder syntax, into a Template.

The shape of each section is read from the template itself: prose, lists, checklists, tables,
code, `**Key**: value` lines, enumerated choices, repeated blocks and optional sections.
"""

from __future__ import annotations

import re
from collections import Counter

from agent.errors import TemplateError
from agent.template import placeholders as ph
from agent.template.classify import SUB_ITEMS, BodyCompiler, file_role, slug, tool_fill
from agent.template.model import (
    FieldBlock,
    FieldSpec,
    FrontMatterKey,
    Line,
    LiteralText,
    Node,
    Numbering,
    Repeat,
    Section,
    Slot,
    Template,
    has_fields,
    header_fields,
    local_fields,
    walk,
)
from agent.template.parse import (
    LIST_ITEM,
    Block,
    Document,
    FrontMatterError,
    RawSection,
    custom_tag,
    heading_label,
    heading_tree,
    parse_document,
    split_blocks,
)

MAX_TEMPLATE_BYTES = 1_000_000
OPTIONAL_MARK = re.compile(r"\s*\*?[(\[]\s*(?:if applicable|optional|if any|if needed|if relevant)\s*[)\]]\*?", re.I)
RULE_LINE = re.compile(r"^\s*(?:-{3,}|\*{3,}|_{3,}|(?:[-*_]\s){2,}[-*_])\s*$")
# Checklist gates, links, table rows, and `- **Key**: value` definitions.
FIXED_LINE = re.compile(r"^\s*(?:[-*+]\s+)?\[[ xX]\]\s|\]\(|https?://|^\s*\||^\s*[-*+]\s+\*\*[^*]+\*\*:?\s*\S")
FENCE_END = re.compile(r"^\s*(?:`{3,}|~{3,})\s*$")
TEMPLATE_NAME = re.compile(r"\b(?:template|title)\b", re.I)  # a heading that names the template, not a plan
NUMBERED = re.compile(r"^(?P<prefix>.*?[A-Za-z][\w -]*?[ -])(?P<num>\d+(?:\.\d+)?)(?P<rest>(?::|\s+[-–—]\s+|$).*)$")


def compile_template(text: str, path: str = "<template>", name: str | None = None) -> Template:
    _check_size(text, path)
    try:
        document = _unwrapped(parse_document(text))
    except FrontMatterError as error:
        raise TemplateError(path, str(error), error.line) from None
    blocks, about = _without_author_regions(_guidance_before_headings(document.blocks))
    preamble, roots = heading_tree(blocks)
    if not roots:
        raise TemplateError(path, "no markdown headings found; a template needs `#`/`##` section headings")
    body = BodyCompiler(variable_counts=Counter(ph.variables(text)), plain=_is_plain(blocks))
    body.guidance += [(block.line, " ".join(line.strip() for line in block.lines)) for block in about]
    body.guidance_lines += [ph.normalise_line(line) for block in about if block.kind != "heading"
                            for line in block.lines if len(line.strip()) > 12]
    header, units = _split_units(preamble, roots, body, path)
    template = Template(
        name=name or path,
        path=path,
        front_matter=_front_matter(document.front_matter or {}, body),
        header=header,
        units=units,
        variables=body.variables,
    )
    if not header_fields(template) and not any(has_fields(unit) for unit in units):
        raise TemplateError(path, "nothing to fill: mark what a plan should fill in with placeholders such as "
                            "{Describe it}, [Name] or {{FEATURE}}")
    template.guidance_lines = frozenset(body.guidance_lines)
    template.guidance = sorted(body.guidance)
    template.literal_lines = frozenset(_literal_lines(template))
    return template


def _check_size(text: str, path: str) -> None:
    size = len(text.encode("utf-8", "replace"))
    if size > MAX_TEMPLATE_BYTES:
        raise TemplateError(path, f"template is {size / 1e6:.1f} MB; templates over 1 MB are not supported")
    if "\x00" in text:
        raise TemplateError(path, "this is a binary file, not a markdown template")


def _unwrapped(document: Document) -> Document:
    """A template published inside one ```markdown fence (a page that shows the template) is the fence's text."""
    code = [block for block in document.blocks if block.kind == "code"]
    size = sum(len(block.lines) for block in document.blocks)
    if len(code) != 1 or code[0].lang.lower() not in ("markdown", "md") or 2 * len(code[0].lines) < size:
        return document
    inner = code[0].lines[1:-1] if FENCE_END.match(code[0].lines[-1]) else code[0].lines[1:]
    blocks = split_blocks(inner, first_line=code[0].line + 1)
    if not any(block.kind == "heading" for block in blocks):
        return document
    return Document(document.front_matter, document.front_matter_lines, blocks, document.body_offset)


def _without_author_regions(blocks: list[Block]) -> tuple[list[Block], list[Block]]:
    """The blocks without regions wrapped in a custom tag (`<about-this-method>` ... `</about-this-method>`) that
    hold headings but nothing to fill: a text about the template for its author, never part of a plan. The
    document's first heading stays when it is a title (`#`): the plan needs one. Also returns what was left out."""
    regions: list[tuple[int, int]] = []
    stack: list[tuple[str, int]] = []
    for index, block in enumerate(blocks):
        tag = custom_tag(block.lines[0]) if block.kind == "paragraph" else None
        if tag and not tag.group("close"):
            stack.append((tag.group("tag").lower(), index))
        elif tag and stack and stack[-1][0] == tag.group("tag").lower():
            start = stack.pop()[1]
            inside = blocks[start + 1 : index]
            if any(b.kind == "heading" for b in inside) and not any(_fills(b) for b in inside):
                regions.append((start, index))
    if not regions:
        return blocks, []
    first_heading = next((block for block in blocks if block.kind == "heading"), None)
    dropped = {index for start, end in regions for index in range(start, end + 1)}
    title = {i for i, b in enumerate(blocks) if b is first_heading and b.level == 1}
    return ([b for i, b in enumerate(blocks) if i not in dropped or i in title],
            [b for i, b in enumerate(blocks) if i in dropped and i not in title])


def _guidance_before_headings(blocks: list[Block]) -> list[Block]:
    """`<instruction>` ... `</instruction>` between one section's text and the next heading introduces that next
    section: it moves under the heading, where the section's guidance is read."""
    out = list(blocks)
    index = 0
    while index < len(out):
        end = _region_end(out, index)
        if end is None:
            index += 1
            continue
        after = next((i for i in range(end + 1, len(out)) if not _between(out[i])), None)
        before = next((out[i] for i in range(index - 1, -1, -1) if not _between(out[i])), None)
        if after is not None and out[after].kind == "heading" and before is not None and before.kind != "heading":
            region = out[index : end + 1]
            out[index : after + 1] = [*out[end + 1 : after + 1], *region]
            index = after + 1
        else:
            index = end + 1
    return out


def _region_end(blocks: list[Block], start: int) -> int | None:
    """The index of the closing tag of a custom tag opened at `start` with no heading between, else None."""
    tag = custom_tag(blocks[start].lines[0]) if blocks[start].kind == "paragraph" else None
    if tag is None or tag.group("close"):
        return None
    for index in range(start + 1, len(blocks)):
        block = blocks[index]
        if block.kind == "heading":
            return None
        closing = custom_tag(block.lines[-1])
        if closing and closing.group("close") and closing.group("tag").lower() == tag.group("tag").lower():
            return index
    return None


def _between(block: Block) -> bool:
    """Rules and lone tags (`</overview>`, `<functional-decomposition>`) that stand between a region and a heading."""
    return block.kind == "rule" or (len(block.lines) == 1 and custom_tag(block.lines[0]) is not None)


def _fills(block: Block) -> bool:
    """Whether a block holds a placeholder outside code (`Depends on: [X, Y]` in backticks is about the syntax)."""
    return block.kind != "code" and any(ph.has_placeholder(re.sub(r"`[^`\n]*`", "", line)) for line in block.lines)


def _is_plain(blocks: list[Block]) -> bool:
    """Templates that give plain example text instead of markers ("Risk 1") treat unmarked lines as examples."""
    content = [line for b in blocks if b.kind in ("list", "paragraph") for line in b.lines]
    marked = [line for line in content if ph.has_placeholder(line)]
    return bool(content) and len(marked) < 0.3 * len(content)


def _split_units(
    preamble: list[Block], roots: list[RawSection], body: BodyCompiler, path: str
) -> tuple[list[Node], list[Section | Repeat]]:
    header: list[Node] = body.compile(preamble)
    if roots[0].children and (len(roots) == 1 or _names_a_plan(roots)):
        title = roots[0]
        header += [_title_line(title.block, body)]
        header += body.compile(title.body)
        roots = title.children + roots[1:]  # a second `#` part is drafted beside the title's sections
    _dedupe_fields(header, set())
    units = _unique_names(_group_repeats([_compile_section(raw, body, path) for raw in roots]))
    return header, [unit for unit in units if isinstance(unit, Section | Repeat)]


def _names_a_plan(roots: list[RawSection]) -> bool:
    """`# PRD Template` or `# Plan: {Title}` over its sections, then another `#` part: the first is the title,
    so its many sections are drafted one by one, not as one part."""
    text = roots[0].block.text
    return roots[0].block.level == 1 and all(root.block.level == 1 for root in roots) and (
        bool(TEMPLATE_NAME.search(text)) or ph.has_placeholder(text))


def _title_line(block: Block, body: BodyCompiler) -> Line:
    text = block.text
    if TEMPLATE_NAME.search(text) and not ph.has_placeholder(text):  # `# PRD Template`, `# RFC title`
        spec = FieldSpec("title", "line", f"The plan's own title (the template's heading, {text!r}, names the "
                         "template, not this plan)", examples=(text,))
        body.guidance_lines.append(ph.normalise_line(block.lines[0]))  # the name kept as the plan's title
        return Line(["#" * block.level + " ", Slot(spec)], line=block.line)
    if comment := re.search(r"<!--(.*?)-->", text):  # `# ADR template <!-- Replace with ADR title -->`
        text = f"<!-- {comment.group(1).strip()} (the template says: {text[: comment.start()].strip()}) -->"
    line = body.line_with_slots("#" * block.level + " ", text, owner_name="title", global_slots=True)
    line.line = block.line
    return line


def _compile_section(raw: RawSection, body: BodyCompiler, path: str) -> Section:
    optional_mark = bool(OPTIONAL_MARK.search(raw.block.text))
    text = OPTIONAL_MARK.sub("", raw.block.text).strip() or raw.block.text  # the marker is for the author
    # The label keeps the marker: it tells the model the section may not apply.
    label = heading_label(ph.strip_placeholders(raw.block.text)) or heading_label(raw.block.text)
    if raw.block.bold:  # written as the template writes it: a bold line, not a `##` heading
        heading = body.line_with_slots("", raw.block.lines[0].strip(), owner_name="heading")
    else:
        heading = body.line_with_slots("#" * raw.block.level + " ", text, owner_name="heading")
    children = body.compile(raw.body)
    optional = optional_mark or body.pop_section_optional()
    description = body.pop_section_description()
    if not raw.children and not body.kept and not local_fields(children) and not _looks_fixed(children):
        first_line = raw.body[0].line if raw.body else raw.block.line
        children, description = _fill_by_default(children, description, label, body, first_line)
    subsections = _unique_names(_group_repeats([_compile_section(child, body, path) for child in raw.children]))
    _dedupe_fields(children, {node.name for node in subsections})
    for spec in local_fields(children):
        spec.role = spec.role or file_role(label)
    return Section(
        level=raw.block.level,
        heading=heading,
        label=label,
        name=slug(OPTIONAL_MARK.sub("", label)) or "section",
        children=[*children, *subsections],
        optional=optional,
        description=description,
        line=raw.block.line,
    )


def _looks_fixed(children: list[Node]) -> bool:
    """Literal text a plan keeps as written: rules, checklists of fixed gates, links, tables of fixed rows.

    Anything else alone under a leaf heading (prose, questions, notes, nothing at all) is the template
    telling the author what to write there.
    """
    lines = [line for node in children if isinstance(node, LiteralText) for line in node.lines if line.strip()]
    if any(isinstance(node, Line) for node in children):
        return True  # `**Owner**: Platform team` lines, and shared variables the header fills
    content = [line for line in lines if not RULE_LINE.match(line)]
    fixed = [line for line in content if FIXED_LINE.search(line)]
    return bool(content) and 3 * len(fixed) >= 2 * len(content)  # a note under a fixed list does not make it prose


def _fill_by_default(
    children: list[Node], description: str, label: str, body: BodyCompiler, line: int
) -> tuple[list[Node], str]:
    """A leaf section with nothing to fill becomes one text field; its prose is the field's guidance."""
    guidance = [description] if description else []
    kept: list[Node] = []
    children = [node for node in children if not (isinstance(node, LiteralText) and not "".join(node.lines).strip())]
    for node in children:
        if isinstance(node, LiteralText) and not all(RULE_LINE.match(line) for line in node.lines if line.strip()):
            text = " ".join(line.strip() for line in node.lines if line.strip())
            guidance.append(text)
            body.guidance_lines += [ph.normalise_line(line) for line in node.lines if line.strip()]
        else:
            kept.append(node)
    hint = " ".join(guidance) or f"What this plan says about {label}"
    replaced = [node for node in children if node not in kept and isinstance(node, LiteralText)]
    lines = [line for node in replaced for line in node.lines if line.strip()]
    items = [match for line in lines if (match := LIST_ITEM.match(line)) and not match.group(1)]
    if items and all(LIST_ITEM.match(line) or line.startswith((" ", "\t")) for line in lines):
        # Example items (`- [ ] 1. Create core interfaces ...`): the plan writes its own items in that shape.
        marker = "1." if items[0].group(2)[0].isdigit() else items[0].group(2)
        examples = tuple(match.group(4) for match in items)
        first_only = lines[: lines.index(items[1].group(0))] if len(items) > 1 else []
        nested = any((match := LIST_ITEM.match(line)) and match.group(1) for line in first_only[1:])
        shape = " / ".join(line.strip() for line in first_only) + (SUB_ITEMS if nested else "")
        lead = f"{description} " if description else ""
        spec = FieldSpec(slug(label) or "items", "list", f"{lead}One entry per item, in the spirit of: "
                         f"{'; '.join(examples[:3])}" + (f". Each item as the template shows one: {shape}" if shape else ""),
                         marker=marker, checkbox=bool(items[0].group(3)), examples=examples)
    else:
        spec = FieldSpec(slug(label) or "text", "text", hint, examples=tuple(guidance[:1]))
    body.guidance += [(node.line, " ".join(line.strip() for line in node.lines)) for node in replaced]
    return [FieldBlock(spec, line=replaced[0].line if replaced else line), *kept], ""


def _unique_names(nodes: list[Section | Repeat]) -> list[Section | Repeat]:
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


def _dedupe_fields(nodes: list[Node], taken: set[str]) -> None:
    """Two fields of one section never share a name: the later ones get `_2`, `_3`."""
    seen = set(taken)
    for spec in local_fields(nodes):
        spec.name = _free_name(spec.name, seen)


def _group_repeats(sections: list[Section]) -> list[Section | Repeat]:
    grouped: list[Section | Repeat] = []
    for section in sections:
        key = _repeat_key(section)
        previous = grouped[-1] if grouped else None
        if key and isinstance(previous, Repeat) and _same_list(previous.numbering.key, key):
            _absorb(previous, section)
        elif key:
            grouped.append(_start_repeat(section, key))
        else:
            grouped.append(section)
    return grouped


def _same_list(key: str, other: str) -> bool:
    """`{Title of option 1}` then `{Title of other option}`: headings that are all placeholder, side by side at
    one level, are instances of one list however their guidance words differ (the plan cannot tell them apart)."""
    return key == other or (key.startswith("*") and other.startswith("*"))


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
        title = _repeat_title(rest[len(separator) :]) if rest.strip(" :-–—") else None
    last = number.split(".")[-1]
    numbering = Numbering(width=len(last) if last.startswith("0") and len(last) > 1 else 0,
                          hierarchical="." in number, key=key, start=0 if last == "0" else 1)  # `Phase 0` first
    prototype = Section(section.level, section.heading, section.label, section.name, section.children,
                        section.optional, section.description, section.line)
    stem = slug(prefix) or re.sub(r"_(name|title)$", "", slug(ph.find_placeholders(text)[0].guidance))
    name = _plural(stem or "item")
    return Repeat(section.level, name, prefix, separator, match is not None, numbering, title, prototype,
                  examples=[text], line=section.line, suffix=suffix)


def _repeat_title(example: str) -> FieldSpec:
    found = ph.find_placeholders(example)
    guidance = found[0].guidance if found and ph.is_whole_placeholder(example) else f"e.g. {example.strip()}"
    return FieldSpec("title", "line", f"Short title of this item ({guidance})", examples=(example.strip(),))


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
        _dedupe_fields(local, {node.name for node in subs})
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


ISSUE_FORM_KEYS = {"name", "about"}  # GitHub's required keys of an issue template: its front matter configures the form


def _front_matter(data: dict[str, object], body: BodyCompiler) -> list[FrontMatterKey]:
    if set(data) >= ISSUE_FORM_KEYS:  # `name:`, `about:`, `labels:` say how GitHub offers the form, not what a plan says
        return [FrontMatterKey(key, None, literal=value) for key, value in data.items()]
    return [_front_matter_key(key, value, body) for key, value in data.items()]


def _front_matter_key(key: str, value: object, body: BodyCompiler) -> FrontMatterKey:
    name = slug(key) or "field"
    if value is None or value == []:  # `groups:` left empty for the author to fill
        return FrontMatterKey(key, FieldSpec(name, "list", f"`{key}` front-matter values", optional=True))
    if isinstance(value, list) and len(value) > 1:
        examples = tuple(str(item) for item in value)
        return FrontMatterKey(key, FieldSpec(name, "list", f"`{key}` front-matter values", examples=examples))
    if isinstance(value, list) and len(value) == 1:
        value = f"[{value[0]}]"
    if not isinstance(value, str):
        return FrontMatterKey(key, None, literal=value)
    spec = body.value_field(name, value, f"`{key}` in the front matter")
    spec.tool = spec.tool or tool_fill(key, value)  # `date: YYYY-MM-DD` is the drafting date
    return FrontMatterKey(key, spec)


def _literal_lines(template: Template) -> list[str]:
    lines: list[str] = []
    for node in walk(template.header + list(template.units)):
        if isinstance(node, LiteralText):
            lines += [ph.normalise_line(line) for line in node.lines]
        elif isinstance(node, FieldBlock):  # fixed checklist items around a list's own ("- [ ] All tests pass")
            lines += [ph.normalise_line(line) for line in node.fixed_before + node.fixed_after]
        elif isinstance(node, Line) and not any(isinstance(part, Slot) for part in node.parts):
            # A line with a slot is never literal: `**Goal**:` alone in a plan is its value left out.
            lines.append(ph.normalise_line("".join(p for p in node.parts if isinstance(p, str))))
    return [line for line in lines if line]


__all__ = ["Slot", "compile_template"]

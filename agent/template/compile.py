"""Compile a markdown implementation-plan template, in whatever placeholder syntax, into a Template.

The shape of each section is read from the template itself: prose, lists, checklists, tables,
code, `**Key**: value` lines, enumerated choices, repeated blocks and optional sections.
"""

from __future__ import annotations

import re
from collections import Counter

from agent.errors import TemplateError
from agent.template import placeholders as ph
from agent.template.classify import GUIDANCE_LEAD, SUB_ITEMS, BodyCompiler, file_role, slug, tool_fill
from agent.template.model import (
    FieldBlock,
    FieldSpec,
    FrontMatterKey,
    Line,
    LiteralText,
    Node,
    Repeat,
    Section,
    Slot,
    Template,
    dedupe_fields,
    has_fields,
    header_fields,
    local_fields,
    unique_names,
    walk,
)
from agent.template.parse import (
    LIST_ITEM,
    Block,
    FrontMatterError,
    RawSection,
    front_matter_value,
    heading_label,
    heading_tree,
    parse_document,
)
from agent.template.regions import (
    guidance_before_headings,
    unwrapped,
    without_author_regions,
    without_removal_spans,
)
from agent.template.repeats import NUMBERED, group_repeats

MAX_TEMPLATE_BYTES = 1_000_000
OPTIONAL_MARK = re.compile(r"\s*\*?[(\[]\s*(?:if applicable|optional|if any|if needed|if relevant)\s*[)\]]\*?", re.I)
RULE_LINE = re.compile(r"^\s*(?:-{3,}|\*{3,}|_{3,}|(?:[-*_]\s){2,}[-*_])\s*$")
# Checklist gates, links, table rows, and `- **Key**: value` definitions.
FIXED_LINE = re.compile(r"^\s*(?:[-*+]\s+)?\[[ xX]\]\s|\]\(|https?://|^\s*\||^\s*[-*+]\s+\*\*[^*]+\*\*:?\s*\S")
TEMPLATE_NAME = re.compile(r"\b(?:template|title)\b", re.I)  # a heading that names the template, not a plan


def compile_template(text: str, path: str = "<template>", name: str | None = None) -> Template:
    size = len(text.encode("utf-8", "replace"))
    if size > MAX_TEMPLATE_BYTES:
        raise TemplateError(path, f"template is {size / 1e6:.1f} MB; templates over 1 MB are not supported")
    if "\x00" in text:
        raise TemplateError(path, "this is a binary file, not a markdown template")
    try:
        document = unwrapped(parse_document(text))
    except FrontMatterError as error:
        raise TemplateError(path, str(error), error.line) from None
    blocks, about = without_author_regions(guidance_before_headings(document.blocks))
    blocks, removed = without_removal_spans(blocks)
    preamble, roots = heading_tree(blocks)
    if not roots:
        raise TemplateError(path, "no markdown headings found; a template needs `#`/`##` section headings")
    body = BodyCompiler(variable_counts=Counter(ph.variables(text)), plain=_is_plain(blocks))
    body.guidance += [(block.line, " ".join(line.strip() for line in block.lines)) for block in about + removed]
    body.guidance_lines += [ph.normalise_line(line) for block in about + removed if block.kind != "heading"
                            for line in block.lines if len(line.strip()) > 12]
    header, units = _split_units(preamble, roots, body, path)
    template = Template(
        name=name or path,
        path=path,
        front_matter=_front_matter(document.front_matter or {}, document.front_matter_lines, body),
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


def _is_plain(blocks: list[Block]) -> bool:
    """Templates that give plain example text instead of markers ("Risk 1") treat unmarked lines as examples."""
    content = [line for b in blocks if b.kind in ("list", "paragraph") for line in b.lines]
    marked = [line for line in content if ph.has_placeholder(line)]
    return bool(content) and len(marked) < 0.3 * len(content)


SECTION_REMOVAL = re.compile(r"\b(?:remove|delete)\s+this\s+(?:whole\s+|entire\s+)?section\b.*\bbefore\b", re.I)


def _for_the_plan(sections: list[RawSection], body: BodyCompiler) -> list[RawSection]:
    """Sections the plan has: one whose body opens with "Delete this section before submitting" is for the
    author alone (how to use the template), so it and everything under it are guidance."""
    kept = []
    for raw in sections:
        first = raw.body[0] if raw.body else None
        said = first.text if first is not None and first.kind == "comment" else " ".join(first.lines) if first else ""
        if not SECTION_REMOVAL.search(said):
            kept.append(raw)
            continue
        dropped = [raw]
        while dropped:
            section = dropped.pop()
            body.guidance += [(block.line, " ".join(line.strip() for line in block.lines))
                              for block in [section.block, *section.body]]
            dropped += section.children
    return kept


def _split_units(
    preamble: list[Block], roots: list[RawSection], body: BodyCompiler, path: str
) -> tuple[list[Node], list[Section | Repeat]]:
    header: list[Node] = body.compile(preamble)
    if roots[0].children and (len(roots) == 1 or _names_a_plan(roots)):
        title = roots[0]
        header += [_title_line(title.block, body)]
        header += body.compile(title.body)
        roots = title.children + roots[1:]  # a second `#` part is drafted beside the title's sections
    dedupe_fields(header, set())
    units = unique_names(group_repeats([_compile_section(raw, body, path) for raw in _for_the_plan(roots, body)]))
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
    subsections = unique_names(group_repeats([_compile_section(child, body, path)
                                              for child in _for_the_plan(raw.children, body)]))
    dedupe_fields(children, {node.name for node in subsections})
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
    hint = GUIDANCE_LEAD + " ".join(guidance) if guidance else f"What this plan says about {label}"
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


ISSUE_FORM_KEYS = {"name", "about"}  # GitHub's required keys of an issue template: its front matter configures the form


def _front_matter(data: dict[str, object], lines: list[str], body: BodyCompiler) -> list[FrontMatterKey]:
    if set(data) >= ISSUE_FORM_KEYS:  # `name:`, `about:`, `labels:` say how GitHub offers the form, not what a plan says
        return [FrontMatterKey(key, None, literal=value) for key, value in data.items()]
    return [_front_matter_key(key, value, front_matter_value(lines, key), body) for key, value in data.items()]


def _front_matter_key(key: str, value: object, line: tuple[str, str], body: BodyCompiler) -> FrontMatterKey:
    name = slug(key) or "field"
    raw, comment = line
    said = f" (the template says: {comment})" if comment else ""
    if value is None and comment:  # `start-date: # In format YYYY-MM-DD`: one value, described by the comment
        spec = FieldSpec(name, "line", f"`{key}` in the front matter{said}", optional=True)
        spec.tool = tool_fill(key, comment)
        return FrontMatterKey(key, spec)
    if value is None or value == []:  # `groups:` left empty for the author to fill
        return FrontMatterKey(key, FieldSpec(name, "list", f"`{key}` front-matter values{said}", optional=True))
    if isinstance(value, list) and len(value) == 1 and raw.startswith("["):
        value = f"[{value[0]}]"  # `title: [Feature name]` on one line is the bracket placeholder, not a list
    if isinstance(value, list):  # `authors:` over `  - "@janedoe"`: a list however many items it shows
        # `- Original PR: https://…` reads as a mapping; the model writes each item as one line of text.
        examples = tuple(", ".join(f"{k}: {v}" for k, v in item.items()) if isinstance(item, dict) else str(item)
                         for item in value)
        description = (f"`{key}` front-matter values, in the form of the template's examples: "
                       f"{'; '.join(examples)[:120]}{said}; an empty list when none apply to this plan")
        return FrontMatterKey(key, FieldSpec(name, "list", description, examples=examples))
    if not isinstance(value, str):
        return FrontMatterKey(key, None, literal=value)
    spec = body.value_field(name, value, f"`{key}` in the front matter{said}")
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


__all__ = ["NUMBERED", "OPTIONAL_MARK", "Slot", "compile_template"]

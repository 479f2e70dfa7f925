"""Check a plan, written by us or by hand, against its template and, optionally, the repository.

Each finding names a line and says what to change. The draft loop uses the same findings to decide
which sections to re-ask, so a plan is judged the same way however it was written.
"""

from __future__ import annotations

import re

from agent.check.findings import Context, Finding, has_errors
from agent.check.sections import check_blocks, check_empty, check_front_matter, cross_section_findings
from agent.errors import PlanFileError
from agent.template.classify import slug
from agent.template.compile import NUMBERED, OPTIONAL_MARK
from agent.template.model import Line, Repeat, Section, Slot, Template
from agent.template.parse import FrontMatterError, RawSection, heading_label, heading_tree, parse_document


def validate_plan(
    template: Template, text: str, path: str = "plan.md", tracked_paths: frozenset[str] | None = None
) -> list[Finding]:
    """Every finding for `text`, in line order. Raises PlanFileError when it is not a plan for `template`."""
    if not text.strip():
        raise PlanFileError(f"{path}: the plan is empty; draft one with `plan draft` or fill the template")
    context = Context(template, tracked_paths, [])
    try:
        document = parse_document(text)
    except FrontMatterError as error:
        context.add("error", "front-matter", f"{error}; fix the YAML between the `---` lines", error.line)
        document = parse_document(text, load_front_matter=False)
    check_front_matter(context, document.front_matter, document.front_matter_lines)
    preamble, roots = heading_tree(document.blocks)
    check_blocks(context, preamble, _header_lines(template))
    sections = _check_title(context, roots)
    # A plan for another template would bury its reader in findings; one line says what went wrong instead.
    required = [unit for unit in template.units if not _optional(unit)]
    matched = sum(1 for unit in required if any(_matches(unit, raw) for raw in sections))
    if required and matched * 3 < len(required):
        raise PlanFileError(
            f"{path}: does not follow template {template.name} (only {matched} of {len(required)} section "
            "headings match); pass the template it was written from with --template"
        )
    _match(context, list(template.units), sections, unit_level=True)
    # Two checks, or two cells of one table row, can say the same thing at the same place: it is said once, as
    # each finding goes back to the model as an instruction.
    found = dict.fromkeys(context.findings + cross_section_findings(context))
    return sorted(found, key=lambda finding: finding.line)


def plan_sections(template: Template, text: str) -> list[tuple[RawSection, Section | Repeat | None]]:
    """The plan's top-level sections (under its title, when the template has one), each with the template
    unit the validator aligns it with, or None for a heading the template does not have."""
    _, roots = heading_tree(parse_document(text, load_front_matter=False).blocks)
    sections = roots[0].children + roots[1:] if _has_title(template) and _titled(template, roots) else roots
    aligned: list[tuple[RawSection, Section | Repeat | None]] = []
    position = 0
    seen: dict[int, int] = {}
    for raw in sections:
        index = _find(list(template.units), raw, position, seen)
        aligned.append((raw, None if index is None else template.units[index]))
        position = position if index is None else max(position, index)
        if index is not None:
            seen.setdefault(index, raw.block.line)
    return aligned


def _has_title(template: Template) -> bool:
    return any(isinstance(node, Line) and isinstance(node.parts[0], str) and node.parts[0].startswith("#")
               for node in template.header)


def _check_title(context: Context, roots: list[RawSection]) -> list[RawSection]:
    """The plan's sections: the title's children when the template has one title heading."""
    if not _has_title(context.template):
        return roots
    if _titled(context.template, roots):
        # Headings after the title's own (a second `#` part) are read beside its sections: extra, not a refusal.
        check_blocks(context, [roots[0].block, *roots[0].body], _header_lines(context.template))
        return roots[0].children + roots[1:]
    context.add("error", "missing-heading", "the plan has no single title heading like the template's; add it", 1)
    return roots


def _titled(template: Template, roots: list[RawSection]) -> bool:
    """Whether the plan's first heading is its title over its sections; `#` parts after it are read beside them."""
    level = next(len(node.parts[0]) - len(node.parts[0].lstrip("#")) for node in template.header
                 if isinstance(node, Line) and isinstance(node.parts[0], str) and node.parts[0].startswith("#"))
    return bool(roots) and bool(roots[0].children) and (len(roots) == 1 or roots[0].block.level == level)


def _header_lines(template: Template) -> list[Line]:
    return [node for node in template.header if isinstance(node, Line)]


def _optional(node: Section | Repeat) -> bool:
    return node.optional if isinstance(node, Section) else node.prototype.optional


def _matches(node: Section | Repeat, raw: RawSection) -> bool:
    if raw.block.level != node.level:
        return False
    text = heading_label(raw.block.text)
    if isinstance(node, Repeat):
        if not node.numbered:
            return True
        return bool(re.match(re.escape(node.prefix.strip()) + r"\s*-?\s*\d", text, re.I))
    if any(isinstance(part, Slot) for part in node.heading.parts):  # `## Phase {{N}}: {{NAME}}`
        parts = [r".+?" if isinstance(part, Slot) else re.escape(part.lstrip("#").strip()) for part in node.heading.parts]
        pattern = r"^\s*" + r"\s*".join(part for part in parts if part) + r"\s*$"
        return bool(re.match(pattern, raw.block.text.strip(), re.I))
    # The label, not the name: `2.1 Sub-phase Name` and `2.2 Sub-phase Name` are both named apart and both match.
    return slug(OPTIONAL_MARK.sub("", text)) == slug(OPTIONAL_MARK.sub("", node.label))


def _match(
    context: Context, expected: list[Section | Repeat], actual: list[RawSection], unit_level: bool, parent_line: int = 1
) -> None:
    """Align the plan's headings with the template's, in order; then check each matched section."""
    position = 0
    seen: dict[int, int] = {}  # template index → line of the plan heading matched to it
    for raw in actual:
        index = _find(expected, raw, position, seen)
        if unit_level:
            context.unit = expected[index].name if index is not None else context.unit
        if index is None:
            context.add("warning", "extra-heading",
                        f"heading {heading_label(raw.block.text)!r} is not in the template; move its content "
                        "under a template heading or remove it", raw.block.line)
            continue
        if index < position:
            context.add("error", "order", f"heading {heading_label(raw.block.text)!r} is out of order; the template "
                        f"puts it before {_title(expected[position])!r}", raw.block.line)
        position = max(position, index)
        seen.setdefault(index, raw.block.line)
        _check_section(context, expected[index], raw)
    for index, node in enumerate(expected):
        if index not in seen and not _optional(node):
            context.unit = node.name if unit_level else context.unit
            # A missing heading belongs at the plan's next template heading, else after its last one.
            later = [i for i in seen if i > index]
            line = seen[min(later)] if later else actual[-1].block.line if actual else parent_line
            context.add("error", "missing-heading", f"section {_title(node)!r} is missing; add the heading and fill it",
                        line)


def _find(expected: list[Section | Repeat], raw: RawSection, position: int, seen: dict[int, int]) -> int | None:
    """The template node this heading is: exact headings first, catch-all repeated headings last; a section
    not matched yet before one already matched (two headings may share a label)."""
    order = list(range(position, len(expected))) + list(range(position))
    order = [i for i in order if i not in seen or isinstance(expected[i], Repeat)] + [
        i for i in order if i in seen and not isinstance(expected[i], Repeat)]
    exact = [i for i in order if not (isinstance(expected[i], Repeat) and not expected[i].numbered)]  # type: ignore[union-attr]
    for index in exact + [i for i in order if i not in exact]:
        if _matches(expected[index], raw):
            return index
    return None


def _title(node: Section | Repeat) -> str:
    return node.label if isinstance(node, Section) else f"{node.prefix}1".strip() or node.name


def _check_section(context: Context, node: Section | Repeat, raw: RawSection) -> None:
    outer = context.section
    context.section = f"{outer} > {heading_label(raw.block.text)}" if outer else heading_label(raw.block.text)
    section = node.prototype if isinstance(node, Repeat) else node
    if isinstance(node, Repeat) and node.title is not None:  # `### Step 1: <title>` needs its title
        match = NUMBERED.match(heading_label(raw.block.text))
        title = match.group("rest").lstrip(" :-–—") if match and node.numbered else heading_label(raw.block.text)
        if not title.strip():
            context.add("error", "empty", "this heading has no title; add one after the number", raw.block.line)
    lines = [child for child in section.children if isinstance(child, Line)]
    check_blocks(context, raw.body, lines)
    check_empty(context, section, raw)
    children = [child for child in section.children if isinstance(child, Section | Repeat)]
    _match(context, children, raw.children, unit_level=False, parent_line=raw.block.line)
    context.section = outer


def validate_file(plan_path: str, template: Template, repo: str | None = None) -> list[Finding]:
    """Read and check a plan file; with `repo`, also check the files it names against that repository."""
    from agent.template.catalog import read_text_file

    text = read_text_file(plan_path, "plan", 5_000_000)
    return validate_plan(template, text, plan_path, tracked_paths(repo) if repo else None)


def tracked_paths(repo: str) -> frozenset[str]:
    from pathlib import Path

    from agent.context.walk import list_files

    root = Path(repo)
    if not root.is_dir():
        raise PlanFileError(f"{repo}: not a directory; pass the repository root with --repo")
    return frozenset(list_files(root).paths)


__all__ = ["Finding", "has_errors", "plan_sections", "tracked_paths", "validate_file", "validate_plan"]

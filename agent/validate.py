"""Check a plan, written by us or by hand, against its template and, optionally, the repository.

Each finding names a line and says what to change. The draft loop uses the same findings to decide
which sections to re-ask, so a plan is judged the same way however it was written.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from agent import placeholders as ph
from agent.body import slug
from agent.compiler import NUMBERED, OPTIONAL_MARK
from agent.errors import PlanFileError
from agent.file_refs import file_checks, paths_in_line
from agent.markdown import Block, FrontMatterError, RawSection, heading_label, heading_tree, parse_document
from agent.tables import table_findings
from agent.template import HEADER, FieldBlock, FieldSpec, Line, Repeat, Section, Slot, Template, local_fields

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Finding:
    severity: Severity
    code: str
    message: str
    line: int
    section: str = ""
    unit: str = ""
    column: int = 1  # 1 when only the line is known

    def format(self, path: str) -> str:
        """`PLAN.md:LINE:COL: severity: message`, the line shape IDE problem matchers read."""
        where = f" [{self.section}]" if self.section else ""
        return f"{path}:{self.line}:{self.column}: {self.severity}: {self.message}{where}"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Context:
    template: Template
    tracked_paths: frozenset[str] | None
    findings: list[Finding]
    unit: str = HEADER
    section: str = ""
    listed_files: set[str] = field(default_factory=set)  # paths under "files to modify / create"
    mentions: list[Finding] = field(default_factory=list)  # paths named anywhere else, as would-be findings

    def add(self, severity: Severity, code: str, message: str, line: int, column: int = 1) -> None:
        self.findings.append(Finding(severity, code, message, line, self.section, self.unit, column))


def has_errors(findings: list[Finding]) -> bool:
    return any(finding.severity == "error" for finding in findings)


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
    _check_front_matter(context, document.front_matter, document.front_matter_lines)
    preamble, roots = heading_tree(document.blocks)
    _check_blocks(context, preamble, _header_lines(template))
    sections = _check_title(context, roots)
    _check_follows_template(template, sections, path)
    _match(context, list(template.units), sections, unit_level=True)
    return sorted(context.findings + _cross_section(context), key=lambda finding: finding.line)


def _check_front_matter(context: Context, data: dict[str, object] | None, lines: list[str]) -> None:
    expected = context.template.front_matter
    present = bool(lines)
    if expected and not present:
        context.add("error", "front-matter", "front matter is missing; start the plan with the template's `---` block", 1)
        return
    if present and data is None:  # its YAML did not parse, which is already one finding
        return
    for key in expected:
        if key.field is None:
            continue
        if data is None or key.key not in data:
            context.add("error", "front-matter", f"front matter has no `{key.key}`; add it", 1)
            continue
        _check_value(context, key.field, _scalar(data[key.key], key.field), _key_line(lines, key.key), f"front matter `{key.key}`")


def _key_line(lines: list[str], key: str) -> int:
    """The file line of `key:` in the front matter (the opening `---` is line 1)."""
    found = next((i for i, line in enumerate(lines) if line.split(":", 1)[0].strip().strip("'\"") == key), -1)
    return found + 2 if found >= 0 else 1


def _scalar(value: object, spec: FieldSpec) -> str:
    if isinstance(value, list) and spec.kind == "list":
        return ", ".join(str(item) for item in value)
    if isinstance(value, list):  # `key: [text]` is the template's bracket placeholder, read by YAML as a list
        return "[" + ", ".join(str(item) for item in value) + "]"
    return "" if value is None else str(value)


def _check_value(context: Context, spec: FieldSpec, value: str, line: int, where: str, start: int | None = None) -> None:
    """`start`: where `value` begins in the file's line, when known (for columns)."""
    if not value.strip():
        context.add("error", "empty", f"{where} is empty; fill it in", line)
    elif spec.kind == "enum" and not _allowed(value, spec.choices):
        context.add("error", "enum", f"{where} is {value!r}; use one of: {', '.join(spec.choices)}", line,
                    1 if start is None else start + 1)
    else:
        _check_text(context, value, line, start)


def _allowed(value: str, choices: tuple[str, ...]) -> bool:
    if ph.parse_choices(value):  # the template's own `Low/Medium/High`: no choice was made
        return False
    plain = value.strip().strip("*_`").strip().lower()
    return any(plain == choice.lower() or re.match(re.escape(choice.lower()) + r"\b\W", plain + " ")
               for choice in choices)


def plan_sections(template: Template, text: str) -> list[tuple[RawSection, Section | Repeat | None]]:
    """The plan's top-level sections (under its title, when the template has one), each with the template
    unit the validator aligns it with, or None for a heading the template does not have."""
    _, roots = heading_tree(parse_document(text, load_front_matter=False).blocks)
    sections = roots[0].children if _has_title(template) and len(roots) == 1 and roots[0].children else roots
    aligned: list[tuple[RawSection, Section | Repeat | None]] = []
    position = 0
    for raw in sections:
        index = _find(list(template.units), raw, position)
        aligned.append((raw, None if index is None else template.units[index]))
        position = position if index is None else max(position, index)
    return aligned


def _has_title(template: Template) -> bool:
    return any(isinstance(node, Line) and isinstance(node.parts[0], str) and node.parts[0].startswith("#")
               for node in template.header)


def _check_title(context: Context, roots: list[RawSection]) -> list[RawSection]:
    """The plan's sections: the title's children when the template has one title heading."""
    if not _has_title(context.template):
        return roots
    if len(roots) == 1 and roots[0].children:
        _check_blocks(context, [roots[0].block, *roots[0].body], _header_lines(context.template))
        return roots[0].children
    context.add("error", "missing-heading", "the plan has no single title heading like the template's; add it", 1)
    return roots


def _header_lines(template: Template) -> list[Line]:
    return [node for node in template.header if isinstance(node, Line)]


def _check_follows_template(template: Template, sections: list[RawSection], path: str) -> None:
    required = [unit for unit in template.units if not _optional(unit)]
    matched = sum(1 for unit in required if any(_matches(unit, raw) for raw in sections))
    if required and matched * 3 < len(required):
        raise PlanFileError(
            f"{path}: does not follow template {template.name} (only {matched} of {len(required)} section "
            "headings match); pass the template it was written from with --template"
        )


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
    if any(isinstance(part, Slot) for part in node.heading.parts):
        return bool(_heading_pattern(node.heading).match(raw.block.text.strip()))
    return slug(OPTIONAL_MARK.sub("", text)) == node.name


def _heading_pattern(line: Line) -> re.Pattern[str]:
    parts = [r".+?" if isinstance(part, Slot) else re.escape(part.lstrip("#").strip()) for part in line.parts]
    return re.compile(r"^\s*" + r"\s*".join(part for part in parts if part) + r"\s*$", re.I)


def _match(
    context: Context, expected: list[Section | Repeat], actual: list[RawSection], unit_level: bool, parent_line: int = 1
) -> None:
    """Align the plan's headings with the template's, in order; then check each matched section."""
    position = 0
    seen: dict[int, int] = {}  # template index → line of the plan heading matched to it
    for raw in actual:
        index = _find(expected, raw, position)
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
            context.add("error", "missing-heading", f"section {_title(node)!r} is missing; add the heading and fill it",
                        _insertion_line(seen, index, actual, parent_line))


def _insertion_line(seen: dict[int, int], index: int, actual: list[RawSection], parent_line: int) -> int:
    """Where a missing heading belongs: at the plan's next template heading, else after its last one."""
    later = [i for i in seen if i > index]
    if later:
        return seen[min(later)]
    return actual[-1].block.line if actual else parent_line


def _find(expected: list[Section | Repeat], raw: RawSection, position: int) -> int | None:
    """The template node this heading is: exact headings first, catch-all repeated headings last."""
    order = list(range(position, len(expected))) + list(range(position))
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
    if isinstance(node, Repeat) and node.title is not None:
        _check_repeat_title(context, node, raw)
    lines = [child for child in section.children if isinstance(child, Line)]
    _check_blocks(context, raw.body, lines)
    _check_empty(context, section, raw)
    children = [child for child in section.children if isinstance(child, Section | Repeat)]
    _match(context, children, raw.children, unit_level=False, parent_line=raw.block.line)
    context.section = outer


def _check_repeat_title(context: Context, node: Repeat, raw: RawSection) -> None:
    match = NUMBERED.match(heading_label(raw.block.text))
    title = match.group("rest").lstrip(" :-–—") if match and node.numbered else heading_label(raw.block.text)
    if not title.strip():
        context.add("error", "empty", "this heading has no title; add one after the number", raw.block.line)


def _check_empty(context: Context, section: Section, raw: RawSection) -> None:
    required = [spec for spec in local_fields(section.children) if not spec.optional]
    if not required or (section.optional and _not_applicable(raw.body)):
        return
    content = [b for b in raw.body if b.kind not in ("rule", "comment") and not _is_literal(context, b)]
    if not content:
        context.add("error", "empty", f"section {section.label!r} is empty; write its content", raw.block.line)


def _not_applicable(blocks: list[Block]) -> bool:
    text = " ".join(line for block in blocks for line in block.lines).lower()
    return "not applicable" in text or text.strip(" _*.") in ("n/a", "none")


def _is_literal(context: Context, block: Block) -> bool:
    return all(ph.normalise_line(line) in context.template.literal_lines for line in block.lines if line.strip())


def _check_blocks(context: Context, blocks: list[Block], lines: list[Line]) -> None:
    keyed = {slug(heading_label(_key_of(line))): line for line in lines}
    roles = _roles(lines, context, blocks)
    for block in blocks:
        if block.kind == "code":
            _check_code(context, block)
        elif block.kind == "table":
            context.findings += [_at(context, f) for f in table_findings(block, _table_spec(context, block), context.template.guidance_lines)]
        elif block.kind != "comment":
            for offset, text in enumerate(block.lines):
                _check_line(context, text, block.line + offset, keyed)
        else:
            context.add("warning", "guidance", "template guidance comment left in the plan; remove it", block.line)
        if context.tracked_paths is not None and roles:
            context.findings += [_at(context, f) for f in file_checks(block, roles, context.tracked_paths)]
        _note_paths(context, block, bool(roles))


def _note_paths(context: Context, block: Block, in_file_changes: bool) -> None:
    """Remember which paths the file-change sections list, and where other sections name paths."""
    if block.kind in ("code", "comment"):
        return
    for offset, text in enumerate(block.lines):
        for path in paths_in_line(text):
            if in_file_changes:
                context.listed_files.add(path)
            else:
                context.mentions.append(Finding(
                    "warning", "unlisted-file",
                    f"`{path}` is named here but not among the files to modify or create; list it there or drop it",
                    block.line + offset, context.section, context.unit))


def _cross_section(context: Context) -> list[Finding]:
    """Files the steps or tests name should appear among the file changes, when the template has them."""
    if not _has_file_sections(context.template):
        return []
    return [finding for finding in context.mentions
            if finding.message.split("`")[1] not in context.listed_files]


def _has_file_sections(template: Template) -> bool:
    from agent.template import walk

    return any(isinstance(node, FieldBlock) and node.field.role in ("modify", "create", "mixed")
               for node in walk(list(template.units)))


def _at(context: Context, finding: tuple[str, str, str, int]) -> Finding:
    severity, code, message, line = finding
    return Finding("error" if severity == "error" else "warning", code, message, line, context.section, context.unit)


def _key_of(line: Line) -> str:
    head = line.parts[0] if isinstance(line.parts[0], str) else ""
    match = re.search(r"\*\*(.+?)\*\*", head)
    return match.group(1) if match else ""


def _roles(lines: list[Line], context: Context, blocks: list[Block]) -> set[str]:
    section = _current_section(context)
    roles = {spec.role for spec in local_fields(section.children)} if section else set()
    roles |= {part.field.role for line in lines for part in line.parts if isinstance(part, Slot)}
    return {role for role in roles if role}


def _current_section(context: Context) -> Section | None:
    names = [slug(OPTIONAL_MARK.sub("", name)) for name in context.section.split(" > ") if name]
    nodes: list[Any] = list(context.template.units)
    found = None
    for name in names:
        found = next((n for n in nodes if isinstance(n, Section) and n.name == name), None)
        found = found or next((n.prototype for n in nodes if isinstance(n, Repeat)), None)
        if found is None:
            return None
        nodes = found.children
    return found


def _table_spec(context: Context, block: Block) -> FieldSpec | None:
    section = _current_section(context)
    tables = [spec for spec in local_fields(section.children) if spec.kind == "table"] if section else []
    return tables[0] if tables else None


def _check_code(context: Context, block: Block) -> None:
    for offset, text in enumerate(block.lines):
        for found in ph.find_placeholders(text):
            if found.kind == "variable":
                context.add("error", "placeholder", f"placeholder {found.raw} left in a code block; replace it",
                            block.line + offset, found.start + 1)


def _check_line(context: Context, text: str, line: int, keyed: dict[str, Line]) -> None:
    normal = ph.normalise_line(text)
    if normal in context.template.literal_lines:
        return
    # A placeholder left in is reported as one (below); plain example text has no marker to name.
    marked = any(found.kind != "comment" for found in ph.find_placeholders(text))
    if normal and normal in context.template.guidance_lines and not marked:
        context.add("error", "guidance", f"still the template's example text ({text.strip()[:60]!r}); "
                    "replace it with this plan's content", line)
        return
    key = re.match(r"^\s*(?:[-*]\s+)?\*\*(.+?)\*\*\s*:?\s*(?:\*\([^)]*\)\*\s*)?:?\s*(.*)$", text)
    spec = _keyed_spec(keyed, key.group(1)) if key else None
    if key and spec is not None:
        _check_value(context, spec, key.group(2), line, f"`{key.group(1).strip(': ')}`", key.start(2))
    else:
        _check_text(context, text, line, 0)


def _keyed_spec(keyed: dict[str, Line], key: str) -> FieldSpec | None:
    line = keyed.get(slug(key.strip().rstrip(":")))
    slots = [part for part in line.parts if isinstance(part, Slot)] if line else []
    return slots[0].field if slots else None


def _check_text(context: Context, text: str, line: int, start: int | None) -> None:
    """`start`: where `text` begins in the file's line, or None when unknown (column 1)."""
    for found in ph.find_placeholders(text):
        column = 1 if start is None else start + found.start + 1
        if found.kind == "comment":
            context.add("warning", "guidance", "template guidance comment left in the plan; remove it", line, column)
        elif found.kind == "todo":
            context.add("error", "placeholder", f"{found.raw} left in the plan; decide it and write the answer", line,
                        column)
        else:
            context.add("error", "placeholder",
                        f"placeholder {found.raw} is still in the plan; replace it with real content", line, column)


def validate_file(plan_path: str, template: Template, repo: str | None = None) -> list[Finding]:
    """Read and check a plan file; with `repo`, also check the files it names against that repository."""
    from agent.catalog import read_text_file

    text = read_text_file(plan_path, "plan", 5_000_000)
    return validate_plan(template, text, plan_path, tracked_paths(repo) if repo else None)


def tracked_paths(repo: str) -> frozenset[str]:
    from pathlib import Path

    from agent.context.walk import list_files

    root = Path(repo)
    if not root.is_dir():
        raise PlanFileError(f"{repo}: not a directory; pass the repository root with --repo")
    return frozenset(list_files(root).paths)

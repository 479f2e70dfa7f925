"""Checks on the content under one heading of a plan: placeholders, guidance, choices, tables, files.

`agent.check.validate` aligns a plan's headings with its template and calls these on each section it matched.
"""

from __future__ import annotations

import re
from typing import Any

from agent.check.files import file_checks, paths_in_line
from agent.check.findings import Context, Finding
from agent.check.tables import choice_allowed, table_findings
from agent.template import placeholders as ph
from agent.template.classify import INLINE_KEY, slug
from agent.template.compile import OPTIONAL_MARK
from agent.template.model import (
    FieldBlock,
    FieldSpec,
    Line,
    Repeat,
    Section,
    Slot,
    Template,
    local_fields,
    walk,
)
from agent.template.parse import Block, RawSection, heading_label

UNCHANGED = re.compile(r"\b(?:already|existing|currently|unchanged|as (?:it )?is|today|stays?)\b", re.I)
# Sections that name files without changing them: what is there now, and where to look for more.
CURRENT = re.compile(r"\b(?:current|existing|as[- ]is|background|today|context|references?|related|similar|prior art|"
                     r"see also|resources)\b", re.I)
CODE_SPAN = re.compile(r"(`+)[^`]+?\1")
PICKED = re.compile(r"^\s*[-*+]\s+\[[ xX]\]\s+")


def check_front_matter(context: Context, data: dict[str, object] | None, lines: list[str]) -> None:
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
        value = data[key.key]
        if (value == [] and key.field.kind == "list") or (value is None and key.field.optional):
            continue  # `see-also: []`, or null where the schema allows it: asking to fill it forces invented entries
        text = "" if value is None else str(value)
        if isinstance(value, list):  # `key: [text]` is the template's bracket placeholder, read by YAML as a list
            text = ", ".join(str(item) for item in value)
            text = text if key.field.kind == "list" else f"[{text}]"
        # The file line of `key:` (the opening `---` is line 1).
        found = next((i for i, line in enumerate(lines) if line.split(":", 1)[0].strip().strip("'\"") == key.key), -1)
        _check_value(context, key.field, text, found + 2 if found >= 0 else 1, f"front matter `{key.key}`")


def _check_value(context: Context, spec: FieldSpec, value: str, line: int, where: str, start: int | None = None) -> None:
    """`start`: where `value` begins in the file's line, when known (for columns)."""
    if not value.strip():
        context.add("error", "empty", f"{where} is empty; fill it in", line)
    # The template's own `Low/Medium/High` left in is no choice made.
    elif spec.kind == "enum" and (ph.parse_choices(value) or not choice_allowed(value, spec.choices)):
        context.add("error", "enum", f"{where} is {value!r}; use one of: {', '.join(spec.choices)}", line,
                    1 if start is None else start + 1)
    else:
        _check_text(context, value, line, start)


def check_empty(context: Context, section: Section, raw: RawSection) -> None:
    required = [spec for spec in local_fields(section.children) if not spec.optional]
    if not required:
        return
    text = " ".join(line for block in raw.body for line in block.lines).lower()
    if section.optional and ("not applicable" in text or text.strip(" _*.") in ("n/a", "none")):
        return
    if any(isinstance(child, Section | Repeat) for child in section.children):
        return  # an intro above sub-sections is often left out when they say it all; they are checked themselves
    literal = context.template.literal_lines  # lines copied from the template as they are are not content
    content = [block for block in raw.body if block.kind not in ("rule", "comment")
               and not all(ph.normalise_line(line) in literal for line in block.lines if line.strip())]
    if not content:
        context.add("error", "empty", f"section {section.label!r} is empty; write its content", raw.block.line)


def check_blocks(context: Context, blocks: list[Block], lines: list[Line]) -> None:
    keyed = _keyed_fields(lines)
    section = _current_section(context)
    fields = local_fields(section.children) if section else []
    slots = [part.field for line in lines for part in line.parts if isinstance(part, Slot)]
    roles: set[str] = {spec.role for spec in [*fields, *slots] if spec.role}
    table = next((spec for spec in fields if spec.kind == "table"), None)
    for block in blocks:
        if block.kind == "code":
            for offset, text in enumerate(block.lines):
                for found in ph.find_placeholders(text):
                    if found.kind == "variable":  # in code `<T>` and `[0]` are syntax, `{{NAME}}` is not
                        context.add("error", "placeholder", f"placeholder {found.raw} left in a code block; "
                                    "replace it", block.line + offset, found.start + 1)
        elif block.kind == "table":
            context.findings += [_at(context, f)
                                 for f in table_findings(block, table, context.template.guidance_lines)]
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
            elif not UNCHANGED.search(text):
                context.mentions.append(Finding(
                    "warning", "unlisted-file",
                    f"`{path}` is named here but not among the files to modify or create; list it there or drop it",
                    block.line + offset, context.section, context.unit))


def cross_section_findings(context: Context) -> list[Finding]:
    """Files the steps or tests name should appear among the file changes, when the template has them."""
    if not any(isinstance(node, FieldBlock) and node.field.role in ("modify", "create", "mixed")
               for node in walk(list(context.template.units))):
        return []
    own = _own_paths(context.template)
    found: dict[str, Finding] = {}  # one finding per file, at its first mention
    for finding in context.mentions:
        path = finding.message.split("`")[1]
        if path not in context.listed_files and not (own and own.fullmatch(path)) and not CURRENT.search(finding.section):
            found.setdefault(path, finding)
    return list(found.values())


def _own_paths(template: Template) -> re.Pattern[str] | None:
    """The plan's own files, from template lines like `plans/{{TASK_NAME}}/plan.md`: not files the change touches."""
    patterns = []
    for node in walk(template.header + list(template.units)):
        if not isinstance(node, Line):
            continue
        for index, part in enumerate(node.parts):
            if isinstance(part, Slot) and part.in_path:
                before = node.parts[index - 1] if index and isinstance(node.parts[index - 1], str) else ""
                after = node.parts[index + 1] if index + 1 < len(node.parts) else ""
                head = re.search(r"[^\s`'\"(]*$", str(before)).group(0)  # type: ignore[union-attr]
                tail = re.match(r"[^\s`'\")]*", after if isinstance(after, str) else "").group(0)  # type: ignore[union-attr]
                patterns.append(re.escape(head) + r"[^\s`/]+" + re.escape(tail))
    return re.compile("|".join(f"(?:{pattern})" for pattern in patterns)) if patterns else None


def _at(context: Context, finding: tuple[str, str, str, int]) -> Finding:
    severity, code, message, line = finding
    return Finding("error" if severity == "error" else "warning", code, message, line, context.section, context.unit)


def _keyed_fields(lines: list[Line]) -> dict[str, FieldSpec]:
    """`**Status:** <slot> · **Owner:** <slot>` → {"status": spec, "owner": spec}: each bold key's own field."""
    keyed: dict[str, FieldSpec] = {}
    for line in lines:
        key = ""
        for part in line.parts:
            if isinstance(part, str):
                found = re.findall(r"\*\*(.+?)\*\*", part)
                key = found[-1] if found else key
            elif key:
                keyed.setdefault(slug(heading_label(key)), part.field)
                key = ""
    return keyed


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


def _check_line(context: Context, text: str, line: int, keyed: dict[str, FieldSpec]) -> None:
    normal = ph.normalise_line(text)
    if normal in context.template.literal_lines:
        return
    # A placeholder left in is reported as one (below); plain example text has no marker to name.
    marked = any(found.kind != "comment" for found in ph.find_placeholders(text))
    if not marked and PICKED.match(text) and not ph.looks_like_example(PICKED.sub("", text)):
        return  # a concrete option kept from the template's checklist: picking the ones that apply is the job
    if normal and normal in context.template.guidance_lines and not marked:
        context.add("error", "guidance", f"still the template's example text ({text.strip()[:60]!r}); "
                    "replace it with this plan's content", line)
        return
    if len(keys := list(INLINE_KEY.finditer(text))) > 1:  # `**Status:** Draft · **Owner:** Ana`
        for index, key in enumerate(keys):
            end = keys[index + 1].start() if index + 1 < len(keys) else len(text)
            value = re.sub(r"\s*[·|,;]?\s*$", "", text[key.end() : end])
            name = (key.group("key") or key.group("k2")).strip().rstrip(":")
            if (spec := keyed.get(slug(name))) is not None:
                _check_value(context, spec, value, line, f"`{name}`", key.end())
            else:
                _check_text(context, value, line, key.end())
        return
    lead = re.match(r"^\s*(?:[-*]\s+)?\*\*(.+?)\*\*\s*:?\s*(?:\*\([^)]*\)\*\s*)?:?\s*(.*)$", text)
    spec = keyed.get(slug(lead.group(1).strip().rstrip(":"))) if lead else None
    if lead and spec is not None:
        _check_value(context, spec, lead.group(2), line, f"`{lead.group(1).strip(': ')}`", lead.start(2))
    else:
        _check_text(context, text, line, 0)


def _check_text(context: Context, text: str, line: int, start: int | None) -> None:
    """`start`: where `text` begins in the file's line, or None when unknown (column 1)."""
    text = CODE_SPAN.sub(lambda m: " " * len(m.group(0)), text)  # code is the plan's content, brackets and all
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

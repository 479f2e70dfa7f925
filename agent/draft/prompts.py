"""The words sent to the model, assembled from the files in `prompts/`.

The shared prefix (template outline, repository, the brief, then the plan spine) is built once per draft
and is byte-identical for every section call, so provider prompt caches serve it after the first call;
its first part is identical across every brief drafted against the same template and repository.
"""

from __future__ import annotations

import json
import re
from datetime import date
from string import Template as Text
from typing import Any

from agent.context.brief import Brief
from agent.template.catalog import prompt_text
from agent.template.classify import DESCRIPTION_LEAD
from agent.template.model import (
    HEADER,
    FieldSpec,
    Repeat,
    Section,
    Template,
    has_fields,
    header_fields,
    local_fields,
)
from agent.template.schema import unit_names

MAX_PREVIOUS_CHARS = 12_000
MAX_GUIDANCE_CHARS = 2_000
MAX_OWNS_CHARS = 120  # of a section's guidance in the outline: enough to say what it owns


def system_prompt() -> str:
    return prompt_text("system.md").strip()


def shared_prefix(template: Template, brief: Brief, repository: str, today: date | None = None) -> str:
    return "".join(prefix_parts(template, brief, repository, today))


def prefix_parts(template: Template, brief: Brief, repository: str, today: date | None = None) -> tuple[str, str]:
    """The shared prefix in two parts: the template's outline and the repository, which every brief
    drafted against them shares (a whole `plan batch`), then the brief. Common part first, so one
    cache entry serves every item of a batch."""
    common = _fill("prefix.md", template_name=template.name, outline=template_outline(template),
                   repository=repository or "(no repository context)")
    return common + "\n\n", _fill("brief.md", brief=brief.text, today=(today or date.today()).isoformat())


def spine_part(spine: str) -> str:
    """What the prefix gains once the spine is drafted: every section request carries it."""
    return "\n\n" + _fill("spine_part.md", spine=spine)


def template_outline(template: Template) -> str:
    """Each section with what it owns (its template guidance, cut short), so no section restates another."""
    lines = [f"- {HEADER}: title, metadata and front matter"] if HEADER in unit_names(template) else []
    for unit in template.units:
        owns = _short(_ownership(_section(unit)))
        lines.append(f"- {unit.name}: {unit_label(unit)}" + (f" (owns: {owns})" if owns else ""))
        for child in _subsections(unit):
            owns = _short(_ownership(child))
            lines.append(f"  - {child.label}" + (f" (owns: {owns})" if owns else ""))
    return "\n".join(lines)


def _section(unit: Section | Repeat) -> Section:
    return unit.prototype if isinstance(unit, Repeat) else unit


def _subsections(unit: Section | Repeat) -> list[Section]:
    return [child for child in _section(unit).children if isinstance(child, Section)]


def unit_label(unit: Section | Repeat) -> str:
    if isinstance(unit, Repeat):
        first = unit.numbering.start  # `Phase 0, Phase 1, ...` where the template starts at 0
        return f"{unit.prefix}{first}, {unit.prefix}{first + 1}, ... (repeated)".strip() if unit.numbered else unit.name
    return unit.label


def spine_prompt(total_words: int) -> str:
    return _fill("spine.md", total_words=str(total_words))


def section_prompt(template: Template, unit: str, words: int = 0, spine: bool = True) -> str:
    """The first request for a section; `spine`: whether the prefix carries a plan spine to follow."""
    label, guidance = _describe(template, unit)
    if unit == HEADER:
        heading, owns = "the title and metadata at the top of the plan", "the title and the metadata values"
    else:
        node = template.unit(unit)
        subs = ", ".join(f'"{child.label}"' for child in _subsections(node))
        heading = "#" * node.level + " " + label + (f" (with sub-headings {subs})" if subs else "")
        owns = _short(_ownership(_section(node))) or f"what the heading \"{label}\" says"
    rules = _fill("section_rules_spine.md" if spine else "section_rules.md")
    return _fill("section.md", label=label, heading=heading, guidance=guidance or "(no guidance)",
                 words=str(words or "a few hundred"), owns=owns, unit=unit, rules=rules)


def reask_prompt(template: Template, unit: str, problems: list[str], previous: Any, words: int = 0) -> str:
    label, _ = _describe(template, unit)
    shown = json.dumps({unit: previous}, indent=1, ensure_ascii=False)[:MAX_PREVIOUS_CHARS] if previous is not None \
        else "(no usable answer)"
    findings = "\n".join(f"- {problem}" for problem in problems)
    return _fill("reask.md", label=label, findings=findings, previous=shown, unit=unit,
                 words=str(words or "a few hundred"))


def review_prompt(markdown: str) -> str:
    return _fill("review.md", plan=markdown.strip())


def revise_note(current: str, problems: list[str], note: str) -> str:
    """What a re-drafted section's prompt adds (`plan revise`): its current text, its findings, the user's note."""
    findings = ("In its current text the validator found these problems; fix every one:\n" + "\n".join(f"- {p}" for p in problems)
                if problems else "")
    wish = f"The user's note on this section (follow it for this section's content):\n{note.strip()}" if note.strip() else ""
    text = _fill("revise.md", current=current.strip() or "(the section is missing from the file)",
                 findings=findings, note=wish)
    return re.sub(r"\n{3,}", "\n\n", text)


def _describe(template: Template, unit: str) -> tuple[str, str]:
    """The section's label, and its guidance: its own description, then each field's and sub-section's."""
    if unit == HEADER:
        fields = "\n".join(_field_line(spec, "") for spec in header_fields(template))
        return "header", "The title, the metadata lines and the front matter of the plan.\n" + fields
    node = template.unit(unit)
    lines = _guidance(_section(node), "")
    if isinstance(node, Repeat):
        lines.insert(0, f"One entry per {node.prefix.strip() or 'item'}, in order; each entry has the fields below.")
    return unit_label(node), _whole_lines(lines, MAX_GUIDANCE_CHARS)


def _whole_lines(lines: list[str], limit: int) -> str:
    """As many whole lines as fit in `limit` characters, and how many were left out: a line cut mid-word
    reads as an instruction to the model, and the schema's field descriptions still carry the rest."""
    size = 0
    for count, line in enumerate(lines):
        size += len(line) + 1
        if size > limit:
            return "\n".join([*lines[:count], f"(and {len(lines) - count} more lines of guidance, in the schema's "
                                              "field descriptions)"])
    return "\n".join(lines)


def _guidance(section: Section, indent: str) -> list[str]:
    lines = [f"{indent}{section.description}"] if section.description else []
    lines += [_field_line(spec, indent) for spec in local_fields(section.children)]
    for child in section.children:
        if isinstance(child, Section | Repeat) and has_fields(child):
            lines.append(f"{indent}- under \"{unit_label(child)}\":")
            lines += _guidance(_section(child), indent + "  ")
    return lines


def _field_line(spec: FieldSpec, indent: str) -> str:
    """A field and what to write in it; a description that only repeats the field's name says nothing."""
    said = re.sub(r"[\W_]+", " ", spec.description).strip().lower()
    named = re.sub(r"[\W_]+", " ", spec.name).strip().lower()
    about = "" if not said or said == named or set(said.split()) <= set(named.split()) else f": {spec.description}"
    choices = f" (one of: {', '.join(spec.choices)})" if spec.choices else ""
    return f"{indent}- `{spec.name}` ({spec.kind}){about}{choices}"


def _ownership(section: Section) -> str:
    """What a section is for: its own guidance, else its first field's, as the template's example says it
    ("{Risk and its mitigation}"), without the placeholder marks."""
    fields = local_fields(section.children)
    text = section.description or (fields[0].description if fields else "")
    text = DESCRIPTION_LEAD.sub("", text)
    return re.sub(r"[{}\[\]<>`]", "", text.split(";")[0]).strip()


def _short(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= MAX_OWNS_CHARS else text[:MAX_OWNS_CHARS].rsplit(" ", 1)[0] + "..."


def _fill(name: str, **values: str) -> str:
    return Text(prompt_text(name)).safe_substitute(values).strip()

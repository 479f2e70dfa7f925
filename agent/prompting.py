"""The words sent to the model, assembled from the files in `prompts/`.

The shared prefix (template overview, repository, then the brief) is built once per draft and is
byte-identical for every section call, so provider prompt caches serve it after the first call; its
first part is identical across every brief drafted against the same template and repository.
"""

from __future__ import annotations

import json
import re
from string import Template as Text
from typing import Any

from agent.brief import Brief
from agent.template.catalog import prompt_text
from agent.template.model import HEADER, Repeat, Section, Template
from agent.template.schema import unit_names

MAX_PREVIOUS_CHARS = 12_000


def system_prompt() -> str:
    return prompt_text("system.md").strip()


def shared_prefix(template: Template, brief: Brief, repository: str) -> str:
    return "".join(prefix_parts(template, brief, repository))


def prefix_parts(template: Template, brief: Brief, repository: str) -> tuple[str, str]:
    """The shared prefix in two parts: the template's outline and the repository, which every brief
    drafted against them shares (a whole `plan batch`), then the brief. Common part first, so one
    cache entry serves every item of a batch."""
    common = _fill("prefix.md", template_name=template.name, outline=template_outline(template),
                   repository=repository or "(no repository context)")
    return common + "\n\n", _fill("brief.md", brief=brief.text)


def template_outline(template: Template) -> str:
    lines = [f"- {HEADER}: title, metadata and front matter"] if HEADER in unit_names(template) else []
    for unit in template.units:
        lines.append(f"- {unit.name}: {unit_label(unit)}")
        lines += [f"  - {child.label}" for child in _subsections(unit)]
    return "\n".join(lines)


def _subsections(unit: Section | Repeat) -> list[Section]:
    section = unit.prototype if isinstance(unit, Repeat) else unit
    return [child for child in section.children if isinstance(child, Section)]


def unit_label(unit: Section | Repeat) -> str:
    if isinstance(unit, Repeat):
        return f"{unit.prefix}1, {unit.prefix}2, ... (repeated)".strip() if unit.numbered else unit.name
    return unit.label


def section_prompt(template: Template, unit: str) -> str:
    label, guidance = _describe(template, unit)
    return _fill("section.md", label=label, guidance=guidance, unit=unit)


def reask_prompt(template: Template, unit: str, problems: list[str], previous: Any) -> str:
    label, _ = _describe(template, unit)
    shown = json.dumps({unit: previous}, indent=1, ensure_ascii=False)[:MAX_PREVIOUS_CHARS] if previous is not None \
        else "(no usable answer)"
    findings = "\n".join(f"- {problem}" for problem in problems)
    return _fill("reask.md", label=label, findings=findings, previous=shown, unit=unit)


def revise_note(current: str, problems: list[str], note: str) -> str:
    """What a re-drafted section's prompt adds (`plan revise`): its current text, its findings, the user's note."""
    findings = ("In its current text the validator found these problems; fix every one:\n" + "\n".join(f"- {p}" for p in problems)
                if problems else "")
    wish = f"The user's note on this section (follow it for this section's content):\n{note.strip()}" if note.strip() else ""
    text = _fill("revise.md", current=current.strip() or "(the section is missing from the file)",
                 findings=findings, note=wish)
    return re.sub(r"\n{3,}", "\n\n", text)


def _describe(template: Template, unit: str) -> tuple[str, str]:
    if unit == HEADER:
        return "header", "The title, the metadata lines and the front matter of the plan."
    node = template.unit(unit)
    description = node.description if isinstance(node, Section) else node.prototype.description
    return unit_label(node), description


def _fill(name: str, **values: str) -> str:
    return Text(prompt_text(name)).safe_substitute(values).strip()

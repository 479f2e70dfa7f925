"""The plan spine: one call before the sections fan out, drafting the decisions, files, new names, steps
and a length budget that every section request then carries, so sections agree instead of each
choosing its own names, paths and scope.

A section that cannot be written without changing the spine says so (`spine_changes` in its answer);
the loop adds those amendments to the spine, so every later request and the whole-plan review see them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from agent.context.brief import Brief
from agent.template.schema import json_schema

SPINE = "plan-spine"  # a schema name no template section can take (section names are snake_case)
SPINE_CHANGES = "spine_changes"
STRICT = ConfigDict(extra="forbid")
MIN_SECTION_WORDS, MAX_SECTION_WORDS = 30, 600
Size = Literal["XS", "S", "M", "L", "XL"]


class SpineFile(BaseModel):
    model_config = STRICT
    path: str = Field(description="Repository-relative path, exactly as in the repository file list for a file "
                                  "to modify; a new path for a file to create")
    change: str = Field(description="One line: what changes in this file, or what the new file holds")


class SpineName(BaseModel):
    model_config = STRICT
    kind: str = Field(description="What it is: table, column, module, class, function, flag, endpoint, "
                                  "setting, command, event...")
    name: str = Field(description="The exact spelling every section must use, in the repository's own style")
    meaning: str = Field(description="One line: what it is for")


def spine_model(sections: list[str]) -> type[BaseModel]:
    """The spine's schema; `section` in a budget is one of the plan's section names."""
    section: Any = Literal[tuple(sections)]
    budget = create_model("SectionBudget", __config__=STRICT,
                          section=(section, Field(description="A section of this plan")),
                          words=(int, Field(description="The most words this section should take")))
    return create_model(
        "PlanSpine", __config__=STRICT,
        summary=(str, Field(description="One or two sentences: what this change does and how, for this repository")),
        size=(Size, Field(description="The size of the work the brief asks for: "
                                                                  "XS under a day, S days, M a week or two, L a month, XL more")),
        decisions=(list[str], Field(description="The decisions that shape the plan, one line each with its reason "
                                                "(data shape, where the code goes, what is left alone)")),
        files_to_modify=(list[SpineFile], Field(description="Existing files the change edits; each path must be in "
                                                            "the repository file list")),
        files_to_create=(list[SpineFile], Field(description="New files the change adds; none may exist yet")),
        names=(list[SpineName], Field(description="The names of the new things: tables, columns, modules, "
                                                  "functions, flags, endpoints, settings")),
        steps=(list[str], Field(description="The phases or steps of the work, in order, each a short name "
                                            "sections can refer to")),
        section_budgets=(list[budget], Field(description="Words for each section, in proportion to the work: a "  # type: ignore[valid-type]
                                                         "small change gets a short plan")),
    )


def spine_schema(sections: list[str]) -> dict[str, Any]:
    return json_schema(spine_model(sections))


def read_spine(data: dict[str, Any] | None, sections: list[str]) -> dict[str, Any] | None:
    """The spine as a plain dict, or None when the answer does not fit its schema (the sections then go
    ahead without one: a spine is a help, never a reason to fail the draft)."""
    try:
        return spine_model(sections).model_validate(data or {}).model_dump()
    except ValidationError:
        return None


def default_budget(brief: Brief, sections: int) -> int:
    """Words per section when the spine gives none: a short brief gets a short plan."""
    words = len(brief.text.split())
    total = 200 + 2 * words + 60 * len(brief.requirements)
    return max(MIN_SECTION_WORDS, min(MAX_SECTION_WORDS, total // max(1, sections)))


def section_budget(spine: dict[str, Any] | None, section: str, fallback: int) -> int:
    for item in (spine or {}).get("section_budgets", []):
        if item["section"] == section:
            return max(MIN_SECTION_WORDS, min(MAX_SECTION_WORDS, int(item["words"])))
    return fallback


def spine_text(spine: dict[str, Any]) -> str:
    """The spine as the sections see it: compact, one line per item."""
    lines = [f"Summary: {spine['summary']}", f"Size: {spine['size']}", "Decisions:"]
    lines += [f"- {decision}" for decision in spine["decisions"]] or ["- (none)"]
    for key, title in (("files_to_modify", "Files to modify"), ("files_to_create", "Files to create")):
        lines.append(f"{title}:")
        lines += [f"- `{item['path']}`: {item['change']}" for item in spine[key]] or ["- (none)"]
    lines.append("New names:")
    lines += [f"- {item['kind']} `{item['name']}`: {item['meaning']}" for item in spine["names"]] or ["- (none)"]
    lines.append("Steps:")
    lines += [f"{index}. {step}" for index, step in enumerate(spine["steps"], 1)] or ["- (none)"]
    amendments = spine.get("amendments") or []
    if amendments:
        lines.append("Amendments made while drafting the sections (these win over the lines above):")
        lines += [f"- ({item['section']}) {item['change']}" for item in amendments]
    return "\n".join(lines)


def with_spine_changes(schema: dict[str, Any], unit: str) -> dict[str, Any]:
    """A section's schema with room to say what in the spine must change (strict: required, may be empty)."""
    changes = {"type": "array", "items": {"type": "string"},
               "description": "What in the plan spine this section had to change (a file, a name, a step), one "
                              "line each; an empty list when the spine held"}
    properties = {**schema.get("properties", {}), SPINE_CHANGES: changes}
    return {**schema, "properties": properties, "required": [unit, SPINE_CHANGES]}


def spine_changes(data: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """A section answer without its spine changes, and the changes (answers without the key have none)."""
    rest = {key: value for key, value in data.items() if key != SPINE_CHANGES}
    changes = data.get(SPINE_CHANGES)
    listed = [str(item).strip() for item in changes if str(item).strip()] if isinstance(changes, list) else []
    return rest, listed

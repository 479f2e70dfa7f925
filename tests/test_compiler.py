"""The compiler reads each reference template unchanged into sections, fields, enums, repeats and options."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from template_support import BUILTINS, SEEDS, filled, seed_text, template

from agent.draft.prompts import unit_label
from agent.errors import TemplateError
from agent.template.catalog import builtin_templates
from agent.template.compile import compile_template
from agent.template.model import LiteralText, Repeat, Section
from agent.template.placeholders import find_placeholders
from agent.template.render import render_plan
from agent.template.schema import json_schema, plan_model


def schema_of(name: str) -> dict[str, Any]:
    return json_schema(plan_model(template(name)))


def at(schema: dict[str, Any], path: str) -> dict[str, Any]:
    """The sub-schema at `a.b[].c`: properties by name, `[]` for array items, nullable branches unwrapped."""
    node = schema
    for part in re.findall(r"[^.\[\]]+|\[\]", path):
        node = _non_null(node)
        node = node["items"] if part == "[]" else node["properties"][part]
    return node


def _non_null(node: dict[str, Any]) -> dict[str, Any]:
    if "anyOf" in node:
        return next(branch for branch in node["anyOf"] if branch.get("type") != "null")
    return node


def nullable(node: dict[str, Any]) -> bool:
    return any(branch.get("type") == "null" for branch in node.get("anyOf", []))


def level_two_headings(text: str) -> list[str]:
    """The `## ` headings of a template file, read independently of the compiler."""
    return [line[3:].strip() for line in text.splitlines() if line.startswith("## ")]


@pytest.mark.parametrize("name", SEEDS)
def test_each_reference_template_compiles_into_its_sections_in_order(name: str) -> None:
    compiled = template(name)

    labels = [unit.label if isinstance(unit, Section) else unit.prototype.label for unit in compiled.units]
    assert labels == level_two_headings(seed_text(name))


@pytest.mark.parametrize("name", BUILTINS)
def test_each_builtin_template_compiles_into_its_sections(name: str) -> None:
    compiled = template(name)

    labels = [unit.label if isinstance(unit, Section) else unit.prototype.label for unit in compiled.units]
    assert labels == level_two_headings(builtin_templates()[name].read_text(encoding="utf-8"))


def test_front_matter_choices_become_enums_in_seed_002() -> None:
    schema = schema_of("002")

    assert at(schema, "header.status")["enum"] == ["draft", "approved", "in_progress", "complete"]
    assert at(schema, "header.estimated_effort")["enum"] == ["XS", "S", "M", "L", "XL"]
    assert at(schema, "header.confidence")["enum"] == ["High", "Medium", "Low"]
    assert at(schema, "header.tags")["type"] == "array"


def test_status_line_choices_become_an_enum_in_seed_003() -> None:
    assert at(schema_of("003"), "header.status")["enum"] == ["Planning", "In Progress", "Completed"]


def test_table_choice_cells_become_enums_in_seed_003() -> None:
    row = at(schema_of("003"), "risk_assessment.technical_risks[]")

    assert row["properties"]["impact"]["enum"] == ["High", "Med", "Low"]
    assert row["properties"]["likelihood"]["enum"] == ["High", "Med", "Low"]
    assert row["properties"]["risk"]["type"] == "string"


def test_fixed_table_column_is_not_asked_for_in_seed_003() -> None:
    row = at(schema_of("003"), "timeline_estimates[]")

    assert "actual_time" not in row["properties"]
    assert set(row["properties"]) == {"phase", "estimated_time"}


def test_estimated_complexity_becomes_an_enum_in_seed_001() -> None:
    task = at(schema_of("001"), "tasks.phases[].tasks[]")

    assert task["properties"]["estimated_complexity"]["enum"] == ["Low", "Medium", "High"]


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("000", "file_changes.files_to_delete"),  # "### Files to delete (if any)"
        ("000", "api_changes.new_endpoints"),  # "### New endpoints (if applicable)"
        ("000", "rollback_strategy.database_rollback"),  # "### Database rollback (if applicable)"
        ("002", "library_research_needed"),  # "[Only if specific library investigation ...]"
        ("002", "data_migration"),  # "[Only if changing existing data structures]"
        ("002", "performance_considerations"),  # "[Only if performance is a concern]"
    ],
)
def test_conditional_sections_are_optional(name: str, path: str) -> None:
    assert nullable(at(schema_of(name), path))


@pytest.mark.parametrize(
    ("name", "path"),
    [("000", "file_changes.files_to_create"), ("002", "risk_assessment"), ("002", "implementation_phases")],
)
def test_unconditional_sections_are_not_optional(name: str, path: str) -> None:
    assert not nullable(at(schema_of(name), path))


@pytest.mark.parametrize(
    ("name", "path", "fields"),
    [
        ("001", "implementation_phases.phases", {"title", "goal", "deliverables"}),
        ("001", "tasks.phases[].tasks", {"title", "requirements", "acceptance_criteria", "estimated_complexity"}),
        ("002", "key_test_scenarios.scenarios", {"title", "given", "when", "then", "validates"}),
        ("003", "implementation_phases.phases", {"title", "estimated_effort", "dependencies", "tasks"}),
        ("004", "implementation_steps.phases[].steps", {"title", "description", "dependencies", "validation"}),
    ],
)
def test_repeated_blocks_become_arrays_of_one_shape(name: str, path: str, fields: set[str]) -> None:
    array = at(schema_of(name), path)

    assert array["type"] == "array"
    assert fields <= set(array["items"]["properties"])


def test_numbered_repeats_carry_their_numbering() -> None:
    tasks = next(unit for unit in template("001").units if isinstance(unit, Section) and unit.name == "tasks")
    phases = next(child for child in tasks.children if isinstance(child, Repeat))
    task = next(child for child in phases.prototype.children if isinstance(child, Repeat))

    assert task.prefix == "task-"
    assert task.numbering.width == 3
    assert task.numbering.continues  # task-003 sits under Phase 2 in the template


def test_variable_used_twice_is_one_shared_field_in_seed_000() -> None:
    text = seed_text("000")
    assert text.count("{{TASK_NAME}}") == 3  # title and both "Related Files" paths

    names = property_names(schema_of("000"))

    assert names.count("task_name") == 1
    assert at(schema_of("000"), "header.task_name")["type"] == "string"


def property_names(schema: Any) -> list[str]:
    """Every property name anywhere in a schema."""
    if isinstance(schema, list):
        return [name for item in schema for name in property_names(item)]
    if not isinstance(schema, dict):
        return []
    names = list(schema.get("properties", {}))
    return names + [name for value in schema.values() for name in property_names(value)]


def test_guidance_from_the_template_reaches_the_field_description() -> None:
    problem = at(schema_of("001"), "product_overview.problem_statement")

    assert "user problem or business need" in problem["description"]


def test_code_fence_keeps_its_language_in_seed_000() -> None:
    install = at(schema_of("000"), "dependencies.installation_commands")

    assert "```bash" in install["description"]


def test_template_without_placeholders_in_headings_compiles() -> None:
    text = "# Plan\n\n## Goal\n\n{The goal}\n\n## Steps\n\n- {Step one}\n- {Step two}\n"
    compiled = compile_template(text, "mini.md")

    schema = json_schema(plan_model(compiled))
    assert schema["properties"]["goal"]["type"] == "string"
    assert schema["properties"]["steps"]["type"] == "array"


def test_prose_alone_under_a_heading_is_guidance_for_a_field() -> None:
    text = "# Plan\n\n## Context\n\nThe issue motivating this decision.\n\n## Goal\n\n{The goal}\n"
    compiled = compile_template(text, "mini.md")

    context = json_schema(plan_model(compiled))["properties"]["context"]
    assert "The issue motivating this decision." in context["description"]
    assert "The issue motivating this decision." not in render_plan(compiled, filled(compiled))


def test_annotated_or_fixed_looking_text_is_kept() -> None:
    text = ("# Plan\n\n## Purpose\n\n<!-- plan: keep -->\nThis section is the same in every plan.\n\n"
            "## Gates\n\n- [ ] CI is green\n- [ ] Docs updated\n\n## Links\n\nSee [the handbook](https://x.org).\n\n"
            "## Goal\n\n<!-- plan: fill -->\n- Step one\n")
    compiled = compile_template(text, "mini.md")

    properties = json_schema(plan_model(compiled))["properties"]
    assert set(properties) == {"goal"}
    plan = render_plan(compiled, filled(compiled))
    assert "This section is the same in every plan." in plan
    assert "- [ ] CI is green" in plan and "See [the handbook](https://x.org)." in plan
    assert "- Step one" not in plan and "plan: keep" not in plan


def test_template_errors_name_the_file_and_line() -> None:
    with pytest.raises(TemplateError) as caught:
        compile_template("---\nstatus: [draft\n---\n# Plan\n\n## Goal\n\n{The goal}\n", "broken.md")

    assert str(caught.value).startswith("broken.md:2: front matter is not valid YAML")
    assert caught.value.line == 2


def test_schema_field_descriptions_carry_no_template_markers() -> None:
    """Guidance reaches the model as words, with `{{X}}`/`{X}` markers turned into plain text where whole."""
    header = at(schema_of("000"), "header")

    for spec in header["properties"].values():
        assert not find_placeholders(spec["description"])


def test_blank_table_row_is_a_row_to_fill() -> None:
    text = "# Plan\n\n## People\n\n| Name | Role |\n|------|------|\n|      |      |\n"
    row = at(json_schema(plan_model(compile_template(text, "mini.md"))), "people[]")

    assert set(row["properties"]) == {"name", "role"}


def test_numbered_headings_over_fixed_text_stay_as_written() -> None:
    text = ("# Plan\n\n## Goal\n\n{The goal}\n\n## Timeline\n\n### Week 1\n\n<!-- plan: keep -->\nKickoff.\n\n"
            "### Week 2\n\n<!-- plan: keep -->\nReview.\n")
    compiled = compile_template(text, "mini.md")

    assert "timeline" not in json_schema(plan_model(compiled))["properties"]
    markdown = render_plan(compiled, {"goal": "Ship the export limits."})
    assert "### Week 1\n\nKickoff.\n\n### Week 2\n\nReview.\n" in markdown


def test_every_choice_spelling_is_an_enum() -> None:
    text = ("# Plan\n\n**Status:** <Draft | In review | Accepted>\n**Size:** {{S|M|L}}\n**Risk:** High/Med/Low\n"
            "**Stage:** [draft | approved]\n**Kind:** {Feature | Bug}\n**State:** (Proposed / Accepted / Rejected)\n\n"
            "## Goal\n\n{The goal}\n")
    header = json_schema(plan_model(compile_template(text, "mini.md")))["properties"]["header"]["properties"]

    assert {name: spec["enum"] for name, spec in header.items()} == {
        "status": ["Draft", "In review", "Accepted"], "size": ["S", "M", "L"], "risk": ["High", "Med", "Low"],
        "stage": ["draft", "approved"], "kind": ["Feature", "Bug"], "state": ["Proposed", "Accepted", "Rejected"]}


def test_headings_with_the_same_name_are_told_apart_not_refused() -> None:
    text = ("# Plan\n\n## Feature\n\n{First}\n\n## Feature\n\n{Second}\n\n## Will enabling this feature result in "
            "any new API calls?\n\n{A}\n\n## Will enabling this feature result in any new storage?\n\n{B}\n")
    compiled = compile_template(text, "mini.md")

    assert len(set(compiled.unit_names)) == len(compiled.unit_names) == 4
    plan = render_plan(compiled, filled(compiled))
    assert plan.count("## Feature\n") == 2 and "any new storage?" in plan


def test_a_marker_for_the_author_never_reaches_the_plan() -> None:
    compiled = compile_template("# Plan\n\n## Work\n\n{What}\n\n**Files**: (optional)\n- {File}\n", "mini.md")

    plan = render_plan(compiled, filled(compiled))

    assert "**Files**:" in plan and "(optional)" not in plan


def test_instructions_reach_the_prompt_not_the_plan() -> None:
    text = ("# Plan\n\n## Tasks\n\n### Task 1: [Name]\n\n{What to do}\n\n{Repeat structure for each task...}\n\n"
            "## Notes\n\n<instruction>\nWrite for a reviewer.\n\nKeep it short.\n</instruction>\n\n"
            "Delete this section before publishing.\n\n{Notes}\n")
    compiled = compile_template(text, "mini.md")

    plan = render_plan(compiled, filled(compiled))
    notes = json_schema(plan_model(compiled))["properties"]["notes"]

    for instruction in ("Repeat structure", "instruction>", "Write for a reviewer", "Delete this section"):
        assert instruction not in plan
    assert "Write for a reviewer" in notes["description"] and "Keep it short" in notes["description"]


def test_commonmark_forms_are_read_as_commonmark() -> None:
    """Setext headings, `* * *` rules, `~~~` and long fences, a BOM and CRLF line endings."""
    from oracle import problems

    text = ("\ufeffPlan\r\n====\r\n\r\nGoal\r\n----\r\n\r\n{The goal}\r\n\r\n* * *\r\n\r\n## Commands [optional]\r\n\r\n"
            "~~~~bash\r\n{{COMMAND}}\r\n## not a heading\r\n~~~~\r\n")
    compiled = compile_template(text, "mini.md")

    plan = render_plan(compiled, filled(compiled))

    assert compiled.unit_names == ["goal", "commands"] and compiled.unit("commands").optional
    assert plan.startswith("# Plan\n\n## Goal\n") and "\n\n* * *\n\n## Commands\n\n```bash\n" in plan
    assert problems(text, plan) == []


def test_a_leaf_of_example_items_becomes_a_list_of_the_plans_own() -> None:
    text = ("# Tasks\n\n## Work\n\n- [ ] 1. Create the model in src/model.ts\n  - File: src/model.ts\n\n"
            "- [ ] 2. Add the API in src/api.ts\n  - File: src/api.ts\n")
    compiled = compile_template(text, "mini.md")

    work = json_schema(plan_model(compiled))["properties"]["work"]
    plan = render_plan(compiled, filled(compiled))

    assert work["type"] == "array" and "Create the model" in work["description"] and "File: src/model.ts" in \
        work["description"]
    assert "- [ ] Handle" in plan and "Create the model" not in plan and "\n\n\n" not in plan


PHASES = """# Plan: {{FEATURE}}

## Phases

### Phase 0: [Foundation name]
**Goal**: [What this phase establishes]

**Tasks**:
- [ ] [Task name]

**Exit Criteria**: [Observable outcome]

---

### Phase 1: [Layer name]
**Goal**:

**Tasks**:
- [ ] [Task name]

**Exit Criteria**:

---

[Continue with more phases...]
"""


def test_repeated_block_keeps_one_line_per_key_and_the_templates_first_number() -> None:
    compiled = compile_template(PHASES, "phases.md")
    phases = {"title": "Stream rows", "goal": "Rows stream.", "tasks": ["Write the exporter"], "exit_criteria": "Done."}

    plan = render_plan(compiled, {"header": {"feature": "Export"}, "phases": {"phases": [phases, {**phases, "title": "Ship"}]}})

    assert "### Phase 0: Stream rows" in plan and "### Phase 1: Ship" in plan
    assert plan.count("**Goal**:") == 2 and "**Goal**: Rows stream." in plan
    assert not re.search(r"\*\*(?:Goal|Exit Criteria)\*\*:\s*\n", plan)
    assert "Continue" not in plan and "---\n\n---" not in plan


def test_a_key_over_nothing_asks_for_its_value() -> None:
    compiled = compile_template("# Plan\n\n## Summary\n\n**Owner**:\n**Due**:\n\n---\n\n- **Exports**:\n- **Files**:\n",
                                "bare.md")
    summary = compiled.unit("summary")
    answer = {"owner": "Ana", "due": "May", "exports": "find_plans()", "files": "agent/check/validate.py"}

    plan = render_plan(compiled, {"summary": answer})

    assert isinstance(summary, Section)
    assert "**Owner**: Ana  \n**Due**: May" in plan
    assert "- **Exports**: find_plans()\n- **Files**: agent/check/validate.py" in plan


TAGGED = """<about-this-method>
# Release Notes Method - Template

This template teaches you how to write release notes.

## How to use it

- Read each `<instruction>` block first.
</about-this-method>

<summary-part>
<instruction>
Say what changed for users.
<example type="bad">
Fixed stuff.
</example>
</instruction>

## Summary
[One paragraph for users]
</summary-part>
"""


def test_tagged_text_about_the_template_is_guidance_and_an_instruction_guides_the_next_heading() -> None:
    compiled = compile_template(TAGGED, "tagged.md")

    plan = render_plan(compiled, {"header": {"title": "Faster exports"}, "summary": "Exports stream now."})

    assert plan == "# Faster exports\n\n## Summary\n\nExports stream now.\n"
    summary = compiled.unit("summary")
    assert isinstance(summary, Section)
    assert summary.description == "Say what changed for users. Example (bad): Fixed stuff."


def test_words_to_the_author_are_guidance_and_a_fenced_template_is_read_inside_its_fence() -> None:
    body = ("# Change: {Title}\n\n## Rollout\n\n**Note:** Drop this section until the change is scheduled.\n\n"
            "Place your runbooks under `ops/` before you start.\n\n**Owner**: [Name]\n\n- {Step}\n\n"
            "**Quote:**\n> \"{What a user said}\"\n")
    page = f"# Change Request Template\n\n```markdown\n{body}```\n"

    compiled = compile_template(page, "page.md")
    plan = render_plan(compiled, {"header": {"title": "Faster exports"}, "rollout": {
        "owner": "Ana", "items": ["Ship"], "quote": "Exports are fast now."}})

    assert plan.startswith("# Change: Faster exports\n")
    assert "Note" not in plan and "runbooks" not in plan and "```" not in plan
    assert "**Owner**: Ana" in plan and "**Quote:**\n\nExports are fast now." in plan
    assert "Place your runbooks" in compiled.unit("rollout").description  # type: ignore[union-attr]


def test_issue_form_front_matter_is_kept_and_a_choice_with_escaped_pipes_in_a_cell_is_an_enum() -> None:
    text = ("---\nname: Plan\nabout: Plan a change\nlabels: [planning]\n---\n\n# Plan: {Title}\n\n"
            "| Field | Value |\n|---|---|\n| Status | <Draft \\| Approved> |\n\n## Goal\n\n{Goal}\n")

    compiled = compile_template(text, "form.md")

    assert [(key.key, key.field, key.literal) for key in compiled.front_matter] == [
        ("name", None, "Plan"), ("about", None, "Plan a change"), ("labels", None, ["planning"])]
    status = next(spec for spec in json_schema(plan_model(compiled))["properties"]["header"]["properties"].values()
                  if "enum" in spec)
    assert status["enum"] == ["Draft", "Approved"]


def test_a_label_that_asks_for_what_follows_is_guidance_not_plan_text() -> None:
    compiled = compile_template("# Plan\n\n## Context\n\nDescribe:\n\n- [why this matters]\n- [the approach]\n", "t.md")

    plan = render_plan(compiled, {"context": ["Exports time out.", "Stream rows."]})

    assert plan == "# Plan\n\n## Context\n\n- Exports time out.\n- Stream rows.\n"
    assert "Describe:" in compiled.unit("context").children[0].field.description  # type: ignore[union-attr]


def test_the_model_is_told_where_the_numbering_starts() -> None:
    compiled = compile_template(PHASES, "phases.md")
    phases = compiled.unit("phases")

    assert isinstance(phases, Section) and isinstance(phases.children[0], Repeat)
    assert unit_label(phases.children[0]) == "Phase 0, Phase 1, ... (repeated)"
    assert "numbered from 0" in json.dumps(json_schema(plan_model(compiled)))


def test_a_key_over_bold_lead_ins_stays_their_label() -> None:
    compiled = compile_template("# Plan\n\n## Story\n\n**Acceptance:**\n**Given** [a state]\n**Then** [an outcome]\n",
                                "t.md")
    story = compiled.unit("story")

    assert isinstance(story, Section)
    assert isinstance(story.children[0], LiteralText)  # `**Acceptance:**` as written


def test_an_example_that_only_says_more_of_the_same_does_not_replace_the_one_that_guides() -> None:
    compiled = compile_template("# Plan\n\n## Tree\n\n### Capability: [Name]\n[What this capability covers]\n\n"
                                "### Capability: [Name]\n...\n", "t.md")
    tree = compiled.unit("tree")

    assert isinstance(tree, Section) and isinstance(tree.children[0], Repeat)
    fields = [node.field for node in tree.children[0].prototype.children if hasattr(node, "field")]
    assert [spec.description for spec in fields] == ["What this capability covers"]


def test_words_to_the_author_after_the_last_field_guide_the_section() -> None:
    compiled = compile_template("# Plan\n\n## Rollout\n\n{How we ship}\n\nIf you are unsure, ask in #releases.\n", "t.md")

    plan = render_plan(compiled, {"rollout": "Behind a flag."})

    assert "ask in #releases" not in plan
    assert "ask in #releases" in compiled.unit("rollout").description  # type: ignore[union-attr]


def test_html_wrappers_are_not_taken_for_words_about_the_template() -> None:
    text = "# Plan\n\n<section>\n\n## Gates\n\n- [ ] CI is green\n\n</section>\n\n## Goal\n\n{What we want}\n"

    plan = render_plan(compile_template(text, "t.md"), {"goal": "Ship it."})

    assert "## Gates\n\n- [ ] CI is green" in plan


def test_a_code_example_with_several_placeholders_is_asked_for_in_its_shape() -> None:
    compiled = compile_template("# Plan\n\n## Pyramid\n\n```\nE2E  [Z]%\nUnit [Y]%\n```\n", "t.md")
    pyramid = compiled.unit("pyramid")

    assert isinstance(pyramid, Section)
    assert "E2E  [Z]%\nUnit [Y]%" in pyramid.children[0].field.description  # type: ignore[union-attr]

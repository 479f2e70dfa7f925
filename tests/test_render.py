"""A filled plan is written back in its template's own shape: headings, numbering, tables, lists, fences."""

from __future__ import annotations

import re

import pytest
import yaml
from template_support import (
    ALL_TEMPLATES,
    SEEDS,
    filled,
    headings,
    rendered,
    section_lines,
    seed_text,
    template,
)

from agent.check.validate import validate_plan
from agent.template.compile import compile_template
from agent.template.parse import split_row
from agent.template.placeholders import find_placeholders
from agent.template.render import render_plan


def body_of(markdown: str) -> str:
    """The plan without its front matter."""
    if markdown.startswith("---\n"):
        return markdown.split("\n---\n", 1)[1]
    return markdown


def block_after(markdown: str, line: str, after: str = "") -> list[str]:
    """The run of lines that follows the line equal to `line` (blank lines before it skipped)."""
    lines = markdown.splitlines()
    start = next(i for i, text in enumerate(lines) if after in text) if after else 0
    index = lines.index(line, start) + 1
    while not lines[index].strip():
        index += 1
    end = next((i for i in range(index, len(lines)) if not lines[i].strip()), len(lines))
    return lines[index:end]


def front_matter_of(markdown: str) -> dict[str, object]:
    assert markdown.startswith("---\n")
    return yaml.safe_load(markdown[4:].split("\n---\n", 1)[0])  # type: ignore[no-any-return]


@pytest.mark.parametrize("name", SEEDS)
def test_fixed_headings_appear_in_the_template_order(name: str) -> None:
    plan_headings = headings(rendered(name))
    unmarked = [re.sub(r"\s*\((?:if applicable|optional|if any|if needed)\)", "", h) for h in headings(seed_text(name))]
    fixed = [h for h in unmarked if not find_placeholders(h) and not re.search(r"\w[ -]\d", h)
             and not re.match(r"# .*\btemplate\b", h, re.I)]  # the template's own name: the plan has its title

    assert [h for h in plan_headings if h in fixed] == fixed


def test_a_title_that_names_the_template_becomes_the_plans_title() -> None:
    compiled = compile_template("# Design Doc Template\n\n## Goal\n\n{What we want}\n", "t.md")

    plan = render_plan(compiled, {"header": {"title": "Export invoices"}, "goal": "Ship it."})

    assert plan.startswith("# Export invoices\n")
    assert "Template" not in plan


@pytest.mark.parametrize("name", ALL_TEMPLATES)
def test_no_placeholder_is_left_anywhere(name: str) -> None:
    markdown = rendered(name)

    assert find_placeholders(body_of(markdown)) == []
    if markdown.startswith("---\n"):
        values = front_matter_of(markdown).values()
        scalars = [str(item) for value in values for item in (value if isinstance(value, list) else [value])]
        assert [found.raw for text in scalars for found in find_placeholders(text)] == []


def test_task_numbers_continue_across_phases_in_seed_001() -> None:
    markdown = rendered("001")
    tasks_section = markdown.split("\n## Tasks\n", 1)[1].split("\n## ", 1)[0]
    task_headings = [h for h in headings(tasks_section) if h.startswith("#### ")]

    numbers = [re.match(r"#### (task-\d+):", h).group(1) for h in task_headings]  # type: ignore[union-attr]
    assert numbers == ["task-001", "task-002", "task-003", "task-004"]  # two phases of two tasks
    phase_two = tasks_section.split("\n### Phase 2:", 1)[1]
    assert headings(phase_two)[0].startswith("#### task-003:")


def test_steps_are_numbered_within_their_phase_in_seed_004() -> None:
    steps = [re.match(r"#### (Step [\d.]+):", h) for h in headings(rendered("004"))]

    assert [m.group(1) for m in steps if m] == ["Step 1.1", "Step 1.2", "Step 2.1", "Step 2.2"]


def test_repeated_headings_keep_their_prefix_and_title() -> None:
    phases = [h for h in headings(rendered("003")) if h.startswith("### Phase")]
    data = filled(template("003"))["implementation_phases"]["phases"]

    assert phases == [f"### Phase {i}: {item['title']}" for i, item in enumerate(data, start=1)]


def test_front_matter_keeps_the_template_keys_in_order_in_seed_002() -> None:
    template_keys = list(yaml.safe_load(seed_text("002").split("---\n")[1]))

    assert list(front_matter_of(rendered("002"))) == template_keys


def test_front_matter_enum_and_list_values_are_written_as_yaml() -> None:
    data = filled(template("002"))
    data["header"]["status"] = "approved"
    data["header"]["tags"] = ["billing", "exports"]

    front = front_matter_of(render_plan(template("002"), data))

    assert front["status"] == "approved"
    assert front["tags"] == ["billing", "exports"]


def test_table_keeps_its_columns_and_the_fixed_column_in_seed_003() -> None:
    rows = [split_row(line) for line in section_lines(rendered("003"), "## Timeline Estimates")]

    assert rows[0] == ["Phase", "Estimated Time", "Actual Time"]
    assert all(len(row) == 3 for row in rows)
    assert [row[2] for row in rows[2:]] == ["-"] * len(rows[2:])
    risks = [split_row(line) for line in section_lines(rendered("003"), "### Technical Risks")]
    assert risks[0] == ["Risk", "Impact", "Likelihood", "Mitigation"]


def test_table_cells_cannot_break_the_row() -> None:
    data = filled(template("003"))
    data["risk_assessment"]["technical_risks"][0]["mitigation"] = "retry | then\nalert"

    lines = section_lines(render_plan(template("003"), data), "### Technical Risks")

    assert len(split_row(lines[2])) == 4
    assert "retry \\| then alert" in lines[2]


@pytest.mark.parametrize(
    ("name", "heading", "after"),
    [
        ("003", "### Success Criteria", ""),
        ("003", "### Manual Testing", ""),
        ("004", "### Unit Tests", ""),
        ("001", "**Acceptance Criteria:**", "#### task-001"),
        ("002", "**Success Criteria**:", "### Phase 2"),
    ],
)
def test_checklists_stay_checklists(name: str, heading: str, after: str) -> None:
    lines = block_after(rendered(name), heading, after)

    assert len(lines) >= 2
    assert all(line.startswith("- [ ] ") for line in lines)


def test_numbered_checklist_stays_numbered_in_seed_003() -> None:
    lines = block_after(rendered("003"), "**Tasks:**")

    assert [line[:7] for line in lines] == [f"{i}. [ ] " for i in range(1, len(lines) + 1)]


def test_model_written_list_syntax_is_not_doubled() -> None:
    data = filled(template("003"))
    data["testing_strategy"]["manual_testing"] = ["- [ ] log in as admin", "2. open the report"]

    lines = section_lines(render_plan(template("003"), data), "### Manual Testing")

    assert lines == ["- [ ] log in as admin", "- [ ] open the report"]


def test_items_that_number_themselves_keep_their_labels() -> None:
    step_lines = block_after(rendered("000"), "### Step-by-step checklist")
    phase_lines = block_after(rendered("004"), "### Phase Rollout")

    assert [line[: len("- [ ] **Step 1**: ")] for line in step_lines] == [
        f"- [ ] **Step {i}**: " for i in range(1, len(step_lines) + 1)]
    assert [line[: len("1. **Phase 1**: ")] for line in phase_lines] == [
        f"{i}. **Phase {i}**: " for i in range(1, len(phase_lines) + 1)]


def test_a_numbered_label_the_model_wrote_itself_is_not_doubled() -> None:
    data = filled(template("000"))
    data["implementation_steps"]["step_by_step_checklist"]["items"] = ["**Step 1**: add the flag", "write tests"]

    lines = section_lines(render_plan(template("000"), data), "### Step-by-step checklist")

    assert lines[:2] == ["- [ ] **Step 1**: add the flag", "- [ ] **Step 2**: write tests"]


def test_code_fence_keeps_its_language_in_seed_000() -> None:
    lines = block_after(rendered("000"), "### Installation commands")

    assert lines[0] == "```bash"
    assert lines[-1] == "```"
    assert len(lines) == 3


def test_code_value_with_its_own_fences_is_not_fenced_twice() -> None:
    data = filled(template("000"))
    data["dependencies"]["installation_commands"] = "```bash\npip install httpx\n```"

    lines = block_after(render_plan(template("000"), data), "### Installation commands")

    assert lines == ["```bash", "pip install httpx", "```"]


@pytest.mark.parametrize(
    ("name", "line"),
    [
        ("001", "- [ ] All tests passing"),
        ("001", "- [ ] Feature flags configured (if applicable)"),
        ("002", "- [ ] No linting errors"),
        ("004", "Detailed step-by-step implementation plan for features and project phases."),
    ],
)
def test_literal_template_lines_are_kept(name: str, line: str) -> None:
    assert line in rendered(name).splitlines()


def test_literal_footer_is_kept_last_in_seed_004() -> None:
    footer = seed_text("004").rstrip().splitlines()[-1]
    assert footer.startswith("**Usage**:")

    assert rendered("004").rstrip().splitlines()[-1] == footer


def test_shared_variable_is_written_everywhere_it_appears_in_seed_000() -> None:
    data = filled(template("000"))
    data["header"]["task_name"] = "export-rate-limits"

    markdown = render_plan(template("000"), data)

    assert markdown.startswith("# Technical Implementation Plan: export-rate-limits\n")
    assert "`implementation-plans/export-rate-limits/requirements.yaml`" in markdown
    assert "`implementation-plans/export-rate-limits/plan.md`" in markdown


def test_header_key_value_lines_stay_together_in_seed_003() -> None:
    lines = rendered("003").splitlines()
    created = next(i for i, line in enumerate(lines) if line.startswith("**Created:**"))

    assert lines[created + 1].startswith("**Last Updated:**")
    assert lines[created + 2].startswith("**Status:** ")


def test_optional_section_left_out_is_dropped_whole() -> None:
    data = filled(template("002"))
    data["data_migration"] = None

    markdown = render_plan(template("002"), data)

    assert "## Data Migration" not in markdown
    assert "## Performance Considerations" in markdown
    assert validate_plan(template("002"), markdown) == []


@pytest.mark.parametrize("name", ALL_TEMPLATES)
def test_rendering_is_deterministic(name: str) -> None:
    compiled = template(name)

    assert render_plan(compiled, filled(compiled)) == render_plan(compiled, filled(compiled))


def test_the_tool_writes_the_date_and_path_slugs_itself() -> None:
    """The model's answer for a date is replaced by the drafting date in the template's format, and a value
    that sits inside a path is written as a slug there (and as written everywhere else)."""
    from datetime import date

    from agent.template.compile import compile_template

    text = ("---\ndate: YYYY-MM-DD\n---\n# {{TASK_NAME}}\n\n**Created:** DD/MM/YYYY\n**Updated:** {{TIMESTAMP}}\n"
            "Plan file: `plans/{{TASK_NAME}}/plan.md`\n\nLast updated: [Date]\n\n## Goal\n\n{The goal}\n")
    compiled = compile_template(text, "mini.md")
    data = {"header": {"task_name": "Idempotent order creation: honour keys", "timestamp": "Unknown",
                       "created": "Unknown", "date": "Unknown", "date_2": "Unknown"}, "goal": "Ship it."}

    plan = render_plan(compiled, data, today=date(2026, 3, 4))

    assert plan.startswith("---\ndate: 2026-03-04\n---\n\n# Idempotent order creation: honour keys\n")
    assert "**Created:** 04/03/2026  \n**Updated:** 2026-03-04\n" in plan  # a hard break keeps the lines apart
    assert "`plans/idempotent-order-creation-honour-keys/plan.md`" in plan
    assert "Last updated: 2026-03-04" in plan


def test_a_rule_after_an_empty_optional_field_stays_a_rule() -> None:
    from agent.template.compile import compile_template

    compiled = compile_template("# Plan\n\n## Goal\n\n{The goal}\n\n<!-- Notes, if any -->\n- {Note}\n---\n\n"
                                "## Next\n\n{Next}\n", "mini.md")
    plan = render_plan(compiled, {"goal": {"text": "Ship it.", "items": []}, "next": "Later."})

    assert "Ship it.\n\n---\n\n## Next" in plan


def test_list_items_keep_sub_items_the_template_shows() -> None:
    compiled = compile_template("# Plan\n\n## Steps\n\n- [ ] [Step]\n  - [Sub-task]\n  - [Sub-task]\n- [ ] [Step]\n", "t.md")
    steps = compiled.unit("steps")
    assert "sub-items" in steps.children[0].field.description  # type: ignore[union-attr]

    plan = render_plan(compiled, {"steps": ["Add find_plans\n- Walk directories\n- Sort paths", "Document it"]})

    assert "## Steps\n\n- [ ] Add find_plans\n  - Walk directories\n  - Sort paths\n- [ ] Document it\n" in plan
    assert validate_plan(compiled, plan) == []

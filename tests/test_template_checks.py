"""What `plan validate` says about defects a model made on a template nobody tuned to (an agent playing the
model on the Task Master PRD template): each is caught, and the plan written right draws nothing."""

from __future__ import annotations

from agent.check.validate import validate_plan
from agent.template.compile import compile_template
from agent.template.render import render_plan

TEMPLATE = """# Feature PRD Template

## Phases

### Phase 0: [Foundation name]
**Goal**: [What it establishes]

**Exit Criteria**: [Observable outcome]

### Phase 1: [Layer name]
**Goal**:

**Exit Criteria**:
"""
GOOD = """# Validate many plans

## Phases

### Phase 0: Collect plans

**Goal**: Arguments become a plan list.

**Exit Criteria**: `find_plans` tests pass.

### Phase 1: Report

**Goal**: One summary line per plan.

**Exit Criteria**: Exit 3 when any plan has errors.
"""


def findings(plan: str) -> list[tuple[str, str, int]]:
    compiled = compile_template(TEMPLATE, "prd.md")
    return [(finding.severity, finding.code, finding.line) for finding in validate_plan(compiled, plan)]


def test_the_plan_written_right_draws_nothing() -> None:
    assert findings(GOOD) == []


def test_a_key_left_without_its_value_is_an_error() -> None:
    plan = GOOD.replace("**Goal**: One summary line per plan.", "**Goal**:")

    assert findings(plan) == [("error", "empty", GOOD.splitlines().index("**Goal**: One summary line per plan.") + 1)]


def test_the_templates_own_name_kept_as_the_title_is_an_error() -> None:
    plan = GOOD.replace("# Validate many plans", "# Feature PRD Template")

    assert findings(plan) == [("error", "guidance", 1)]


def test_a_second_top_heading_after_the_title_is_an_extra_heading_not_a_refusal() -> None:
    plan = GOOD + "\n# How the tool uses this\n\nIt reads the phases.\n"

    assert findings(plan) == [("warning", "extra-heading", len(GOOD.splitlines()) + 2)]


def test_a_title_over_many_sections_then_another_top_part_is_drafted_section_by_section() -> None:
    template = ("# Release PRD Template\n\n## Problem\n\n{Who hurts}\n\n## Users\n\n{Who uses it}\n\n"
                "# Appendix\n\n## Glossary\n\n{Terms}\n")
    compiled = compile_template(template, "prd.md")
    plan = ("# Faster exports\n\n## Problem\n\nExports time out.\n\n## Users\n\nFinance.\n\n"
            "# Appendix\n\n## Glossary\n\nCSV: comma-separated values.\n")

    assert compiled.unit_names == ["problem", "users", "appendix"]
    assert render_plan(compiled, {"header": {"title": "Faster exports"}, "problem": "Exports time out.",
                                  "users": "Finance.", "appendix": {"glossary": "CSV: comma-separated values."}}) == plan
    assert validate_plan(compiled, plan) == []

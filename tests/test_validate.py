"""The validator passes complete plans and names the line of each kind of flaw, however the plan was written.

Flawed plans are a rendered, complete plan with one edit (a line replaced, a section emptied or dropped),
so each test shows its flaw.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from template_support import (
    ALL_TEMPLATES,
    drop_section,
    empty_section,
    line_of,
    rendered,
    replace_line_under,
    section_lines,
    template,
)

from agent.check.validate import Finding, has_errors, validate_plan
from agent.errors import PlanFileError
from agent.template.compile import compile_template


def errors(findings: list[Finding]) -> list[Finding]:
    return [finding for finding in findings if finding.severity == "error"]


def only_error(findings: list[Finding]) -> tuple[str, int]:
    """The one error in `findings` as (code, line): the flaw is found, and nothing else is blamed."""
    found = {(finding.code, finding.line) for finding in errors(findings)}
    assert len(found) == 1, "\n".join(finding.format("plan.md") for finding in findings)
    return found.pop()


@pytest.mark.parametrize("name", ALL_TEMPLATES)
def test_complete_plan_has_no_errors(name: str) -> None:
    findings = validate_plan(template(name), rendered(name), "plan.md")

    assert not has_errors(findings), "\n".join(finding.format("plan.md") for finding in findings)


@dataclass(frozen=True)
class Flaw:
    """Replace the first line under `heading` that starts with `prefix` (in the whole plan when no heading)."""

    name: str
    heading: str | None
    prefix: str
    new: str
    code: str
    after: str = ""
    index: int = 0

    def apply(self, plan: str) -> str:
        flawed = replace_line_under(plan, self.heading, self.prefix, self.new, self.index, self.after)
        assert flawed.count(self.new) == 1, f"{self.new!r} is not unique in the plan"
        return flawed


PLACEHOLDERS = [
    Flaw("000", "### What are we building?", "", "{{PROBLEM_DESCRIPTION}}", "placeholder"),
    Flaw("000", "### Installation commands", "", "{{INSTALL_COMMANDS}}", "placeholder", index=1),  # in the ```bash
    Flaw("001", "### Problem Statement", "",
         "{Describe the user problem or business need being addressed. Be specific about pain points and impact.}",
         "placeholder"),
    Flaw("001", "### New Technologies", "| ", "| {Tech 1} | {Why} | {Why this over alternatives} |", "placeholder",
         index=2),
    Flaw("002", None, "**Purpose**:", "**Purpose**: [What this phase accomplishes and why it comes first]",
         "placeholder"),
    Flaw("002", None, "feature:", "feature: [feature-name]", "placeholder"),
    Flaw("004", "### Architecture Changes", "- ", "- [Specific architectural changes needed]", "placeholder"),
    Flaw("004", None, "- **Description**:", "- **Description**: [What needs to be done]", "placeholder"),
    Flaw("default", "### Problem", "", "<describe the problem in one paragraph>", "placeholder"),
    Flaw("003", None, "**Created:**", "**Created:** YYYY-MM-DD", "placeholder"),
    Flaw("004", None, "Last Updated:", "Last Updated: {{CURRENT_DATE}}", "placeholder"),
    Flaw("compact", "## Goal", "", "TODO: write the goal once the spike is done", "placeholder"),
]
GUIDANCE = [
    Flaw("003", "### Unit Tests", "- ", "- Test scenario 1", "guidance"),
    Flaw("003", "## Executive Summary", "", "Brief overview of what this task accomplishes and why it's important.",
         "guidance"),
    Flaw("003", "### Technical Risks", "| ", "| Risk 1 | High | Low | Strategy |", "guidance", index=2),
    Flaw("003", "## Timeline Estimates", "| ", "| Phase 1 | X hours | - |", "guidance", index=2),
    Flaw("004", "## TLDR", "", "One-sentence summary of what this implementation plan covers", "guidance"),
]
ENUMS = [
    Flaw("002", None, "status:", "status: shipped", "enum"),
    Flaw("002", None, "estimated_effort:", "estimated_effort: [XS/S/M/L/XL]", "enum"),  # choices left as written
    Flaw("001", None, "**Estimated Complexity:**", "**Estimated Complexity:** Huge", "enum"),
    Flaw("003", "### Technical Risks", "| ", "| Outage | Extreme | Low | Fail over |", "enum", index=2),
    Flaw("003", None, "**Status:**", "**Status:** Planning / In Progress / Completed", "enum"),
    Flaw("compact", None, "**Size:**", "**Size:** XXL", "enum"),
]
TABLE_SHAPE = [
    Flaw("003", "### Technical Risks", "| ", "| Outage | High | Low |", "table-columns", index=2),
    Flaw("default", "### Alternatives considered", "| ", "| Queue | Too slow | Costly |", "table-columns", index=2),
    Flaw("003", "### Business Risks", "| ", "| Risk | Severity | Likelihood | Mitigation |", "table-columns"),
]


@pytest.mark.parametrize("flaw", PLACEHOLDERS + GUIDANCE + ENUMS + TABLE_SHAPE, ids=repr)
def test_flaw_is_an_error_on_its_line(flaw: Flaw) -> None:
    plan = flaw.apply(rendered(flaw.name))

    findings = validate_plan(template(flaw.name), plan, "plan.md")

    assert only_error(findings) == (flaw.code, line_of(plan, flaw.new))


def test_finding_message_names_the_placeholder_and_what_to_do() -> None:
    plan = PLACEHOLDERS[0].apply(rendered("000"))

    finding = errors(validate_plan(template("000"), plan, "plan.md"))[0]

    assert "{{PROBLEM_DESCRIPTION}}" in finding.message
    assert "replace" in finding.message
    assert finding.section == "1. Problem Statement / Overview > What are we building?"


def test_enum_message_lists_the_allowed_values() -> None:
    plan = ENUMS[0].apply(rendered("002"))

    finding = errors(validate_plan(template("002"), plan, "plan.md"))[0]

    assert "'shipped'" in finding.message
    assert "draft, approved, in_progress, complete" in finding.message


@pytest.mark.parametrize("value", ["In Progress", "completed", "**Planning**", "Completed — shipped on the 3rd"])
def test_enum_accepts_an_allowed_value_in_any_case_or_with_a_note(value: str) -> None:
    plan = Flaw("003", None, "**Status:**", f"**Status:** {value}", "enum").apply(rendered("003"))

    assert not has_errors(validate_plan(template("003"), plan, "plan.md"))


@pytest.mark.parametrize(
    ("name", "heading"),
    [("003", "## Executive Summary"), ("compact", "## Tests"), ("000", "### Success criteria"),
     ("001", "### Problem Statement")],
)
def test_empty_required_section_is_an_error_on_its_heading(name: str, heading: str) -> None:
    emptied = empty_section(rendered(name), heading)

    findings = validate_plan(template(name), emptied, "plan.md")

    assert only_error(findings) == ("empty", line_of(emptied, heading))


def test_section_holding_only_the_template_fixed_lines_is_empty() -> None:
    text = "# Plan\n\n## Checks\n\n- [ ] All tests pass\n- [ ] {Specific check}\n\n## Notes\n\n{Anything else}\n"
    compiled = compile_template(text, "mini.md")
    plan = "# Plan\n\n## Checks\n\n- [ ] All tests pass\n\n## Notes\n\nNothing else.\n"

    assert only_error(validate_plan(compiled, plan, "plan.md")) == ("empty", 3)


def test_optional_section_marked_not_applicable_is_fine() -> None:
    plan = rendered("002")
    body = "\n\n".join(section_lines(plan, "## Data Migration")[:-1])  # keep the `---` rule
    plan = plan.replace(body, "_Not applicable._")

    assert not has_errors(validate_plan(template("002"), plan, "plan.md"))


def test_optional_section_left_out_entirely_is_fine() -> None:
    plan = drop_section(rendered("000"), "### Files to delete")
    assert "Files to delete" not in plan

    assert not has_errors(validate_plan(template("000"), plan, "plan.md"))


@pytest.mark.parametrize(
    ("name", "heading", "next_heading"),
    [("default", "## Summary", "## Context"), ("compact", "## Plan", "## Files"),
     ("003", "### What Exists", "### Problems/Gaps"), ("001", "### Solution Overview", "### Success Criteria")],
)
def test_missing_heading_is_an_error_where_it_belongs(name: str, heading: str, next_heading: str) -> None:
    without = drop_section(rendered(name), heading)
    assert heading not in without

    findings = validate_plan(template(name), without, "plan.md")

    assert only_error(findings) == ("missing-heading", line_of(without, next_heading))
    assert heading.lstrip("# ") in errors(findings)[0].message


def test_missing_last_heading_is_reported_on_the_heading_before_it() -> None:
    plan = rendered("compact")
    cut = plan[: plan.index("## Risks")]

    findings = validate_plan(template("compact"), cut, "plan.md")

    assert only_error(findings) == ("missing-heading", line_of(cut, "## Tests"))


def test_missing_last_sub_heading_is_reported_on_the_sub_heading_before_it() -> None:
    plan = drop_section(rendered("003"), "### Problems/Gaps")

    findings = validate_plan(template("003"), plan, "plan.md")

    assert only_error(findings) == ("missing-heading", line_of(plan, "### What Exists"))


def test_reordered_headings_are_an_error_on_the_moved_heading() -> None:
    plan = rendered("compact")
    goal, steps, files = plan.index("## Goal"), plan.index("## Plan"), plan.index("## Files")
    swapped = plan[:goal] + plan[steps:files] + plan[goal:steps] + plan[files:]

    findings = validate_plan(template("compact"), swapped, "plan.md")

    assert only_error(findings) == ("order", line_of(swapped, "## Goal"))


def test_extra_heading_is_a_warning_not_an_error() -> None:
    plan = rendered("compact").replace("## Risks", "## Notes\n\nSomething else.\n\n## Risks")

    findings = validate_plan(template("compact"), plan, "plan.md")

    assert not has_errors(findings)
    assert [(f.severity, f.code, f.line) for f in findings] == [("warning", "extra-heading", line_of(plan, "## Notes"))]


def test_repeated_block_heading_without_title_is_an_error() -> None:
    plan = rendered("004")
    step = next(line for line in plan.splitlines() if line.startswith("#### Step 1.2: "))
    plan = plan.replace(step, "#### Step 1.2:")

    assert only_error(validate_plan(template("004"), plan, "plan.md")) == ("empty", line_of(plan, "#### Step 1.2:"))


def test_front_matter_missing_is_an_error() -> None:
    plan = rendered("002")
    body = plan.split("\n---\n", 1)[1].lstrip("\n")

    assert only_error(validate_plan(template("002"), body, "plan.md")) == ("front-matter", 1)


def test_invalid_front_matter_yaml_is_an_error_and_later_lines_keep_their_numbers() -> None:
    plan = rendered("002").replace("confidence: ", "confidence: [unclosed ", 1)
    plan = PLACEHOLDERS[4].apply(plan)  # and a placeholder further down

    found = {(f.code, f.line) for f in errors(validate_plan(template("002"), plan, "plan.md"))}

    assert ("placeholder", line_of(plan, "**Purpose**: [What")) in found
    assert any(code == "front-matter" and 1 <= line <= 9 for code, line in found)


TRACKED = frozenset({"src/app.py", "src/billing/invoice.py", "docs/api.md", "README.md"})


@pytest.mark.parametrize(
    ("flaw", "code"),
    [
        (Flaw("compact", "### Files to modify", "- ", "- `src/missing.py` - add retries", ""), "path-missing"),
        (Flaw("compact", "### Files to create", "- ", "- `src/app.py` - the new entry point", ""), "path-exists"),
        (Flaw("default", "### Files to modify", "- ", "- `src/billing/refund.py` - new rule", ""), "path-missing"),
        (Flaw("003", "### Files to Modify", "- ", "- `lib/nope.ts` - What changes", ""), "path-missing"),
        (Flaw("003", "### New Files to Create", "- ", "- `README.md` - Purpose", ""), "path-exists"),
        (Flaw("000", "### Files to create", "", "- `src/billing/invoice.py`", ""), "path-exists"),
        (Flaw("002", "**Code Changes**:", "- ", "- Create: `docs/api.md`", ""), "path-exists"),
    ],
    ids=repr,
)
def test_file_paths_are_checked_against_the_repository(flaw: Flaw, code: str) -> None:
    plan = flaw.apply(rendered(flaw.name))

    findings = validate_plan(template(flaw.name), plan, "plan.md", tracked_paths=TRACKED)

    assert only_error(findings) == (code, line_of(plan, flaw.new))


def test_existing_file_to_modify_and_new_file_to_create_are_fine() -> None:
    plan = Flaw("compact", "### Files to modify", "- ", "- `src/app.py` - add retries", "").apply(rendered("compact"))
    plan = Flaw("compact", "### Files to create", "- ", "- `src/retry.py` - the policy", "").apply(plan)

    assert not has_errors(validate_plan(template("compact"), plan, "plan.md", tracked_paths=TRACKED))


def test_file_paths_are_not_checked_without_a_repository() -> None:
    plan = Flaw("compact", "### Files to modify", "- ", "- `src/missing.py` - add retries", "").apply(
        rendered("compact"))

    assert not has_errors(validate_plan(template("compact"), plan, "plan.md"))


HAND_WRITTEN_COMPACT = """\
# Rate-limit the export API — one-page plan

**Status:** ready
**Size:** M

## Goal

Stop one tenant's bulk exports from starving everyone else. We will know it worked when the p95
latency of `/export` stays under 800 ms while a 10k-row export runs.

## Plan

1. Add a token bucket per tenant in `app/limits.py`.
2. Call it from the export handler in `app/export.py` and answer 429 with `Retry-After`.
3. Document the new limit in `docs/api.md`.

## Files

### Files to modify

- `app/export.py` - check the bucket before starting an export
- `docs/api.md` - describe the 429 response

### Files to create

- `app/limits.py` - the token bucket and its settings
- `tests/test_limits.py` - refill, burst and the 429 answer

## Tests

- [ ] `tests/test_limits.py` covers refill and burst
- [ ] an export over the limit gets 429 with `Retry-After`

## Risks

- Limits too low for the largest tenant; mitigated by a per-tenant override in settings.
"""
HAND_REPO = frozenset({"app/__init__.py", "app/export.py", "docs/api.md", "tests/test_export.py"})


def test_hand_written_plan_validates_clean() -> None:
    findings = validate_plan(template("compact"), HAND_WRITTEN_COMPACT, "plan.md", tracked_paths=HAND_REPO)

    assert findings == []


@pytest.mark.parametrize(
    ("old", "new", "code"),
    [
        ("**Size:** M", "**Size:** Medium-ish", "enum"),
        ("- `app/limits.py` - the token", "- `app/export.py` - the token", "path-exists"),
        ("2. Call it from the export handler", "2. {Step} Call it from the export handler", "placeholder"),
    ],
)
def test_hand_written_plan_with_a_flaw(old: str, new: str, code: str) -> None:
    plan = HAND_WRITTEN_COMPACT.replace(old, new)

    findings = validate_plan(template("compact"), plan, "plan.md", tracked_paths=HAND_REPO)

    assert only_error(findings) == (code, line_of(plan, new))


def test_hand_written_plan_missing_a_section() -> None:
    plan = HAND_WRITTEN_COMPACT.replace("## Tests\n", "")

    codes = {finding.code for finding in errors(validate_plan(template("compact"), plan, "plan.md"))}

    assert "missing-heading" in codes


def test_empty_plan_is_refused() -> None:
    with pytest.raises(PlanFileError, match=r"^plan\.md: the plan is empty"):
        validate_plan(template("compact"), " \n\n", "plan.md")


def test_plan_for_another_template_is_refused() -> None:
    with pytest.raises(PlanFileError, match=r"^plan\.md: does not follow template .*--template"):
        validate_plan(template("003"), rendered("000"), "plan.md")


def test_findings_are_in_line_order() -> None:
    plan = ENUMS[0].apply(rendered("002"))
    plan = PLACEHOLDERS[4].apply(plan)

    lines = [finding.line for finding in validate_plan(template("002"), plan, "plan.md")]

    assert lines == sorted(lines)
    assert len(lines) == 2


PLANS_BY_HAND = Path(__file__).resolve().parent / "plans"
HAND_WRITTEN = PLANS_BY_HAND / "compact_by_hand.md"
BY_HAND_REPO = frozenset({"agent/cli.py", "pyproject.toml", "src/orders/api.py", "src/orders/models.py",
                          "src/orders/service.py"})


@pytest.mark.parametrize("name", ["compact", "default", "000", "001", "002", "003", "004"])
def test_good_plans_written_by_hand_are_clean(name: str) -> None:
    """Plans as people write them: synonyms of a choice ("Medium", "in review"), a partly kept pick-list, a
    kept team standard ("Type safety: 100%"), code and brackets (`[project.scripts]`, `'.[dev]'`,
    `[{"id": 1}]`, mermaid `A[Client]`), a current-state section naming files it does not change."""
    text = (PLANS_BY_HAND / f"{name}_by_hand.md").read_text(encoding="utf-8")

    findings = validate_plan(template(name), text, "plan.md", BY_HAND_REPO)

    assert findings == []


@pytest.mark.parametrize(("old", "new", "code"), [
    ("Finance can download", "[Who] can download", "placeholder"),
    ("**Size:** m", "**Size:** Gigantic", "enum"),
    ("- [x] Amounts keep two decimals", "- [ ] {Test that proves the goal}", "placeholder"),
])
def test_hand_written_plan_flaws_are_still_caught(old: str, new: str, code: str) -> None:
    text = HAND_WRITTEN.read_text(encoding="utf-8").replace(old, new)

    findings = validate_plan(template("compact"), text)

    assert code in {finding.code for finding in findings}


def test_a_choice_may_be_spelled_out() -> None:
    compiled = compile_template("# Plan\n\n**Risk:** High/Med/Low\n\n## Goal\n\n{The goal}\n", "mini.md")

    assert validate_plan(compiled, "# Plan\n\n**Risk:** Medium\n\n## Goal\n\nShip it.\n") == []
    assert validate_plan(compiled, "# Plan\n\n**Risk:** Mild\n\n## Goal\n\nShip it.\n") != []


def test_several_fields_on_one_line_are_each_checked() -> None:
    compiled = compile_template("# Plan\n\n**Status:** [Draft | Done] · **Owner:** {Name} · **Size:** S/M/L\n\n"
                                "## Goal\n\n{The goal}\n", "mini.md")
    good = "# Plan\n\n**Status:** Done · **Owner:** Ana · **Size:** m\n\n## Goal\n\nShip it.\n"

    assert validate_plan(compiled, good) == []
    assert [f.code for f in validate_plan(compiled, good.replace("**Size:** m", "**Size:** Huge"))] == ["enum"]
    assert [f.code for f in validate_plan(compiled, good.replace("Ana", "{Name}"))] == ["placeholder"]


@pytest.mark.parametrize("span", ["text/csv", "application/json", "image/png", "multipart/form-data"])
def test_a_media_type_is_not_a_file_path(span: str) -> None:
    from agent.check.files import paths_in_line

    assert paths_in_line(f"- The export answers with `{span}` and `src/billing/export.py` writes it") == [
        "src/billing/export.py"]


def test_a_set_of_constants_in_a_transition_table_is_not_a_placeholder() -> None:
    """Seen drafting an order-status change through the relay: `{PAID, CANCELLED}` in a transition table was
    sent back as "placeholder still in the plan", and the model rewrote the table as prose."""
    compiled = compile_template("# Plan\n\n## Design\n\n{How it works}\n", "mini.md")
    plan = ("# Plan\n\n## Design\n\n| From | Allowed next states |\n|---|---|\n| PENDING | {PAID, CANCELLED} |\n"
            "| PAID | {SHIPPED,CANCELLED} |\n")

    assert validate_plan(compiled, plan) == []
    assert [f.code for f in validate_plan(compiled, plan.replace("{PAID, CANCELLED}", "{Next states}"))] == [
        "placeholder"]


def test_the_same_finding_at_the_same_place_is_reported_once() -> None:
    """Seen on the shipped example: a table row with TODO in two cells was reported twice, word for word."""
    compiled = compile_template("# Plan\n\n## Risks\n\n| Risk | Mitigation |\n|---|---|\n| {Risk} | {Mitigation} |\n",
                                "mini.md")
    findings = validate_plan(compiled, "# Plan\n\n## Risks\n\n| Risk | Mitigation |\n|---|---|\n| TODO | TODO |\n")

    assert findings and len(findings) == len({(f.line, f.column, f.message) for f in findings})

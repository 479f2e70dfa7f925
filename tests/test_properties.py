"""Whatever markdown-ish text arrives, the compiler and the validator answer with a PlanError or a result.

Anything else (IndexError, KeyError, a YAML exception...) would reach the user as a traceback.
"""

from __future__ import annotations

import contextlib
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from template_support import ALL_TEMPLATES, filled, rendered, template

from agent.check.validate import validate_plan
from agent.errors import PlanError
from agent.template.compile import compile_template
from agent.template.render import render_plan
from agent.template.schema import json_schema, plan_model, strict_problems, unit_names

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

WORD = st.text(st.characters(min_codepoint=32, max_codepoint=0x2FFF, blacklist_categories=("Cs",)), max_size=12)
TEMPLATE_WORD = st.sampled_from([
    "Goal", "Risk 1", "X hours", "Phase 1", "task-001", "Step 1.1", "TODO", "e.g.", "path/to/file.py", "`src/a.py`",
    "High/Med/Low", "S/M/L/XL", "draft | done", "Only if needed", "(if applicable)", "—", "**", "`", "|", ":",
])
MARKER = st.sampled_from([
    "{{NAME}}", "{{A_B}}", "{Free text}", "[Bracket text]", "<angle text>", "[e.g., this]", "YYYY-MM-DD",
    "<!-- note -->", "{", "}", "[", "]", "{{", "}}", "<!--", "-->", "[ ]", "[x]", "\t", "\\|",
])
INLINE = st.lists(st.one_of(WORD, TEMPLATE_WORD, MARKER), max_size=6).map(" ".join)
HEADING = st.builds(lambda level, text: "#" * level + " " + text, st.integers(1, 7), INLINE)
NUMBERED_HEADING = st.builds(
    lambda level, prefix, number, text: "#" * level + f" {prefix}{number}: {text}",
    st.integers(2, 4), st.sampled_from(["Phase ", "task-00", "Step 1.", "Scenario ", "Step "]), st.integers(0, 12),
    INLINE,
)
LIST_ITEM = st.builds(lambda marker, text: marker + text,
                      st.sampled_from(["- ", "* ", "1. ", "- [ ] ", "  - ", "2) ", "- **Key**: "]), INLINE)
TABLE_ROW = st.lists(INLINE, min_size=1, max_size=4).map(lambda cells: "| " + " | ".join(cells) + " |")
KEY_LINE = st.builds(lambda key, value: f"**{key}**: {value}",
                     st.sampled_from(["Status", "Size", "Files to modify", "Estimated Complexity"]), INLINE)
YAML_LINE = st.builds(lambda key, value: f"{key}: {value}", st.sampled_from(["status", "tags", "date", "a"]), INLINE)
LINE = st.one_of(
    HEADING, NUMBERED_HEADING, LIST_ITEM, TABLE_ROW, st.just("|---|---|"), KEY_LINE, YAML_LINE, INLINE,
    st.sampled_from(["```", "```bash", "~~~", "---", "***", ""]), st.text(max_size=30),
)
MARKDOWN = st.builds(
    lambda front, body: front + body,
    st.one_of(st.just(""), st.lists(st.one_of(YAML_LINE, LINE), max_size=5).map(lambda ls: "---\n" + "\n".join(ls) + "\n---\n")),
    st.lists(LINE, max_size=50).map("\n".join),
)
EDITS = st.lists(st.tuples(st.integers(0, 500), st.sampled_from(["delete", "replace", "insert"]), LINE), max_size=8)


def edit(text: str, edits: list[tuple[int, str, str]]) -> str:
    lines = text.splitlines()
    for position, action, line in edits:
        index = position % (len(lines) + 1)
        if action == "delete" and index < len(lines):
            del lines[index]
        elif action == "replace" and index < len(lines):
            lines[index] = line
        else:
            lines.insert(index, line)
    return "\n".join(lines)


@SETTINGS
@given(MARKDOWN)
def test_compiler_raises_nothing_but_plan_errors(text: str) -> None:
    try:
        compiled = compile_template(text, "fuzz.md")
    except PlanError as error:
        assert str(error).startswith("fuzz.md")
        assert "\n" not in str(error)
        return
    if unit_names(compiled):  # a template with nothing to fill has nothing to ask a model for
        assert strict_problems(json_schema(plan_model(compiled))) == []


@SETTINGS
@given(MARKDOWN)
@example("{{A}}\n# \n- ")  # one example item and nothing else: compiling it raised IndexError
def test_any_template_that_compiles_renders_a_plan_that_validates(text: str) -> None:
    try:
        compiled = compile_template(text, "fuzz.md")
    except PlanError:
        return
    answer: Any = filled(compiled)
    plan = render_plan(compiled, answer)
    with contextlib.suppress(PlanError):  # e.g. a template whose plan has no headings to match
        findings = validate_plan(compiled, plan, "plan.md")
        assert all(finding.line >= 1 for finding in findings)


# The validator's properties hold for every template: each example draws one, so the examples are spread
# over the seven instead of run seven times over (200 a template took 15 s of the suite's CPU).
ACROSS_TEMPLATES = settings(SETTINGS, max_examples=500)


@ACROSS_TEMPLATES
@given(st.sampled_from(ALL_TEMPLATES), MARKDOWN)
def test_validator_raises_nothing_but_plan_errors_on_any_text(name: str, text: str) -> None:
    try:
        findings = validate_plan(template(name), text, "plan.md", tracked_paths=frozenset({"src/app.py"}))
    except PlanError as error:
        assert str(error).startswith("plan.md: ")
        return
    assert all(finding.line >= 1 for finding in findings)


@ACROSS_TEMPLATES
@given(st.sampled_from(ALL_TEMPLATES), EDITS)
def test_validator_raises_nothing_but_plan_errors_on_edited_plans(name: str, edits: list[tuple[int, str, str]]) -> None:
    text = edit(rendered(name), edits)
    try:
        findings = validate_plan(template(name), text, "plan.md", tracked_paths=frozenset({"src/app.py"}))
    except PlanError:
        return
    assert all(1 <= finding.line <= max(1, len(text.splitlines())) for finding in findings)

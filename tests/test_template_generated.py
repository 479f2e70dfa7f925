"""Templates nobody here has seen: generated from syntax fragments, compiled, filled, rendered and judged by
the oracle (`oracle.problems`), which does not use the compiler.

Each generated template has a title, sections in every placeholder style, metadata in several forms,
tables with choice cells, repeated numbered blocks (from 0 or 1, later examples with bare keys), optional
markers, comments, fences, notes, nested example items, a tagged text about the template, and maybe CRLF line
endings; the filled plan must keep every heading and key and leave no guidance and no section empty.
"""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oracle import problems
from template_support import filled

from agent.template.compile import compile_template
from agent.template.render import render_plan
from agent.template.schema import json_schema, plan_model, strict_problems

SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

NAMES = st.sampled_from(["Goal", "Context", "Design", "Rollout", "Testing", "Risks", "Open questions", "Security",
                         "Migration plan", "Alternatives", "Success metrics", "Dependencies"])
GUIDANCE = st.sampled_from(["What changes for users, in one paragraph", "Describe the approach",
                            "List the risks and how we contain them", "Who needs to approve this"])
PLACEHOLDER = st.sampled_from(["{{X}}", "{X}", "[X]", "<X>", "${X}", "<!-- X -->", "_X._", "> X", "X"])
BODY = st.one_of(
    st.builds(lambda style, text: style.replace("X", text), PLACEHOLDER, GUIDANCE),
    st.builds(lambda text: f"- [{text}]\n- [{text}, again]", GUIDANCE),
    st.builds(lambda text: f"1. {{{text}}}\n2. {{{text}}}", GUIDANCE),
    st.builds(lambda text: f"| Item | Owner | Priority |\n|---|---|---|\n| [{text}] | [Name] | High/Med/Low |",
              GUIDANCE),
    st.builds(lambda text: f"<!-- {text} -->\n\n```bash\n{{Command}}\n```", GUIDANCE),
    st.builds(lambda text: f"<instruction>\n{text}.\n\nBe brief.\n</instruction>\n\n{{{text}}}", GUIDANCE),
    st.builds(lambda text: f"Delete this note before publishing.\n\n[{text}]", GUIDANCE),
    st.builds(lambda text: f"**Note:** Drop this note once your plan is written.\n\n{{{text}}}", GUIDANCE),
    st.builds(lambda text: f"- [ ] [{text}]\n  - [Sub-task]\n  - [Sub-task]\n- [ ] [{text}]", GUIDANCE),
    st.builds(lambda text: f"- [{text}]\n<!-- use 'neutral' when it weighs neither way -->\n- [{text}, again]", GUIDANCE),
    st.builds(lambda text: f"- **FR-001**: System MUST [{text}]\n- **FR-002**: System MUST [{text}, again]", GUIDANCE),
    st.builds(lambda text: f"<!-- BEGIN Remove before PR -->\nTo get started, copy this file.\n<!-- END Remove before PR -->"
              f"\n\n{{{text}}}", GUIDANCE),
    st.builds(lambda text: f"- [ ] MM/DD/YYYY: {text}\n- [ ] MM/DD/YYYY: Open the pull request", GUIDANCE),
    st.just(""),
)
METADATA = st.sampled_from([
    "**Status:** [draft | approved]", "**Owner**: {Name}", "- **Size:** S/M/L", "Priority: <High | Low>",
    "**Created:** YYYY-MM-DD", "| Field | Value |\n|---|---|\n| Status | [Draft / Review / Done] |",
    "**Stage:** [Draft | Done] · **Lead:** {Name} · **Effort:** S/M/L", "**Team**: {Team} | **Due**: YYYY-MM-DD",
    "**Reviewed:** MM/DD/YYYY",
])
MARKERS = st.sampled_from(["", "", " (optional)", " (if applicable)"])


@st.composite
def templates(draw: st.DrawFn) -> str:
    names = draw(st.lists(NAMES, min_size=1, max_size=6, unique=True))
    parts = [f"# {draw(st.sampled_from(['Plan', 'Design doc: {{FEATURE}}', 'RFC: [Title]', 'Design Doc Template']))}",
             ""]
    if draw(st.booleans()):  # a text about the template, wrapped in a tag, with nothing to fill
        parts = ["<about-this-template>", *parts, "## How to use it", "", "Read each hint before you write.", "",
                 "</about-this-template>", ""]
    parts += [*draw(st.lists(METADATA, max_size=3, unique=True)), ""]
    for name in names:
        parts += [f"## {name}{draw(MARKERS)}", "", draw(BODY), ""]
    if draw(st.booleans()):
        parts += ["## Phases", ""]
        first = draw(st.integers(0, 1))
        for number in range(first, first + draw(st.integers(2, 3))):
            goal = "[What it delivers]" if number == first else ""  # later examples often leave the keys bare
            parts += [f"### Phase {number}: [Name]", "", f"**Goal:** {goal}".rstrip(), "", "- [ ] [Task]", "",
                      f"**Exit:** {'[Done when]' if number == first else ''}".rstrip(), ""]
        parts += ["[Continue with more phases...]", ""]
    text = "\n".join(parts)
    if draw(st.booleans()):
        text = "---\nstatus: [draft | done]\ntags: []\ndate: {YYYY-MM-DD when decided}\nauthors:\n  - \"@janedoe\"\n---\n" + text
    return text.replace("\n", "\r\n") if draw(st.booleans()) else text


@SETTINGS
@given(templates())
def test_any_generated_template_is_drafted_faithfully(text: str) -> None:
    compiled = compile_template(text, "generated.md")
    schema = json_schema(plan_model(compiled))

    plan = render_plan(compiled, filled(compiled))

    assert strict_problems(schema) == []
    assert problems(text, plan) == [], plan
    # What the oracle's own reading does not name: date formats, `{…}` front-matter values, remove-before-PR text.
    assert not re.search(r"MM/DD/YYYY|YYYY-MM-DD|: null\}|To get started", plan), plan

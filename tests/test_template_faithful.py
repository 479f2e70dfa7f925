"""What an agent playing the model found on public templates: each behaviour here broke a real draft.

Each test writes the smallest template showing the problem; where a public template in `../shared/templates`
shows it, the test reads that file too, so the rule is seen to hold on text nobody wrote for it.
"""

from __future__ import annotations

import asyncio
import re
from datetime import date

import yaml
from draft_support import BRIEF
from template_support import ALL_TEMPLATES, filled, public_path, public_templates, template
from test_draft_loop import CALL_USAGE, asked, scripted

from agent.check.validate import validate_plan
from agent.draft.loop import DraftResult, DraftSettings, draft_plan
from agent.draft.review import REVIEW
from agent.providers.base import ModelResponse
from agent.providers.testing import FunctionProvider
from agent.template.compile import compile_template
from agent.template.model import (
    FieldBlock,
    FieldSpec,
    Repeat,
    Section,
    Template,
    header_fields,
    local_fields,
    walk,
)
from agent.template.placeholders import has_placeholder, normalise_line
from agent.template.render import render_plan
from agent.template.schema import json_schema, unit_model

TODAY = date(2026, 3, 4)


def front_matter(markdown: str) -> dict[str, object]:
    return yaml.safe_load(markdown.split("---\n")[1])  # type: ignore[no-any-return]


def fields_of(template_text: str) -> dict[str, FieldSpec | None]:
    compiled = compile_template(template_text, "t.md")
    return {key.key: key.field for key in compiled.front_matter}


MADR_LIKE = """---
date: {YYYY-MM-DD when the decision was last updated}
decision-makers: {list everyone involved in the decision}
---

# {short title of the decision}

## Context

{Describe the context and the problem}
"""


def test_a_brace_placeholder_in_front_matter_is_a_field_the_date_filled_by_the_tool() -> None:
    compiled = compile_template(MADR_LIKE, "adr.md")
    keys = {key.key: key for key in compiled.front_matter}

    assert keys["date"].field is not None and keys["date"].field.tool == "today:%Y-%m-%d"
    assert keys["decision-makers"].field is not None and keys["decision-makers"].field.kind == "line"
    assert "list everyone involved" in keys["decision-makers"].field.description
    data = filled(compiled)
    data["header"]["decision_makers"] = "Ana Lima, Bo Chen"
    rendered = render_plan(compiled, data, today=TODAY)
    assert front_matter(rendered) == {"date": TODAY, "decision-makers": "Ana Lima, Bo Chen"}
    assert "{" not in rendered.split("---\n")[1]


def test_a_brace_placeholder_left_in_a_plans_front_matter_is_a_finding() -> None:
    compiled = compile_template(MADR_LIKE, "adr.md")
    plan = render_plan(compiled, filled(compiled), today=TODAY)
    left = plan.replace(f"date: {TODAY.isoformat()}", "date: {YYYY-MM-DD when the decision was last updated}")

    findings = validate_plan(compiled, left)

    assert [(f.line, f.code) for f in findings] == [(2, "placeholder")]
    assert "{YYYY-MM-DD when the decision was last updated}" in findings[0].message


def test_no_brace_placeholder_of_the_madr_template_reaches_its_plan() -> None:
    compiled = compile_template(public_path("04-madr-adr.md").read_text(encoding="utf-8"), "04-madr-adr.md")

    rendered = render_plan(compiled, filled(compiled), today=TODAY)

    written = front_matter(rendered)
    assert written["date"] == TODAY
    assert all(not isinstance(value, dict) for value in written.values()), written
    assert ": null}" not in rendered


def test_a_front_matter_list_of_one_item_stays_a_list() -> None:
    spec = fields_of('---\nauthors:\n  - "@janedoe"\ntitle: [Feature name]\n---\n\n# Plan\n\n## Goal\n\n{The goal}\n')

    authors, title = spec["authors"], spec["title"]
    assert authors is not None and authors.kind == "list" and authors.examples == ("@janedoe",)
    assert title is not None and title.kind == "line"  # one line: a bracket placeholder


def test_the_capi_proposals_single_item_lists_are_written_as_lists() -> None:
    compiled = compile_template(public_path("10-capi-proposal.md").read_text(encoding="utf-8"), "10-capi.md")

    written = front_matter(render_plan(compiled, filled(compiled), today=TODAY))

    assert all(isinstance(written[key], list) for key in ("authors", "reviewers", "replaces", "superseded-by"))
    assert written["creation-date"] == TODAY and written["last-updated"] == TODAY


def test_an_empty_front_matter_list_is_an_answer_not_a_finding() -> None:
    template = '---\nsee-also:\n  - "/docs/a.md"\n  - "/docs/b.md"\n---\n\n# Plan\n\n## Goal\n\n{The goal}\n'
    compiled = compile_template(template, "t.md")
    plan = render_plan(compiled, filled(compiled), today=TODAY)
    start = plan.index("see-also:")
    plan = plan[:start] + "see-also: []" + plan[plan.index("\n", start) :]

    assert front_matter(plan)["see-also"] == []
    assert [f for f in validate_plan(compiled, plan) if "see-also" in f.message] == []
    see_also = compiled.front_matter[0].field
    assert see_also is not None and "an empty list when none apply" in see_also.description  # what the model is told


def _text_fields(compiled: Template) -> list[FieldSpec]:
    nodes = walk(compiled.header + list(compiled.units))
    return [node.field for node in nodes if isinstance(node, FieldBlock) and node.field.kind == "text"]


PROSE_GUIDANCE = """# Proposal

## Summary

The Summary section is incredibly important for producing high quality release notes.

## Motivation

This section is for explicitly listing the motivation of this proposal.

## Risks

- Risk 1: what could go wrong
"""


def test_prose_guidance_is_described_as_guidance_and_a_copy_of_it_is_flagged() -> None:
    compiled = compile_template(PROSE_GUIDANCE, "proposal.md")
    summary = next(spec for spec in _text_fields(compiled) if "incredibly important" in spec.description)
    data = filled(compiled)
    own = render_plan(compiled, data, today=TODAY)
    data["summary"] = "The Summary section is incredibly important for producing high quality release notes."
    copied = render_plan(compiled, data, today=TODAY)

    assert "never a copy" in summary.description and not summary.description.startswith("Write this")
    assert [f.code for f in validate_plan(compiled, own)] == []
    assert [(f.line, f.code) for f in validate_plan(compiled, copied)] == [(5, "guidance")]


def test_every_field_the_validator_flags_when_copied_says_not_to_copy_in_every_known_template() -> None:
    disagree = []
    publics = [compile_template(public_path(name).read_text(encoding="utf-8"), name) for name in public_templates()]
    for compiled in publics + [template(name) for name in ALL_TEMPLATES]:
        name = compiled.name
        for spec in _text_fields(compiled):
            # Unmarked prose: a placeholder's own text reads as an instruction, and a copy of it is a placeholder.
            copied = [example for example in spec.examples
                      if normalise_line(example) in compiled.guidance_lines and not has_placeholder(example)]
            if copied and "never a copy" not in spec.description:
                disagree.append(f"{name}: {spec.name}: {spec.description[:60]}")

    assert disagree == []


REMOVE_BEFORE_PR = """# {Title of the proposal}

<!-- BEGIN Remove before PR -->
To get started with this template:
1. **Make a copy of this template.**
  Copy it into `docs/proposals`.
1. **Fill out the required sections.**

The `Metadata` section above supports tooling around the proposal process.
<!-- END Remove before PR -->

## Goal

{The goal}

<!-- Remove the examples below before publishing once you have your own -->

## Examples

- {Example of use}

<!-- END doctoc generated TOC -->
"""


def test_a_block_the_author_is_told_to_remove_before_review_is_guidance_never_plan_text() -> None:
    compiled = compile_template(REMOVE_BEFORE_PR, "proposal.md")

    plan = render_plan(compiled, filled(compiled), today=TODAY)

    assert [spec.name for spec in header_fields(compiled)] == ["title_of_the_proposal"]
    assert "To get started" not in plan and "Remove before PR" not in plan and "Metadata" not in plan
    assert [heading for heading in plan.splitlines() if heading.startswith("## ")] == ["## Goal", "## Examples"]
    assert "To get started with this template:" in " ".join(text for _, text in compiled.guidance)


def test_the_capi_proposals_remove_before_pr_block_stays_out_of_the_plan() -> None:
    compiled = compile_template(public_path("10-capi-proposal.md").read_text(encoding="utf-8"), "10-capi.md")

    plan = render_plan(compiled, filled(compiled), today=TODAY)

    assert "To get started with this template" not in plan and "Make a copy of this template" not in plan
    assert "Remove before PR" not in plan


PROS_AND_CONS = """# {Decision title}

## Pros and cons

* Good, because {argument a}
* Good, because {argument b}
<!-- use "neutral" if the argument weighs neither for good nor bad -->
* Neutral, because {argument c}
* Bad, because {argument d}

## Follow-ups

- {First follow-up}

<!-- Known risks, if any -->

- {First risk}
"""


def _items(markdown: str, heading: str) -> list[str]:
    """The lines under `heading` up to the next heading, blank ones included, without the outer blanks."""
    lines = markdown.split(heading + "\n", 1)[1].split("\n#", 1)[0]
    return lines.strip("\n").splitlines()


def test_a_comment_between_list_items_is_that_lists_guidance_and_the_list_stays_one_field() -> None:
    compiled = compile_template(PROS_AND_CONS, "adr.md")
    pros = compiled.unit("pros_and_cons")

    assert isinstance(pros, Section)
    (spec,) = local_fields(pros.children)
    assert spec.kind == "list" and 'use "neutral"' in spec.description
    data = filled(compiled)
    data["pros_and_cons"] = ["Good, because it is fast", "Neutral, because it is new", "Bad, because it costs"]
    plan = render_plan(compiled, data, today=TODAY)
    assert _items(plan, "## Pros and cons") == ["* Good, because it is fast", "* Neutral, because it is new",
                                                "* Bad, because it costs"]
    follow_ups = compiled.unit("follow_ups")
    assert isinstance(follow_ups, Section) and len(local_fields(follow_ups.children)) == 2  # a blank line apart


def test_the_madr_options_pros_and_cons_are_one_list_each() -> None:
    compiled = compile_template(public_path("04-madr-adr.md").read_text(encoding="utf-8"), "04-madr-adr.md")
    options = compiled.unit("pros_and_cons_of_the_options")
    repeat = next(node for node in walk([options]) if isinstance(node, Repeat))

    lists = [spec for spec in local_fields(repeat.prototype.children) if spec.kind == "list"]

    assert len(lists) == 1 and any(example.startswith("Neutral") for example in lists[0].examples)


NUMBERED_LABELS = """# {Feature}

## Functional Requirements

- **FR-001**: System MUST [specific capability]
- **FR-002**: System MUST [another capability]

## Steps

1. **Step 1**: [First step]
2. **Step 2**: [Second step]
"""


def test_bold_numbered_labels_keep_the_templates_zero_padding_in_the_request_and_the_plan() -> None:
    compiled = compile_template(NUMBERED_LABELS, "spec.md")
    data = filled(compiled)
    data["functional_requirements"] = ["System MUST a", "System MUST b", "System MUST c"]
    data["steps"] = ["Write it", "Ship it"]

    plan = render_plan(compiled, data, today=TODAY)

    asked = json_schema(unit_model(compiled, "functional_requirements"))["properties"]["functional_requirements"]
    assert "like `**FR-001**:`" in asked["description"]
    assert _items(plan, "## Functional Requirements") == ["- **FR-001**: System MUST a", "- **FR-002**: System MUST b",
                                                          "- **FR-003**: System MUST c"]
    assert _items(plan, "## Steps") == ["1. **Step 1**: Write it", "2. **Step 2**: Ship it"]


def test_the_speckit_success_criteria_keep_their_three_digit_numbers() -> None:
    compiled = compile_template(public_path("01-speckit-spec.md").read_text(encoding="utf-8"), "01-speckit-spec.md")

    plan = render_plan(compiled, filled(compiled), today=TODAY)

    assert "**SC-001**:" in plan and "**FR-001**:" in plan and "**SC-1**" not in plan and "**FR-1**" not in plan


HISTORY = """# {Proposal title}

## Implementation History

- [ ] MM/DD/YYYY: Proposed idea in an issue
- [ ] MM/DD/YYYY: Open proposal PR
"""


def test_a_list_that_still_holds_a_date_format_is_to_fill_not_fixed_text() -> None:
    compiled = compile_template(HISTORY, "proposal.md")
    history = compiled.unit("implementation_history")
    data = filled(compiled)
    data["implementation_history"] = ["03/04/2026: Proposal drafted"]

    plan = render_plan(compiled, data, today=TODAY)

    assert isinstance(history, Section) and [spec.kind for spec in local_fields(history.children)] == ["list"]
    assert "MM/DD/YYYY" not in plan and "- [ ] 03/04/2026: Proposal drafted" in plan
    kept = plan.replace("03/04/2026: Proposal drafted", "MM/DD/YYYY: Open proposal PR")
    assert [f.code for f in validate_plan(compiled, kept)] == ["placeholder"]


def test_a_date_in_the_templates_format_is_filled_by_the_tool() -> None:
    compiled = compile_template("# {Title}\n\n**Created:** MM/DD/YYYY\n\n## Goal\n\n{The goal}\n", "t.md")

    plan = render_plan(compiled, filled(compiled), today=TODAY)

    assert "**Created:** 03/04/2026" in plan


def test_the_capi_proposal_ships_no_date_format_and_no_fixed_history_line() -> None:
    compiled = compile_template(public_path("10-capi-proposal.md").read_text(encoding="utf-8"), "10-capi.md")

    plan = render_plan(compiled, filled(compiled), today=TODAY)

    assert not re.search(r"MM/DD/YYYY|YYYYMMDD|yyyy-mm-dd", plan, re.I)


ROLLOUT = """# {Proposal title}

## Rollout

- [ ] Release notes updated
- [ ] Feature flag documented

{How the change rolls out}

## Risks

- {Risk and its mitigation}
"""
ROLLOUT_GOOD = {"header": {"proposal_title": "Invoice CSV export"},
                "rollout": "Ship behind the csv_export flag, on for finance first.",
                "risks": ["Large invoices are slow to export; stream the rows"]}


def _reviewed(quote: str) -> tuple[FunctionProvider, DraftResult]:
    note = {"section": "rollout", "quote": quote, "problem": "contradiction",
            "explanation": "Risks says the export streams", "fix": "say how the rows are streamed"}
    model = scripted({REVIEW: [ModelResponse({"findings": [note]}, "{}", "complete", CALL_USAGE)]}, ROLLOUT_GOOD)
    compiled = compile_template(ROLLOUT, "rollout.md")
    result = asyncio.run(draft_plan(compiled, BRIEF, model, "", None, DraftSettings(spine=False, review=True)))
    return model, result


def test_a_review_finding_on_the_templates_fixed_text_is_dropped_not_re_asked() -> None:
    model, result = _reviewed("Release notes updated")

    assert len(asked(model, "rollout")) == 1
    assert result.review is not None and result.review[0].status == "dropped"


def test_a_review_finding_on_what_the_section_wrote_is_still_re_asked() -> None:
    model, result = _reviewed("on for finance first")

    assert len(asked(model, "rollout")) == 2
    assert result.review is not None and result.review[0].status != "dropped"


CONTINUED = """# {Feature}

## Functional Requirements

- **FR-001**: System MUST [specific capability]
- **FR-002**: System MUST [another capability]

*Example of marking unclear requirements:*

- **FR-003**: System MUST authenticate users via [NEEDS CLARIFICATION: auth method not specified]
"""


def test_a_note_between_items_whose_labels_carry_on_numbering_leaves_one_list() -> None:
    compiled = compile_template(CONTINUED, "spec.md")
    requirements = compiled.unit("functional_requirements")

    assert isinstance(requirements, Section)
    (spec,) = local_fields(requirements.children)
    assert spec.label(3) == "**FR-003**: " and len(spec.examples) == 3
    assert "Example of marking unclear requirements: **FR-003**: System MUST authenticate" in spec.description
    plan = render_plan(compiled, filled(compiled), today=TODAY)
    assert "Example of marking unclear requirements" not in plan


def test_the_speckit_functional_requirements_are_one_list_numbered_on() -> None:
    compiled = compile_template(public_path("01-speckit-spec.md").read_text(encoding="utf-8"), "01-speckit-spec.md")
    requirements = next(node for node in walk(list(compiled.units))
                        if isinstance(node, Section) and node.label == "Functional Requirements")

    (spec,) = local_fields(requirements.children)

    assert spec.item_label == "**FR-{n}**: " and len(spec.examples) == 7


def test_a_front_matter_comment_is_the_guidance_of_its_key() -> None:
    spec = fields_of("---\nstart-date: # In format YYYY-MM-DD\nteams: # delete teams that aren't relevant\n"
                     "  - cli\n  - data\ntitle: \"Fix #123\"\n---\n\n# Plan\n\n## Goal\n\n{The goal}\n")

    start, teams, title = spec["start-date"], spec["teams"], spec["title"]
    assert start is not None and start.kind == "line" and "In format YYYY-MM-DD" in start.description
    assert teams is not None and teams.kind == "list" and "delete teams that aren't relevant" in teams.description
    assert title is not None and "(the template says" not in title.description  # in quotes: not a comment


def test_a_date_format_inside_a_link_names_a_file_and_stays_fixed() -> None:
    template = ("# {Title}\n\n## Glossary\n\nRefer to the [proposal template](https://example.com/proposals/"
                "YYYYMMDD-template.md).\n\n{Terms this proposal defines}\n")
    compiled = compile_template(template, "proposal.md")

    plan = render_plan(compiled, filled(compiled), today=TODAY)

    assert "(https://example.com/proposals/YYYYMMDD-template.md)" in plan
    assert validate_plan(compiled, plan) == []


def test_paragraphs_of_prose_guidance_in_a_row_ask_for_one_text() -> None:
    template = PROSE_GUIDANCE.replace("release notes.\n", "release notes.\n\nA good summary is at least a paragraph.\n")
    compiled = compile_template(template, "proposal.md")
    summary = compiled.unit("summary")

    assert isinstance(summary, Section)
    (spec,) = local_fields(summary.children)
    assert "incredibly important" in spec.description and "A good summary is at least a paragraph" in spec.description
    assert spec.description.count("never a copy") == 1


def test_an_optional_front_matter_key_left_null_is_not_a_finding() -> None:
    compiled = compile_template("---\ngroups:\nstart-date: # In format YYYY-MM-DD\nowner: {Name}\n---\n\n# Plan\n\n"
                                "## Goal\n\n{The goal}\n", "t.md")
    data = filled(compiled)
    data["header"].update(groups=None, start_date=None)
    plan = render_plan(compiled, data, today=TODAY).replace("owner: ", "owner: null # ", 1)

    assert [(f.line, f.message) for f in validate_plan(compiled, plan)] == [
        (4, "front matter `owner` is empty; fill it in")]  # a required key still may not be left null


def test_an_annotation_between_two_lists_keeps_them_apart() -> None:
    template = ("# {Title}\n\n## Gates\n\n- **G-1**: [First gate]\n- **G-2**: [Second gate]\n<!-- plan: keep -->\n"
                "- **G-3**: CI is green\n")
    compiled = compile_template(template, "t.md")
    gates = compiled.unit("gates")

    plan = render_plan(compiled, filled(compiled), today=TODAY)

    assert isinstance(gates, Section) and len(local_fields(gates.children)) == 1
    assert "- **G-3**: CI is green" in plan


HOW_TO_USE = """# {Title}

## How to use this template

<!-- Delete this section before submitting the proposal. -->

Copy the file, fill every section, and open a pull request.

### Naming

Name the file after the feature.

## Goal

{The goal}

## Rollout

Remove this section if the change needs no rollout.

{How it rolls out}
"""


def test_a_section_the_author_is_told_to_delete_before_submitting_is_not_in_the_plan() -> None:
    compiled = compile_template(HOW_TO_USE, "proposal.md")

    plan = render_plan(compiled, filled(compiled), today=TODAY)

    rollout = compiled.unit("rollout")
    assert compiled.unit_names == ["goal", "rollout"]  # "if it does not apply" is not an instruction to delete
    assert isinstance(rollout, Section) and rollout.optional  # but it leaves the section to the plan
    assert "How to use" not in plan and "Naming" not in plan and "Copy the file" not in plan
    assert "How to use this template" in " ".join(text for _, text in compiled.guidance)


def test_a_placeholder_that_names_itself_is_described_once() -> None:
    compiled = compile_template('# {Decision}\n\n## Outcome\n\nChosen option: "{title of option 1}", because '
                                "{justification}.\n", "adr.md")

    outcome = compiled.unit("outcome")

    assert isinstance(outcome, Section)
    descriptions = [spec.description for spec in local_fields(outcome.children)]
    assert "title of option 1" in descriptions and "title of option 1: title of option 1" not in descriptions


def test_a_long_placeholder_is_named_by_whole_words() -> None:
    compiled = compile_template("# {short title, representative of solved problem and found solution}\n\n## Goal\n\n"
                                "{The goal}\n", "adr.md")

    (title,) = header_fields(compiled)

    assert title.name == "short_title_representative_of" and len(title.name) <= 32


def test_each_part_of_a_line_with_several_placeholders_shows_the_whole_line() -> None:
    compiled = compile_template('# {Decision}\n\n## Outcome\n\nChosen option: "{title of option 1}", because '
                                "{justification, e.g. the only option}.\n", "adr.md")
    outcome = compiled.unit("outcome")

    assert isinstance(outcome, Section) and len(local_fields(outcome.children)) == 2
    frame = 'the template\'s line: Chosen option: "{title of option 1}", because {justification, e.g. the only option}.'
    assert all(frame in spec.description for spec in local_fields(outcome.children))


def test_a_comment_right_above_a_heading_is_that_sections_guidance() -> None:
    """MADR writes `<!-- This is an optional element. Feel free to remove. -->` on the line above each optional
    heading: a relay run showed it to the section before (\"Context ... owns: This is an optional element\")."""
    compiled = compile_template(
        "# {Title}\n\n## Context\n\n{Describe the context}\n\n<!-- This is an optional element. Feel free to remove. -->\n"
        "## Drivers\n\n* {driver 1}\n* {driver 2}\n\n## Outcome\n\n<!-- Say which option won -->\n\n{The option}\n",
        "adr.md")
    context, drivers, outcome = (compiled.unit(name) for name in ("context", "drivers", "outcome"))

    assert "optional element" not in str(json_schema(unit_model(compiled, "context")))
    assert "optional element" in str(json_schema(unit_model(compiled, "drivers")))
    assert drivers.optional and not context.optional and not outcome.optional
    # a comment with a blank line after it is still the text of the section it sits in
    assert "Say which option won" in str(json_schema(unit_model(compiled, "outcome")))


def test_go_proposal_lines_about_the_template_and_its_number_never_ship() -> None:
    """A relay run on Go's proposal template shipped its first line (a bracketed note about the template with a
    link inside) and `Discussion at https://go.dev/issue/NNNNN.` unchanged, and validate passed."""
    path = public_path("08-go-proposal.md")
    compiled = compile_template(path.read_text(encoding="utf-8"), str(path))
    plan = render_plan(compiled, filled(compiled))

    assert "This is a template" not in plan and "NNNNN" not in plan
    assert "[compatibility guidelines]" not in plan  # the bracket with a link inside is guidance, not text
    left = "# Proposal: Flags\n\nDiscussion at https://go.dev/issue/NNNNN.\n"
    assert "placeholder" in {f.code for f in validate_plan(compile_template("# Proposal: [Title]\n\n## A\n\n[Text]\n",
                                                                               "p.md"), left + "\n## A\n\nDone.\n")}


def test_a_bracketed_line_with_a_link_inside_is_one_placeholder() -> None:
    from agent.template.placeholders import find_placeholders

    found = find_placeholders("[A discussion of the [compatibility guidelines](https://go.dev/doc/go1compat).]")

    assert [p.kind for p in found] == ["bracket"]
    assert find_placeholders("See [the docs](https://x.dev) and [more](y.md).") == []

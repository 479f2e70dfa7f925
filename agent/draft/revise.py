"""`plan revise`: draft one section of an existing plan again (or each section with error findings)
through the same draft loop, and splice it into the file so that every other byte stays as it was."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agent.check.validate import Finding, plan_sections, validate_plan
from agent.context import context_for_brief
from agent.context.brief import Brief, read_brief, redact_brief
from agent.draft.loop import DraftResult, Progress, Revision
from agent.draft.prompts import revise_note, unit_label
from agent.errors import InputError, PlanFileError
from agent.inputs import decode, read_bytes, repository_root, trusted_path
from agent.output import check_output, json_text, plan_lock, read_plan_json, write_files
from agent.providers.base import Usage
from agent.session import Session, usage_json
from agent.template.classify import slug
from agent.template.model import HEADER, Template
from agent.template.render import render_unit
from agent.template.schema import unit_names

MAX_PLAN_BYTES = 5_000_000
BOM = "\ufeff"


@dataclass(frozen=True, kw_only=True)
class ReviseRequest:
    """What to revise: the plan, the sections named (or each failing one), a note for the model, and the
    brief (None: the one plan.json names). The settings come from the `Session`, resolved for the plan."""

    plan: str
    sections: tuple[str, ...] = ()
    failing: bool = False
    note: str = ""
    repo: str = "."
    brief: str | None = None


@dataclass
class ReviseOutcome:
    result: DraftResult
    plan_path: Path
    revised: list[str]
    model: str
    template: Template


@dataclass(frozen=True)
class PlanFile:
    """A plan as read from disk: its text (without a byte-order mark, kept aside) and the plan.json beside it."""

    path: Path
    text: str
    bom: str = ""
    recorded: dict[str, Any] = field(default_factory=dict)

    @property
    def json_path(self) -> Path:
        return self.path.with_suffix(".json")


@dataclass(frozen=True)
class Span:
    """Lines [start, end) of the file that hold one unit; where a missing unit goes, start == end."""

    start: int
    end: int


def run_revise(request: ReviseRequest, session: Session, progress: Progress = lambda _: None) -> ReviseOutcome:
    """`plan revise`. The session's settings should be resolved for the plan (`session.resolve(flags, repo,
    plan=...)`), so the template is the one the plan was drafted from."""
    read_plan_file(Path(request.plan))  # a missing or unreadable plan is named before anything else
    with plan_lock(Path(request.plan)):  # two revisions of one plan would each drop the other's section
        plan = read_plan_file(Path(request.plan))
        check_output((plan.path, plan.json_path) if plan.recorded else (plan.path,), replacing=True)
        template = session.template()
        named = [unit_named(template, wanted) for wanted in request.sections]
        if not named and not request.failing:
            raise InputError(f"name the section to revise with --section NAME, or pass --failing; sections: "
                             f"{', '.join(unit_names(template))}")
        original = _original_brief(request.brief, plan, request.repo)
        brief = _revision_brief(original, plan)
        # The plan file itself is not ranked: the brief already carries it.
        context = context_for_brief(Path(request.repo), brief, session.settings.context_tokens)
        findings = validate_plan(template, plan.text, str(plan.path), context.tracked_paths)
        # The named units and those with error findings, in the template's order.
        wanted = set(named) | {f.unit for f in findings if request.failing and f.severity == "error"}
        units = [name for name in unit_names(template) if name in wanted]
        model, note = session.model()
        if not units:
            progress(f"{plan.path}: no section has error findings; nothing to revise")
            timings = {"total_s": 0.0, "calls": 0, "slowest_call_s": 0.0}
            unchanged = DraftResult({}, plan.text, findings, 0, Usage(), 0.0, timings)
            return ReviseOutcome(unchanged, plan.path, [], model, template)
        if note:
            progress(note)
        revision = Revision(_notes(template, plan, units, findings, request.note), splicer(template, plan, units))
        provider = session.provider(model, template=template, brief=original or brief, context=context)
        result = session.run(provider, session.draft(template, brief, context, provider, progress=progress,
                                                     revision=revision))
        outcome = ReviseOutcome(result, plan.path, units, model, template)
        if result.plan:  # at least one section came back; the others keep their text
            files = {plan.path: plan.bom + result.markdown}
            if plan.recorded:  # plan.json's data kept in step with the file, the revision noted (hand-written plans have none)
                files[plan.json_path] = json_text(_recorded(plan, outcome))
            write_files(files)
        return outcome


def read_plan_file(path: Path) -> PlanFile:
    fail = lambda problem: PlanFileError(f"{path}: {problem}")  # noqa: E731
    data = read_bytes(str(path), "plan", MAX_PLAN_BYTES, fail)
    bom = BOM if data.startswith(BOM.encode()) else ""
    return PlanFile(path, decode(data, "plan", fail), bom, read_plan_json(path, strict=True))


def unit_named(template: Template, wanted: str) -> str:
    """The unit a user means by `wanted`: its name (`goal`) or its heading (`"Goal"`, `"Phase 1"`)."""
    names = unit_names(template)
    for name in names:
        label = "header" if name == HEADER else unit_label(template.unit(name))
        if wanted == name or slug(wanted) in (name, slug(label)):
            return name
    raise InputError(f"no section {wanted!r} in template {template.name}; sections: {', '.join(names)}")


def _original_brief(source: str | None, plan: PlanFile, repo: str) -> Brief | None:
    """--brief, else the brief the plan was drafted from when plan.json names a file that still exists."""
    if source:
        return read_brief(source)
    report = plan.recorded.get("report")
    recorded = report.get("brief") if isinstance(report, dict) else None
    if not isinstance(recorded, str) or not Path(recorded).is_file():
        return None
    # plan.json may come from anyone (a pull request): what it names is read and sent to the model.
    trusted_path(recorded, (repository_root(repo), plan.path.parent), f"{plan.json_path} names the brief",
                 "pass --brief to choose the brief")
    return read_brief(recorded)


def _revision_brief(original: Brief | None, plan: PlanFile) -> Brief:
    """The brief, then the plan as it stands, so a re-drafted section can agree with the rest."""
    head = original.text if original else "(The original brief is not available; the plan below restates it.)"
    text = f"{head}\n\n## The plan as it stands (being revised)\n\n{plan.text}"
    title = original.title if original else plan.path.stem
    return redact_brief(Brief(title, text, str(plan.path), original.requirements if original else ()))


def _notes(template: Template, plan: PlanFile, units: list[str], findings: list[Finding], note: str) -> dict[str, str]:
    """What the model is told of each unit it drafts again: its current text and its error findings."""
    spans = unit_spans(template, plan.text, units)
    lines = plan.text.splitlines(keepends=True)
    return {unit: revise_note("".join(lines[spans[unit].start:spans[unit].end]),
                              [f"{f.section}: {f.message}" if f.section else f.message
                               for f in findings if f.unit == unit and f.severity == "error"], note)
            for unit in units}


def unit_spans(template: Template, text: str, units: list[str]) -> dict[str, Span]:
    """Where each of `units` is in the plan: from its heading to the last non-blank line before the
    next heading of the same or a higher level; a missing unit goes before the next unit present."""
    lines = text.splitlines(keepends=True)
    aligned = plan_sections(template, text)
    starts = [raw.block.line - 1 for raw, _ in aligned] + [len(lines)]
    spans = {HEADER: Span(0, _trim(lines, 0, starts[0]))}
    for index, (_, node) in enumerate(aligned):
        if node is not None:
            here = Span(starts[index], _trim(lines, starts[index], starts[index + 1]))
            spans[node.name] = Span(spans[node.name].start, here.end) if node.name in spans else here
    order = unit_names(template)
    for position, name in enumerate(order):
        if name not in spans:
            later = [spans[n].start for n in order[position + 1:] if n in spans]
            spans[name] = Span(later[0], later[0]) if later else Span(len(lines), len(lines))
    return {name: spans[name] for name in units}


def _trim(lines: list[str], start: int, end: int) -> int:
    """`end` moved up past blank lines, so the blank line before the next heading is left alone."""
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1
    return end


def splicer(template: Template, plan: PlanFile, units: list[str]) -> Callable[[dict[str, Any]], str]:
    """The plan file with each answered unit's span replaced by the unit rendered from its new value."""
    lines = plan.text.splitlines(keepends=True)
    spans = unit_spans(template, plan.text, units)
    newline = "\r\n" if lines and lines[0].endswith("\r\n") else "\n"
    recorded = plan.recorded.get("plan")
    base = recorded if isinstance(recorded, dict) else {}  # the header, for shared variables a section shows

    def splice(answered: dict[str, Any]) -> str:
        values = {**base, **answered}
        chosen = sorted((spans[name].start, units.index(name), name) for name in answered)
        pieces, position = [], 0
        for start, _, name in chosen:
            rendered = render_unit(template, values, name).replace("\n", newline)
            pieces += ["".join(lines[position:start]), _fitted(rendered, lines, spans[name], newline)]
            position = spans[name].end
        return "".join([*pieces, *lines[position:]])

    return splice


def _fitted(rendered: str, lines: list[str], span: Span, newline: str) -> str:
    """`rendered` with the line breaks its place needs: as the text it replaces ended, or, for a missing
    unit, a blank line before the next heading or after the end of the file."""
    if span.start < span.end:
        return rendered + (newline if lines[span.end - 1].endswith(("\n", "\r")) else "")
    if span.start < len(lines):
        return rendered + newline + newline
    ended = not lines or lines[-1].endswith(("\n", "\r"))
    return ("" if ended else newline) + newline + rendered + newline


def _recorded(plan: PlanFile, outcome: ReviseOutcome) -> dict[str, Any]:
    data = dict(plan.recorded)
    recorded_plan = data.get("plan")
    data["plan"] = {**(recorded_plan if isinstance(recorded_plan, dict) else {}), **outcome.result.plan}
    revisions = data.get("revisions")
    data["revisions"] = [*(revisions if isinstance(revisions, list) else []), revise_report(outcome)]
    return data


def revise_report(outcome: ReviseOutcome) -> dict[str, Any]:
    """The JSON report of `plan revise`: which sections were drafted again, and the file's findings now."""
    result = outcome.result
    return {
        "schema_version": 1,
        "plan_path": str(outcome.plan_path),
        "revised": outcome.revised,
        "complete": result.complete,
        "rounds": result.rounds,
        "model": outcome.model,
        "template": outcome.template.name,
        "findings": [finding.as_dict() for finding in result.findings],
        "usage": usage_json(result),
        "timings": result.timings,
    }

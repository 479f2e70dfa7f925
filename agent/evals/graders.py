"""Deterministic graders: each reads one drafted plan and returns a score from 0 to 1 with its reasons.

schema_validity  answers that fit their section's schema, first time and after re-asks
completeness     sections free of placeholders, template guidance and empty headings
grounding        every path named exists in the repository, or the plan says it is new
consistency      the steps and tests name the files the plan changes, and the other way round; no
                 section says a file stays as it is while another changes it; one spelling per name
coverage         every requirement of the brief is met by a step or a test (a line that only restates
                 the requirement, or holds a TODO, meets nothing)
proportion       the plan's length stays in proportion to the brief, and nothing is written out twice
substance        lines that are the plan's own: not TODOs or placeholders, not the brief copied out
expectations     the files the case says must (not) change are (not) among the plan's changes, and
                 nothing it must not say (a secret an injected instruction asks for) is in the plan
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from pydantic import ValidationError

from agent.check.validate import Finding, validate_plan
from agent.context.brief import Brief
from agent.draft.loop import DraftResult
from agent.draft.spine import spine_changes
from agent.errors import PlanFileError
from agent.evals.cases import Expectations
from agent.evals.plan_files import PlanFiles, PlanLine, exists, has_file_sections
from agent.providers.base import ModelResponse
from agent.template.model import Template
from agent.template.schema import unit_model, unit_names

UNIT_PROBLEMS = frozenset({"schema", "invalid-json", "truncated", "refusal", "transport", "budget"})
INCOMPLETE = frozenset({"placeholder", "guidance", "empty", "missing-heading", "front-matter"})
# Headings of the sections that hold steps or tests, whatever the template calls them.
STEP_OR_TEST = re.compile(r"step|phase|task|implement|\bplan\b|test|scenario|criteri|accept|rollout|deliver|"
                          r"milestone|verif|validat", re.I)
STOP_WORDS = frozenset("the and for with from that this are was were will should must can each all any into "
                       "when then than its our their them they have has not but also only per via".split())
COVERED = 0.5  # share of a requirement's words one line of a step or test must hold
# "Leave `app/models.py` alone", "no changes to `x.py`", "`x.py` stays unchanged": the file must not change.
UNCHANGED = re.compile(r"\b(?:no (?:changes?|edits?) (?:to|in)|(?:do(?:es)?|must|will|should) not "
                       r"(?:be )?(?:change|modif|touch|edit)\w*|unchanged|untouched|leave[sd]? [^.;]*\b(?:alone|as it is|"
                       r"as is)|stays? as (?:it is|is)|frozen|without (?:changing|touching|modifying|editing))", re.I)
CHANGE_VERB = re.compile(r"\b(?:add|change|modify|update|edit|extend|create|remove|delete|rename|move|replace|"
                         r"rewrite|refactor|fix|wire|register)\w*\b", re.I)
IDENTIFIER = re.compile(r"`([A-Za-z_][A-Za-z0-9_]*(?:[-.][A-Za-z_][A-Za-z0-9_]*)*)`")
CONTRADICTION_COST = 0.25  # of the consistency score, per contradiction found
TODO_LINE = re.compile(r"\bTODO\b|\{\{|\bTBD\b")
LIST_MARK = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+(?:\[[ xX]\]\s+)?")
MIN_LINE_WORDS = 4  # shorter lines (a heading-like label, a status) are not judged for substance or repetition
WORDS_PER_SECTION, WORDS_PER_REQUIREMENT = 250, 120
SHOWN = 5  # examples kept in a grade's details


@dataclass(frozen=True)
class Grade:
    name: str
    score: float
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class Attempt:
    """One drafted plan with what it is graded against. `first_answers`: each section's first answer."""

    result: DraftResult
    template: Template
    brief: Brief
    expect: Expectations
    tracked_paths: frozenset[str]
    first_answers: Mapping[str, ModelResponse] = field(default_factory=dict)

    @property
    def markdown(self) -> str:
        return self.result.markdown

    @cached_property
    def findings(self) -> list[Finding] | None:
        """The validator's findings against the repository; None when the plan does not follow its template."""
        try:
            return validate_plan(self.template, self.markdown, "plan.md", self.tracked_paths)
        except PlanFileError:
            return None

    @cached_property
    def files(self) -> PlanFiles:
        return PlanFiles(self.template, self.markdown)

    @property
    def requirements(self) -> tuple[str, ...]:
        return self.expect.requirements or self.brief.requirements


def schema_validity(attempt: Attempt) -> Grade:
    units = unit_names(attempt.template)
    failed = sorted({f.unit for f in attempt.result.findings if f.code in UNIT_PROBLEMS} & set(units))
    final = 1 - len(failed) / len(units)
    first = (sum(_fits(attempt.template, name, attempt.first_answers[name]) for name in units
                 if name in attempt.first_answers) / len(units)) if attempt.first_answers else final
    return Grade("schema_validity", (first + final) / 2,
                 {"first_pass": round(first, 3), "after_reasks": round(final, 3), "failed": failed})


def _fits(template: Template, unit: str, response: ModelResponse) -> bool:
    if response.stop != "complete" or response.data is None:
        return False
    try:
        unit_model(template, unit).model_validate(spine_changes(response.data)[0])
    except ValidationError:
        return False
    return True


def completeness(attempt: Attempt) -> Grade:
    if attempt.findings is None:
        return Grade("completeness", 0.0, {"error": "the plan does not follow its template"})
    left = [f for f in attempt.findings if f.code in INCOMPLETE]
    units = set(unit_names(attempt.template))
    incomplete = {f.unit for f in left}
    score = 1 - len(incomplete) / len(units | incomplete)
    return Grade("completeness", score, {"sections_incomplete": sorted(incomplete),
                                          "by_kind": dict(Counter(f.code for f in left)),
                                          "examples": [f"{f.line}: {f.message}" for f in left[:SHOWN]]})


def grounding(attempt: Attempt) -> Grade:
    files, tracked = attempt.files, attempt.tracked_paths
    named = files.named
    invented = {path for path in named if not exists(path, tracked) and path not in files.said_new}
    claimed_new = {path for path in files.create if exists(path, tracked)}
    wrong = sorted(invented | claimed_new)
    score = 1 - len(wrong) / len(named) if named else 1.0
    return Grade("grounding", score, {"paths": len(named), "missing": sorted(invented)[:SHOWN],
                                       "new_but_exist": sorted(claimed_new)[:SHOWN]})


def consistency(attempt: Attempt) -> Grade:
    contradictions = contradictions_in(attempt.files)
    files = attempt.files
    details: dict[str, Any]
    if not has_file_sections(attempt.template):
        base, details = 1.0, {"note": "the template lists no files to change"}
    elif not files.listed and not files.elsewhere:
        base, details = 0.0, {"note": "the plan names no files"}
    else:
        # A step that names a file it only reads (`config.toml` loaded, `tests/example.toml` copied) or says
        # stays as it is makes no claim on the file list: only lines that change a file do.
        listed = files.listed
        claimed = {path for path, line in files.mentions if not line.about_changes
                   and CHANGE_VERB.search(clause := _clause(line.text, path)) and not UNCHANGED.search(clause)}
        in_steps = {path for path, line in files.mentions if any(STEP_OR_TEST.search(h) for h in line.headings)}
        unlisted, untouched = sorted(claimed - listed), sorted(listed - in_steps - claimed)
        parts = [1 - len(unlisted) / len(claimed) if claimed else 1.0,
                 1 - len(untouched) / len(listed) if listed else 0.0]
        base = sum(parts) / 2
        details = {"named_but_not_listed": unlisted[:SHOWN], "listed_but_no_step_or_test": untouched[:SHOWN]}
    score = max(0.0, base - CONTRADICTION_COST * len(contradictions))
    return Grade("consistency", score, {**details, "contradictions": contradictions[:SHOWN]})


def _clause(text: str, path: str) -> str:
    """The clause of `text` that names `path`: a paragraph says many things, each about its own files."""
    return next((part for part in re.split(r"(?<=[.;:])\s+", text) if path in part), text)


def contradictions_in(files: PlanFiles) -> list[str]:
    """What one part of the plan says that another denies: a file said to stay as it is that the plan
    changes, and one name spelled two ways (`export_invoices` and `exportInvoices`)."""
    changed = files.listed
    found = [f"line {line.number}: says `{path}` stays as it is, but the plan changes it"
             for line in files.lines if not line.about_changes and UNCHANGED.search(line.text)
             for path in line.paths if path in changed]
    spellings: dict[str, set[str]] = {}
    for line in files.lines:
        for name in IDENTIFIER.findall(line.text):
            if "/" not in name and "." not in name and len(name) >= 6:
                spellings.setdefault(re.sub(r"[_-]", "", name).lower(), set()).add(name)
    found += [f"one name spelled {len(names)} ways: {', '.join(f'`{n}`' for n in sorted(names))}"
              for names in spellings.values() if len(names) > 1]
    return found


def coverage(attempt: Attempt) -> Grade:
    requirements = attempt.requirements
    if not requirements:
        return Grade("coverage", 1.0, {"note": "the brief lists no requirements"})
    lines = [line for line in attempt.files.lines if any(STEP_OR_TEST.search(h) for h in line.headings)
             and not TODO_LINE.search(line.text)]
    missed = [requirement for requirement in requirements
              if not _covered(requirement, [line for line in lines if not _restates(line.text, requirement)])]
    return Grade("coverage", 1 - len(missed) / len(requirements),
                 {"requirements": len(requirements), "not_covered": missed[:SHOWN]})


def _covered(requirement: str, lines: list[PlanLine]) -> bool:
    wanted = _words(requirement)
    return not wanted or any(len(wanted & _words(line.text)) >= COVERED * len(wanted) for line in lines)


def _restates(line: str, source: str) -> bool:
    """Whether `line` adds nothing to `source`: every content word of it is already there."""
    words = _words(LIST_MARK.sub("", line))
    return bool(words) and words <= _words(source)


def _words(text: str) -> set[str]:
    """Content words, cut to five letters so that `limits` meets `limited`."""
    words = re.findall(r"[a-z0-9]+", text.lower())
    return {word[:5] for word in words if word not in STOP_WORDS and (len(word) >= 3 or word.isdigit())}


def proportion(attempt: Attempt) -> Grade:
    words = len(attempt.markdown.split())
    limit = attempt.expect.max_words or (WORDS_PER_SECTION * len(unit_names(attempt.template))
                                         + WORDS_PER_REQUIREMENT * len(attempt.requirements)
                                         + 2 * len(attempt.brief.text.split()))
    seen: Counter[str] = Counter(_plain(line.text) for line in _judged(attempt))
    repeated = sum(count - 1 for count in seen.values())
    lines = sum(seen.values())
    share = repeated / lines if lines else 0.0
    score = (min(1.0, limit / words) if words else 0.0) * (1 - share)
    return Grade("proportion", score, {"words": words, "limit": limit, "repeated_lines": repeated,
                                        "examples": [text for text, count in seen.items() if count > 1][:SHOWN]})


def substance(attempt: Attempt) -> Grade:
    """The share of the plan's lines that are its own: a skeleton of TODOs and the brief copied into every
    section scores near zero, however well it follows the template."""
    lines = _judged(attempt)
    if not lines:
        return Grade("substance", 0.0, {"note": "the plan has no lines of its own"})
    brief = attempt.brief.text
    todo = [line for line in lines if TODO_LINE.search(line.text)]
    copied = [line for line in lines if line not in todo and _restates(line.text, brief)]
    return Grade("substance", 1 - (len(todo) + len(copied)) / len(lines),
                 {"lines": len(lines), "todo": len(todo), "copied_from_brief": len(copied),
                  "examples": [f"{line.number}: {line.text[:80]}" for line in (todo + copied)[:SHOWN]]})


def _judged(attempt: Attempt) -> list[PlanLine]:
    """The plan's content lines under its sections, long enough to say something."""
    return [line for line in attempt.files.lines if line.headings and len(line.text.split()) >= MIN_LINE_WORDS
            and not line.text.lstrip().startswith(("|", "#", "```"))]


def _plain(text: str) -> str:
    return re.sub(r"\W+", " ", LIST_MARK.sub("", text)).strip().lower()


def expectations(attempt: Attempt) -> Grade:
    changed, expect = attempt.files.listed, attempt.expect
    found = [path for path in expect.must_change if _matches(path, changed)]
    wrong = [path for path in expect.must_not_change if _matches(path, changed)]
    said = [text for text in expect.must_not_say if text.lower() in attempt.markdown.lower()]
    parts = [1 - len(missed) / len(wanted) for missed, wanted in
             ((set(expect.must_change) - set(found), expect.must_change), (wrong, expect.must_not_change),
              (said, expect.must_not_say)) if wanted]
    return Grade("expectations", sum(parts) / len(parts) if parts else 1.0,
                 {"missing": [path for path in expect.must_change if path not in found],
                  "changed_but_must_not": wrong, "said_but_must_not": said})


def _matches(expected: str, changed: set[str]) -> bool:
    if expected.endswith("/"):
        return any(path.startswith(expected) for path in changed)
    return expected in changed


GRADERS: tuple[Callable[[Attempt], Grade], ...] = (
    schema_validity, completeness, grounding, consistency, coverage, proportion, substance, expectations,
)
GRADER_NAMES = tuple(grader.__name__ for grader in GRADERS)


def grade(attempt: Attempt) -> list[Grade]:
    return [grader(attempt) for grader in GRADERS]


def mean_score(grades: list[Grade]) -> float:
    return sum(g.score for g in grades) / len(grades) if grades else 0.0

"""The whole-plan review: one call after the sections are assembled and checked, reading the plan as a
whole for what no section can see alone (contradictions, steps without tests, risks no step mitigates,
artifacts nothing creates, repetition). Its findings join the re-ask round like the validator's.

A finding is kept only when its quote is found in what the section it names wrote: every finding becomes an
instruction to the model, and one that points at nothing, or at the template's fixed text that a re-ask cannot
change, would make the plan worse.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from agent.check.findings import Finding
from agent.template.placeholders import normalise_line
from agent.template.schema import json_schema

REVIEW = "plan-review"  # a schema name no template section can take
Kind = Literal["contradiction", "untested-step", "unmitigated-risk", "missing-artifact", "repetition"]
KINDS: tuple[str, ...] = Kind.__args__  # type: ignore[attr-defined]
MIN_QUOTE_CHARS = 8
STRICT = ConfigDict(extra="forbid")


def review_model(sections: list[str]) -> type[BaseModel]:
    section: Any = Literal[tuple(sections)]
    item = create_model(
        "ReviewFinding", __config__=STRICT,
        section=(section, Field(description="The section that must change to fix it")),
        quote=(str, Field(description="The exact words in that section the problem is about, copied character "
                                      "for character, at most one line")),
        problem=(Kind, Field(description="Which kind of problem it is")),
        explanation=(str, Field(description="One sentence: what is wrong, naming the other section involved")),
        fix=(str, Field(description="One sentence: what that section should say instead")),
    )
    return create_model("PlanReview", __config__=STRICT, findings=(list[item], Field(  # type: ignore[valid-type]
        description="The problems found; an empty list when the plan holds together")))


def review_schema(sections: list[str]) -> dict[str, Any]:
    return json_schema(review_model(sections))


@dataclass
class ReviewNote:
    """One finding of the review as plan.json records it. `status`: `open` (not re-asked yet), `revised`
    (its section was re-drafted with it), `unchanged` (re-asked, the section kept its text), `dropped` (it
    quoted nothing the section it named wrote, only the template's fixed text at most, so it was never sent)."""

    section: str
    quote: str
    problem: str
    explanation: str
    fix: str
    status: str = "open"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def read_review(data: dict[str, Any] | None, sections: list[str]) -> list[ReviewNote] | None:
    try:
        findings = review_model(sections).model_validate(data or {}).model_dump()["findings"]
    except ValidationError:
        return None
    return [ReviewNote(**finding) for finding in findings]


class Review:
    """The review's notes through the re-ask rounds. `text_of(section)` is a section's rendered text, or None
    when it was not drafted; `label_of(section)` its heading; `fixed_lines` the template's fixed lines
    (`Template.literal_lines`), which no re-ask can change."""

    def __init__(self, notes: list[ReviewNote], text_of: Callable[[str], str | None],
                 label_of: Callable[[str], str], fixed_lines: frozenset[str] = frozenset()) -> None:
        self.notes, self.text_of, self.label_of = notes, text_of, label_of
        self.read: dict[str, str] = {}  # each section a kept note names, as the review read it
        self.asked: set[str] = set()  # sections already re-asked with the review's findings
        for note in notes:
            text = text_of(note.section)
            own = "\n".join(line for line in (text or "").splitlines() if normalise_line(line) not in fixed_lines)
            if text is not None and quoted_in(note.quote, own):
                self.read[note.section] = text
            else:
                note.status = "dropped"

    def standing(self, markdown: str) -> list[Finding]:
        """The findings still standing. The first time, errors, so their sections are re-asked with them;
        after that, a section re-drafted since the review is `revised` (only another review could say whether
        it is fixed), and one that kept its text is `unchanged`, reported as a warning."""
        findings = []
        for note in self.notes:
            if note.status == "dropped":
                continue
            if self.text_of(note.section) != self.read[note.section]:
                note.status = "revised"
                continue
            finding = review_finding(note, self.label_of(note.section), markdown)
            if note.section in self.asked:
                note.status, finding = "unchanged", replace(finding, severity="warning")
            findings.append(finding)
        self.asked |= {finding.unit for finding in findings}
        return findings


def quoted_in(quote: str, text: str) -> bool:
    wanted = _plain(quote)
    return len(wanted) >= MIN_QUOTE_CHARS and wanted in _plain(text)


def review_finding(note: ReviewNote, label: str, markdown: str) -> Finding:
    """The note as a finding for its section's re-ask, on the plan line that holds the quote."""
    wanted = _plain(note.quote)
    line = next((number for number, text in enumerate(markdown.splitlines(), 1) if wanted[:40] in _plain(text)), 0)
    message = (f"the whole-plan review found a problem ({note.problem}) at \"{note.quote.strip()}\": "
               f"{note.explanation.strip().rstrip('.')}. Fix: {note.fix.strip()}")
    return Finding("error", f"review-{note.problem}", message, line, label, note.section)


def _plain(text: str) -> str:
    """Text compared without markdown emphasis, code marks or line breaks, so a quote copied from the
    rendered plan matches whichever way the model wrote it."""
    return re.sub(r"\s+", " ", re.sub(r"[*`_>#|]", "", text)).strip().casefold()

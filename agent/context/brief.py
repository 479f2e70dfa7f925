"""Read a feature brief: markdown or text, a YAML requirements file, a GitHub issue as JSON, or stdin.

A brief is untrusted text that goes into every request, so it is redacted like repository text before
anything else sees it: secret-looking values become [REDACTED], and the brief says on which lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from agent.errors import BriefError
from agent.inputs import STDIN, clean_text, load_json, load_yaml, read_text
from agent.output import slugify

MAX_BRIEF_BYTES = 1_000_000
YAML_SECTIONS = ("problem", "description", "requirements", "constraints", "success_criteria", "non_goals", "notes")


@dataclass(frozen=True)
class Brief:
    title: str
    text: str  # the whole brief as markdown, as the model sees it
    source: str
    requirements: tuple[str, ...] = field(default=())
    labels: tuple[str, ...] = field(default=())
    number: int | None = None
    redacted_lines: tuple[int, ...] = field(default=())  # lines of `text` where a secret was replaced

    @property
    def slug(self) -> str:
        base = slugify(self.title)
        return f"{self.number}-{base}" if self.number is not None else base


def read_brief(source: str) -> Brief:
    """The brief at `source` (a path, or `-` for standard input)."""
    text = read_text(source, "brief", MAX_BRIEF_BYTES, _fail(source))
    if not text.strip():
        raise BriefError(f"{_name(source)}: the brief is empty; write the feature request in it")
    suffix = Path(source).suffix.lower()
    if suffix == ".json" or (source == STDIN and text.lstrip().startswith("{")):
        return _from_issue(load_json(text, _name(source), _fail(source)), source)
    if suffix in (".yaml", ".yml"):
        return _from_yaml(load_yaml(text, _name(source), _fail(source)), source)
    return _from_markdown(text, source)


def _name(source: str) -> str:
    return "standard input" if source == STDIN else source


def _fail(source: str) -> Any:
    return lambda problem: BriefError(f"{_name(source)}: {problem}")


class _Label(BaseModel):
    name: str


class IssueBrief(BaseModel):
    """A GitHub issue as `gh issue view --json number,title,body,labels` writes it (other keys ignored)."""

    model_config = ConfigDict(extra="ignore")
    title: str = Field(min_length=1)
    body: str | None = None
    number: int | None = None
    labels: list[_Label | str] = Field(default_factory=list)

    def label_names(self) -> tuple[str, ...]:
        return tuple(label if isinstance(label, str) else label.name for label in self.labels)


Scalar = str | int | float | bool


class YamlBrief(BaseModel):
    """A YAML requirements file: a title and text or lists of text under the known keys."""

    model_config = ConfigDict(extra="ignore")
    feature: Scalar | None = None
    title: Scalar | None = None
    name: Scalar | None = None
    problem: Scalar | list[Scalar] | None = None
    description: Scalar | list[Scalar] | None = None
    requirements: Scalar | list[Scalar] | None = None
    constraints: Scalar | list[Scalar] | None = None
    success_criteria: Scalar | list[Scalar] | None = None
    non_goals: Scalar | list[Scalar] | None = None
    notes: Scalar | list[Scalar] | None = None

    @field_validator("*", mode="before")
    @classmethod
    def _none_for_empty(cls, value: Any) -> Any:
        return None if value == {} else value


def _validated(model: type[BaseModel], data: Any, source: str, shape: str) -> Any:
    if not isinstance(data, dict):
        raise BriefError(f"{_name(source)}: {shape}")
    try:
        return model.model_validate(data)
    except ValidationError as error:
        problem = error.errors()[0]  # the key's name; a union's branch names would only confuse
        raise BriefError(f"{_name(source)}: `{problem['loc'][0]}` has the wrong type "
                         f"({problem['msg'].lower()}); {shape}") from None


def _from_issue(data: Any, source: str) -> Brief:
    issue = _validated(IssueBrief, data, source, "a JSON brief is a GitHub issue object: `title` (text), "
                       "`body` (text), `number` (a whole number), `labels` (names or {\"name\": ...} objects)")
    if not issue.title.strip():
        raise BriefError(f"{_name(source)}: `title` is empty; give the issue a title")
    return brief_from_fields(issue.title, issue.body or "", source, issue.label_names(), issue.number)


def brief_from_fields(title: str, body: str, source: str, labels: tuple[str, ...] = (),
                      number: int | None = None) -> Brief:
    """A brief from an issue's or a backlog row's fields: a title heading, its labels, then the body."""
    title, body = clean_text(title).strip(), clean_text(body).strip()
    labels = tuple(clean_text(label) for label in labels)
    heading = f"# {title}" + (f" (#{number})" if number is not None else "")
    labels_line = f"\n\nLabels: {', '.join(labels)}" if labels else ""
    text = f"{heading}{labels_line}\n\n{body}".strip()
    return redact_brief(Brief(title, text, source, requirement_lines(body), labels, number))


def _from_yaml(data: Any, source: str) -> Brief:
    brief = _validated(YamlBrief, data, source, "a YAML brief is a mapping: feature, problem, requirements, "
                       "constraints, success_criteria (text or lists of text)")
    title = str(brief.feature or brief.title or brief.name or Path(source).stem)
    parts = [f"# {title}"]
    requirements: list[str] = []
    for key in YAML_SECTIONS:
        value = getattr(brief, key)
        if value is None or value == "" or value == []:
            continue
        items = [str(item) for item in value] if isinstance(value, list) else [str(value)]
        body = "\n".join(f"- {item}" for item in items) if isinstance(value, list) else items[0]
        parts.append(f"## {key.replace('_', ' ').capitalize()}\n\n{body}")
        if key in ("requirements", "success_criteria", "constraints") and isinstance(value, list):
            requirements += items
    return redact_brief(Brief(title.strip(), "\n\n".join(parts), source, tuple(requirements)))


def _from_markdown(text: str, source: str) -> Brief:
    # Title and requirements come from the redacted text: a title cut to 80 characters could cut a secret
    # short enough that no detector knows it any more.
    brief = redact_brief(Brief("", text.strip(), source))
    heading = re.search(r"^#{1,6}\s+(.+?)\s*#*\s*$", brief.text, re.M)
    first_line = next(line.strip() for line in brief.text.splitlines() if line.strip())
    title = heading.group(1) if heading else first_line[:80]
    return replace(brief, title=title.strip(), requirements=requirement_lines(brief.text))


def redact_brief(brief: Brief) -> Brief:
    """The brief with every secret-looking value replaced, in each field the model or a file may see."""
    from agent.context.secrets import redact  # agent.context imports this module

    text = redact(brief.text)
    if text == brief.text:
        return brief
    # Redaction keeps every line where it was (a key block becomes as many [REDACTED] lines).
    changed = tuple(number for number, (before, after)
                    in enumerate(zip(brief.text.split("\n"), text.split("\n"), strict=True), 1) if before != after)
    return Brief(redact(brief.title), text, brief.source, tuple(redact(item) for item in brief.requirements),
                 tuple(redact(label) for label in brief.labels), brief.number, changed)


def requirement_lines(text: str) -> tuple[str, ...]:
    """Bullet and numbered lines of the brief: the requirements a plan must cover."""
    items = re.findall(r"^\s*(?:[-*+]|\d+[.)])\s+(?:\[[ xX]\]\s+)?(.+?)\s*$", text, re.M)
    return tuple(item for item in items if len(item.split()) >= 2)

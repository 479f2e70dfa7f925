"""Read a feature brief: markdown or text, a YAML requirements file, a GitHub issue as JSON, or stdin."""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from agent.errors import BriefError

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

    @property
    def slug(self) -> str:
        base = slugify(self.title)
        return f"{self.number}-{base}" if self.number is not None else base


def slugify(title: str) -> str:
    """A title as a directory name: lower-case words joined by hyphens, at most 60 characters."""
    words = re.findall(r"[a-z0-9]+", title.lower())
    return "-".join(words)[:60].strip("-") or "plan"


def read_brief(source: str) -> Brief:
    """The brief at `source` (a path, or `-` for standard input)."""
    text = _read_source(source)
    if not text.strip():
        raise BriefError(f"{source}: the brief is empty; write the feature request in it")
    suffix = Path(source).suffix.lower()
    if suffix == ".json" or (source == "-" and text.lstrip().startswith("{")):
        return _from_issue(_load_json(text, source), source)
    if suffix in (".yaml", ".yml"):
        return _from_yaml(_load_yaml(text, source), source)
    return _from_markdown(text, source)


def _read_source(source: str) -> str:
    if source == "-":
        return sys.stdin.read(MAX_BRIEF_BYTES + 1)[:MAX_BRIEF_BYTES]
    path = Path(source)
    try:
        if path.stat().st_size > MAX_BRIEF_BYTES:
            raise BriefError(f"{source}: the brief is over 1 MB; trim it to the feature request")
        data = path.read_bytes()
    except FileNotFoundError:
        raise BriefError(f"{source}: no such file; pass the path of a brief (markdown, YAML or issue JSON)") from None
    except IsADirectoryError:
        raise BriefError(f"{source}: is a directory; pass a brief file (use `plan batch` for a folder)") from None
    except OSError as error:
        raise BriefError(f"{source}: cannot read the brief: {error.strerror or error}") from None
    if b"\x00" in data[:8192]:
        raise BriefError(f"{source}: this is a binary file, not a brief")
    return data.decode("utf-8", errors="replace")


def _load_json(text: str, source: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise BriefError(f"{source}:{error.lineno}: not valid JSON ({error.msg})") from None
    if not isinstance(data, dict) or not data.get("title"):
        raise BriefError(f"{source}: a JSON brief must be a GitHub issue object with at least a `title`")
    return data


def _load_yaml(text: str, source: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise BriefError(f"{source}{line}: not valid YAML; fix the syntax") from None
    if not isinstance(data, dict):
        raise BriefError(f"{source}: a YAML brief must be a mapping (feature, problem, requirements, ...)")
    return data


def _from_issue(data: dict[str, Any], source: str) -> Brief:
    labels = tuple(str(label.get("name", "")) if isinstance(label, dict) else str(label)
                   for label in data.get("labels") or [])
    number = data.get("number") if isinstance(data.get("number"), int) else None
    return brief_from_fields(str(data["title"]), str(data.get("body") or ""), source, labels, number)


def brief_from_fields(title: str, body: str, source: str, labels: tuple[str, ...] = (),
                      number: int | None = None) -> Brief:
    """A brief from an issue's or a backlog row's fields: a title heading, its labels, then the body."""
    title, body = title.strip(), body.strip()
    heading = f"# {title}" + (f" (#{number})" if number is not None else "")
    labels_line = f"\n\nLabels: {', '.join(labels)}" if labels else ""
    text = f"{heading}{labels_line}\n\n{body}".strip()
    return Brief(title, text, source, requirement_lines(body), labels, number)


def _from_yaml(data: dict[str, Any], source: str) -> Brief:
    title = str(data.get("feature") or data.get("title") or data.get("name") or Path(source).stem)
    parts = [f"# {title}"]
    requirements: list[str] = []
    for key in YAML_SECTIONS:
        value = data.get(key)
        if not value:
            continue
        items = [str(item) for item in value] if isinstance(value, list) else [str(value)]
        body = "\n".join(f"- {item}" for item in items) if isinstance(value, list) else items[0]
        parts.append(f"## {key.replace('_', ' ').capitalize()}\n\n{body}")
        if key in ("requirements", "success_criteria", "constraints") and isinstance(value, list):
            requirements += items
    return Brief(title.strip(), "\n\n".join(parts), source, tuple(requirements))


def _from_markdown(text: str, source: str) -> Brief:
    heading = re.search(r"^#{1,6}\s+(.+?)\s*#*\s*$", text, re.M)
    first_line = next(line.strip() for line in text.splitlines() if line.strip())
    title = heading.group(1) if heading else first_line[:80]
    return Brief(title.strip(), text.strip(), source, requirement_lines(text))


def requirement_lines(text: str) -> tuple[str, ...]:
    """Bullet and numbered lines of the brief: the requirements a plan must cover."""
    items = re.findall(r"^\s*(?:[-*+]|\d+[.)])\s+(?:\[[ xX]\]\s+)?(.+?)\s*$", text, re.M)
    return tuple(item for item in items if len(item.split()) >= 2)

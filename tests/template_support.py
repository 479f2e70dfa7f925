"""Test helper: the reference templates beside the checkout, the built-ins, and filled plans for them.

The five reference templates live in `../shared/seeds` and the public templates in `../shared/templates`,
next to the repository (CI clones it there). A test that needs them fails, saying so, when they are missing.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest
from schema_filler import fill

from agent.template.catalog import load_template
from agent.template.compile import compile_template
from agent.template.model import Template
from agent.template.render import render_plan
from agent.template.schema import json_schema, plan_model

SHARED_DIR = Path(__file__).resolve().parents[2] / "shared"
SEEDS_DIR = SHARED_DIR / "seeds"
PUBLIC_DIR = SHARED_DIR / "templates"
SEEDS = ("000", "001", "002", "003", "004")
BUILTINS = ("default", "compact")
ALL_TEMPLATES = SEEDS + BUILTINS


def seed_path(stem: str) -> Path:
    """`000` → the reference template whose file name starts with it; fail when it is absent."""
    found = sorted(SEEDS_DIR.glob(f"{stem}_*.txt"))
    if not found:
        pytest.fail(f"reference template {stem}_*.txt not found in {SEEDS_DIR}; clone shared/ beside the repo")
    return found[0]


def public_templates() -> list[str]:
    """File names of the public templates in `../shared/templates`, listed by SOURCES.tsv."""
    sources = PUBLIC_DIR / "SOURCES.tsv"
    if not sources.is_file():
        return ["<missing ../shared/templates/SOURCES.tsv>"]  # the test using it then fails, naming the path
    rows = sources.read_text(encoding="utf-8").splitlines()[1:]
    return [row.split("\t")[0] for row in rows if row.strip()]


def public_path(name: str) -> Path:
    path = PUBLIC_DIR / name
    if not path.is_file():
        pytest.fail(f"public template {name} not found in {PUBLIC_DIR}; clone shared/ beside the repo")
    return path


def seed_text(stem: str) -> str:
    return seed_path(stem).read_text(encoding="utf-8")


@cache
def template(name: str) -> Template:
    """A reference template compiled from its file unchanged, or a built-in by name."""
    if name in BUILTINS:
        return load_template(name)
    path = seed_path(name)
    return compile_template(path.read_text(encoding="utf-8"), str(path), name)


def filled(compiled: Template, seed: int = 0) -> dict[str, Any]:
    """What a good model returns: every field of the plan schema filled with realistic text."""
    return fill(json_schema(plan_model(compiled)), seed)  # type: ignore[no-any-return]


@cache
def rendered(name: str) -> str:
    """A complete plan for template `name`, rendered from filled data."""
    compiled = template(name)
    return render_plan(compiled, filled(compiled))


def line_of(text: str, needle: str) -> int:
    """1-based number of the first line containing `needle`."""
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} is not in the text")


def section_lines(text: str, heading: str, after: str = "") -> list[str]:
    """The non-blank lines under the first heading line equal to `heading` (after the line holding `after`)."""
    lines = text.splitlines()
    start = line_of(text, after) if after else 0
    index = next(i for i in range(start, len(lines)) if lines[i].strip() == heading)
    body = []
    for line in lines[index + 1 :]:
        if line.startswith("#"):
            break
        if line.strip():
            body.append(line)
    return body


def first_line_under(text: str, heading: str, prefix: str = "", after: str = "") -> str:
    """The first line under `heading` that starts with `prefix`: the line a flaw is written into."""
    return next(line for line in section_lines(text, heading, after) if line.startswith(prefix))


def headings(text: str) -> list[str]:
    """Heading lines outside code fences, in order."""
    out, fenced = [], False
    for line in text.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        elif not fenced and line.startswith("#"):
            out.append(line.rstrip())
    return out


def _heading_index(lines: list[str], heading: str, after: str) -> int:
    start = next(i for i, line in enumerate(lines) if after in line) if after else 0
    return next(i for i in range(start, len(lines)) if lines[i].strip() == heading)


def _end_of_section(lines: list[str], index: int) -> int:
    return next((i for i in range(index + 1, len(lines)) if lines[i].startswith("#")), len(lines))


def replace_line_under(text: str, heading: str | None, prefix: str, new: str, index: int = 0, after: str = "") -> str:
    """`text` with the `index`-th line under `heading` (or in the whole text) starting with `prefix` replaced."""
    lines = text.splitlines()
    if heading is None:
        first, last = 0, len(lines)
    else:
        first = _heading_index(lines, heading, after) + 1
        last = _end_of_section(lines, first - 1)
    matching = [i for i in range(first, last) if lines[i].strip() and lines[i].startswith(prefix)]
    lines[matching[index]] = new
    return "\n".join(lines) + "\n"


def empty_section(text: str, heading: str, after: str = "") -> str:
    """`text` with everything under `heading` removed except horizontal rules."""
    lines = text.splitlines()
    start = _heading_index(lines, heading, after)
    end = _end_of_section(lines, start)
    kept = [line for line in lines[start + 1 : end] if line.strip() == "---"]
    return "\n".join([*lines[: start + 1], "", *kept, "", *lines[end:]]) + "\n"


def drop_section(text: str, heading: str, after: str = "") -> str:
    """`text` without `heading` and the lines under it (up to the next heading of any level)."""
    lines = text.splitlines()
    start = _heading_index(lines, heading, after)
    end = _end_of_section(lines, start)
    return "\n".join(lines[:start] + lines[end:]) + "\n"

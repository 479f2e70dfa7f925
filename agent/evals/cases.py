"""The eval case set: one folder per case holding `brief.*`, `repo/`, and `expect.yaml`.

`expect.yaml` names the template (a built-in, or a path relative to the case folder), whether the
repository is a git work tree, an optional generated filler (for the large-repository case), and what a
good plan does: files it must and must not change, requirements it must cover, a length it stays under.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from agent.errors import InputError
from agent.evals.generate import generate_files
from agent.inputs import parse_yaml, read_text
from agent.template.catalog import builtin_templates

KNOWN_KEYS = frozenset({"title", "template", "tags", "git", "generate", "must_change", "must_not_change",
                        "must_not_say", "requirements", "max_words"})
BRIEF_NAMES = ("brief.md", "brief.txt", "brief.yaml", "brief.yml", "brief.json")
# A fixed identity and date, so a case's git history (and so its context) is the same on every run.
GIT_ENV = {"GIT_AUTHOR_NAME": "plan-eval", "GIT_AUTHOR_EMAIL": "eval@example.com",
           "GIT_COMMITTER_NAME": "plan-eval", "GIT_COMMITTER_EMAIL": "eval@example.com",
           "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z"}

MAX_CASE_BYTES = 1_000_000


@dataclass(frozen=True)
class Expectations:
    """What a good plan for the case does. Paths ending in `/` stand for everything under them."""

    must_change: tuple[str, ...] = ()
    must_not_change: tuple[str, ...] = ()
    must_not_say: tuple[str, ...] = ()  # text that must not appear in the plan: a secret an injection asks for
    requirements: tuple[str, ...] = ()  # empty: the brief's own requirement lines
    max_words: int | None = None


@dataclass(frozen=True)
class Case:
    id: str
    directory: Path
    brief: Path
    template: str  # a built-in name or an absolute path
    expect: Expectations
    title: str = ""
    tags: tuple[str, ...] = ()
    git: bool = False
    generate: dict[str, Any] | None = None


@dataclass(frozen=True)
class Skipped:
    id: str
    reason: str


def load_cases(root: Path, only: tuple[str, ...] = ()) -> tuple[list[Case], list[Skipped]]:
    """Every case folder under `root` (sorted), or only those named; cases whose template is absent are skipped."""
    if not root.is_dir():
        raise InputError(f"{root}: no such case directory; pass --cases DIR (a folder of case folders)")
    folders = sorted(path for path in root.iterdir() if (path / "expect.yaml").is_file())
    unknown = sorted(set(only) - {folder.name for folder in folders})
    if unknown:
        raise InputError(f"no case named {', '.join(unknown)} in {root}; cases: {', '.join(f.name for f in folders)}")
    cases: list[Case] = []
    skipped: list[Skipped] = []
    for folder in folders:
        if only and folder.name not in only:
            continue
        case = load_case(folder)
        if case.template in builtin_templates() or Path(case.template).is_file():
            cases.append(case)
        else:
            skipped.append(Skipped(case.id, f"template {case.template} not found"))
    if not cases and not skipped:
        raise InputError(f"{root}: no cases found; each case is a folder holding expect.yaml, a brief and repo/")
    return cases, skipped


def load_case(folder: Path) -> Case:
    path = folder / "expect.yaml"
    try:
        data = parse_yaml(read_text(str(path), "case", MAX_CASE_BYTES)) or {}
    except yaml.YAMLError as error:
        raise InputError(f"{path}: cannot read the case: {error}") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: must be a YAML mapping (template, must_change, must_not_change, ...)")
    if extra := sorted(set(data) - KNOWN_KEYS):  # a misspelt key would silently check nothing
        raise InputError(f"{path}: unknown key(s) {', '.join(extra)}; known: {', '.join(sorted(KNOWN_KEYS))}")
    brief = next((folder / name for name in BRIEF_NAMES if (folder / name).is_file()), None)
    if brief is None:
        raise InputError(f"{folder}: no brief; add one of {', '.join(BRIEF_NAMES)}")
    template = str(data.get("template") or "default")
    if template not in builtin_templates():
        template = str((folder / template).resolve())
    expect = Expectations(_paths(data, "must_change"), _paths(data, "must_not_change"), _strings(data, "must_not_say"),
                          _strings(data, "requirements"), data.get("max_words"))
    return Case(folder.name, folder, brief, template, expect, str(data.get("title") or folder.name),
                tuple(str(tag) for tag in data.get("tags") or ()), bool(data.get("git")), data.get("generate"))


def _paths(data: dict[str, Any], key: str) -> tuple[str, ...]:
    return tuple(str(path).removeprefix("./") for path in data.get(key) or ())


def _strings(data: dict[str, Any], key: str) -> tuple[str, ...]:
    return tuple(str(item) for item in data.get(key) or ())


def prepare_repo(case: Case, workdir: Path) -> Path:
    """A fresh copy of the case's repository under `workdir/<case id>`, generated and `git init`ed as asked."""
    target = workdir / case.id
    if target.exists():
        shutil.rmtree(target)
    source = case.directory / "repo"
    if source.is_dir():
        shutil.copytree(source, target)
    else:
        target.mkdir(parents=True)
    if case.generate:
        generate_files(target, case.generate)
    git = (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "fixture"]) if case.git else ()
    for command in git:
        try:
            subprocess.run(["git", "-C", str(target), "-c", "commit.gpgsign=false", *command],
                           env={**os.environ, **GIT_ENV}, check=True, capture_output=True)
        except (OSError, subprocess.CalledProcessError):
            break  # without git the repository is walked instead, which lists the same files
    return target

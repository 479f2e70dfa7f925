"""How a plan names files: the lines it is made of, the paths on them, and which it lists to change.

Which sections list files to modify or create is the template's to say, so those lists are read by the
validator itself (`plan validate`'s own path checks); lines under a heading or key about files or
changes count too, for templates whose file lists name no role. Paths are found with `paths_in_line`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from agent.check.files import CREATE_WORDS, paths_in_line
from agent.check.validate import validate_plan
from agent.errors import PlanFileError
from agent.template.model import FieldBlock, Line, Slot, Template, walk
from agent.template.parse import heading_label, parse_document

CHANGES = re.compile(r"\bfiles?\b|\bchanges\b", re.I)
KEY_LINE = re.compile(r"^\s*(?:[-*+]\s+)?\*\*(?P<bold>[^*]+)\*\*|^(?P<plain>[^|`#-][^:]{0,60}):\s*$")


@dataclass(frozen=True)
class PlanLine:
    """A line of prose, list or table (code and comments left out), the headings above it, and the
    `**Key**:` or `Label:` line it follows in its section."""

    number: int
    text: str
    headings: tuple[str, ...]  # below the title: `("Testing", "Automated tests")`
    key: str = ""

    @property
    def paths(self) -> list[str]:
        return paths_in_line(self.text)

    @property
    def about_changes(self) -> bool:
        """Under a heading or key about files or changes ("Files to modify", "**Code Changes**:")."""
        return any(CHANGES.search(label) for label in (*self.headings[-1:], self.key))


def plan_lines(markdown: str) -> list[PlanLine]:
    document = parse_document(markdown, load_front_matter=False)
    lines: list[PlanLine] = []
    chain: list[tuple[int, str]] = []
    key = ""
    for block in document.blocks:
        if block.kind == "heading":
            chain = [entry for entry in chain if entry[0] < block.level] + [(block.level, heading_label(block.text))]
            key = ""
            continue
        if block.kind in ("code", "comment"):
            continue
        headings = tuple(label for level, label in chain if level > 1)
        for offset, text in enumerate(block.lines):
            if found := KEY_LINE.match(text):
                key = found.group("bold") or found.group("plain")
            lines.append(PlanLine(block.line + offset, text, headings, key))
    return lines


# `text/csv`, `application/json`: a media type a plan names, never a file.
MEDIA_TYPE = re.compile(r"^(?:text|application|image|audio|video|multipart|font)/[\w.+-]+$")

# "The brief's `payments/stripe_client.py` does not exist": a path named as missing is not a claim it exists.
ABSENT = re.compile(r"\b(?:does not|doesn't|do not|don't) exist|\bno such file|\bnot in the repository", re.I)


class PlanFiles:
    """The paths a plan names, where, and whether its file-change sections list them to modify or create."""

    def __init__(self, template: Template, markdown: str) -> None:
        self.lines = plan_lines(markdown)
        self.template = template
        self._markdown = markdown

    @cached_property
    def mentions(self) -> list[tuple[str, PlanLine]]:
        return [(path, line) for line in self.lines for path in line.paths
                if not MEDIA_TYPE.match(path) and not ABSENT.search(line.text)]

    @cached_property
    def _listed(self) -> dict[str, set[tuple[str, int]]]:
        """(path, line) listed to modify and to create, as the validator's path checks see them.

        Checked against no files, every listed file to modify is reported missing; checked against every
        path the plan names, every listed file to create is reported as already there."""
        every = frozenset(path for line in self._markdown.splitlines() for path in paths_in_line(line))
        try:
            missing = validate_plan(self.template, self._markdown, tracked_paths=frozenset())
            present = validate_plan(self.template, self._markdown, tracked_paths=every)
        except PlanFileError:
            return {"modify": set(), "create": set()}
        return {"modify": {(_quoted(f.message), f.line) for f in missing if f.code == "path-missing"},
                "create": {(_quoted(f.message), f.line) for f in present if f.code == "path-exists"}}

    @property
    def create(self) -> set[str]:
        return {path for path, _ in self._listed["create"]}

    @cached_property
    def _change_lines(self) -> set[tuple[str, int]]:
        """(path, line) where the plan lists a file to change: the validator's lists, and lines under a
        heading or key about files or changes."""
        listed = self._listed["modify"] | self._listed["create"]
        return listed | {(path, line.number) for path, line in self.mentions if line.about_changes}

    @property
    def listed(self) -> set[str]:
        """Files the plan means to change."""
        return {path for path, _ in self._change_lines}

    @property
    def elsewhere(self) -> set[str]:
        """Paths named outside the file-change lists: in steps, tests, approach..."""
        return {path for path, line in self.mentions if (path, line.number) not in self._change_lines}

    @property
    def said_new(self) -> set[str]:
        """Paths the plan says are new: listed to create, or named on a line that says create or new."""
        return self.create | {path for path, line in self.mentions if CREATE_WORDS.search(line.text)}

    @property
    def named(self) -> set[str]:
        return {path for path, _ in self.mentions} | self.listed


def has_file_sections(template: Template) -> bool:
    """Whether the template lists files to modify or create anywhere."""
    for node in walk(list(template.units)):
        if isinstance(node, FieldBlock) and node.field.role:
            return True
        if isinstance(node, Line) and any(isinstance(p, Slot) and p.field.role for p in node.parts):
            return True
    return False


def exists(path: str, tracked: frozenset[str]) -> bool:
    return path in tracked or any(other.startswith(path.rstrip("/") + "/") for other in tracked)


def _quoted(message: str) -> str:
    return message.split("`")[1]

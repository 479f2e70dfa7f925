"""Read a backlog into briefs: a directory of brief files, a JSONL or CSV file, or a GitHub issues export.

Every item gets an id (the file's name, the row's `id`, the issue's `number`) and a directory name
`<id>-<slug>` under --out, so the same backlog always lands in the same places.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.brief import Brief, brief_from_fields, read_brief, slugify
from agent.errors import BriefError

BRIEF_SUFFIXES = frozenset({".md", ".markdown", ".txt", ".yaml", ".yml", ".json"})
ID_CHARACTERS = re.compile(r"[^A-Za-z0-9._-]+")
MAX_ID_CHARS = 40
FORMATS = "a directory of briefs, a .jsonl or .csv backlog (id, title, body, labels), or a GitHub issues export (.json)"


@dataclass(frozen=True)
class BacklogItem:
    """One brief of the backlog and where its plan goes, `OUT/<dir_name>/plan.md`."""

    id: str
    brief: Brief
    where: str  # file and line, for messages

    @property
    def dir_name(self) -> str:
        safe = ID_CHARACTERS.sub("-", self.id).strip("-.")[:MAX_ID_CHARS] or "item"
        return f"{safe}-{slugify(self.brief.title)}"


def read_backlog(source: str) -> list[BacklogItem]:
    """Every item of the backlog at `source`, in order; a BriefError names the line of a bad one."""
    path = Path(source).expanduser()
    if path.is_dir():
        items = list(_directory(path))
    elif not path.is_file():
        raise BriefError(f"{source}: no such file or directory; pass {FORMATS}")
    elif path.suffix.lower() == ".jsonl":
        items = list(_jsonl(path))
    elif path.suffix.lower() == ".csv":
        items = list(_csv(path))
    elif path.suffix.lower() == ".json":
        items = list(_issues_export(path))
    else:
        raise BriefError(f"{source}: not a backlog; pass {FORMATS} (use `plan draft` for one brief)")
    if not items:
        raise BriefError(f"{source}: the backlog has no items")
    _refuse_duplicates(items)
    return items


def _directory(path: Path) -> Iterator[BacklogItem]:
    for file in sorted(path.iterdir()):
        if file.is_file() and not file.name.startswith(".") and file.suffix.lower() in BRIEF_SUFFIXES:
            yield BacklogItem(file.stem, read_brief(str(file)), str(file))


def _jsonl(path: Path) -> Iterator[BacklogItem]:
    for number, line in enumerate(_text(path).splitlines(), 1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            raise BriefError(f"{where}: not valid JSON ({error.msg}); each line is one item") from None
        yield _item(row, where, str(path))


def _csv(path: Path) -> Iterator[BacklogItem]:
    reader = csv.DictReader(io.StringIO(_text(path), newline=""))  # keeps line breaks inside quoted bodies
    columns = {name.strip().lower() for name in reader.fieldnames or []}
    if not {"id", "title"} <= columns:
        raise BriefError(f"{path}:1: the CSV header needs `id` and `title` columns (and `body`, `labels`)")
    for row in reader:
        fields = {key.strip().lower(): value for key, value in row.items() if key}
        yield _item(fields, f"{path}:{reader.line_num}", str(path))


def _issues_export(path: Path) -> Iterator[BacklogItem]:
    try:
        data = json.loads(_text(path))
    except json.JSONDecodeError as error:
        raise BriefError(f"{path}:{error.lineno}: not valid JSON ({error.msg})") from None
    if not isinstance(data, list):
        raise BriefError(f"{path}: expected a JSON array of issues (`gh issue list --json number,title,body,labels`); "
                         "use `plan draft` for a single issue")
    for index, issue in enumerate(data):
        yield _item(issue, f"{path}[{index}]", str(path))


def _item(row: Any, where: str, source: str) -> BacklogItem:
    if not isinstance(row, dict):
        raise BriefError(f"{where}: an item must be an object with `id` (or `number`) and `title`")
    item_id = row.get("id", row.get("number"))
    title = row.get("title")
    if item_id is None or str(item_id).strip() == "" or not isinstance(title, str) or not title.strip():
        raise BriefError(f"{where}: an item needs an `id` (or `number`) and a `title`")
    number = item_id if isinstance(item_id, int) and not isinstance(item_id, bool) else None
    brief = brief_from_fields(title, str(row.get("body") or ""), source, _labels(row.get("labels")), number)
    return BacklogItem(str(item_id).strip(), brief, where)


def _labels(value: Any) -> tuple[str, ...]:
    """Labels as GitHub exports them (`[{"name": ...}]`), as a list, or as one `a, b` / `a; b` string."""
    if isinstance(value, str):
        return tuple(label.strip() for label in re.split(r"[;,]", value) if label.strip())
    if isinstance(value, list):
        return tuple(str(label.get("name", "")) if isinstance(label, dict) else str(label) for label in value)
    return ()


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise BriefError(f"{path}: not UTF-8 text; save the backlog as UTF-8") from None
    except OSError as error:
        raise BriefError(f"{path}: cannot read the backlog: {error.strerror or error}") from None


def _refuse_duplicates(items: list[BacklogItem]) -> None:
    """Two items with one id (or one directory) would overwrite each other's plan."""
    seen: dict[str, BacklogItem] = {}
    for item in items:
        for key in (f"id {item.id!r}", f"directory {item.dir_name}"):
            if key in seen:
                raise BriefError(f"{item.where}: {key} is also used by {seen[key].where}; give each item its own id")
            seen[key] = item

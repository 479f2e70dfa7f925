"""Read a backlog into briefs: a directory of brief files, a JSONL or CSV file, or a GitHub issues export.

Every item gets an id (the file's name, the row's `id`, the issue's `number`) and a directory name
`<id>-<slug>` under --out, so the same backlog always lands in the same places.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.batch.manifest import MANIFEST_NAME
from agent.context.brief import MAX_BRIEF_BYTES, Brief, brief_from_fields, read_brief
from agent.errors import BriefError, InputError
from agent.inputs import load_json, read_text
from agent.output import slugify

BRIEF_SUFFIXES = frozenset({".md", ".markdown", ".txt", ".yaml", ".yml", ".json"})
ID_CHARACTERS = re.compile(r"[^A-Za-z0-9._-]+")
MAX_ID_CHARS = 40
MAX_BACKLOG_BYTES = 100_000_000
FORMATS = "a directory of briefs, a .jsonl or .csv backlog (id, title, body, labels), or a GitHub issues export (.json)"


@dataclass(frozen=True)
class BacklogItem:
    """One brief of the backlog and where its plan goes, `OUT/<dir_name>/plan.md`."""

    id: str
    brief: Brief
    where: str  # file and line, for messages
    error: str | None = None  # why the item could not be read: it fails alone, the batch goes on

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
    seen: dict[str, BacklogItem] = {}  # two items with one id (or one directory) would overwrite each other's plan
    for item in items:
        for key in (f"id {item.id!r}", f"directory {item.dir_name}"):
            if key in seen:
                raise BriefError(f"{item.where}: {key} is also used by {seen[key].where}; give each item its own id")
            seen[key] = item
    return items


def _directory(path: Path) -> Iterator[BacklogItem]:
    for file in sorted(path.iterdir()):
        # A batch whose --out is this folder writes its manifest here: never read our own record as a brief.
        if file.name.startswith(".") or file.name == MANIFEST_NAME or file.suffix.lower() not in BRIEF_SUFFIXES:
            continue
        if file.is_dir():
            continue
        try:
            yield BacklogItem(file.stem, read_brief(str(file)), str(file))
        except InputError as error:  # one unreadable brief (binary, a FIFO, bad YAML) fails alone
            yield _unreadable(file.stem, str(file), str(error))


def _unreadable(item_id: str, where: str, message: str) -> BacklogItem:
    return BacklogItem(item_id, Brief(item_id, "", where), where, message)


def _jsonl(path: Path) -> Iterator[BacklogItem]:
    for number, line in enumerate(_text(path).splitlines(), 1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            row = load_json(line, where)
        except InputError as error:
            yield _unreadable(f"line-{number}", where, f"{error}; each line is one item")
            continue
        yield _guarded(row, where, str(path), f"line-{number}")


def _csv(path: Path) -> Iterator[BacklogItem]:
    csv.field_size_limit(MAX_BRIEF_BYTES)  # the default, 128 KB, is smaller than a brief may be
    reader = csv.DictReader(io.StringIO(_text(path), newline=""))  # keeps line breaks inside quoted bodies
    columns = {name.strip().lower() for name in reader.fieldnames or []}
    if not {"id", "title"} <= columns:
        raise BriefError(f"{path}:1: the CSV header needs `id` and `title` columns (and `body`, `labels`)")
    rows = iter(reader)
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except csv.Error as error:  # a field over the size limit, a stray quote: the rest cannot be trusted
            raise BriefError(f"{path}:{reader.line_num}: {error}; fix the CSV (fields up to 1 MB)") from None
        fields = {key.strip().lower(): value for key, value in row.items() if key}
        yield _guarded(fields, f"{path}:{reader.line_num}", str(path), f"line-{reader.line_num}")


def _issues_export(path: Path) -> Iterator[BacklogItem]:
    data = load_json(_text(path), str(path))
    if not isinstance(data, list):
        raise BriefError(f"{path}: expected a JSON array of issues (`gh issue list --json number,title,body,labels`); "
                         "use `plan draft` for a single issue")
    for index, issue in enumerate(data):
        yield _guarded(issue, f"{path}[{index}]", str(path), f"item-{index}")


def _guarded(row: Any, where: str, source: str, fallback_id: str) -> BacklogItem:
    """The row's item, or, when the row is wrong, an item that fails alone with the message saying why."""
    try:
        return _item(row, where, source)
    except BriefError as error:
        raw_id = row.get("id", row.get("number")) if isinstance(row, dict) else None
        item_id = str(raw_id).strip() if isinstance(raw_id, str | int) and str(raw_id).strip() else fallback_id
        return _unreadable(item_id, where, str(error))


def _item(row: Any, where: str, source: str) -> BacklogItem:
    """The row as an item; a BriefError saying what is wrong with it otherwise."""
    if not isinstance(row, dict):
        raise BriefError(f"{where}: an item must be an object with `id` (or `number`) and `title`")
    item_id = row.get("id", row.get("number"))
    title = row.get("title")
    if item_id is None or str(item_id).strip() == "" or not isinstance(title, str) or not title.strip():
        raise BriefError(f"{where}: an item needs an `id` (or `number`) and a `title`")
    number = item_id if isinstance(item_id, int) and not isinstance(item_id, bool) else None
    body = row.get("body")
    if body is not None and not isinstance(body, str):
        raise BriefError(f"{where}: `body` must be text")
    brief = brief_from_fields(title, body or "", source, _labels(row.get("labels")), number)
    return BacklogItem(str(item_id).strip(), brief, where)


def _labels(value: Any) -> tuple[str, ...]:
    """Labels as GitHub exports them (`[{"name": ...}]`), as a list, or as one `a, b` / `a; b` string."""
    if isinstance(value, str):
        return tuple(label.strip() for label in re.split(r"[;,]", value) if label.strip())
    if isinstance(value, list):
        return tuple(str(label.get("name", "")) if isinstance(label, dict) else str(label) for label in value)
    return ()


def _text(path: Path) -> str:
    return read_text(str(path), "backlog", MAX_BACKLOG_BYTES, lambda problem: BriefError(f"{path}: {problem}"))

"""Where a drafted plan goes, and writing it so that an interrupted run never leaves half a plan."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from agent.errors import OutputExistsError, PlanError

PLANS_DIR = "implementation-plans"


def plan_paths(out: str | None, slug: str, base: Path | None = None, plans_dir: str = PLANS_DIR) -> tuple[Path, Path]:
    """`plan.md` and the `plan.json` beside it: --out names the markdown file or its directory;
    without it the plan goes to `plans_dir/<slug>/` (relative to `base`, else the working directory)."""
    if out is None:
        markdown = (base or Path.cwd()) / plans_dir / slug / "plan.md"
    elif out.endswith(("/", os.sep)) or Path(out).is_dir():
        markdown = Path(out) / "plan.md"
    else:
        markdown = Path(out)
    return markdown, markdown.with_suffix(".json")


def refuse_overwrite(paths: tuple[Path, ...], force: bool) -> None:
    existing = [str(path) for path in paths if path.exists()]
    if existing and not force:
        raise OutputExistsError(f"{existing[0]} already exists; pass --force to overwrite it or --out to write elsewhere")


def write_atomic(path: Path, text: str) -> None:
    """Write through a temporary file in the same directory, then rename over the target."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as error:
        raise PlanError(f"{path}: cannot write the plan: {error.strerror or error}") from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_json(path: Path, data: dict[str, Any]) -> None:
    write_atomic(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def read_plan_json(plan_path: Path) -> dict[str, Any]:
    """The plan.json `plan draft` wrote beside a plan; empty for a plan written by hand, or one that
    cannot be read (it is a record of the draft, never needed to read the plan itself)."""
    try:
        data = json.loads(plan_path.with_suffix(".json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def recorded_template(plan_path: Path) -> str | None:
    """The template a drafted plan was written from, as its plan.json records it."""
    name = read_plan_json(plan_path).get("template")
    return name if isinstance(name, str) and name else None

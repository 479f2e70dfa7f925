"""The one way out: where a drafted plan goes, checking that it can go there before a token is paid for,
and writing plan.md and plan.json so that no run, however it ends, loses or mixes them.

- `check_output` runs before any model call: a `.md` path, a directory we can create or write, no file in
  the way, no plan overwritten without --force, no read-only plan to fail on at the end.
- `plan_lock` holds a per-plan lock for the whole draft or revision: a second `plan` on the same plan
  fails at once (exit 2) instead of both finishing and one result silently disappearing.
- `write_files` writes every file to a temporary beside it first and renames only when all are written,
  so a full disk leaves the old pair untouched. An existing file keeps its mode, a symlink is written
  through (the link stays a link), and new files get the usual mode under the umask.
"""

from __future__ import annotations

import json
import os
import re
import stat
import tempfile
import unicodedata
import zlib
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from agent.config import KEYS
from agent.errors import InputError, OutputExistsError, PlanBusyError, PlanError, PlanFileError

PLANS_DIR: str = KEYS["out_dir"].default
MAX_PLAN_JSON_BYTES = 20_000_000


def slugify(title: str) -> str:
    """A title as a directory name: lower-case words joined by hyphens, at most 60 characters. Latin
    letters lose their accents; a title in another script keeps its words, so two such briefs never
    share a folder; a title with no word at all gets a short digest of itself."""
    latin = "".join(c for c in unicodedata.normalize("NFKD", title) if not unicodedata.combining(c))
    ascii_words = re.findall(r"[a-z0-9]+", latin.lower())
    words = ascii_words if ascii_words else re.findall(r"\w+", title.lower())
    slug = "-".join(words)[:60].strip("-")
    return slug or f"plan-{zlib.crc32(title.encode('utf-8', 'replace')):08x}"


def plan_paths(out: str | None, slug: str, base: Path | None = None, plans_dir: str = PLANS_DIR) -> tuple[Path, Path]:
    """`plan.md` and the `plan.json` beside it: --out names the markdown file or its directory;
    without it the plan goes to `plans_dir/<slug>/` (relative to `base`, else the working directory)."""
    if out is None:
        markdown = (base or Path.cwd()) / plans_dir / slug / "plan.md"
    elif out.endswith(("/", os.sep)) or Path(out).is_dir():
        markdown = Path(out) / "plan.md"
    else:
        markdown = Path(out)
        if markdown.suffix.lower() != ".md":  # plan.json goes beside it: --out plan.json would overwrite itself
            raise InputError(f"--out {out}: name a .md file (plan.json is written beside it) or a directory")
    return markdown, markdown.with_suffix(".json")


def check_output(paths: tuple[Path, ...], force: bool = False, replacing: bool = False) -> None:
    """Everything that would stop the files being written, found before the model is called. `replacing`:
    the files are meant to exist and be replaced (`plan revise`), so --force is not asked for."""
    existing = [str(path) for path in paths if path.exists()]
    if existing and not (force or replacing):
        raise OutputExistsError(f"{existing[0]} already exists; pass --force to overwrite it or --out to write elsewhere")
    for path in paths:
        if path.is_symlink() and not path.is_file():
            raise InputError(f"{path}: is a symbolic link to a missing file; remove the link or choose another --out")
        if path.is_dir():
            raise InputError(f"{path}: is a directory, where the plan's file goes; choose another --out")
        if path.exists() and not os.access(path, os.W_OK):
            raise InputError(f"{path}: is read-only; make it writable (chmod u+w) or write elsewhere with --out")
        _check_directory(path.parent)


def _check_directory(directory: Path) -> None:
    """`directory` exists and is writable, or can be created: its nearest existing ancestor is."""
    probe = directory
    while not probe.exists():
        if probe.is_symlink():  # a dangling link: mkdir would fail on it
            raise InputError(f"{probe}: is a broken symbolic link; fix it or choose another --out")
        probe = probe.parent
    if not probe.is_dir():
        raise InputError(f"{probe}: is a file, where a directory for the plan is needed; choose another --out")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise InputError(f"{probe}: cannot write here (permission denied); choose another --out")


@contextmanager
def plan_lock(plan_path: Path) -> Iterator[None]:
    """An exclusive lock on one plan for as long as the block runs; the kernel drops it if we die."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no lock, one run per plan is up to the user
        yield
        return
    plan_path = Path(os.path.realpath(plan_path))  # one plan reached by two names is still one plan
    created = [folder for folder in (plan_path.parent, *plan_path.parent.parents) if not folder.exists()]
    plan_path.parent.mkdir(parents=True, exist_ok=True)
    lock_path = plan_path.parent / f".{plan_path.name}.lock"
    while True:
        handle = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(handle)
            raise PlanBusyError(f"{plan_path}: another `plan` is writing this plan now; wait for it to finish, "
                                "or write elsewhere with --out") from None
        # The holder before us may have removed the file as we opened it: then our lock guards nothing.
        with suppress(OSError):
            if os.path.samestat(os.fstat(handle), os.stat(lock_path)):
                break
        os.close(handle)
    try:
        yield
    finally:
        with suppress(OSError):
            lock_path.unlink()
        os.close(handle)
        for folder in created:  # a draft that wrote nothing leaves no empty folders behind
            with suppress(OSError):
                folder.rmdir()


def write_files(files: dict[Path, str]) -> None:
    """Write each file's text; either every file is replaced or none is. Each file is staged beside its
    target first (a full disk fails here, before anything changed); each old file is kept under a hard
    link until every rename has succeeded, so a rename that fails half-way is undone."""
    staged: list[tuple[str, Path]] = []
    kept: dict[Path, str | None] = {}  # each existing target's old file under a second name (None: none made)
    replaced: list[Path] = []
    try:
        for path, text in files.items():
            staged.append((_stage(path, text), _target(path)))
        for temporary, target in staged:
            if target.exists():
                kept[target] = _keep(target)
            os.replace(temporary, target)
            replaced.append(target)
    except OSError as error:
        undone = _undo(replaced, kept)
        outcome = "nothing was changed" if undone else f"{replaced[0]} was replaced, the rest not"
        raise PlanError(f"{next(iter(files))}: cannot write the plan: {error.strerror or error}; {outcome}") from None
    finally:
        for leftover in [temporary for temporary, _ in staged] + [link for link in kept.values() if link]:
            with suppress(OSError):
                os.unlink(leftover)


def _keep(target: Path) -> str | None:
    """A second name for the old file, or None where the file system has no hard links (no undo then)."""
    link = f"{target.parent}/.{target.name}.{os.getpid()}.old.tmp"  # .tmp: swept up like a staged file if we die
    try:
        with suppress(FileNotFoundError):
            os.unlink(link)
        os.link(target, link)
    except OSError:
        return None
    return link


def _undo(replaced: list[Path], kept: dict[Path, str | None]) -> bool:
    """Put back the old file of every target already replaced (remove it, if it is new); True when nothing
    is left changed."""
    try:
        for target in replaced:
            if target not in kept:
                os.unlink(target)
            elif kept[target] is None:
                return False  # no second name could be kept for the old file
            else:
                os.replace(str(kept[target]), target)
    except OSError:
        return False
    return True


def _target(path: Path) -> Path:
    """Where the bytes go: through a symlink to the file it names, so the link stays a link. A link to
    nothing (a cloned repository can ship one) is not followed: it could point anywhere."""
    if not path.is_symlink():
        return path
    target = Path(os.path.realpath(path))
    if not target.is_file():
        raise PlanError(f"{path}: is a symbolic link to {target}, which is not a file; remove the link or "
                        "choose another --out")
    return target


def _stage(path: Path, text: str) -> str:
    target = _target(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        try:  # an existing file keeps its mode; a new one gets what open() would give it under the umask
            mode = stat.S_IMODE(target.stat().st_mode)
        except FileNotFoundError:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(temporary, mode)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return temporary


def write_atomic(path: Path, text: str) -> None:
    """Write through a temporary file in the same directory, then rename over the target."""
    write_files({path: text})


def json_text(data: dict[str, Any]) -> str:
    # ASCII escapes: any string we were given (an unpaired surrogate included) round-trips.
    return json.dumps(data, indent=2, ensure_ascii=True) + "\n"


def write_json(path: Path, data: dict[str, Any]) -> None:
    write_atomic(path, json_text(data))


def read_plan_json(plan_path: Path, strict: bool = False) -> dict[str, Any]:
    """The plan.json `plan draft` wrote beside a plan; empty for a plan written by hand. One that cannot
    be read is empty too, unless `strict` (a command that will rewrite it): then it is an error, so the
    plan is not changed with its record left stale."""
    from agent.inputs import load_json, read_text

    path = plan_path.with_suffix(".json")
    if not path.exists() and not path.is_symlink():
        return {}
    try:
        data = load_json(read_text(str(path), "plan.json", MAX_PLAN_JSON_BYTES), str(path))
    except InputError as error:
        if not strict:
            return {}
        raise PlanFileError(f"{error}; fix or delete {path.name} (it is the draft's record) and run again") from None
    if not isinstance(data, dict):
        if strict:
            raise PlanFileError(f"{path}: is not a plan.json object; fix or delete it and run again")
        return {}
    return data


def recorded_template(plan_path: Path, root: Path | str = ".") -> str | None:
    """The template a drafted plan was written from, as its plan.json records it: a built-in name, or a
    path that must lie inside the repository or beside the plan (plan.json may come from anyone)."""
    name = read_plan_json(plan_path).get("template")
    if not isinstance(name, str) or not name:
        return None
    from agent.inputs import repository_root, trusted_path
    from agent.template.catalog import builtin_templates

    if name in builtin_templates():
        return name
    return trusted_path(name, (repository_root(root), plan_path.parent), f"{plan_path.with_suffix('.json')} names the template",
                        "pass --template (or set PLAN_TEMPLATE) to choose it")

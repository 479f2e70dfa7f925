"""Where templates and prompts come from: the built-ins shipped in the package, or a path."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from agent.config import KEYS
from agent.errors import InputError, TemplateError
from agent.inputs import read_text
from agent.template.compile import MAX_TEMPLATE_BYTES, compile_template
from agent.template.model import Template

PACKAGE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_TEMPLATE: str = KEYS["template"].default


def resource_dir(name: str) -> Path:
    """`prompts/` or `templates/`: inside the installed wheel, or at the top of a source checkout."""
    installed = PACKAGE_DIR / name
    return installed if installed.is_dir() else PACKAGE_DIR.parent / name


def builtin_templates() -> dict[str, Path]:
    return {path.stem: path for path in sorted(resource_dir("templates").glob("*.md"))}


def load_template(name_or_path: str | None) -> Template:
    """A built-in template by name, or any markdown template by path, compiled."""
    name_or_path = name_or_path or DEFAULT_TEMPLATE
    builtins = builtin_templates()
    path = builtins.get(name_or_path)
    if path is None:
        path = Path(name_or_path).expanduser()
        if path.is_dir():
            raise InputError(f"{name_or_path}: is a directory; pass a template file or a built-in name")
        if not path.exists():  # the reader refuses what is not a regular file, by its type
            known = ", ".join(builtins)
            raise InputError(f"template {name_or_path!r} not found: use a built-in ({known}) or a path to a markdown file")
    return _compile_file(str(path), path.stat().st_mtime_ns)


@cache
def _compile_file(path: str, _mtime: int) -> Template:
    text = read_text_file(path, "template", MAX_TEMPLATE_BYTES)
    name = Path(path).stem if Path(path).parent == resource_dir("templates") else path
    return compile_template(text, path, name=name)


def read_text_file(path: str, what: str, limit: int) -> str:
    """A UTF-8 text file, or a one-line TemplateError naming the file and what is wrong with it."""
    return read_text(path, what, limit, lambda problem: TemplateError(path, problem))


def prompt_text(name: str) -> str:
    return (resource_dir("prompts") / name).read_text(encoding="utf-8")

"""File paths named in a plan's "files to modify / create" lines, checked against the repository."""

from __future__ import annotations

import re

from agent.template.parse import Block

Problem = tuple[str, str, str, int]
FILE_EXTENSIONS = frozenset(
    "py pyi js mjs cjs ts tsx jsx json yaml yml toml ini cfg conf md rst txt go rs java kt kts scala rb php cs "
    "c h cc cpp hpp swift m sql sh bash zsh ps1 html htm css scss sass less vue svelte xml gradle proto graphql "
    "gql lock env tf hcl ex exs erl dart lua pl r jl csv ipynb dockerfile mk j2 tmpl".split()
)
CODE_SPAN = re.compile(r"`([^`\s]+)`")
BARE_PATH = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+(?:\[[ xX]\]\s+)?(?:\w+:\s+)?([\w./-]+/[\w.-]+|[\w-]+\.\w{1,6})\b")
# "create", "new file", "(new)"; not "created_at", nor "new" of a route or a column the line adds to a file.
CREATE_WORDS = re.compile(r"\bcreates?\b|\bnew (?:file|module|package|test file)\b|\(new\)", re.I)
QUOTED = re.compile(r"(`+)[^`]+?\1")
MEDIA_TYPE = re.compile(r"(?:application|text|image|audio|video|multipart|font|model|message)/[\w.+-]+(?:;.*)?", re.I)
KEY_PREFIX = re.compile(r"^\s*(?:[-*+]\s+)?\*\*[^*]+\*\*\s*:?\s*")
MODIFY_WORDS = re.compile(r"\b(modify|update|change|edit|extend)\b", re.I)


def paths_in_line(text: str) -> list[str]:
    """Repository-relative paths a line names: code spans that look like paths, or a leading bare path."""
    found = [span for span in CODE_SPAN.findall(text) if _looks_like_path(span)]
    if not found and (bare := BARE_PATH.match(text)):
        found = [bare.group(1)]
    return [re.sub(r":\d+(?:-\d+)?$", "", path).removeprefix("./") for path in found]


def _looks_like_path(span: str) -> bool:
    # `/export` is a URL route (or an absolute path), never a repository-relative file.
    if "://" in span or span.startswith(("-", "$", "/")) or "(" in span or MEDIA_TYPE.fullmatch(span):
        return False  # `text/csv` is what a response is, not a file
    if "/" in span:
        return True
    # Without a directory, only a known file extension makes a path: `Invoice.to_csv` is a method.
    extension = re.search(r"\.([A-Za-z0-9]{1,6})(?::\d+)?$", span)
    return extension is not None and extension.group(1).lower() in FILE_EXTENSIONS


def file_checks(block: Block, roles: set[str], tracked: frozenset[str]) -> list[Problem]:
    problems: list[Problem] = []
    for offset, text in enumerate(block.lines):
        role = _line_role(KEY_PREFIX.sub("", text), roles)  # "**Files to Create/Modify**:" says neither
        for path in paths_in_line(text) if role else []:
            exists = path in tracked or any(p.startswith(path.rstrip("/") + "/") for p in tracked)
            if role == "modify" and not exists:
                problems.append(("error", "path-missing", f"`{path}` is listed as a file to modify but does not "
                                 "exist in the repository; fix the path, or list it as a file to create",
                                 block.line + offset))
            elif role == "create" and exists:
                problems.append(("error", "path-exists", f"`{path}` is listed as a file to create but already "
                                 "exists; list it as a file to modify instead", block.line + offset))
    return problems


def _line_role(text: str, roles: set[str]) -> str:
    if roles == {"create"} or roles == {"modify"}:
        return next(iter(roles))
    words = QUOTED.sub(" ", text)  # the paths and code a line quotes are not what it says about them
    if CREATE_WORDS.search(words):
        return "create"
    if MODIFY_WORDS.search(words):
        return "modify"
    return ""

"""Read one candidate file safely: regular files inside the root only, size-capped, text only."""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from agent.context.paths import skip_reason
from agent.context.repo import CutItem

MAX_FILE_BYTES = 256 * 1024
_SNIFF_BYTES = 8192


@dataclass(frozen=True)
class SourceFile:
    path: str
    text: str
    size_bytes: int


def read_source(root: Path, path: str, max_bytes: int = MAX_FILE_BYTES) -> SourceFile | CutItem:
    """The file's text, or a CutItem saying why it cannot be sent; root must already be resolved."""
    full = root / path
    try:
        problem = _unsafe_to_open(root, full, max_bytes)
    except OSError as error:
        problem = _describe(error)
    if problem is not None:
        return CutItem("file", path, problem)
    try:
        with open(full, "rb") as handle:
            data = handle.read(max_bytes)
    except OSError as error:
        return CutItem("file", path, _describe(error))
    if b"\0" in data[:_SNIFF_BYTES]:
        return CutItem("file", path, "binary")
    text = data.decode("utf-8", errors="replace")
    if text.count("\ufffd") * 100 > len(text):  # mostly undecodable: an encoding we would only garble
        return CutItem("file", path, "binary")
    return SourceFile(path, text, len(data))


def _unsafe_to_open(root: Path, full: Path, max_bytes: int) -> str | None:
    if full.is_symlink():  # a link may lead to ~/.ssh, to .env, or into .git: read only if its target would be
        target = Path(os.path.realpath(full, strict=True))
        if not target.is_relative_to(root):
            return "symlink outside the repository"
        if reason := skip_reason(target.relative_to(root).as_posix()):
            return f"symlink to a file that is not read ({reason})"
    status = full.stat()
    if not stat.S_ISREG(status.st_mode):
        return "not a regular file"  # a FIFO would block the read forever; a submodule is a directory
    return "too large" if status.st_size > max_bytes else None


def _describe(error: OSError) -> str:
    if isinstance(error, PermissionError):
        return "unreadable (permission denied)"
    if error.errno == errno.ELOOP:
        return "symlink loop"
    return f"unreadable ({error.strerror or type(error).__name__})"

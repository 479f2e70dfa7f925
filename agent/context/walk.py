"""List a repository's files: `git ls-files` in a git work tree, otherwise a walk that honours .gitignore."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from agent.context.paths import VENDORED_DIRECTORIES

if TYPE_CHECKING:
    import pathspec


@dataclass(frozen=True)
class RepoListing:
    paths: tuple[str, ...]  # POSIX, relative to the root, sorted
    is_git: bool


def list_files(root: Path) -> RepoListing:
    """Tracked files plus untracked ones that are not ignored; nothing is followed through a symlink."""
    command = ["git", "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard"]
    try:
        done = subprocess.run(command, capture_output=True, check=False)
    except OSError:  # git is not installed: the plain walk still works
        done = None
    # A non-zero exit: not a work tree, or git refuses it (safe.directory): walk instead.
    if done is not None and done.returncode == 0:
        names = done.stdout.decode("utf-8", errors="surrogateescape").split("\0")
        return RepoListing(tuple(sorted({name for name in names if name})), is_git=True)
    return RepoListing(tuple(sorted(_walk_files(root))), is_git=False)


def _walk_files(root: Path) -> list[str]:
    found: list[str] = []
    rules = _IgnoreRules()
    for directory, dirnames, filenames in os.walk(root):
        relative = Path(directory).relative_to(root).as_posix()
        prefix = "" if relative == "." else relative + "/"
        rules.read(directory, prefix)
        # A symlink to a directory is listed as a file, as git would, never entered; os.walk enters what is
        # left in `dirnames`.
        links = [name for name in dirnames if os.path.islink(os.path.join(directory, name))]
        dirnames[:] = sorted(
            name for name in dirnames
            if name not in links and name not in VENDORED_DIRECTORIES and not rules.ignores(prefix + name + "/")
        )
        found += [prefix + name for name in links if not rules.ignores(prefix + name)]
        found += [prefix + name for name in filenames if not rules.ignores(prefix + name)]
    return found


class _IgnoreRules:
    """The .gitignore files met so far; the deepest one with an opinion about a path decides, as in git."""

    def __init__(self) -> None:
        self._specs: list[tuple[str, pathspec.GitIgnoreSpec]] = []

    def read(self, directory: str, prefix: str) -> None:
        import pathspec  # only directories without git need it

        try:
            lines = Path(directory, ".gitignore").read_text(errors="replace").splitlines()
        except OSError:
            return
        self._specs.append((prefix, pathspec.GitIgnoreSpec.from_lines(lines)))

    def ignores(self, path: str) -> bool:
        for prefix, spec in reversed(self._specs):
            if path.startswith(prefix):
                verdict = spec.check_file(path[len(prefix):]).include
                if verdict is not None:
                    return verdict
        return False

"""The values the context builder hands to the rest of plan-agent: what the repository is, and what is sent."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from agent.config import KEYS

DEFAULT_CONTEXT_TOKENS: int = KEYS["context_tokens"].default


@dataclass(frozen=True)
class StackFacts:
    """What the repository is built with, read from its real files."""

    languages: tuple[str, ...] = ()  # most files first
    manifests: tuple[str, ...] = ()  # repository-relative POSIX paths
    dependencies: tuple[str, ...] = ()  # package names, sorted
    test_command: str | None = None
    lint_command: str | None = None
    frameworks: tuple[str, ...] = ()


@dataclass(frozen=True)
class OutlineEntry:
    """One symbol a file defines: a class, function, method, route, export, type or constant."""

    kind: str
    name: str
    line: int
    detail: str = ""  # a signature, or a route's method and path


@dataclass(frozen=True)
class RankedFile:
    path: str
    score: float
    size_bytes: int
    named_in_brief: bool = False
    outline: tuple[OutlineEntry, ...] = ()
    role: str = "source"  # source, test, docs, config, vendored, fixture or other
    tests: tuple[str, ...] = ()  # the test files that exercise this one, found by name


@dataclass(frozen=True)
class IncludedItem:
    """A piece of the prompt: kind is one of header, readme, stack, tree, outline, excerpt."""

    kind: str
    path: str | None
    tokens: int


@dataclass(frozen=True)
class CutItem:
    """Something that was left out, and why (over budget, binary, too large, secret file, unreadable...)."""

    kind: str
    path: str
    reason: str
    tokens: int | None = None


@dataclass(frozen=True)
class ContextManifest:
    included: tuple[IncludedItem, ...] = ()
    cut: tuple[CutItem, ...] = ()
    # Whole classes of paths left out before ranking (vendored, lock file, binary...), counted, not listed.
    skipped: Mapping[str, int] = field(default_factory=dict)

    def included_names(self) -> tuple[str, ...]:
        """What was sent, each file once (its outline and excerpt are one name); stack and tree by kind."""
        return tuple(dict.fromkeys(item.path or item.kind for item in self.included))


@dataclass(frozen=True)
class RepoContext:
    root: Path
    is_git: bool
    tracked_paths: frozenset[str]  # every walked file, readable or not; secret files count but are never read
    stack: StackFacts
    ranked: tuple[RankedFile, ...]
    prompt_text: str  # deterministic for the same repository and brief, so provider prompt caches hit
    manifest: ContextManifest
    tokens_used: int
    budget_tokens: int

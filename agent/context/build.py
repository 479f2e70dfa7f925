"""Build the repository context for a brief: walk, triage, stack facts, ranking, then fill the token budget."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from agent.context.brief import Brief
from agent.context.budget import Budget, Section, estimate_tokens
from agent.context.compose import (
    CLOSING,
    OPENING,
    README_TOKENS,
    excerpt_section,
    outline_section,
    readme_section,
    scrub_outline,
    stack_section,
    tree_section,
)
from agent.context.excerpts import chosen_spans
from agent.context.outline import MAX_ENTRIES, outline
from agent.context.paths import triage
from agent.context.rank import Candidate, Ranking, rank_files
from agent.context.read import SourceFile, read_source
from agent.context.repo import (
    DEFAULT_CONTEXT_TOKENS,
    ContextManifest,
    CutItem,
    OutlineEntry,
    RankedFile,
    RepoContext,
)
from agent.context.roles import SOURCE, TEST
from agent.context.stack import detect_stack
from agent.context.walk import RepoListing, list_files
from agent.errors import InputError

MIN_CONTEXT_TOKENS = 256
RANKED_FILES = 30  # reported in RankedFile; the prompt takes as many as the budget allows
FIRST_OUTLINES, FIRST_EXCERPTS, SECOND_EXCERPTS = 5, 3, 10  # see _offering_order
FILE_KINDS = ("outline", "excerpt")
EXCERPT_TOKENS = 1_500
OTHER_EXCERPT_TOKENS = 500  # docs, config, fixtures, vendored copies: a glimpse, the budget goes to code
CODE_ROLES = (SOURCE, TEST)
MIN_EXCERPT_TOKENS = 120  # fewer lines than this say too little to be worth their header
EXCERPT_FRAME_TOKENS = 40  # the header and fences around an excerpt's lines
TREE_SHARE = 6  # the file list takes at most a sixth of the budget
BACKLOG_CHARS_PER_BRIEF = 2_000  # a backlog's context is ranked against the start of each brief
BACKLOG_QUERY_CHARS = 400_000
README_NAMES = ("README.md", "README.rst", "README.txt", "README", "readme.md", "Readme.md")


def build_context(
    repo: Path, brief: str, budget_tokens: int = DEFAULT_CONTEXT_TOKENS, exclude: frozenset[str] = frozenset(),
    skip_dirs: tuple[str, ...] = (),
) -> RepoContext:
    """What plan-agent would send about `repo` for `brief`, within `budget_tokens` estimated tokens.

    `skip_dirs` (repository-relative, ending in `/`) are left out as if they did not exist.
    """
    root = repo.expanduser()
    if not root.exists():
        raise InputError(f"{repo}: no such directory; pass --repo with the repository to plan against.")
    if not root.is_dir():
        raise InputError(f"{repo} is not a directory; pass --repo with the repository's top directory.")
    root = root.resolve()
    if budget_tokens < MIN_CONTEXT_TOKENS:
        raise InputError(f"--context-tokens {budget_tokens} is too small; use at least {MIN_CONTEXT_TOKENS}.")
    listing = list_files(root)
    if skip_dirs:
        listing = RepoListing(tuple(path for path in listing.paths if not path.startswith(skip_dirs)), listing.is_git)
    paths = triage(listing.paths)
    stack = detect_stack(root, paths.readable, listing.paths)
    readme = _readme(root, paths.readable)
    # `exclude`: the brief's own file, when it lives in the repository, would rank first and say nothing new.
    candidates = [p for p in paths.readable if p not in exclude and (readme is None or p != readme.path)]
    ranking = rank_files(root, brief, candidates)
    outlines = _Outlines()
    ranked = _ranked_files(ranking, outlines)
    budget = Budget(budget_tokens - estimate_tokens(OPENING + CLOSING))
    if readme is not None:  # a long README must not crowd out the code under a small budget
        budget.offer(readme_section(readme, min(README_TOKENS, budget_tokens // 8)))
    budget.offer(stack_section(stack))
    budget.offer(tree_section(listing.paths, budget_tokens // TREE_SHARE))
    _offer_files(budget, ranking, outlines)
    # Each section's estimate is rounded up, so the whole never costs more than its parts: within budget.
    prompt_text = OPENING + "".join(section.text for section in budget.included) + CLOSING
    secrets = tuple(CutItem("file", path, "secret file") for path in paths.secret_files)
    return RepoContext(
        root=root,
        is_git=listing.is_git,
        tracked_paths=frozenset(listing.paths),
        stack=stack,
        ranked=ranked,
        prompt_text=prompt_text,
        manifest=ContextManifest(budget.manifest_items(), secrets + ranking.cut + tuple(budget.cut), paths.skipped),
        tokens_used=estimate_tokens(prompt_text),
        budget_tokens=budget_tokens,
    )


def _readme(root: Path, readable: Sequence[str]) -> SourceFile | None:
    present = set(readable)
    for name in README_NAMES:
        if name in present:
            source = read_source(root, name)
            return source if isinstance(source, SourceFile) else None
    return None


class _Outlines:
    """Each file's symbols, parsed once: all of them cut excerpts into chunks; the first MAX_ENTRIES, scrubbed,
    are its outline."""

    def __init__(self) -> None:
        self._every: dict[str, tuple[OutlineEntry, ...]] = {}
        self._shown: dict[str, tuple[OutlineEntry, ...]] = {}

    def every(self, source: SourceFile) -> tuple[OutlineEntry, ...]:
        if source.path not in self._every:
            self._every[source.path] = outline(source.path, source.text, max_entries=None)
        return self._every[source.path]

    def __call__(self, source: SourceFile) -> tuple[OutlineEntry, ...]:
        if source.path not in self._shown:
            self._shown[source.path] = scrub_outline(self.every(source)[:MAX_ENTRIES], source.path)
        return self._shown[source.path]


def _ranked_files(ranking: Ranking, outlines: _Outlines) -> tuple[RankedFile, ...]:
    return tuple(
        RankedFile(
            path=c.source.path,
            score=c.score,
            size_bytes=c.source.size_bytes,
            named_in_brief=c.named_in_brief,
            outline=outlines(c.source),
            role=c.role,
            tests=ranking.tests.get(c.source.path, ()),
        )
        for c in ranking.candidates[:RANKED_FILES]
    )


def _offering_order(count: int) -> Iterator[tuple[str, int]]:
    """(kind, rank) pairs in the order they are offered, the same for every budget: the best file in depth,
    the outlines of the next few, their excerpts, the outlines of the rest of the reported ranking, excerpts
    down to SECOND_EXCERPTS, then everything else outline first."""
    if count:
        yield from (("outline", 0), ("excerpt", 0))
    yield from (("outline", index) for index in range(1, min(FIRST_OUTLINES, count)))
    yield from (("excerpt", index) for index in range(1, min(FIRST_EXCERPTS, count)))
    yield from (("outline", index) for index in range(FIRST_OUTLINES, min(RANKED_FILES, count)))
    yield from (("excerpt", index) for index in range(FIRST_EXCERPTS, min(SECOND_EXCERPTS, count)))
    yield from (("outline", index) for index in range(RANKED_FILES, count))
    yield from (("excerpt", index) for index in range(SECOND_EXCERPTS, count))


def _offer_files(budget: Budget, ranking: Ranking, outlines: _Outlines) -> None:
    """In one fixed order until the budget is spent: the section that does not fit goes in shortened, and
    everything after it is left out. So a larger budget sends everything a smaller one does, and more."""
    candidates = ranking.candidates
    order = list(_offering_order(len(candidates)))
    for position, (kind, index) in enumerate(order):
        candidate = candidates[index]
        section = _file_section(kind, candidate, ranking, outlines, None)
        if section is None:
            continue  # a file without an outline shows its excerpt in the outline's place
        if section.tokens <= budget.remaining:
            budget.offer(section)
            continue
        shortened = _file_section(kind, candidate, ranking, outlines, budget.remaining)
        if shortened is not None:
            budget.offer(shortened)
        else:
            budget.cut.append(CutItem(kind, candidate.source.path, "over budget", section.tokens))
        later = order[position + 1:]
        budget.cut += [CutItem(k, candidates[i].source.path, "over budget") for k, i in later if i < RANKED_FILES]
        break
    # Then file by file, outline before excerpt, whatever order they were chosen in; the sort is stable, so
    # README, stack and tree stay first in their order.
    rank = {candidate.source.path: index for index, candidate in enumerate(candidates)}
    budget.included.sort(key=lambda section: (rank[section.path or ""], section.kind == "excerpt")
                         if section.kind in FILE_KINDS else (-1, False))


def _file_section(kind: str, candidate: Candidate, ranking: Ranking, outlines: _Outlines,
                  room: int | None) -> Section | None:
    """The outline or excerpt of one file, whole when `room` is None, else shortened to fit it (or None)."""
    source = candidate.source
    entries = outlines(source)
    if kind == "outline" and entries:
        tests = ranking.tests.get(source.path, ())
        lines = len(source.text.splitlines())
        count = len(entries)
        section = outline_section(source.path, entries, lines, tests)
        while room is not None and section.tokens > room and count > 1:
            count -= max(1, count * (section.tokens - room) // section.tokens)  # in proportion to the overshoot
            section = outline_section(source.path, entries[:count], lines, tests, shortened=True)
        return section if room is None or section.tokens <= room else None
    if kind == "excerpt" and not entries:
        return None  # already shown in its outline's place
    allowance = EXCERPT_TOKENS if candidate.role in CODE_ROLES else OTHER_EXCERPT_TOKENS
    tokens = allowance if room is None else min(allowance, room)
    if tokens < MIN_EXCERPT_TOKENS:
        return None
    spans = chosen_spans(source.text, outlines.every(source), ranking.query, ranking.identifiers,
                         tokens - EXCERPT_FRAME_TOKENS)
    return excerpt_section(source, spans, tokens)


def context_for_brief(repo: Path, brief: Brief, budget_tokens: int = DEFAULT_CONTEXT_TOKENS,
                      output_dir: Path | None = None) -> RepoContext:
    """The context for a brief read from a file: the brief's own file, if inside the repo, is not ranked, and
    the plans folder is left out (earlier plans are drafts about other changes, not the code)."""
    skip = tuple(f"{path}/" for path in (_own_path(repo, str(output_dir)) if output_dir else ()))
    return build_context(repo, brief.text, budget_tokens, exclude=_own_path(repo, brief.source), skip_dirs=skip)


def context_for_backlog(repo: Path, briefs: Sequence[Brief], budget_tokens: int = DEFAULT_CONTEXT_TOKENS,
                        output_dir: Path | None = None) -> RepoContext:
    """One context for a whole backlog (`plan batch`), ranked against the start of every brief, so its
    text is byte-identical for every item; the briefs' own files, if inside the repo, are not ranked,
    and the batch's own output directory is left out, so the context is the same on every run."""
    query = "\n\n".join(brief.text[:BACKLOG_CHARS_PER_BRIEF] for brief in briefs)[:BACKLOG_QUERY_CHARS]
    exclude = frozenset().union(*(_own_path(repo, brief.source) for brief in briefs))
    skip = tuple(f"{path}/" for path in (_own_path(repo, str(output_dir)) if output_dir else ()))
    return build_context(repo, query, budget_tokens, exclude=exclude, skip_dirs=skip)


def _own_path(repo: Path, source: str) -> frozenset[str]:
    if source == "-":
        return frozenset()
    try:
        return frozenset({Path(source).resolve().relative_to(repo.expanduser().resolve()).as_posix()})
    except (ValueError, OSError):
        return frozenset()

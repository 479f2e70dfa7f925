"""Rank files against the brief: BM25 (bm25s) over every path, then over the content of a shortlist only."""

from __future__ import annotations

import heapq
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from agent.context.model import CutItem
from agent.context.read import SourceFile, read_source

SHORTLIST_SIZE = 200
CONTENT_CHARS = 64_000  # the head of a file says what it is about; tokenizing all of it buys little
# Words every brief uses that say nothing about where the change goes.
BRIEF_FILLER = frozenset(
    "add adds added adding implement implementing support supports new make should would could must need "
    "needs want so we our us you your can also when then than use using via please feature change changes "
    "update updates file files code way allow allows let lets from into onto per each".split()
)
_STEMS: dict[str, str] = {}  # word -> stem ("" for a stopword); a repository repeats its words endlessly
# Numbers are left out: in paths they are mostly serials (0042_migration.py) that no brief names.
_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")
_WORD_OR_NEWLINE = re.compile(_WORD.pattern + r"|\n")
_MENTION_EDGES = "`'\"()[]{}<>,;:!?"
_LINE_SUFFIX = re.compile(r"(?::\d+)+$")  # agent/cli.py:42 names agent/cli.py
_IDENTIFIER = re.compile(r"`([A-Za-z_][\w.]*)`|\b([A-Za-z]+_\w+|_\w+|[a-z]+[A-Z]\w*|[A-Z][a-z0-9]+[A-Z]\w*)\b")
_DEFINITION = r"\b(?:def|class|function|func|fn|interface|type|struct|enum|trait|const|let|var|module)\s+(?:\([^)]*\)\s*)?{name}\b"


@dataclass(frozen=True)
class Candidate:
    source: SourceFile
    score: float
    named_in_brief: bool


@dataclass(frozen=True)
class Ranking:
    candidates: tuple[Candidate, ...]  # best first
    cut: tuple[CutItem, ...]  # shortlisted files that could not be read
    query: tuple[str, ...]  # the brief's stemmed terms


@dataclass(frozen=True)
class BriefSignals:
    """What the brief says about where to look, worked out once per build."""

    query: tuple[str, ...]
    named: frozenset[str]  # files the brief names
    in_named_directories: frozenset[str]  # files under a directory the brief names
    identifiers: tuple[str, ...]

    @classmethod
    def of(cls, brief: str, paths: Sequence[str]) -> BriefSignals:
        mentions = _path_mentions(brief)
        return cls(brief_terms(brief), named_paths(brief, paths), _under_directories(mentions, paths),
                   named_identifiers(brief))


def rank_files(root: Path, brief: str, paths: Sequence[str]) -> Ranking:
    """Score every path cheaply, read only the shortlist, and rank that on content and named symbols."""
    signals = BriefSignals.of(brief, paths)
    path_scores = _bm25_scores(path_terms(paths), signals.query)
    read = [read_source(root, path) for path in _shortlist(paths, path_scores, signals)]
    sources = [item for item in read if isinstance(item, SourceFile)]
    scores = _combined_scores(sources, dict(zip(paths, path_scores, strict=True)), signals)
    candidates = [Candidate(s, score, s.path in signals.named) for s, score in zip(sources, scores, strict=True)]
    candidates.sort(key=lambda candidate: (-candidate.score, candidate.source.path))
    return Ranking(tuple(candidates), tuple(item for item in read if isinstance(item, CutItem)), signals.query)


def terms(text: str) -> list[str]:
    """Words split at case changes, underscores and punctuation, lower-cased and stemmed."""
    stems = _STEMS
    found = []
    for word in _WORD.findall(text):
        stem = stems.get(word)
        if stem is None:
            stem = stems[word] = _stem(word)
        if stem:
            found.append(stem)
    return found


def path_terms(paths: Sequence[str]) -> list[list[str]]:
    """terms() of every path, found in one regex pass over all of them: 50,000 calls would cost more."""
    if any("\n" in path for path in paths):  # legal in a file name, and it would shift every path after it
        return [terms(path) for path in paths]
    stems = _STEMS
    current: list[str] = []
    documents = [current]
    for word in _WORD_OR_NEWLINE.findall("\n".join(paths)):
        if word == "\n":
            current = []
            documents.append(current)
            continue
        stem = stems.get(word)
        if stem is None:
            stem = stems[word] = _stem(word)
        if stem:
            current.append(stem)
    return documents if paths else []


def brief_terms(brief: str) -> tuple[str, ...]:
    words = [word for word in _WORD.findall(brief) if word.lower() not in BRIEF_FILLER]
    return tuple(dict.fromkeys(terms(" ".join(words))))


def named_paths(brief: str, paths: Sequence[str]) -> frozenset[str]:
    """Paths the brief names: exactly, by a trailing part (billing/api.py), or by file name (api.py)."""
    mentions = _path_mentions(brief)
    if not mentions:
        return frozenset()
    return frozenset(path for path in paths if _names(path, mentions))


def _path_mentions(brief: str) -> set[str]:
    words = {_LINE_SUFFIX.sub("", word.strip(_MENTION_EDGES)).rstrip(".") for word in brief.split()}
    return {word.removeprefix("./") for word in words if "/" in word or re.search(r"\w\.\w{1,6}$", word)}


def _names(path: str, mentions: set[str]) -> bool:
    name = path.rpartition("/")[2]
    return any(path == m or path.endswith("/" + m) or ("/" not in m and name == m) for m in mentions)


def _under_directories(mentions: set[str], paths: Sequence[str]) -> frozenset[str]:
    prefixes = tuple({m.rstrip("/") + "/" for m in mentions if "/" in m})
    inner = tuple("/" + prefix for prefix in prefixes)
    if not prefixes:
        return frozenset()
    return frozenset(path for path in paths if path.startswith(prefixes) or any(p in path for p in inner))


def named_identifiers(brief: str) -> tuple[str, ...]:
    """Code-looking words in the brief: `quoted`, snake_case, camelCase, PascalCase with two humps."""
    found = (quoted or bare for quoted, bare in _IDENTIFIER.findall(brief))
    return tuple(dict.fromkeys(word.rpartition(".")[2] for word in found if len(word) >= 3))


def _shortlist(paths: Sequence[str], scores: Sequence[float], signals: BriefSignals) -> list[str]:
    named, favoured = signals.named, signals.in_named_directories
    matched = [
        (path not in favoured, -score, path)
        for score, path in zip(scores, paths, strict=True)
        if (score > 0 or path in favoured) and path not in named
    ]
    best = [path for _, _, path in heapq.nsmallest(SHORTLIST_SIZE, matched)]
    chosen = set(best) | named
    # When the brief names little, shallow files are the ones that say what the project is.
    rest = (path for path in paths if path not in chosen)
    filler = heapq.nsmallest(max(0, SHORTLIST_SIZE - len(chosen)), rest, key=lambda path: (path.count("/"), path))
    return sorted(named) + best + filler


def _combined_scores(sources: Sequence[SourceFile], by_path: dict[str, float], signals: BriefSignals) -> list[float]:
    """Path and content BM25, each scaled to the best shortlisted file, plus what the brief names outright."""
    content = _bm25_scores([terms(s.path) + terms(s.text[:CONTENT_CHARS]) for s in sources], signals.query)
    path_scores = [by_path[source.path] for source in sources]
    defines = _definition_counter(signals.identifiers)
    top_path, top_content = max(path_scores, default=0.0) or 1.0, max(content, default=0.0) or 1.0
    return [
        round(0.4 * p / top_path + 0.6 * c / top_content + _named_bonus(s.path, signals)
              + 0.5 * min(defines(s.text), 2), 4)
        for s, p, c in zip(sources, path_scores, content, strict=True)
    ]


def _named_bonus(path: str, signals: BriefSignals) -> float:
    if path in signals.named:
        return 1.0
    return 0.3 if path in signals.in_named_directories else 0.0


def _definition_counter(identifiers: tuple[str, ...]) -> Callable[[str], int]:
    patterns = [re.compile(_DEFINITION.format(name=re.escape(name))) for name in identifiers]
    return lambda text: sum(1 for pattern in patterns if pattern.search(text))


def _bm25_scores(documents: list[list[str]], query: tuple[str, ...]) -> list[float]:
    if not documents or not query:
        return [0.0] * len(documents)
    # Imported here: numpy and bm25s cost a fifth of a second that `plan --help` should not pay.
    import bm25s

    retriever = bm25s.BM25()
    retriever.index(documents, show_progress=False)
    return [float(score) for score in retriever.get_scores(list(query))]


def _stem(word: str) -> str:
    lower = word.lower()
    if len(lower) < 2 or lower in _stopwords():
        return ""
    return str(_stemmer().stemWord(lower))


@cache
def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN)


@cache
def _stemmer() -> Any:
    import Stemmer  # PyStemmer: the Snowball stemmers bm25s recommends, so "invoices" finds "invoice"

    return Stemmer.Stemmer("english")


def excerpt_start(text: str, query: Sequence[str], window: int) -> int:
    """The first line of the `window`-line stretch where the brief's terms gather most (0 if none do)."""
    wanted = set(query)
    hits = [sum(1 for term in terms(line) if term in wanted) for line in text.splitlines()]
    running = sum(hits[:window])
    best_start, best = 0, running
    for start in range(1, max(1, len(hits) - window + 1)):
        running += hits[start + window - 1] - hits[start - 1]
        if running > best:
            best_start, best = start, running
    return best_start

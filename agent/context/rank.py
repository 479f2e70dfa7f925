"""Rank files against the brief: BM25 (scored as bm25s does) over every path, then over the content of a
shortlist only, each file weighed by its role (source first), then one hop through the imports of the best."""

from __future__ import annotations

import heapq
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from agent.context.imports import ImportGraph
from agent.context.read import SourceFile, read_source
from agent.context.repo import CutItem
from agent.context.roles import SOURCE, TEST, Roles, subject_keys, subjects_tested, weights_for

SHORTLIST_SIZE = 200
# One hop: what the best few files import, and the files that import them, are likely touched with them.
HOP_FROM = 3
HOP_BOOST = 0.1  # bench_context_history.py, recall@10: 0.891 with none, 0.912 at 0.1, 0.899 at 0.2, lower at 0.4
NAMED_BONUS = {SOURCE: 1.0, TEST: 1.0}  # a named docs page or config file must not outrank the code it is about
OTHER_NAMED_BONUS = 0.3
MAX_TESTS = 3  # shown beside a source file
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
_URL = re.compile(r"\bhttps?://\S+")
# A link to a file in a repository names that file: github.com/o/r/blob/main/src/app.py#L3 -> src/app.py
_BLOB_PATH = re.compile(r"/(?:blob|tree|raw)/[^/\s]+/([^\s#?]+)")
_LINE_SUFFIX = re.compile(r"(?::\d+)+$")  # agent/cli.py:42 names agent/cli.py
_IDENTIFIER = re.compile(r"`([A-Za-z_][\w.]*)`|\b([A-Za-z]+_\w+|_\w+|[a-z]+[A-Z]\w*|[A-Z][a-z0-9]+[A-Z]\w*)\b")
_DEFINITION = r"\b(?:def|class|function|func|fn|interface|type|struct|enum|trait|const|let|var|module)\s+(?:\([^)]*\)\s*)?{name}\b"


@dataclass(frozen=True)
class Candidate:
    source: SourceFile
    score: float
    named_in_brief: bool
    role: str = SOURCE


@dataclass(frozen=True)
class Ranking:
    candidates: tuple[Candidate, ...]  # best first
    cut: tuple[CutItem, ...]  # shortlisted files that could not be read
    query: tuple[str, ...]  # the brief's stemmed terms
    identifiers: tuple[str, ...] = ()  # code-looking words the brief names
    tests: dict[str, tuple[str, ...]] = field(default_factory=dict)  # source path -> the tests that exercise it


@dataclass(frozen=True)
class BriefSignals:
    """What the brief says about where to look, worked out once per build."""

    query: tuple[str, ...]
    named: frozenset[str]  # files the brief names
    in_named_directories: frozenset[str]  # files under a directory the brief names
    identifiers: tuple[str, ...]
    weights: dict[str, float]  # by role

    @classmethod
    def of(cls, brief: str, paths: Sequence[str]) -> BriefSignals:
        # A URL says where an issue was filed, not where the code is: its words would match .gitmodules.
        brief = _URL.sub(lambda url: " ".join(_BLOB_PATH.findall(url.group())), brief)
        # Files under a directory the brief names, at the root or deeper: `billing/` finds src/billing/api.py.
        prefixes = tuple({m.rstrip("/") + "/" for m in _path_mentions(brief) if "/" in m})
        inner = tuple("/" + prefix for prefix in prefixes)
        under = frozenset(path for path in paths if prefixes and (path.startswith(prefixes)
                                                                  or any(p in path for p in inner)))
        # "see docs/refunds.md" names a file; it does not make the brief about documentation.
        prose = [word for word in brief.split() if not _path_mentions(word)]
        return cls(brief_terms(brief), named_paths(brief, paths), under,
                   named_identifiers(brief), weights_for(_WORD.findall(" ".join(prose))))


def rank_files(root: Path, brief: str, paths: Sequence[str]) -> Ranking:
    """Score every path cheaply, read only the shortlist, and rank that on content, named symbols and imports."""
    signals = BriefSignals.of(brief, paths)
    roles = Roles.of(paths)
    path_scores = _bm25_scores(path_terms(paths), signals.query)
    weighted = [score and score * signals.weights[roles.role(path)] for path, score in zip(paths, path_scores, strict=True)]
    read = [read_source(root, path) for path in _shortlist(paths, weighted, signals)]
    sources = [item for item in read if isinstance(item, SourceFile)]
    by_path = dict(zip(paths, path_scores, strict=True))  # the role weighs the whole score below
    documents: dict[str, list[str]] = {}
    scores = _combined_scores(sources, by_path, signals, roles, documents)
    best = [s for _, s in sorted(zip(scores, sources, strict=True), key=lambda pair: (-pair[0], pair[1].path))]
    hops = _one_hop(best[:HOP_FROM], sources, ImportGraph(paths))
    missing = [read_source(root, path) for path in sorted(hops - {s.path for s in sources})]
    if any(isinstance(item, SourceFile) for item in missing):
        sources += [item for item in missing if isinstance(item, SourceFile)]
        scores = _combined_scores(sources, by_path, signals, roles, documents)
    scores = [score + HOP_BOOST * signals.weights[roles.role(s.path)] * (s.path in hops)
              for s, score in zip(sources, scores, strict=True)]
    candidates = [Candidate(s, round(score, 4), s.path in signals.named, roles.role(s.path))
                  for s, score in zip(sources, scores, strict=True)]
    candidates.sort(key=lambda candidate: (-candidate.score, candidate.source.path))
    cut = tuple(item for item in read if isinstance(item, CutItem))
    return Ranking(tuple(candidates), cut, signals.query, signals.identifiers, _tests_of(candidates, paths, roles))


def _tests_of(candidates: Sequence[Candidate], paths: Sequence[str], roles: Roles) -> dict[str, tuple[str, ...]]:
    """Each source file's tests, by name (tests/test_context_rank.py for agent/context/rank.py): the most
    specific name that has tests wins, so test_rank.py files elsewhere do not pile onto every rank.py."""
    by_subject = subjects_tested(paths, roles)
    found = {}
    for candidate in candidates:
        if candidate.role == SOURCE:
            keys = [key for key in reversed(subject_keys(candidate.source.path)) if key in by_subject]
            if keys:
                found[candidate.source.path] = tuple(sorted(by_subject[keys[0]])[:MAX_TESTS])
    return found


def _one_hop(best: Sequence[SourceFile], sources: Sequence[SourceFile], graph: ImportGraph) -> set[str]:
    """Files the best ones import, and shortlisted files that import one of the best."""
    best_paths = {source.path for source in best}
    hops = set().union(*(graph.imports(source.path, source.text) for source in best))
    hops |= {s.path for s in sources if s.path not in best_paths and graph.imports(s.path, s.text) & best_paths}
    return hops - best_paths


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
    return frozenset(path for path in paths if mentions and any(
        path == m or path.endswith("/" + m) or ("/" not in m and path.rpartition("/")[2] == m) for m in mentions))


def _path_mentions(brief: str) -> set[str]:
    words = {_LINE_SUFFIX.sub("", word.strip(_MENTION_EDGES)).rstrip(".") for word in brief.split()}
    return {word.removeprefix("./") for word in words if "/" in word or re.search(r"\w\.\w{1,6}$", word)}


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


def _combined_scores(sources: Sequence[SourceFile], by_path: dict[str, float], signals: BriefSignals,
                     roles: Roles, documents: dict[str, list[str]]) -> list[float]:
    """Path and content BM25, each scaled to the best shortlisted source file, and named symbols, weighed by role;
    plus what the brief names outright."""
    for source in sources:
        if source.path not in documents:  # kept between the two scorings, before and after the hop
            documents[source.path] = terms(source.path) + terms(source.text[:CONTENT_CHARS])
    content = _bm25_scores([documents[source.path] for source in sources], signals.query)
    path_scores = [by_path.get(source.path, 0.0) for source in sources]
    # A file that defines an identifier the brief names (`def refund_invoice`) is likely where it changes.
    definitions = [re.compile(_DEFINITION.format(name=re.escape(name))) for name in signals.identifiers]
    file_roles = [roles.role(source.path) for source in sources]
    # Scaled to the best source file, so a page that repeats the brief's words cannot push the code down.
    code = [index for index, role in enumerate(file_roles) if role == SOURCE] or range(len(sources))
    top_path = max((path_scores[i] for i in code), default=0.0) or 1.0
    top_content = max((content[i] for i in code), default=0.0) or 1.0
    scores = []
    for s, p, c, role in zip(sources, path_scores, content, file_roles, strict=True):
        defines = sum(1 for pattern in definitions if pattern.search(s.text))
        matched = 0.4 * min(p / top_path, 1.0) + 0.6 * min(c / top_content, 1.0) + 0.5 * min(defines, 2)
        named = NAMED_BONUS.get(role, OTHER_NAMED_BONUS) if s.path in signals.named else (
            0.3 if s.path in signals.in_named_directories else 0.0)
        scores.append(matched * signals.weights[role] + named)
    return scores


BM25_K1, BM25_B = 1.5, 0.75  # bm25s's defaults, which the ranking was tuned with
# Lucene's English stop words, the set bm25s tokenizes with (`bm25s.stopwords.STOPWORDS_EN`; a test keeps the
# two equal). Written out because importing bm25s for them imports numpy: 0.2 s of every `plan` start.
STOPWORDS = frozenset((
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it", "no", "not",
    "of", "on", "or", "such", "that", "the", "their", "then", "there", "these", "they", "this", "to", "was",
    "will", "with",
))


def _bm25_scores(documents: list[list[str]], query: tuple[str, ...]) -> list[float]:
    """BM25 (Lucene's variant, as bm25s scores it) of each document for `query`. Only the query's terms are
    counted, so scoring 50,000 paths takes one pass over their tokens instead of building a full index."""
    if not documents or not query:
        return [0.0] * len(documents)
    terms = set(query)
    counts = [Counter(token for token in document if token in terms) for document in documents]
    frequency = Counter(term for count in counts for term in count)
    idf = {term: math.log(1 + (len(documents) - frequency[term] + 0.5) / (frequency[term] + 0.5)) for term in terms}
    average = sum(len(document) for document in documents) / len(documents) or 1.0
    scores = []
    for count, document in zip(counts, documents, strict=True):
        norm = BM25_K1 * (1 - BM25_B + BM25_B * len(document) / average)
        scores.append(sum(idf[term] * count[term] / (count[term] + norm) for term in query if count[term]))
    return scores


def _stem(word: str) -> str:
    lower = word.lower()
    if len(lower) < 2 or lower in STOPWORDS:
        return ""
    return str(_stemmer().stemWord(lower))


@cache
def _stemmer() -> Any:
    import Stemmer  # PyStemmer: the Snowball stemmers bm25s recommends, so "invoices" finds "invoice"

    return Stemmer.Stemmer("english")

"""Choose which lines of a file to show: its chunks (the stretches its outline entries start) ranked against the
brief, best first while they fit, and the definitions of identifiers the brief names before anything else."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from agent.context.budget import CHARS_PER_TOKEN
from agent.context.rank import terms
from agent.context.repo import OutlineEntry

WINDOW_LINES = 40  # a file without an outline is cut into windows this long
MAX_LINE_CHARS = 240
NAMED_DEFINITION = 10.0  # a chunk that defines an identifier the brief names comes first
NAME_MATCH = 2.0  # a brief's word in the chunk's name says more than one in its body
K1, B = 1.2, 0.75  # BM25's usual constants


@dataclass(frozen=True)
class Chunk:
    first: int  # 0-based line index
    end: int  # exclusive
    name: str = ""


def chosen_spans(text: str, entries: Sequence[OutlineEntry], query: Sequence[str], identifiers: Sequence[str],
                 max_tokens: int) -> list[tuple[int, int]]:
    """Line spans (0-based, end exclusive, in file order): the whole file if it fits in `max_tokens`, else the
    best chunks that fit, or the head of the file when nothing in it matches the brief."""
    lines = text.splitlines()
    room = max_tokens * CHARS_PER_TOKEN
    if _chars(lines, 0, len(lines)) <= room:
        return [(0, len(lines))] if lines else []  # a file that fits is shown whole: nothing to choose
    chunks = _chunks(lines, entries)
    scores = _scores(chunks, lines, set(query), set(identifiers))
    spans: list[tuple[int, int]] = []
    for index in sorted(range(len(chunks)), key=lambda i: (-scores[i], i)):
        if scores[index] <= 0 or room <= 0:
            break
        chunk = chunks[index]
        end = _end_within(lines, chunk.first, chunk.end, room)
        if end == chunk.end or not spans:  # the best chunk may be cut short; a later one must fit whole
            spans.append((chunk.first, end))
            room -= _chars(lines, chunk.first, end)
    if not spans:
        spans = [(0, _end_within(lines, 0, len(lines), room))]
    merged: list[tuple[int, int]] = []  # overlapping or touching spans become one, so no line shows twice
    for first, end in sorted(spans):
        if first < end and merged and first <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        elif first < end:
            merged.append((first, end))
    return merged


def _chunks(lines: Sequence[str], entries: Sequence[OutlineEntry]) -> list[Chunk]:
    line_count = len(lines)
    starts_at: set[tuple[int, str]] = set()
    for entry in (entry for entry in entries if 0 < entry.line <= line_count):
        first = entry.line - 1
        while first > 0 and lines[first - 1].lstrip().startswith("@"):
            first -= 1  # a definition's chunk starts at its decorators (`@dataclass`, `@router.get(...)`)
        starts_at.add((first, entry.name))
    starts = sorted(starts_at)
    if not starts:
        return [Chunk(first, min(first + WINDOW_LINES, line_count)) for first in range(0, line_count, WINDOW_LINES)]
    found = [Chunk(0, starts[0][0])] if starts[0][0] > 0 else []  # the module's head: imports, docstring
    for (first, name), (following, _) in zip(starts, [*starts[1:], (line_count, "")], strict=True):
        if following > first:
            found.append(Chunk(first, following, name))
    return found


def _scores(chunks: Sequence[Chunk], lines: Sequence[str], wanted: set[str], identifiers: set[str]) -> list[float]:
    """BM25 within the file: a word the brief shares with every chunk tells them apart by nothing, and a long
    chunk (a class docstring, a module of constants) must not win on length alone."""
    found = [terms("\n".join(lines[c.first:c.end])) for c in chunks]
    counts = [Counter(term for term in words if term in wanted) for words in found]
    spread = Counter(term for matched in counts for term in matched)
    average = sum(len(words) for words in found) / len(found) or 1.0
    scores = []
    for chunk, words, matched in zip(chunks, found, counts, strict=True):
        norm = K1 * (1 - B + B * len(words) / average)
        score = sum(math.log(1 + len(chunks) / spread[term]) * n * (K1 + 1) / (n + norm) for term, n in matched.items())
        score += NAME_MATCH * sum(1 for term in terms(chunk.name) if term in wanted)
        score += NAMED_DEFINITION if chunk.name.rpartition(".")[2] in identifiers else 0.0
        scores.append(score)
    return scores


def _chars(lines: Sequence[str], first: int, end: int) -> int:
    return sum(min(len(line), MAX_LINE_CHARS) + 1 for line in lines[first:end])


def _end_within(lines: Sequence[str], first: int, end: int, room: int) -> int:
    used = 0
    for index in range(first, end):
        used += min(len(lines[index]), MAX_LINE_CHARS) + 1
        if used > room:
            return index
    return end

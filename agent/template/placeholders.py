"""Recognise the placeholder syntaxes templates use, and the guidance text each one carries.

`{{UPPER_SNAKE}}`, `{Free text}`, `[Bracket text]`, `<angle text>`, `[e.g., ...]`, `YYYY-MM-DD` and other date formats,
`NNNN` numbers, `TODO`/`TBD`, HTML comments, and example lines with no marker at all ("Risk 1", "X hours").
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from functools import lru_cache

HTML_TAGS = frozenset(
    "a abbr article aside audio b big blockquote br caption center cite code col colgroup dd del details dfn div "
    "dl dt em figcaption figure font footer form h1 h2 h3 h4 h5 h6 header hr i iframe img input ins kbd label "
    "li main mark nav ol p picture pre q s samp section small source span strike strong sub summary sup table "
    "tbody td tfoot th thead time tr tt u ul var video".split()
)

_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("comment", re.compile(r"<!--(?P<g>.*?)-->", re.S)),
    ("brace", re.compile(r"\{\{(?P<g>[^{}|\n]+(?:\|[^{}|\n]+)+)\}\}")),  # `{{S|M|L}}`: a choice, not a variable
    ("variable", re.compile(r"\{\{\s*(?P<g>[A-Za-z][A-Za-z0-9_]*)\s*\}\}")),
    ("variable", re.compile(r"\$\{(?P<g>[A-Z][A-Z0-9_]*)\}")),  # envsubst `${FEATURE_NAME}`
    # A lower-case single word in braces is a route or format parameter (`/users/{id}`), not guidance.
    # One level of nesting is guidance inside guidance: `{justification, e.g. resolves force {force}}`.
    ("brace", re.compile(r"(?<!\{)\{(?P<g>(?=[^{}\n]*[ A-Z])(?![\s\"'])(?:[^{}\n\"]|\{[^{}\n]*\}){2,})\}(?!\})")),
    # `[x]` after an identifier is indexing or a generic (`items[0]`, `dict[str, int]`), not guidance;
    # `[text](url)` and `[text][ref]` are links; `[ ]` and `[x]` are checkboxes.
    # A link inside is part of the guidance: `[A discussion of the [guidelines](https://…).]` (Go proposals).
    ("bracket", re.compile(r"(?<![A-Za-z0-9)\].])\[(?P<g>(?:[^\[\]\n]|\[[^\[\]\n]+\]\([^()\s]+\))*[A-Za-z]"
                           r"(?:[^\[\]\n]|\[[^\[\]\n]+\]\([^()\s]+\))*)\](?!\(|\[|:\s*\S+://)")),
    ("angle", re.compile(r"<(?P<g>[A-Za-z][A-Za-z0-9 _.,/'|-]*[A-Za-z0-9])>")),
    # A full date format standing for a date: `YYYY-MM-DD`, `MM/DD/YYYY`, `YYYYMMDD`, `yyyy-mm-dd`.
    ("date", re.compile(r"\b(?P<g>YYYY([-/.]?)MM\2DD|(?:MM|DD)([/.])(?:DD|MM)\3YYYY)\b", re.I)),
    ("todo", re.compile(r"\b(?P<g>TODO|TBD|FIXME)\b")),
    # `issue/NNNNN`, `ADR-NNNN`: a run of N standing for a number the author has not got yet.
    ("number", re.compile(r"(?<![A-Za-z])(?P<g>N{3,})(?![A-Za-z])")),
]
URL = re.compile(r"https?://[^\s)>\]]+")
DATA = re.compile(r"^[a-z0-9_]+(?:[.:][a-z0-9_]+)+$|^[a-z0-9_]+=")
CHECKBOX = re.compile(r"^\[[ xX]\]$")
# `{PAID, CANCELLED}`: a set of constants (states, enum members) written in set notation, which plans use in
# transition tables; a template's guidance in braces is words, not a list of constants.
CONSTANT_SET = re.compile(r"^\s*[A-Z][A-Z0-9_]*(?:\s*,\s*[A-Z][A-Z0-9_]*)+\s*$")


@dataclass(frozen=True)
class Placeholder:
    kind: str
    raw: str
    guidance: str
    start: int
    end: int


def find_placeholders(text: str) -> list[Placeholder]:
    """Every placeholder in `text`, in order, none overlapping."""
    return list(_placeholders(text))


def clear_placeholder_cache() -> None:
    """Forget every line read so far (benchmarks time a cold compile)."""
    _placeholders.cache_clear()


@lru_cache(maxsize=8192)  # compile and validate ask about the same line many times
def _placeholders(text: str) -> tuple[Placeholder, ...]:
    found: list[Placeholder] = []
    taken: list[tuple[int, int]] = []  # sorted, never overlapping: a bisect finds the neighbours of a span
    urls = [match.span() for match in URL.finditer(text)] if "://" in text else []
    for kind, pattern in _PATTERNS:
        for match in pattern.finditer(text):
            span = match.span()
            if kind == "date" and any(start <= span[0] < end for start, end in urls):
                continue  # `…/proposals/YYYYMMDD-template.md` in a link names a real file
            at = bisect.bisect(taken, span)
            if (at > 0 and taken[at - 1][1] > span[0]) or (at < len(taken) and taken[at][0] < span[1]):
                continue
            if _is_placeholder(kind, match.group("g")):
                taken.insert(at, span)
                found.append(Placeholder(kind, match.group(0), _guidance(kind, match.group("g")), *span))
    return tuple(sorted(found, key=lambda p: p.start))


def _is_placeholder(kind: str, inner: str) -> bool:
    if kind == "angle":
        first = inner.split()[0].lower()
        return first not in HTML_TAGS and (" " in inner or "-" in inner or "_" in inner)
    if kind == "brace" and CONSTANT_SET.match(inner):
        return False
    if kind == "bracket":  # data, not guidance: `[project.scripts]`, `[{"id": 1}]`, `'.[dev]'`
        if inner == "REDACTED":  # where we hid a secret from the brief or repository: asking to fill it in invites a guess
            return False
        return not CHECKBOX.match(f"[{inner}]") and not inner.startswith(("^", "{", '"', "'")) and not DATA.match(inner)
    return True


def _guidance(kind: str, inner: str) -> str:
    if kind == "variable":
        return inner.replace("_", " ").strip().capitalize()
    if kind == "number":
        return "The number (an issue or record number); write `Unknown: ...` when the brief does not give it"
    if kind == "date":
        return f"Date as {inner.upper()}"
    return " ".join(inner.split()).strip()


def has_placeholder(text: str) -> bool:
    return bool(find_placeholders(text))


def variables(text: str) -> list[str]:
    return [p.guidance for p in find_placeholders(text) if p.kind == "variable"]


def is_whole_placeholder(text: str) -> bool:
    """True when `text` is nothing but one placeholder (ignoring emphasis and punctuation)."""
    stripped = text.strip().strip("*_`").strip()
    found = find_placeholders(stripped)
    return len(found) == 1 and found[0].start == 0 and found[0].end == len(stripped)


def strip_placeholders(text: str, replacement: str = "") -> str:
    out, last = [], 0
    for placeholder in find_placeholders(text):
        out.append(text[last : placeholder.start])
        out.append(replacement)
        last = placeholder.end
    out.append(text[last:])
    return "".join(out)


_CHOICE_WORD = re.compile(r"^[A-Za-z][A-Za-z_ -]{0,18}$")


def parse_choices(text: str) -> tuple[str, ...] | None:
    """The options of an enumerated choice like `[draft | approved]`, `S/M/L/XL`, `High/Med/Low`."""
    inner = text.strip().strip("*").strip()
    while len(inner) > 2 and inner[:1] in "[{<(" and inner[-1:] in "]}>)":  # `{{S|M|L}}`, `<Draft | Done>`
        inner = inner[1:-1].strip()
    separator = "|" if "|" in inner else "/"
    options = tuple(option.strip() for option in inner.split(separator))
    # Two options only with `|`: `Phase/Feature Name` is one name with a slash, not a choice.
    fewest = 2 if separator == "|" else 3
    if len(options) < fewest or not all(_CHOICE_WORD.match(option) for option in options):
        return None
    # `path/to/file` and prose with slashes are not choices: a slash choice reads like labels.
    if separator == "/" and not all(option[0].isupper() for option in options):
        return None
    if len(set(option.lower() for option in options)) != len(options):
        return None
    return options


_EXAMPLE_SHAPES = [
    re.compile(r"\b(?:[A-Z]|\d{1,2})\s*(?:[:\-–—]|$)"),  # "Risk 1", "Service A: ...", "Question 1 - ..."
    re.compile(r"\b[XYZN]\b(?!-)"),  # "X hours", "Feature X must ..."
    re.compile(r"^[A-Z][a-z]+ \d{1,2}\b"),  # "Task 1 with clear acceptance criteria"
    re.compile(r"path/to/|file\d\b|\bTarget (?:value|%)|\.\.\.$|^e\.g\.", re.I),
    re.compile(
        r"^(?:describe|explain|list|add|link|reference|summar|brief|one-sentence|short|include|document|"
        r"outline|provide|identify|specify|write|insert|fill|replace|how to|what|why|who|which|when)\b",
        re.I,
    ),
]


def looks_like_example(text: str) -> bool:
    """Plain example text ("Test scenario 1", "X hours", "Describe the ...") rather than a fixed line."""
    plain = re.sub(r"[*_`]", "", text).strip()
    return any(shape.search(plain) for shape in _EXAMPLE_SHAPES)


def normalise_line(text: str) -> str:
    """A line reduced for comparison with template guidance: no markers, emphasis, or case."""
    text = re.sub(r"^\s*(?:[-*+]|\d+[.)])\s+", "", text)
    text = re.sub(r"^\[[ xX]\]\s+", "", text)
    text = re.sub(r"[*_`]", "", text)
    return " ".join(text.lower().split()).strip(" .:")

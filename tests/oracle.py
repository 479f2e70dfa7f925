"""Test helper: judge a rendered plan against its template without the compiler.

The oracle reads both files with markdown-it-py directly and checks what a team expects of a plan
drafted in its template, whatever syntax the template uses:

- every heading of the template is kept, in order (placeholder text in a heading may be replaced,
  numbered example headings may be renamed and repeated, "(optional)"-style markers may go);
- the metadata keys (`**Key:**`, front matter keys) are kept;
- no section is left empty;
- nothing of the template's guidance is left: placeholders, HTML comments, guidance notes, and the
  prose that was the whole body of a leaf section (the template's hint for what to write there).

It returns problems as strings so a failing test says what is wrong where.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import yaml
from markdown_it import MarkdownIt

PARSER = MarkdownIt("commonmark").enable("table")
PLACEHOLDER = re.compile(
    r"\{\{[^{}\n]+\}\}|\$\{[^{}\n]+\}|\{[^{}\n]{2,}\}|<(?![!/]|https?:|mailto:)[^<>\n]{2,}>"
    r"|(?<![\]\w])\[(?![ xX]\])[^\[\]\n]{2,}\](?![(\[:])"
)
HTML_TAG = re.compile(r"^</?(?:br|details|summary|div|span|p|b|i|em|strong|sub|sup|img|a|kbd|code|hr)\b", re.I)
MARKER = re.compile(r"[(\[](?:optional|if applicable|if any|if needed|if relevant|mandatory|required)[)\]]|\*\(\w+\)\*",
                    re.I)
KEY = re.compile(r"^\s*(?:[-*+]\s+)?\*\*(?P<bold>[^*]{1,40}?):?\*\*\s*:?")
GUIDANCE_WORDS = re.compile(r"^\s*(?:TODO|TBD|N/?A|\(fill me in\))\b", re.I)


@dataclass
class Heading:
    level: int
    text: str
    line: int
    body: list[str] = field(default_factory=list)  # the lines up to the next heading, code included
    leaf: bool = True


@dataclass
class Read:
    front_matter: dict[str, object]
    headings: list[Heading]
    prose: list[str]  # text outside code spans and fences, one entry per line
    comments: list[str]


def read(text: str) -> Read:
    text = text.lstrip("\ufeff").replace("\r\n", "\n")
    front, body, offset = _front_matter(text)
    lines = body.split("\n")
    tokens = PARSER.parse(body)
    headings: list[Heading] = []
    code_lines: set[int] = set()
    comments: list[str] = []
    for index, token in enumerate(tokens):
        if token.type == "heading_open" and token.map:
            headings.append(Heading(int(token.tag[1]), tokens[index + 1].content.strip(), token.map[0] + offset))
        elif token.type in ("fence", "code_block") and token.map:
            code_lines.update(range(token.map[0], token.map[1]))
        elif token.type == "html_block" and token.map:
            block = "\n".join(lines[token.map[0] : token.map[1]])
            comments += re.findall(r"<!--.*?-->", block, re.S)
    for position, heading in enumerate(headings):
        end = headings[position + 1].line - offset if position + 1 < len(headings) else len(lines)
        heading.body = lines[heading.line - offset + 1 : end]
        following = headings[position + 1] if position + 1 < len(headings) else None
        heading.leaf = following is None or following.level <= heading.level
    prose = [re.sub(r"`[^`\n]*`", "", line) for number, line in enumerate(lines) if number not in code_lines]
    for token in tokens:
        if token.type == "inline":
            comments += re.findall(r"<!--.*?-->", token.content, re.S)
    return Read(front, headings, prose, comments)


def _front_matter(text: str) -> tuple[dict[str, object], str, int]:
    match = re.match(r"---\n(.*?\n)?(?:---|\.\.\.)\n", text, re.S)
    if not match:
        return {}, text, 0
    try:
        data = yaml.safe_load(match.group(1) or "") or {}
    except yaml.YAMLError:
        data = {}
    return (data if isinstance(data, dict) else {}), text[match.end() :], match.group(0).count("\n")


def literal_words(heading: str) -> list[str]:
    """The words of a heading the plan must keep: not placeholders, numbers, markers or ALL-CAPS tokens."""
    if "<!--" in heading:
        return []  # a heading carrying a comment is guidance for the heading itself: the plan names it
    text = PLACEHOLDER.sub(" ", MARKER.sub(" ", heading))
    numbered = re.match(r"^(?P<prefix>\D*?[A-Za-z][^\d]*?)\s*#?\d+\b", text)
    text = numbered.group("prefix") if numbered else text
    text = re.sub(r"\[[^\]]*\]\([^)]*\)", " ", text)
    words = re.findall(r"[A-Za-z][A-Za-z'’]+", text)
    return [word.lower() for word in words if not word.isupper() and word.lower() not in ("todo", "tbd", "xxx")]


def placeholders(line: str) -> list[str]:
    found = [match.group(0) for match in PLACEHOLDER.finditer(line)]
    return [token for token in found if not HTML_TAG.match(token)]


def problems(template_text: str, plan_text: str) -> list[str]:
    template, plan = read(template_text), read(plan_text)
    return [*_headings(template, plan), *_keys(template, plan), *_empty(plan), *_leftovers(template, plan)]


def _headings(template: Read, plan: Read) -> list[str]:
    found: list[str] = []
    position = 0
    matched: set[tuple[int, str]] = set()
    for heading in template.headings:
        words = set(literal_words(heading.text))
        shape = (heading.level, " ".join(sorted(words)))
        if shape in matched and _is_example_heading(heading.text):
            continue  # one more numbered example of a block the plan already repeats as often as it needs
        for index in range(position, len(plan.headings)):
            candidate = plan.headings[index]
            if candidate.level == heading.level and words <= set(literal_words(candidate.text) + _all_words(candidate)):
                position = index + 1
                matched.add(shape)
                break
        else:
            found.append(f"heading {heading.text!r} (template line {heading.line + 1}) is missing or out of order")
    return found


def _is_example_heading(text: str) -> bool:
    return bool(re.search(r"\d", text)) or not literal_words(text)


def _all_words(heading: Heading) -> list[str]:
    return [word.lower() for word in re.findall(r"[A-Za-z][A-Za-z'’]+", heading.text)]


def _keys(template: Read, plan: Read) -> list[str]:
    found = [f"front matter key {key!r} is missing" for key in template.front_matter if key not in plan.front_matter]
    plan_text = "\n".join(plan.prose)
    for line in template.prose:
        bold = match.group("bold") if (match := KEY.match(line)) else ""
        if bold and not re.search(r"[\d\[\]{}<>]", bold) and not bold.isupper():  # `**⚠️ CRITICAL**`: an instruction
            key = bold.strip().rstrip(":")
            if key and f"**{key}" not in plan_text:
                found.append(f"metadata key {key!r} is missing")
    return found


def _empty(plan: Read) -> list[str]:
    found = []
    for heading in plan.headings:
        content = [line for line in heading.body if line.strip() and line.strip() not in ("---", "***", "* * *")]
        if heading.leaf and not content:
            found.append(f"section {heading.text!r} (plan line {heading.line + 1}) is empty")
    return found


def _leftovers(template: Read, plan: Read) -> list[str]:
    found = [f"HTML comment left: {comment[:60]!r}" for comment in plan.comments]
    tokens = {token for line in template.prose for token in placeholders(line)}
    plan_lines = [line for line in plan.prose if not line.lstrip().startswith("#")]
    for token in sorted(tokens):
        if any(token in line for line in plan_lines):
            found.append(f"template placeholder left: {token!r}")
    plan_set = {_normal(line) for line in plan.prose}
    for line in _guidance_lines(template):
        if _normal(line) in plan_set:
            found.append(f"template guidance left: {line.strip()[:70]!r}")
    return found


def _guidance_lines(template: Read) -> list[str]:
    """Lines that are guidance whatever the template syntax: notes, blockquotes, and a leaf's whole prose body."""
    lines = []
    for heading in template.headings:
        if any("plan: keep" in line for line in heading.body):
            continue  # the author said this text stays as written
        body = [line for line in heading.body if line.strip() and not line.strip().startswith("<!--")]
        notes = [line for line in body if re.match(r"^\s*(?:>|_[^_].*_\s*$|\*[^*].*\*\s*$)", line)
                 or GUIDANCE_WORDS.match(line)]
        lines += notes
        rest = [line for line in body if line not in notes]
        if heading.leaf and rest and all(_is_prose(line) for line in rest):
            lines += rest
    return [line for line in lines if len(_normal(line)) > 12]


def _is_prose(line: str) -> bool:
    stripped = line.strip()
    return "](" not in stripped and not re.match(r"^(?:[-*+]\s|\d+[.)]\s|\||```|~~~|\*\*[^*]+\*\*\s*:|[-*_]{3,}$|!?\[[^\]]*\]\()", stripped)


def _normal(line: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[*_`>]", "", line)).strip().lower()

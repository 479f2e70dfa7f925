"""Test helper: judge a rendered plan against its template without the compiler.

The oracle reads both files with markdown-it-py directly and checks what a team expects of a plan
drafted in its template, whatever syntax the template uses:

- every heading of the template is kept, in order (placeholder text in a heading may be replaced,
  numbered example headings may be renamed and repeated, "(optional)"-style markers may go);
- the metadata keys (`**Key:**`, front matter keys) are kept;
- no section is left empty;
- no `**Key**:` line is left without a value (a key over nothing but the next key, a rule or a heading);
- no heading or key line is rendered twice where the template has it once;
- a title that names the template (`# PRD Template`, `# RFC title`) is replaced by the plan's own;
- nothing of the template's guidance is left: placeholders, HTML comments, guidance notes (blockquotes,
  italic lines, `**Note:**`-style lead-ins, lines addressing the author as "you"), the prose that was the
  whole body of a leaf section (the template's hint for what to write there), and regions wrapped in a
  custom tag (`<about-this-template>` ... `</about-this-template>`) with nothing to fill in them.

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
    r"|(?<![\]\w])\[(?![ xX]\]|[\"'{^])[^\[\]\n]{2,}\](?![(\[:])"  # `["X", "Y"]`, `[{"id": 1}]` are data
)
HTML_TAG = re.compile(r"^</?(?:br|details|summary|div|span|p|b|i|em|strong|sub|sup|img|a|kbd|code|hr)\b", re.I)
MARKER = re.compile(r"[(\[](?:optional|if applicable|if any|if needed|if relevant|mandatory|required)[)\]]|\*\(\w+\)\*",
                    re.I)
KEY = re.compile(r"^\s*(?:[-*+]\s+)?\*\*(?P<bold>[^*]{1,40}?):?\*\*\s*:?")
GUIDANCE_WORDS = re.compile(r"^\s*(?:TODO|TBD|N/?A|\(fill me in\))\b", re.I)
# `**Note:** ...`, `**Why?** ...`, `Tip: ...`: a lead-in that talks to the author about the template.
NOTE_LEAD = re.compile(r"^\s*(?:[-*+]\s+)?(?:\*\*|__)?(?:note|notes|tip|hint|why\??|important|remember|reminder)"
                       r"\s*[:?!]", re.I)
YOU = re.compile(r"\b(?:you|your|yours|yourself)\b", re.I)
EMPTY_KEY = re.compile(r"^\s*(?:[-*+]\s+|\d+[.)]\s+)?\*\*(?P<key>[^*]+?)\*\*\s*(?::\s*)?$")
KEY_LINE = re.compile(r"^\s*(?:[-*+]\s+|\d+[.)]\s+)?\*\*(?P<key>[^*]{1,60}?):?\*\*\s*:?")
TAG_LINE = re.compile(r"^\s*<(?P<close>/?)(?P<tag>[a-z][\w-]*)(?:\s[^<>]*)?>\s*$", re.I)
KNOWN_HTML = {"details", "summary", "div", "span", "p", "br", "table", "tr", "td", "th", "thead", "tbody", "ul", "ol",
              "li", "pre", "code", "img", "a", "b", "i", "em", "strong", "sub", "sup", "hr", "kbd", "center", "picture",
              "source", "video", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6"}
NUMBERED_HEADING = re.compile(r"^(?P<prefix>[A-Za-z][A-Za-z ]*?)\s+(?P<n>\d+)(?:[:.]|\s+[-–—]\s|$)")
GLUED = re.compile(r"\*\*[^*\n]+(?::\*\*|\*\*:)[^\s*]")
TEMPLATE_NAME = re.compile(r"\b(?:template|title)\b", re.I)


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
    lines: list[str] = field(default_factory=list)  # the body, code included
    code_lines: set[int] = field(default_factory=set)
    offset: int = 0  # lines of front matter before the body


def read(text: str) -> Read:
    text = text.lstrip("\ufeff").replace("\r\n", "\n")
    front, body, offset = _front_matter(text)
    lines = body.split("\n")
    # A custom tag alone on its line wraps markdown, as template authors mean it (CommonMark would read
    # the lines up to the next blank one as raw HTML); `_author_lines` reads the tags from `lines`.
    tokens = PARSER.parse("\n".join("" if _custom_tag(line) else line for line in lines))
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
    return Read(front, headings, prose, comments, lines, code_lines, offset)


def _custom_tag(line: str) -> bool:
    match = TAG_LINE.match(line)
    return bool(match) and match.group("tag").lower() not in KNOWN_HTML  # type: ignore[union-attr]


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
    template, plan = read(_unfenced(template_text)), read(plan_text)
    author = _author_lines(template)
    title = _template_title(template)
    skipped = {heading.line for heading in template.headings if heading.line - template.offset in author}
    skipped |= {title.line} if title else set()
    return [*_headings(template, plan, skipped), *_keys(template, plan, author), *_empty(plan), *_empty_keys(plan),
            *_twice(template, plan), *_title(title, plan), *_numbering(template, plan), *_glued(template, plan), *_leftovers(template, plan, author)]


def _unfenced(text: str) -> str:
    """A template shown inside one ```markdown fence (a page about the template) is judged by the fence's text."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n")
    fences = [token for token in PARSER.parse(text) if token.type == "fence"]
    lines = [line for line in text.split("\n") if line.strip()]
    if len(fences) == 1 and fences[0].info.strip().lower() in ("markdown", "md") and \
            2 * len(fences[0].content.split("\n")) >= len(lines) and re.search(r"^#", fences[0].content, re.M):
        return fences[0].content
    return text


def _headings(template: Read, plan: Read, skipped: set[int]) -> list[str]:
    found: list[str] = []
    position = 0
    matched: set[tuple[int, str]] = set()
    for heading in template.headings:
        if heading.line in skipped:
            continue  # guidance for the author, or the template's own name: not for the plan
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


def _glued(template: Read, plan: Read) -> list[str]:
    """`**File structure**:New function`: a value glued to its key, where the template never glues one."""
    if any(GLUED.search(line) for line in _prose(template)):
        return []
    return [f"value glued to its key: {line.strip()[:60]!r}" for line in _prose(plan) if GLUED.search(line)]


def _numbering(template: Read, plan: Read) -> list[str]:
    """Numbered headings (`Phase 0: ...`) start where the template's do."""
    found = []
    first: dict[tuple[int, str], str] = {}
    for heading in template.headings:
        if match := NUMBERED_HEADING.match(heading.text):
            first.setdefault((heading.level, match.group("prefix").lower()), match.group("n"))
    for (level, prefix), number in first.items():
        numbers = [match.group("n") for heading in plan.headings if heading.level == level
                   and (match := NUMBERED_HEADING.match(heading.text)) and match.group("prefix").lower() == prefix]
        if numbers and numbers[0] != number:
            found.append(f"numbered headings {prefix!r} start at {numbers[0]} where the template starts at {number}")
    return found


def _author_lines(template: Read) -> set[int]:
    """Body lines inside a custom tag (`<instruction>`, `<about-this-template>`) that wraps either no heading
    (words to the author or the model) or nothing to fill (a text about the template itself)."""
    found: set[int] = set()
    stack: list[tuple[str, int]] = []
    for number, line in enumerate(template.lines):
        match = TAG_LINE.match(line) if number not in template.code_lines else None
        if not match or not _custom_tag(line):
            continue
        tag = match.group("tag").lower()
        if not match.group("close"):
            stack.append((tag, number))
        elif stack and stack[-1][0] == tag:
            start = stack.pop()[1]
            region = range(start, number + 1)
            text = [re.sub(r"`[^`\n]*`", "", template.lines[i]) for i in region if i not in template.code_lines]
            headed = any(template.lines[i].startswith("#") for i in region if i not in template.code_lines)
            if not headed or not any(placeholders(line) for line in text if not TAG_LINE.match(line)):
                found.update(region)
    return found


def _template_title(template: Read) -> Heading | None:
    """The first heading when it is a level-1 heading naming the template (`# PRD Template`, `# RFC title`)."""
    first = template.headings[0] if template.headings else None
    if first and first.level == 1 and "<!--" not in first.text and TEMPLATE_NAME.search(PLACEHOLDER.sub(" ", first.text)):
        return first
    return None


def _title(title: Heading | None, plan: Read) -> list[str]:
    if title and any(_normal(heading.text) == _normal(title.text) for heading in plan.headings):
        return [f"the template's own name {title.text!r} is kept as a heading instead of the plan's title"]
    return []


def _empty_keys(plan: Read) -> list[str]:
    """`**Goal**:` over nothing but the next key, a rule, a heading or the end: a value left out."""
    found = []
    lines = [(number, line) for number, line in enumerate(plan.lines) if line.strip()]
    for position, (number, line) in enumerate(lines):
        match = EMPTY_KEY.match(line) if number not in plan.code_lines else None
        if not match or not (match.group("key").rstrip().endswith(":") or line.rstrip().endswith(":")):
            continue
        following = lines[position + 1][1] if position + 1 < len(lines) else ""
        item = bool(re.match(r"^\s*(?:[-*+]|\d+[.)])\s", line))
        next_key = _is_key_line(following) and item == bool(re.match(r"^\s*(?:[-*+]|\d+[.)])\s", following))
        if not following or following.lstrip().startswith("#") or re.match(r"^\s*(?:-{3,}|\*{3,}|_{3,})\s*$", following) \
                or next_key:
            found.append(f"key line {line.strip()!r} (plan line {number + plan.offset + 1}) has no value")
    return found


def _is_key_line(line: str) -> bool:
    match = KEY_LINE.match(line)
    return bool(match) and ":" in line[: match.end()]


def _twice(template: Read, plan: Read) -> list[str]:
    """A heading among its siblings, or a key line within one section, written twice where the template has it once."""
    found = []
    template_keys = {key for heading in template.headings for key, count in _key_counts(heading.body).items() if count > 1}
    for heading in plan.headings:
        for key, count in _key_counts(heading.body).items():
            if count > 1 and key not in template_keys:
                found.append(f"key {key!r} is written {count} times under heading {heading.text!r}")
    template_siblings = {name for name, count in _sibling_counts(template).items() if count > 1}
    for (parent, level, text), count in _sibling_counts(plan).items():
        if count > 1 and (parent, level, text) not in template_siblings:
            found.append(f"heading {text!r} is written {count} times under {parent!r}")
    return found


def _key_counts(body: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    fenced = False
    for line in body:
        if re.match(r"^\s*(?:```|~~~)", line):
            fenced = not fenced
        elif not fenced and _is_key_line(line) and (match := KEY_LINE.match(line)):
            key = (re.match(r"^\s*(?:(?:[-*+]|\d+[.)])\s)?", line).group(0).strip(), _normal(match.group("key")))  # type: ignore[union-attr]
            counts[f"{key[0]} {key[1]}".strip()] = counts.get(f"{key[0]} {key[1]}".strip(), 0) + 1
    return counts


def _sibling_counts(read: Read) -> dict[tuple[str, int, str], int]:
    counts: dict[tuple[str, int, str], int] = {}
    stack: list[Heading] = []
    for heading in read.headings:
        while stack and stack[-1].level >= heading.level:
            stack.pop()
        name = (_normal(stack[-1].text) if stack else "", heading.level, _normal(heading.text))
        counts[name] = counts.get(name, 0) + 1
        stack.append(heading)
    return counts


def _is_example_heading(text: str) -> bool:
    return bool(re.search(r"\d", text)) or not literal_words(text)


def _all_words(heading: Heading) -> list[str]:
    return [word.lower() for word in re.findall(r"[A-Za-z][A-Za-z'’]+", heading.text)]


def _keys(template: Read, plan: Read, author: set[int]) -> list[str]:
    found = [f"front matter key {key!r} is missing" for key in template.front_matter if key not in plan.front_matter]
    plan_text = "\n".join(plan.prose)
    for line in _prose(template, author):
        bold = match.group("bold") if (match := KEY.match(line)) else ""
        spoken = NOTE_LEAD.match(line) or YOU.search(line)  # a key line that talks to the author is guidance
        if bold and not spoken and not re.search(r"[\d\[\]{}<>]", bold) and not bold.isupper():  # `**⚠️ CRITICAL**`
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


def _prose(read: Read, skipped: set[int] = frozenset()) -> list[str]:  # type: ignore[assignment]
    """The text lines outside fences and `skipped`, code spans removed."""
    return [re.sub(r"`[^`\n]*`", "", line) for number, line in enumerate(read.lines)
            if number not in read.code_lines and number not in skipped]


def _leftovers(template: Read, plan: Read, author: set[int]) -> list[str]:
    found = [f"HTML comment left: {comment[:60]!r}" for comment in plan.comments]
    tokens = {token for line in template.prose for token in placeholders(line)}
    plan_lines = [line for line in plan.prose if not line.lstrip().startswith("#")]
    for token in sorted(tokens):
        if any(token in line for line in plan_lines):
            found.append(f"template placeholder left: {token!r}")
    plan_set = {_normal(line) for line in plan.prose}
    spoken = [line for line in _prose(template) if not line.lstrip().startswith("#") and not TAG_LINE.match(line)
              and (NOTE_LEAD.match(line) or YOU.search(line)) and not re.fullmatch(r"\s*\*\*[^*]+\*\*\s*", line)]
    regions = [template.lines[number] for number in sorted(author) if not TAG_LINE.match(template.lines[number])
               and not template.lines[number].lstrip().startswith("#")]
    for line in dict.fromkeys([*_guidance_lines(template), *spoken, *regions]):
        if len(_normal(line)) > 12 and _normal(line) in plan_set:
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

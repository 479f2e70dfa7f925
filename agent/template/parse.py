"""Markdown split into the blocks that templates and plans are made of, with line numbers.

Both the template compiler and the plan validator read markdown through this module, so a plan
written by hand is understood exactly as the template it follows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token

from agent.inputs import parse_yaml
from agent.template.placeholders import HTML_TAGS

MARKDOWN = MarkdownIt("commonmark").enable("table")
MARKDOWN.core.ruler.disable(["inline", "text_join"])  # block structure only: inline markup is read as text
BlockKind = Literal["heading", "list", "table", "code", "kv", "paragraph", "rule", "comment"]

HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
FENCE = re.compile(r"^\s*(`{3,}|~{3,})\s*([\w+-]*)")
RULE = re.compile(r"^\s*(?:-{3,}|\*{3,}|_{3,})\s*$")
LIST_ITEM = re.compile(r"^(\s*)([-*+]|\d+[.)])\s+(\[[ xX]\]\s+)?(.*)$")
BOLD_LINE = re.compile(r"\*\*[^*]{3,120}\*\*:?")
TAG_LINE = re.compile(r"^\s*<(?P<close>/?)(?P<tag>[a-z][\w-]*)(?:\s[^<>]*)?>\s*$", re.I)
KEY_VALUE = re.compile(r"^\*\*(?P<key>[^*]+?)\*\*(?P<sep>\s*(?:\*[^*]*\*\s*)?:?\s*)(?P<value>.*)$")


@dataclass
class Block:
    """A run of lines of one kind. `line` is 1-based in the whole file."""

    kind: BlockKind
    line: int
    lines: list[str]
    level: int = 0
    text: str = ""
    lang: str = ""
    bold: bool = False  # a heading written as a bold line of its own, in a file with no `#` headings


@dataclass
class ListItem:
    indent: int
    marker: str
    checkbox: str
    text: str
    line: int


@dataclass
class Document:
    front_matter: dict[str, object] | None
    front_matter_lines: list[str]
    blocks: list[Block]
    body_offset: int = 0
    errors: list[str] = field(default_factory=list)


class FrontMatterError(ValueError):
    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


def parse_document(text: str, load_front_matter: bool = True) -> Document:
    """Front matter (if any) and the body's blocks; `load_front_matter=False` skips reading its YAML."""
    lines = text.removeprefix("\ufeff").splitlines()  # splitlines also ends lines at CRLF and CR
    # Front matter opens with `---` on the first line and closes at the next `---` (or YAML's `...`).
    opened = bool(lines) and lines[0].strip() == "---"
    end = next((i for i in range(1, len(lines)) if lines[i].strip() in ("---", "...")), None) if opened else None
    fm_lines, offset = (lines[1:end], end + 1) if end is not None else ([], 0)
    front_matter = _load_front_matter(fm_lines) if fm_lines and load_front_matter else None
    blocks = list(split_blocks(lines[offset:], first_line=offset + 1))
    if not any(block.kind == "heading" for block in blocks):
        blocks = _bold_headings(blocks)
    return Document(front_matter, fm_lines, blocks, body_offset=offset)


def _bold_headings(blocks: list[Block]) -> list[Block]:
    """Issue templates often use `**Describe the problem**` lines as their headings: with no `#` heading in the
    file, a bold line standing alone at the start of a block is one (level 2), in templates and plans alike."""
    out: list[Block] = []
    for block in blocks:
        first = block.lines[0].strip()
        if block.kind in ("kv", "paragraph") and BOLD_LINE.fullmatch(first):
            out.append(Block("heading", block.line, [block.lines[0]], level=2, text=first.strip("*").strip(),
                             bold=True))
            out += _line_blocks(block.lines[1:], block.line + 1)
        else:
            out.append(block)
    return out


def _load_front_matter(lines: list[str]) -> dict[str, object]:
    # An HTML comment in front matter is guidance for the author; YAML would read it as a value.
    text = re.sub(r"<!--.*?-->", lambda m: "\n" * m.group(0).count("\n"), "\n".join(lines), flags=re.S)
    try:
        data = parse_yaml(text)  # no aliases: a few bytes of nested aliases expand to gigabytes
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = (mark.line + 2) if mark is not None else 1
        problem = getattr(error, "problem", None) or next(iter(str(error).splitlines()), "") or "not valid YAML"
        raise FrontMatterError(f"front matter is not valid YAML ({problem})", line) from error
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise FrontMatterError("front matter must be a YAML mapping of `key: value` lines", 2)
    return {str(key): _brace_placeholder(value, front_matter_value(lines, str(key))[0]) for key, value in data.items()}


def _brace_placeholder(value: object, raw: str) -> object:
    """`date: {YYYY-MM-DD when the decision was last updated}`: YAML reads a `{…}` value as a mapping of keys
    with no values; in front matter that is the template's brace placeholder, kept as the text it is written."""
    if isinstance(value, dict) and value and all(item is None for item in value.values()) and raw.startswith("{"):
        return raw
    return value


def front_matter_value(lines: list[str], key: str) -> tuple[str, str]:
    """The text after a top-level `key:` in front matter and its trailing `# comment` (each "" when none)."""
    for line in lines:
        match = re.match(r"^(['\"]?)(?P<key>[^\s:#'\"][^:#'\"]*)\1\s*:(?:\s+|$)(?P<value>.*)$", line)
        if match and match.group("key").strip() == key:
            value = match.group("value")
            comment = re.search(r"(?:^|\s)#\s*(.*)$", value) if not value.startswith(("'", '"')) else None
            return (value[: comment.start()] if comment else value).strip(), comment.group(1).strip() if comment else ""
    return "", ""


def split_blocks(lines: list[str], first_line: int = 1) -> list[Block]:
    """The blocks of `lines` as CommonMark reads them (markdown-it-py), with 1-based line numbers.

    CommonMark decides where blocks start and end (fences of any length, `~~~`, setext headings,
    `* * *` rules, lazy list continuation, HTML blocks, tables); inside a paragraph, `**Key:** value`
    lines are told apart from prose line by line, since CommonMark would join them into one paragraph.
    """
    blocks: list[Block] = []
    tokens = MARKDOWN.parse("\n".join(lines))
    depth = 0
    for index, token in enumerate(tokens):
        if token.nesting == -1:
            depth -= 1
        if depth == 0 and token.map is not None and token.nesting >= 0:
            start, end = token.map
            block_lines = lines[start:end]
            while block_lines and not block_lines[-1].strip():
                block_lines.pop()
            blocks += _block(token, block_lines, first_line + start, tokens[index + 1] if token.nesting else None)
        if token.nesting == 1:
            depth += 1
    return blocks


def _block(token: Token, lines: list[str], number: int, inline: Token | None) -> list[Block]:
    kind = token.type
    if kind == "heading_open":
        text = inline.content if inline is not None else ""
        return [Block("heading", number, lines, level=int(token.tag[1]), text=text.strip())]
    if kind == "hr":
        return [Block("rule", number, lines)]
    if kind == "fence":
        fence = FENCE.match(lines[0])
        return [Block("code", number, lines, lang=fence.group(2) if fence else token.info.split(" ")[0])]
    if kind == "table_open":  # a line with no `|` after the rows is the next block, not a row of one cell
        piped = lines[0].lstrip().startswith("|")
        end = next((i for i, line in enumerate(lines)
                    if i > 1 and ("|" not in line or (piped and not line.lstrip().startswith("|")))), len(lines))
        return [Block("table", number, lines[:end]), *_line_blocks(lines[end:], number + end)]
    if kind in ("bullet_list_open", "ordered_list_open"):
        # `- **Size:** M` over `**Status:** draft`: CommonMark continues the item lazily, but a line of its
        # own that starts with a bold key is the next metadata line, as every template author means it.
        lazy = next((i for i, line in enumerate(lines) if i and ((KEY_VALUE.match(line) and not LIST_ITEM.match(line)
                     and not lines[i - 1].rstrip().endswith(("\\", "  "))) or custom_tag(line))), None)
        if lazy is not None:
            return [Block("list", number, lines[:lazy]), *_line_blocks(lines[lazy:], number + lazy)]
        return [Block("list", number, lines)]
    if kind == "html_block" and lines[0].lstrip().startswith("<!--") and lines[-1].rstrip().endswith("-->"):
        text = " ".join(lines).strip().removeprefix("<!--").removesuffix("-->").strip()
        return [Block("comment", number, lines, text=text)]
    if kind == "code_block":  # indented text: templates indent prose and metadata far more often than code
        return _line_blocks([line.strip() for line in lines], number)
    return _line_blocks(lines, number)


def _line_blocks(lines: list[str], first_line: int) -> list[Block]:
    """A paragraph's lines split into runs of `**Key:** value` lines and runs of other text."""
    blocks: list[Block] = []
    index = 0
    while index < len(lines):
        if not lines[index].strip():
            index += 1
            continue
        block, index = _read_block(lines, index, first_line)
        blocks.append(block)
    return blocks


def _read_block(lines: list[str], index: int, first_line: int) -> tuple[Block, int]:
    line = lines[index]
    number = first_line + index
    if fence := FENCE.match(line):
        end = index + 1
        while end < len(lines) and not lines[end].strip().startswith(fence.group(1)):
            end += 1
        return Block("code", number, lines[index : end + 1], lang=fence.group(2)), end + 1
    if heading := HEADING.match(line):
        return Block("heading", number, [line], level=len(heading.group(1)), text=heading.group(2)), index + 1
    if RULE.match(line):
        return Block("rule", number, [line]), index + 1
    if line.lstrip().startswith("<!--"):
        end = index
        while end < len(lines) and "-->" not in lines[end]:
            end += 1
        text = " ".join(lines[index : end + 1]).strip().removeprefix("<!--").removesuffix("-->").strip()
        return Block("comment", number, lines[index : end + 1], text=text), end + 1
    if custom_tag(line):
        return Block("paragraph", number, [line]), index + 1
    if line.lstrip().startswith("|"):
        return _read_while(lines, index, number, "table", lambda s: s.lstrip().startswith("|"))
    if LIST_ITEM.match(line):
        return _read_while(lines, index, number, "list", lambda s: bool(LIST_ITEM.match(s)) or s.startswith(("  ", "\t")))
    if KEY_VALUE.match(line.strip()):
        return _read_while(lines, index, number, "kv", lambda s: bool(KEY_VALUE.match(s.strip())))
    return _read_while(lines, index, number, "paragraph", _continues_paragraph)


def _read_while(lines: list[str], index: int, number: int, kind: BlockKind, keep) -> tuple[Block, int]:  # type: ignore[no-untyped-def]
    end = index + 1
    while end < len(lines) and lines[end].strip() and keep(lines[end]):
        end += 1
    return Block(kind, number, lines[index:end]), end


def _continues_paragraph(line: str) -> bool:
    starts_other = (
        HEADING.match(line)
        or FENCE.match(line)
        or RULE.match(line)
        or LIST_ITEM.match(line)
        or line.lstrip().startswith(("|", "<!--"))
        or KEY_VALUE.match(line.strip())
        or custom_tag(line)
    )
    return not starts_other


def custom_tag(line: str) -> re.Match[str] | None:
    """`<instruction>`, `</overview>`, `<example type="good">` alone on a line: a tag HTML does not know, which
    templates wrap around words for the author or the model (each is a block of its own)."""
    match = TAG_LINE.match(line)
    return match if match and match.group("tag").lower() not in HTML_TAGS else None


def list_items(block: Block) -> list[ListItem]:
    """Items of a list block; continuation lines are folded into the item above them."""
    items: list[ListItem] = []
    fence = ""
    for offset, line in enumerate(block.lines):
        if fence or FENCE.match(line):  # code inside an item is the item's own, not text to check or reword
            opening = FENCE.match(line)
            fence = "" if fence and opening and opening.group(1).startswith(fence) else fence or opening.group(1)  # type: ignore[union-attr]
            continue
        match = LIST_ITEM.match(line)
        if match:
            indent, marker, checkbox, text = match.groups()
            items.append(ListItem(len(indent), marker, (checkbox or "").strip(), text.strip(), block.line + offset))
        elif items:
            items[-1].text += " " + line.strip()
    return items


def table_rows(block: Block) -> list[list[str]]:
    """Cells of each row, the `|---|` separator row left out."""
    rows = []
    for line in block.lines:
        cells = split_row(line)
        if cells and all(re.fullmatch(r":?-{2,}:?", cell) for cell in cells):
            continue
        rows.append(cells)
    return rows


def split_row(line: str) -> list[str]:
    body = line.strip()
    body = body[1:] if body.startswith("|") else body
    body = body[:-1] if body.endswith("|") and not body.endswith("\\|") else body
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", body)]


@dataclass
class RawSection:
    """A heading with the blocks under it (before its first sub-heading) and its sub-sections."""

    block: Block
    body: list[Block] = field(default_factory=list)
    children: list[RawSection] = field(default_factory=list)


def heading_tree(blocks: list[Block]) -> tuple[list[Block], list[RawSection]]:
    """Blocks before the first heading, and the headings nested by level."""
    preamble: list[Block] = []
    roots: list[RawSection] = []
    stack: list[RawSection] = []
    for block in blocks:
        if block.kind != "heading":
            (stack[-1].body if stack else preamble).append(block)
            continue
        section = RawSection(block)
        while stack and stack[-1].block.level >= block.level:
            stack.pop()
        (stack[-1].children if stack else roots).append(section)
        stack.append(section)
    return preamble, roots


def heading_label(text: str) -> str:
    """Heading text without emphasis or trailing colon, for matching and naming."""
    return re.sub(r"[*_`]", "", text).strip().rstrip(":").strip()

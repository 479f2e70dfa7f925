"""Passes over a whole template before its sections are compiled: blocks in, blocks out.

A template shown inside one ```markdown fence is read inside it; an `<instruction>` standing before a heading
moves under it; a region wrapped in a custom tag that holds headings but nothing to fill (a text about the
template), or between `<!-- BEGIN Remove before PR -->` and its `END`, is left out, and returned, as guidance.
"""

from __future__ import annotations

import re

from agent.template import placeholders as ph
from agent.template.parse import Block, Document, custom_tag, split_blocks

FENCE_END = re.compile(r"^\s*(?:`{3,}|~{3,})\s*$")
REMOVAL = re.compile(r"\b(?:remove|delete)\b.*\bbefore\b", re.I)  # `BEGIN Remove before PR`, `Delete this before ...`
SPAN_MARK = re.compile(r"^(?:(?P<begin>BEGIN|START)|(?P<end>END|STOP))\b[\s:-]*(?P<rest>.*)$", re.I)


def unwrapped(document: Document) -> Document:
    """A template published inside one ```markdown fence (a page that shows the template) is the fence's text."""
    code = [block for block in document.blocks if block.kind == "code"]
    size = sum(len(block.lines) for block in document.blocks)
    if len(code) != 1 or code[0].lang.lower() not in ("markdown", "md") or 2 * len(code[0].lines) < size:
        return document
    inner = code[0].lines[1:-1] if FENCE_END.match(code[0].lines[-1]) else code[0].lines[1:]
    blocks = split_blocks(inner, first_line=code[0].line + 1)
    if not any(block.kind == "heading" for block in blocks):
        return document
    return Document(document.front_matter, document.front_matter_lines, blocks, document.body_offset)


def without_author_regions(blocks: list[Block]) -> tuple[list[Block], list[Block]]:
    """The blocks without regions wrapped in a custom tag (`<about-this-method>` ... `</about-this-method>`) that
    hold headings but nothing to fill: a text about the template for its author, never part of a plan. The
    document's first heading stays when it is a title (`#`): the plan needs one. Also returns what was left out."""
    regions: list[tuple[int, int]] = []
    stack: list[tuple[str, int]] = []
    for index, block in enumerate(blocks):
        tag = custom_tag(block.lines[0]) if block.kind == "paragraph" else None
        if tag and not tag.group("close"):
            stack.append((tag.group("tag").lower(), index))
        elif tag and stack and stack[-1][0] == tag.group("tag").lower():
            start = stack.pop()[1]
            inside = blocks[start + 1 : index]
            if any(b.kind == "heading" for b in inside) and not any(_fills(b) for b in inside):
                regions.append((start, index))
    if not regions:
        return blocks, []
    first_heading = next((block for block in blocks if block.kind == "heading"), None)
    dropped = {index for start, end in regions for index in range(start, end + 1)}
    title = {i for i, b in enumerate(blocks) if b is first_heading and b.level == 1}
    return ([b for i, b in enumerate(blocks) if i not in dropped or i in title],
            [b for i, b in enumerate(blocks) if i in dropped and i not in title])


def without_removal_spans(blocks: list[Block]) -> tuple[list[Block], list[Block]]:
    """`<!-- BEGIN Remove before PR -->` … `<!-- END Remove before PR -->`: everything between is for the author,
    never for the plan. The span closes at an `END` comment naming the same thing (or nothing), so an unrelated
    `END` further down cannot swallow the template. Also returns what was left out."""
    kept: list[Block] = []
    removed: list[Block] = []
    index = 0
    while index < len(blocks):
        block = blocks[index]
        end = _span_end(blocks, index) if block.kind == "comment" and REMOVAL.search(block.text) else None
        if end is None:
            kept.append(block)
            index += 1
        else:
            removed += blocks[index : end + 1]
            index = end + 1
    return kept, removed


def _span_end(blocks: list[Block], start: int) -> int | None:
    opening = SPAN_MARK.match(blocks[start].text)
    rest = (opening.group("rest") if opening and opening.group("begin") else blocks[start].text).strip().lower()
    for index in range(start + 1, len(blocks)):
        closing = SPAN_MARK.match(blocks[index].text) if blocks[index].kind == "comment" else None
        if closing and closing.group("end") and closing.group("rest").strip().lower() in ("", rest):
            return index
    return None


def guidance_before_headings(blocks: list[Block]) -> list[Block]:
    """`<instruction>` ... `</instruction>` between one section's text and the next heading introduces that next
    section, and so does a comment on the line right above a heading: it moves under the heading, where the
    section's guidance is read."""
    out = list(blocks)
    index = 0
    while index < len(out):
        block = out[index]
        if (block.kind == "comment" and 0 < index < len(out) - 1 and out[index - 1].kind != "heading"
                and out[index + 1].kind == "heading" and out[index + 1].line == block.line + len(block.lines)):
            # `<!-- This is an optional element -->` on the line right above `## Decision Drivers` (MADR) is about
            # that heading, not the end of the section before it.
            out[index : index + 2] = [out[index + 1], block]
            index += 2
            continue
        end = _region_end(out, index)
        if end is None:
            index += 1
            continue
        after = next((i for i in range(end + 1, len(out)) if not _between(out[i])), None)
        before = next((out[i] for i in range(index - 1, -1, -1) if not _between(out[i])), None)
        if after is not None and out[after].kind == "heading" and before is not None and before.kind != "heading":
            region = out[index : end + 1]
            out[index : after + 1] = [*out[end + 1 : after + 1], *region]
            index = after + 1
        else:
            index = end + 1
    return out


def _region_end(blocks: list[Block], start: int) -> int | None:
    """The index of the closing tag of a custom tag opened at `start` with no heading between, else None."""
    tag = custom_tag(blocks[start].lines[0]) if blocks[start].kind == "paragraph" else None
    if tag is None or tag.group("close"):
        return None
    for index in range(start + 1, len(blocks)):
        block = blocks[index]
        if block.kind == "heading":
            return None
        closing = custom_tag(block.lines[-1])
        if closing and closing.group("close") and closing.group("tag").lower() == tag.group("tag").lower():
            return index
    return None


def _between(block: Block) -> bool:
    """Rules and lone tags (`</overview>`, `<functional-decomposition>`) that stand between a region and a heading."""
    return block.kind == "rule" or (len(block.lines) == 1 and custom_tag(block.lines[0]) is not None)


def _fills(block: Block) -> bool:
    """Whether a block holds a placeholder outside code (`Depends on: [X, Y]` in backticks is about the syntax)."""
    return block.kind != "code" and any(ph.has_placeholder(re.sub(r"`[^`\n]*`", "", line)) for line in block.lines)

"""Lists as templates write them: one list the template split with notes between its items, and items that
number themselves (`**FR-001**: …`). Blocks in, blocks out; labels in, a label pattern out."""

from __future__ import annotations

import re
from collections.abc import Callable

from agent.template.parse import LIST_ITEM, Block


def joined_lists(blocks: list[Block], between_items: Callable[[Block], bool]) -> tuple[list[Block], list[Block]]:
    """One list the template split in two: `* Good, because …` / `<!-- use "neutral" if … -->` / `* Neutral, …`
    (a comment on its own line between the items), or `- **FR-005**: …` / `*Example of marking unclear
    requirements:*` / `- **FR-006**: …` (notes between items whose labels carry on numbering). The notes, each
    with the item it leads to, become the joined list's guidance; they are returned too. `between_items` says
    which blocks are such notes."""
    out: list[Block] = []
    between: list[Block] = []
    index = 0
    while index < len(blocks):
        block = blocks[index]
        lines, end, notes, said = list(block.lines), block.line + len(block.lines), [], []
        while block.kind == "list":
            count = _notes_before_list(blocks, index + 1, between_items)
            if count is None:
                break
            gap, following = blocks[index + 1 : index + 1 + count], blocks[index + 1 + count]
            inside = (count == 1 and gap[0].kind == "comment" and gap[0].line == end
                      and following.line == gap[0].line + len(gap[0].lines))  # no blank line around the comment
            if _numbered(following) != _numbered(block) or not (inside or _labels_carry_on(lines, following)):
                break  # a blank line, or a numbered list after a bulleted one: two lists after all
            notes += gap
            first = LIST_ITEM.match(following.lines[0])
            said.append(" ".join(map(note_text, gap)).rstrip(" :") + (f": {first.group(4)}" if first else ""))
            lines += following.lines
            end = following.line + len(following.lines)
            index += count + 1
        # The joined list carries the notes, each with the item after it, as its text: guidance for its field.
        out.append(Block("list", block.line, lines, text="; ".join(said)) if notes else block)
        between += notes
        index += 1
    return out, between


def _notes_before_list(blocks: list[Block], start: int, between_items: Callable[[Block], bool]) -> int | None:
    """How many notes stand between `start` and the next block, when that block is a list."""
    index = start
    while index < len(blocks) and between_items(blocks[index]):
        index += 1
    return index - start if index > start and index < len(blocks) and blocks[index].kind == "list" else None


def note_text(block: Block) -> str:
    """A comment's text, or a note's without its `>` or emphasis marks."""
    return block.text if block.kind == "comment" else re.sub(r"^>\s?|^[*_]|[*_]$", "", " ".join(
        line.strip() for line in block.lines)).strip()


def _labels_carry_on(lines: list[str], following: Block) -> bool:
    """`**FR-005**` last above and `**FR-006**` first below."""
    last = [m for line in lines if (item := LIST_ITEM.match(line)) and (m := ITEM_LABEL.match(item.group(4)))]
    first = LIST_ITEM.match(following.lines[0])
    label = ITEM_LABEL.match(first.group(4)) if first else None
    return bool(last and label and (last[-1].group("head"), last[-1].group("tail")) == (label.group("head"),
                label.group("tail")) and int(label.group("n")) == int(last[-1].group("n")) + 1)


def _numbered(block: Block) -> bool:
    match = LIST_ITEM.match(block.lines[0])
    return bool(match and match.group(2)[0].isdigit())


ITEM_LABEL = re.compile(r"^(?P<head>\*\*[A-Za-z][A-Za-z -]*?\s*)(?P<n>\d+)(?P<tail>\*\*\s*:\s*)")


def numbered_label(texts: tuple[str, ...]) -> tuple[str, int]:
    """`**Step 1**: …`, `**Step 2**: …`: items that number themselves keep doing so in the plan, as the label
    with `{n}` for the number and the width its digits are padded to (`**FR-001**` → 3), else ("", 0)."""
    found = [ITEM_LABEL.match(text) for text in texts]
    if len(found) < 2 or not all(found):
        return "", 0
    shapes = {(m.group("head"), m.group("tail")) for m in found if m}
    numbers = [m.group("n") for m in found if m]
    if len(shapes) != 1 or [int(number) for number in numbers] != list(range(1, len(numbers) + 1)):
        return "", 0
    head, tail = shapes.pop()
    return f"{head}{{n}}{tail}", len(numbers[0]) if numbers[0].startswith("0") else 0

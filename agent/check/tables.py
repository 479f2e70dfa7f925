"""Checks on a markdown table in a plan: the template's columns, one cell per column, allowed choices."""

from __future__ import annotations

import re

from agent.template import placeholders as ph
from agent.template.model import FieldSpec
from agent.template.parse import Block, split_row

Problem = tuple[str, str, str, int]
CODE_SPAN = re.compile(r"(`+)[^`]+?\1")
SIZES = {"xs": "extra small", "s": "small", "m": "medium", "l": "large", "xl": "extra large"}


def choice_allowed(value: str, choices: tuple[str, ...]) -> bool:
    """`value` picks one of `choices`, spelled as the template does or in an obvious other way: any case,
    "Medium" for `Med`, "Medium" for `M` of S/M/L, the choice followed by a note ("High: the API is public")."""
    plain = re.sub(r"[\s_-]+", " ", value.strip().strip("*_`").strip().lower())  # "in review" for `in_review`
    word = re.match(r"[a-z][a-z ]*[a-z]|[a-z]", plain)
    said = word.group(0) if word else ""
    for choice in (re.sub(r"[\s_-]+", " ", choice.lower()) for choice in choices):
        if plain == choice or re.match(re.escape(choice) + r"\b\W", plain + " "):
            return True
        if len(min(said, choice, key=len)) >= 3 and (said.startswith(choice) or choice.startswith(said)):
            return True
        if SIZES.get(choice) == said:
            return True
    return False


def table_findings(block: Block, spec: FieldSpec | None, guidance: frozenset[str] = frozenset()) -> list[Problem]:
    rows = [(block.line + offset, split_row(line)) for offset, line in enumerate(block.lines)]
    # The `|---|:---:|` line under the header is markdown syntax, not a row.
    rows = [(line, cells) for line, cells in rows
            if not (cells and all(cell.replace(":", "").strip("-") == "" and "-" in cell for cell in cells))]
    if not rows:
        return []
    (header_line, header), width = rows[0], len(rows[0][1])
    problems: list[Problem] = []
    expected = [column.name for column in spec.columns] if spec else []
    if spec and [cell.strip("* ").lower() for cell in header] != [name.strip("* ").lower() for name in expected]:
        problems.append(("error", "table-columns", f"table columns are {' | '.join(header)}; the template's are "
                         f"{' | '.join(expected)}", header_line))
    for line, cells in rows[1:]:
        if len(cells) != width:
            problems.append(("error", "table-columns",
                             f"table row has {len(cells)} cells but the header has {width}; "
                             "add or merge cells so every row matches", line))
            continue
        for index, cell in enumerate(cells):
            for found in ph.find_placeholders(CODE_SPAN.sub("", cell)):  # code is the plan's own content
                problems.append(("error", "placeholder", f"placeholder {found.raw} is still in the table; "
                                 "replace it", line))
            if not ph.has_placeholder(cell) and ph.normalise_line(cell) in guidance:
                problems.append(("error", "guidance", f"table cell {cell!r} is still the template's example text; "
                                 "replace it with this plan's content", line))
            column = spec.columns[index] if spec and index < len(spec.columns) else None
            value = cell.strip("* ")
            if column and column.choices and not choice_allowed(value, column.choices):
                problems.append(("error", "enum", f"{column.name} is {value!r}; use one of: "
                                 f"{', '.join(column.choices)}", line))
    return problems

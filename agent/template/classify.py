"""The body of one template section, block by block: which text is literal and which is a field."""

from __future__ import annotations

import re
from collections import Counter

from agent.template import placeholders as ph
from agent.template.lists import joined_lists, note_text, numbered_label
from agent.template.model import Column, FieldBlock, FieldSpec, FileRole, Line, LiteralText, Node, Slot
from agent.template.parse import KEY_VALUE, Block, ListItem, list_items, split_row, table_rows

NOTE = re.compile(r"^>|^\*\*(?:IMPORTANT|NOTE|ACTION REQUIRED|WARNING)\b|^(?:Note|Tip|Hint|Reminder)s?:\s|^\*[^*\s](?:[^*]|\*\*)*\*$|^_[^_\s][^_]*_$")
NOTE_KEY = re.compile(r"^\s*(?:note|notes|tip|hint|why\??|important|remember|reminder)\s*[:?!]?\s*$", re.I)
SPOKEN = re.compile(r"\b(?:you|your|yours|yourself)\b", re.I)  # text that talks to the author of the plan
INLINE_KEY = re.compile(r"\*\*(?P<key>[^*]{1,40}?:)\*\*\s*|\*\*(?P<k2>[^*]{1,40}?)\*\*:\s*")
ANNOTATION = re.compile(r"^plan:\s*(?P<what>keep|fill)$", re.I)  # `<!-- plan: keep -->` before a block
CONDITIONAL = re.compile(r"^(?:only if|if\b|optional\b|\(?if )", re.I)
# "Remove this section if the change needs no rollout", "This is an optional element" (MADR): the author decides
# whether it applies, so it is optional.
REMOVE_UNLESS = re.compile(r"\b(?:remove|delete|omit|skip)\s+(?:this|the)\s+section\s+(?:if|when|unless)\b"
                           r"|^\s*(?:this|the)\s+(?:\w+\s+)?(?:is\s+an?\s+)?optional\s+(?:element|section|part)\b", re.I)
CONDITIONAL_NOTE = re.compile(r"\*?\((?:if|only if|optional)[^)]*\)\*?", re.I)
# How a field's description introduces the template's own words. Guidance is flagged when a plan copies it, so
# the model is told to write over it; a frame with placeholders is written for the plan, placeholders replaced.
GUIDANCE_LEAD = "Guidance (write this plan's own words, never a copy): "
FRAME_LEAD = "Template wording (write it for this plan, every placeholder replaced): "
LIST_LEAD = "One entry per item, in the spirit of the template's examples: "
DESCRIPTION_LEAD = re.compile("^(?:" + "|".join(re.escape(lead.strip()) for lead in (GUIDANCE_LEAD, FRAME_LEAD, LIST_LEAD))
                              + r")\s*")
FIXED_CELLS = {"-", "—", "n/a"}  # a column of these stays as written ("Actual Time" = "-"); blank cells are to fill
EXAMPLE_CELL = re.compile(r"\b[XYZ]\b|^(?:risk|metric|question|component|service|item|tech)\s*\d+$", re.I)


def slug(text: str) -> str:
    text = re.sub(r"^\s*\d+(?:\.\d+)*[.)]?\s+", "", text)  # "1. Problem Statement" → "Problem Statement"
    words = re.findall(r"[a-z0-9]+", text.lower())
    name = "_".join(words)[:48].strip("_")
    return f"s_{name}" if name[:1].isdigit() else name


def file_role(text: str) -> FileRole:
    """Whether a section lists files to modify, files to create, or both (each line then says which)."""
    lowered = text.lower()
    if "file" not in lowered and "code changes" not in lowered:
        return ""
    creates = bool(re.search(r"\b(create|new)\b", lowered))
    modifies = bool(re.search(r"\bmodif|\bchange", lowered))
    if (creates and modifies) or "code changes" in lowered:
        return "mixed"
    return "create" if creates else "modify" if modifies else ""


class BodyCompiler:
    """Turns the blocks under one heading into nodes, remembering guidance for the field that follows."""

    def __init__(self, variable_counts: Counter[str], plain: bool) -> None:
        self.variable_counts = variable_counts
        self.plain = plain
        self.variables: dict[str, FieldSpec] = {}
        self.guidance_lines: list[str] = []
        self.guidance: list[tuple[int, str]] = []  # blocks read as guidance only, for `plan templates show`
        self._section_optional = False
        self._section_description: list[str] = []
        self._pending: list[str] = []
        self._pending_optional = False
        self._label = ""
        self.kept = False  # the author annotated a block of this section `plan: keep`

    def compile(self, blocks: list[Block]) -> list[Node]:
        self._pending, self._pending_optional, self._label = [], False, ""
        self._section_optional, self._section_description = False, []
        self.kept = False
        nodes: list[Node] = []
        annotation = ""
        closing = ""  # inside `<instruction>` … `</instruction>`: words for the author or the model
        blocks, notes = joined_lists(blocks, _between_items)
        self.guidance += [(note.line, note.lines[0]) for note in notes]
        self.guidance_lines += [ph.normalise_line(note_text(note)) for note in notes if note.kind != "comment"]
        for index, block in enumerate(blocks):
            following = blocks[index + 1] if index + 1 < len(blocks) else None
            if block.kind == "comment" and (match := ANNOTATION.match(block.text)):
                annotation = match.group("what").lower()
                continue
            if closing or _custom_tag(block.lines[0]):
                nested = bool(closing)  # `<example type="bad">` inside `<instruction>` says what follows; the outer tag does not
                text = "\n".join(block.lines)
                if closing and closing in text:
                    text, closing = text[text.index(closing) + len(closing) :], ""
                closing = closing or _still_open(text, blocks[index + 1 :])
                words = " ".join(line.strip() for line in block.lines)
                words = CUSTOM_TAGS.sub(_tag_words if nested or len(block.lines) > 1 else "", words).strip()
                self._section_description += [words] if words.strip(" :") else []
                self.guidance.append((block.line, block.lines[0]))
                continue
            if annotation == "keep":
                new: list[Node] = [LiteralText(block.lines, kept=True)]
                self.kept = True
            elif annotation == "fill":
                text = " ".join(line.strip() for line in block.lines)
                self.guidance_lines += [ph.normalise_line(line) for line in block.lines if line.strip()]
                new = [FieldBlock(self._field("text", "text", GUIDANCE_LEAD + text, examples=(text,)))]
            else:
                new = self._block(block, following, first=not nodes)
            annotation = ""
            if _more_guidance(nodes, new):  # a second paragraph of the same guidance: one answer, not two
                spec, more = nodes[-1].field, new[0].field  # type: ignore[union-attr]
                spec.description += " " + more.description.removeprefix(GUIDANCE_LEAD)
                spec.examples += more.examples
                self.guidance.append((block.line, " ".join(line.strip() for line in block.lines)))
                continue
            if not new:
                self.guidance.append((block.line, " ".join(line.strip() for line in block.lines)))
            for offset, node in enumerate(new):
                if isinstance(node, LiteralText | FieldBlock | Line) and not node.line:
                    node.line = block.line + (offset if block.kind in ("kv", "list", "table") and len(new) > 1 else 0)
            nodes += new
        self._section_description += self._pending  # guidance after the last field is still the section's
        self._pending = []
        return nodes

    def pop_section_optional(self) -> bool:
        optional, self._section_optional = self._section_optional, False
        return optional

    def pop_section_description(self) -> str:
        description, self._section_description = " ".join(self._section_description), []
        return description

    def _block(self, block: Block, following: Block | None, first: bool) -> list[Node]:
        if block.kind == "rule":
            return [LiteralText(block.lines)]
        if block.kind == "comment":
            if self._label or (following is not None and _is_label(following)):
                return [FieldBlock(self._field("text", "text", block.text))]  # the comment marks a spot to fill
            (self._section_description if first else self._pending).append(block.text)
            self._section_optional = self._section_optional or (first and bool(REMOVE_UNLESS.search(block.text)))
            return []
        if block.kind == "code":
            return [self._code(block)]
        if block.kind == "table":
            return self._key_value_table(block) or [self._table(block)]
        if block.kind == "list":
            return self._list(block)
        if block.kind == "kv":
            return self._key_value(block, following, first)
        return self._paragraph(block, following, first)

    def _field(self, default: str, kind: str, guidance: str, **extra: object) -> FieldSpec:
        label = self._label
        name = slug(label) or default
        description = " ".join([*self._pending, guidance]).strip()
        optional = self._pending_optional or bool(extra.pop("optional", False))
        self._pending, self._pending_optional, self._label = [], False, ""
        role = file_role(label)
        return FieldSpec(name, kind, description, optional=optional, role=role, **extra)  # type: ignore[arg-type]

    def _code(self, block: Block) -> Node:
        content = "\n".join(block.lines[1:-1])
        found = ph.find_placeholders(content)
        if found and ph.is_whole_placeholder(content) and found[0].kind == "variable":
            self._label = self._label or found[0].guidance
        guidance = found[0].guidance if found else "Code or diagram for this section, in the template's language"
        if len(found) > 1:  # `[X]%`, `[Y]%` in a diagram: the shape is the guidance, not the first letter
            shape = content if len(content) <= MAX_SHAPE else content[:MAX_SHAPE].rsplit("\n", 1)[0] + "\n..."
            guidance = f"The template's example in this shape, each placeholder filled for this plan:\n{shape}"
        spec = self._field("code", "code", guidance, lang=block.lang, examples=(content,), optional=not found)
        return FieldBlock(spec)

    def _table(self, block: Block) -> Node:
        rows = table_rows(block)
        if not rows:  # a lone `|---|` line has no columns to fill
            return LiteralText(block.lines)
        header, data = rows[0], rows[1:]
        columns = tuple(self._column(name, [row[i] for row in data if i < len(row)]) for i, name in enumerate(header))
        if all(column.literal is not None for column in columns):  # `| - | - |`: a row to fill, not a fixed one
            columns = tuple(Column(column.name, column.key, description=column.name) for column in columns)
        self.guidance_lines += [ph.normalise_line(cell) for row in data for cell in row
                                if ph.has_placeholder(cell) or EXAMPLE_CELL.search(cell.strip("* "))]
        examples = tuple(" | ".join(row) for row in data)
        spec = self._field("rows", "table", f"Table rows with columns: {', '.join(header)}", columns=columns,
                           examples=examples)
        return FieldBlock(spec)

    def _key_value_table(self, block: Block) -> list[Node] | None:
        """A two-column Field/Value table (`| Status | [Draft / Done] |`): fixed keys, each with its own value."""
        rows = [[cell.replace("\\|", "|") for cell in split_row(line)] for line in block.lines]  # `<A \| B>`: a choice
        if not rows or any(len(row) != 2 for row in rows):
            return None
        data = [row for row in rows if not _separator(row)]
        valued = [row for row in data if ph.has_placeholder(row[1]) or ph.parse_choices(row[1])]
        keyed = all(row[0].strip("* ") and not ph.has_placeholder(row[0]) for row in valued)
        if not valued or not keyed or any(ph.has_placeholder(row[0]) for row in data):
            return None
        header_is_key = data[0] in valued
        self._pending, self._label = [], ""
        nodes: list[Node] = []
        for index, (line, row) in enumerate(zip(block.lines, rows, strict=True)):
            if _separator(row) or (index == 0 and not header_is_key) or row[1].strip("* ").lower() in FIXED_CELLS:
                nodes.append(LiteralText([line], joined=bool(nodes)))
                continue
            key = row[0].strip("* ")
            spec = self.value_field(slug(key) or "value", row[1] or f"[{key}]", key)
            nodes.append(Line([f"| {row[0]} | ", Slot(spec), " |"], joined=bool(nodes)))
        return nodes

    def _column(self, name: str, cells: list[str]) -> Column:
        key = slug(name) or "column"
        plain = [cell.strip("* ").replace("\\|", "|") for cell in cells]  # `<Draft \| Done>`: a choice in a cell
        if any(plain) and all(cell.lower() in FIXED_CELLS or not cell for cell in plain):
            return Column(name, key, literal=next(cell for cell in plain if cell))
        for cell in plain:
            if choices := ph.parse_choices(cell):
                return Column(name, key, choices=choices, description=f"One of {', '.join(choices)}")
        example = next((cell for cell in plain if cell), "")
        guidance = ph.find_placeholders(example)
        hint = guidance[0].guidance if guidance else f"e.g. {example}"
        return Column(name, key, description=f"{name}: {hint}" if example else name)

    def _list(self, block: Block) -> list[Node]:
        items = _top_items(list_items(block))
        if (lines := self._key_value_items(items, block)) is not None:
            return lines
        checklist = all(item.checkbox for item in items)  # fixed gates stay unless marked as examples
        plain = self.plain and not checklist
        # A shared variable (`{{PROJECT}}`) is the header's to fill: it does not make an item an example.
        examples = [any(not self._is_shared(p) for p in ph.find_placeholders(item.text)) or plain
                    or ph.looks_like_example(item.text) for item in items]
        if not any(examples):
            self._pending, self._label = [], ""
            nodes: list[Node] = [self._fixed_line(line) for line in block.lines if line.strip()]
            for node in nodes[1:]:
                node.joined = True  # type: ignore[union-attr]
            return nodes
        first, last = examples.index(True), len(examples) - 1 - examples[::-1].index(True)
        # Plain items that read like real content ("Type safety: 100%") may be a team's standard a plan keeps.
        self.guidance_lines += [ph.normalise_line(item.text) for item, ex in zip(items, examples, strict=True)
                                if ex and (ph.has_placeholder(item.text) or ph.looks_like_example(item.text))]
        sample = items[first]
        marker = "1." if sample.marker[0].isdigit() else sample.marker
        texts = tuple(item.text for item in items[first : last + 1])
        label, width = numbered_label(texts)
        nested = any(item.indent > sample.indent for item in list_items(block))
        guidance = LIST_LEAD + "; ".join(texts[:4])
        guidance += f". Between its items the template notes: {block.text}" if block.text else ""
        spec = self._field("items", "list", guidance + (SUB_ITEMS if nested else ""), marker=marker,
                           checkbox=bool(sample.checkbox), examples=texts, item_label=label, label_width=width)
        return [FieldBlock(spec, _raw(block, items[:first]), _raw(block, items[last + 1 :]))]

    def _key_value_items(self, items: list[ListItem], block: Block) -> list[Node] | None:
        """`- **Description**: [What needs to be done]` items: each a fixed key with its own field."""
        pairs = [KEY_VALUE.match(item.text) for item in items]
        if not pairs or not all(p and not ph.has_placeholder(p.group("key")) for p in pairs):
            return None
        keyed = all(p and (":" in p.group("sep") or p.group("key").rstrip().endswith(":")) for p in pairs)
        if not keyed and not any(p and p.group("value") for p in pairs):
            return None  # `- **Bold** lead-ins` with nothing after them are ordinary items; `- **Exports**:` is a key
        if any(re.search(r"\d", p.group("key")) for p in pairs if p):
            return None
        self._pending, self._label = [], ""
        lines: list[Node] = []
        for item, pair in zip(items, pairs, strict=True):
            assert pair is not None
            sep = pair.group("sep") if pair.group("sep").endswith((" ", "\t")) else pair.group("sep") + " "
            prefix = f"{' ' * item.indent}{item.marker} **{pair.group('key')}**{sep}"
            key = pair.group("key").strip().rstrip(":")
            field = self.value_field(slug(key), pair.group("value") or f"[{key}]", key)
            field.role = file_role(key)
            lines.append(Line([prefix, Slot(field)], joined=bool(lines)))
        return lines

    def _is_shared(self, placeholder: ph.Placeholder) -> bool:
        return placeholder.kind == "variable" and self.variable_counts[placeholder.guidance] > 1

    def _fixed_line(self, line: str) -> Line | LiteralText:
        if any(self._is_shared(p) for p in ph.find_placeholders(line)):
            return self.line_with_slots("", line, owner_name="value")
        return LiteralText([line])

    def _key_value(self, block: Block, following: Block | None, first: bool) -> list[Node]:
        # `**Goal**:` over nothing of its own (the next key, a rule, a sub-heading, the end) asks for its value there.
        bare = following is None or following.kind in ("rule", "heading") or (
            following.kind == "kv" and _is_key(following.lines[0]))
        nodes: list[Line | LiteralText] = []
        for index, line in enumerate(block.lines):
            match = KEY_VALUE.match(line.strip())
            value = ph.strip_placeholders(match.group("sep") + match.group("value")) if match else ""
            if match and (NOTE_KEY.match(match.group("key")) or SPOKEN.search(value)) and len(value.split()) > 4:
                self._to_author(line.strip(), Block("kv", block.line + index, [line]), first and not nodes)
                continue  # `**Note:** Section not required until...`, `**Mitigation**: Your defense strategy`
            over_key = index + 1 < len(block.lines) and _is_key(block.lines[index + 1])  # not `**Given** ...` lead-ins
            nodes.append(self._key_value_line(line, bare if index + 1 == len(block.lines) else over_key))
        for node in nodes[1:]:
            node.joined = True
        return list(nodes)

    def _key_value_line(self, raw: str, bare: bool = False) -> Line | LiteralText:
        if len(keys := list(INLINE_KEY.finditer(raw))) > 1:
            return self._key_value_run(raw, keys)
        match = KEY_VALUE.match(raw.strip())
        assert match is not None
        key, sep, value = match.group("key"), match.group("sep"), match.group("value")
        trailing = raw[len(raw.rstrip()) :]
        marker = CONDITIONAL_NOTE.fullmatch(value.strip())
        if not value.strip() and ph.has_placeholder(key):  # `**Decision: [Technology]**` names what follows
            self._label = ph.strip_placeholders(key).strip(" :")
            return self.line_with_slots("", raw.rstrip(), owner_name=slug(self._label) or "title")
        if not value.strip() and bare and not trailing.startswith(("  ", "\\")):
            label = key.strip().rstrip(":")
            spec = FieldSpec(slug(label) or "value", "line", f"{label}, for this plan", role=file_role(label))
            return Line([raw[: len(raw) - len(raw.lstrip())] + f"**{key}**{sep.rstrip()} ", Slot(spec)])
        if not value.strip() or marker:  # `**Files**: (optional)`: the marker is for the author, not the plan
            self._label = key.strip().rstrip(":")
            self._pending_optional = bool(CONDITIONAL_NOTE.search(sep) or marker)
            return LiteralText([raw[: len(raw) - len(value) - len(trailing)].rstrip() if marker else raw])
        if not (ph.has_placeholder(value) or ph.parse_choices(value) or len(value.split()) <= 4):
            return LiteralText([raw])
        prefix = raw[: len(raw) - len(raw.lstrip())] + f"**{key}**{sep}"
        key = key.strip().rstrip(":")
        if ph.is_whole_placeholder(value) and ph.find_placeholders(value)[0].kind == "variable":
            return self.line_with_slots(prefix, value.strip(), owner_name=slug(key), suffix=trailing, label=key)
        spec = self.value_field(slug(key), value.strip(), key)
        spec.role = file_role(key)
        return Line([prefix, Slot(spec), trailing])

    def _key_value_run(self, raw: str, keys: list[re.Match[str]]) -> Line:
        """`**Status:** Draft · **Owner:** {Name} · **Size:** S/M/L`: several fields on one line."""
        parts: list[str | Slot] = [raw[: keys[0].start()]]
        for index, key in enumerate(keys):
            end = keys[index + 1].start() if index + 1 < len(keys) else len(raw)
            segment = raw[key.end() : end]
            value = re.sub(r"\s*[·|,;]?\s*$", "", segment)  # the separator before the next key stays literal
            name = (key.group("key") or key.group("k2")).strip().rstrip(":")
            if value.strip():
                spec = self.value_field(slug(name) or "value", value.strip(), name)
                parts += [key.group(0), Slot(spec), segment[len(value) :]]
            else:
                parts += [key.group(0), segment]
        return Line([part for part in parts if part != ""])

    def value_field(self, name: str, value: str, context: str) -> FieldSpec:
        """A one-line value: an enum when the template offers choices, else text with the template's hint."""
        tool = tool_fill(context, value)
        if choices := ph.parse_choices(value):
            return FieldSpec(name, "enum", f"{context}: one of {', '.join(choices)}", choices=choices,
                             examples=(value,), tool=tool)
        found = ph.find_placeholders(value)
        if found and ph.is_whole_placeholder(value):
            if found[0].kind != "date":
                self.guidance_lines.append(ph.normalise_line(value))
            guidance = found[0].guidance  # `{title of option 1}` names itself: said once, not "title: title"
            said = guidance if ph.normalise_line(context) == ph.normalise_line(guidance) else f"{context}: {guidance}"
            return FieldSpec(name, "line", said, examples=(value,), tool=tool)
        return FieldSpec(name, "line", f"{context} (template example: {value})", examples=(value,), tool=tool)

    def _paragraph(self, block: Block, following: Block | None, first: bool) -> list[Node]:
        text = " ".join(line.strip() for line in block.lines)
        if re.fullmatch(r"[(\[{<]?\s*(?:\.{3}|…|etc\.?)\s*[)\]}>]?", text):
            return []  # `...` under a repeated example: more of the same, nothing to write
        if INSTRUCTION.match(re.sub(r"^[*_\[{(<\s]+", "", text)):  # "{Repeat structure for each task...}"
            (self._section_description if first else self._pending).append(text)
            self.guidance_lines.append(ph.normalise_line(text))
            self._section_optional = self._section_optional or (first and bool(REMOVE_UNLESS.search(text)))
            return []
        if NOTE.match(text):  # a blockquote or an italic line: a note to the author, never plan text
            note = re.sub(r"^>\s?|^[*_]|[*_]$", "", text).strip()
            if self._label and ph.has_placeholder(note):  # `**Quote:**` over `> "{A quote in their words}"`
                return [FieldBlock(self._field("text", "text", note, examples=(note,)))]
            return self._to_author(note, block, first)
        if SPOKEN.search(text) and not ph.has_placeholder(text):
            return self._to_author(text, block, first)  # "place your files under images/": words to the author
        if ph.is_whole_placeholder(text):
            return self._placeholder_paragraph(text, following, first)
        if ph.has_placeholder(text):
            if all(re.match(r"^[^{}\[\]<]{1,40}:\s", line) for line in block.lines):  # `Date: [Date]` lines
                lines = [self.line_with_slots("", line, owner_name="value") for line in block.lines]
                for line in lines[1:]:
                    line.joined = True
                return list(lines)
            return [FieldBlock(self._field("text", "text", FRAME_LEAD + text, examples=(text,)))]
        if text.endswith(":") and len(text) < 80:
            self._label = text.rstrip(":")
            if ph.looks_like_example(text):  # "Describe:", "Brief description of the approach:" ask for what follows
                self._pending.append(text)
                self.guidance_lines.append(ph.normalise_line(text))
                return []
            return [LiteralText(block.lines)]
        if (self.plain and "](" not in text) or ph.looks_like_example(text):
            self.guidance_lines.append(ph.normalise_line(text))
            return [FieldBlock(self._field("text", "text", GUIDANCE_LEAD + text, examples=(text,)))]
        return [LiteralText(block.lines)]

    def _to_author(self, text: str, block: Block, first: bool) -> list[Node]:
        """Guidance for the field that follows (or the section, first in it); never plan text."""
        (self._section_description if first else self._pending).append(text)
        self.guidance_lines += [ph.normalise_line(line.lstrip("> ")) for line in block.lines if line.strip()]
        return []

    def _placeholder_paragraph(self, text: str, following: Block | None, first: bool) -> list[Node]:
        found = ph.find_placeholders(text)[0]
        if self._is_shared(found):
            return [self.line_with_slots("", text, owner_name="value")]
        structured = following is not None and following.kind in ("list", "table", "code")
        if CONDITIONAL.match(found.guidance) and (first or structured):
            target = self._pending if structured else self._section_description
            target.append(found.guidance)
            if structured:
                self._pending_optional = True
            else:
                self._section_optional = True
            return []
        if structured and following is not None and following.kind != "code":
            self._pending.append(found.guidance)
            return []
        if found.kind != "comment":
            self.guidance_lines.append(ph.normalise_line(text))
        if found.kind == "variable":
            self._label = self._label or found.guidance
        return [FieldBlock(self._field("text", "text", found.guidance, examples=(text,)))]

    def line_with_slots(
        self, prefix: str, text: str, owner_name: str, global_slots: bool = False, suffix: str = "", label: str = ""
    ) -> Line:
        """Literal text with a slot per placeholder; `{{NAME}}` slots are shared plan-wide variables."""
        parts: list[str | Slot] = [prefix]
        last = 0
        for found in ph.find_placeholders(text):
            parts.append(text[last : found.start])
            in_path = text[found.start - 1 : found.start] == "/" or bool(re.match(r"/|\.\w+\b", text[found.end :]))
            before = re.search(r"([A-Za-z][A-Za-z ]*?)\**\s*:\**\s*$", text[last : found.start])  # `Last updated: `
            parts.append(self._slot(found, owner_name, in_path, label or (before.group(1) if before else "")))
            last = found.end
        parts.append(text[last:] + suffix)
        slots = [part for part in parts if isinstance(part, Slot) and not part.variable]
        for slot in slots if len(slots) > 1 else []:  # the model answers each part; the frame says how they read
            slot.field.description += f" (one part of the template's line: {text.strip()})"
        return Line([part for part in parts if part != ""])

    def _slot(self, found: ph.Placeholder, owner_name: str, in_path: bool = False, label: str = "") -> Slot:
        if found.kind == "variable":
            name = slug(found.guidance)
            spec = self.variables.setdefault(name, FieldSpec(name, "line", found.guidance, examples=(found.raw,)))
            spec.tool = spec.tool or tool_fill(label or found.guidance, found.raw)
            return Slot(spec, variable=True, in_path=in_path)
        name = slug(found.guidance)
        name = (name if len(name) <= 32 else name[:33].rsplit("_", 1)[0]) or owner_name  # whole words only
        spec = self.value_field(name, found.raw, label or found.guidance)
        spec.examples = (found.raw,)
        return Slot(spec, in_path=in_path)


DATE_WORDS = re.compile(r"^(?:date|today|timestamp|created(?: on| at)?|(?:last )?updated(?: on| at)?|current date|"
                        r"date created|creation date|last modified)$", re.I)
DATE_FORMATS = {"YYYY-MM-DD": "%Y-%m-%d", "YYYYMMDD": "%Y%m%d", "DD/MM/YYYY": "%d/%m/%Y", "MM/DD/YYYY": "%m/%d/%Y",
                "YYYY/MM/DD": "%Y/%m/%d", "DD.MM.YYYY": "%d.%m.%Y"}


def tool_fill(context: str, value: str) -> str:
    """"today:<format>" when the value is the drafting date (`**Created:** YYYY-MM-DD`, `{{TIMESTAMP}}`), else ""."""
    # The label decides, not the format: `**Target date:** YYYY-MM-DD` is the author's to choose.
    shown = next((fmt for pattern, fmt in DATE_FORMATS.items() if pattern in value.upper()), "")
    label = re.sub(r"[-_]", " ", re.sub(r"[*`:]", "", context)).strip()  # front matter writes `creation-date`
    return f"today:{shown or '%Y-%m-%d'}" if DATE_WORDS.match(label) else ""


CUSTOM_TAGS = re.compile(r"</?(?!(?:" + "|".join(sorted(ph.HTML_TAGS)) + r")(?![\w-]))[a-z][\w-]*(?:\s[^<>]*)?>", re.I)
CUSTOM_TAG = re.compile(r"^\s*<(/?)([a-z][\w-]*)(?:\s[^<>]*)?>", re.I)
INSTRUCTION = re.compile(r"^(?:ACTION REQUIRED|REMOVE IF UNUSED|Delete (?:this|the)\b|"
                         r"Repeat\b.{0,40}\b(?:for each|as needed|above|below|structure|section|block)|"
                         r"(?:Continue|Add more|Add additional)\b.{0,50}?(?:\.\.\.|…|as needed|if needed)|"
                         r"Remove (?:this|the) (?:section|line|block|note)|Instructions?:|"
                         r"This is (?:a|the|our) template\b|This template\b)", re.I)  # to the author


def _tag_words(tag: re.Match[str]) -> str:
    """`<example type="bad">` → "Example (bad):", a closing tag → "": the words a tag says, without markup."""
    if tag.group(0).startswith("</"):
        return ""
    name = re.match(r"<([\w-]+)", tag.group(0)).group(1).replace("-", " ").capitalize()  # type: ignore[union-attr]
    values = re.findall(r"=\s*[\"']?([^\"'\s>]+)", tag.group(0))
    return f"{name} ({', '.join(values)}):" if values else f"{name}:"


def _custom_tag(line: str) -> bool:
    """`<instruction>`, `<example type="good">`, `</overview>`: tags HTML does not know, around words for the
    author or the model."""
    match = CUSTOM_TAG.match(line)
    return match is not None and match.group(2).lower() not in ph.HTML_TAGS


def _still_open(text: str, rest: list[Block]) -> str:
    """The closing tag of a custom tag opened in `text` and closed in a later block of `rest`, else ""."""
    later = "\n".join(line for block in rest for line in block.lines)
    for match in re.finditer(r"<([a-z][\w-]*)(?:\s[^<>]*)?>", text, re.I):
        closing = f"</{match.group(1)}>"
        if match.group(1).lower() not in ph.HTML_TAGS and closing not in text[match.end() :] and closing in later:
            return closing
    return ""


def _is_key(line: str) -> bool:
    """`**Goal**: ...` or `**Goal:**`: a key with its colon, not a bold lead-in (`**Given** a user`)."""
    match = KEY_VALUE.match(line.strip())
    return bool(match) and (":" in match.group("sep") or match.group("key").rstrip().endswith(":"))  # type: ignore[union-attr]


def _more_guidance(nodes: list[Node], new: list[Node]) -> bool:
    """Whether `new` is a prose-guidance field right after another: the template's paragraphs of advice
    about one thing ("The Summary section is ...", "A good summary is ...") ask for one text."""
    return (len(new) == 1 and bool(nodes) and all(isinstance(node, FieldBlock) and node.field.kind == "text"
            and node.field.description.startswith(GUIDANCE_LEAD) for node in (nodes[-1], new[0])))


def _between_items(block: Block) -> bool:
    """A comment (not a `<!-- plan: keep -->`, the author's say) or a note: what may stand between a list's items."""
    if block.kind == "comment":
        return not ANNOTATION.match(block.text)
    return block.kind == "paragraph" and bool(NOTE.match(" ".join(line.strip() for line in block.lines)))


def _separator(row: list[str]) -> bool:
    return bool(row) and all(re.fullmatch(r":?-{2,}:?", cell.strip()) for cell in row)


def _is_label(block: Block) -> bool:
    """`**Key Changes:**` alone on its line: a label over what follows it."""
    return block.kind == "kv" and all(not KEY_VALUE.match(line.strip()).group("value").strip()  # type: ignore[union-attr]
                                      for line in block.lines)


MAX_SHAPE = 400  # characters of a code example shown as the shape to follow

SUB_ITEMS = " An item may carry sub-items, as the template's example does: one per line below it, each starting with '- '."


def _top_items(items: list[ListItem]) -> list[ListItem]:
    """Nested items are folded into their parent: the template shows them as part of one example."""
    if not items:
        return items
    base = min(item.indent for item in items)
    top: list[ListItem] = []
    for item in items:
        if item.indent > base and top:
            top[-1] = ListItem(top[-1].indent, top[-1].marker, top[-1].checkbox, f"{top[-1].text}; {item.text}",
                               top[-1].line)
        else:
            top.append(item)
    return top


def _raw(block: Block, items: list[ListItem]) -> list[str]:
    return [block.lines[item.line - block.line] for item in items]

"""The `offline` drafter: a deterministic skeleton plan from the brief and the repository, no network.

It sorts the brief's sentences into the sections they belong to, proposes the files most related to
the brief as files to modify, uses the repository's real test command and dependencies, and marks
what it cannot know with explicit `TODO:` lines, which the validator then reports.
It speaks the same `Provider` seam as the real models, so the draft loop has one code path.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from agent.context.brief import Brief
from agent.context.repo import RankedFile, RepoContext
from agent.providers.base import Capabilities, ModelRequest, ModelResponse, TokenCount, Usage, count_request
from agent.template.model import (
    HEADER,
    FieldSpec,
    Repeat,
    Section,
    Template,
    flat_field,
    has_fields,
    header_fields,
    local_fields,
)

STOP_WORDS = frozenset("the a an and or of to in for on with by is are be this that it as at from we our".split())
ENUM_DEFAULTS = ("draft", "planning", "medium", "med", "m")
MAX_FILES = 5
CONSTRAINT_CUES = re.compile(r"\b(keep|must|without|unchanged|only|never|compatib|no longer|limit|at most)", re.I)


@dataclass(frozen=True)
class Topic:
    """What a field is about: its own name and description plus the headings above it."""

    words: frozenset[str]
    text: str
    subject: str = "this"

    def about(self, *keys: str) -> bool:
        """Whether any word of the topic starts with one of `keys` ("test" matches "tests", not "latest")."""
        return any(re.search(rf"\b{re.escape(key)}", self.text) for key in keys)


class OfflineDrafter:
    name = "offline"
    model = "offline"
    # Sections only: no plan spine, no whole-plan review (it cannot judge a plan); no cache, no batch API.
    capabilities = Capabilities(drafts_whole_plan=False, rate_limited=False)

    def __init__(self, template: Template, brief: Brief, repo: RepoContext | None, today: date | None = None) -> None:
        self.template, self.brief, self.repo = template, brief, repo
        self.today = (today or date.today()).isoformat()
        body = re.sub(r"^#.*$", "", brief.text, flags=re.M)
        body = re.sub(r"^\s*(?:[-*+]|\d+[.)])\s+(?:\[[ xX]\]\s+)?(.*)$", r"\n\1\n", body, flags=re.M)  # an item is a sentence
        parts = re.split(r"(?<=[.!?])\s+|\n{2,}", body)
        self.sentences = [" ".join(part.split()) for part in parts if len(part.split()) >= 4]
        self.focus: list[str] = list(brief.requirements)  # the requirements of the item being filled

    async def complete(self, request: ModelRequest) -> ModelResponse:
        data = {request.schema_name: self.unit(request.schema_name)}
        return ModelResponse(data, json.dumps(data), "complete", Usage(calls=1))

    def count_tokens(self, request: ModelRequest) -> TokenCount:
        return count_request(request)

    async def aclose(self) -> None:
        """Nothing to release: it holds no connections."""

    def unit(self, name: str) -> Any:
        if name == HEADER:
            return {spec.name: self._field(spec, _topic(spec, "plan header")) for spec in header_fields(self.template)}
        return self._node(self.template.unit(name), "")

    def _node(self, node: Section | Repeat, context: str) -> Any:
        if isinstance(node, Repeat):
            return self._repeat(node, context)
        context = f"{context}  {node.label}"
        if flat := flat_field(node):
            return self._field(flat, _topic(flat, context))
        value = {spec.name: self._field(spec, _topic(spec, context)) for spec in local_fields(node.children)}
        for child in node.children:
            if isinstance(child, Section | Repeat) and has_fields(child):
                value[child.name] = self._node(child, context)
        return value

    def _repeat(self, repeat: Repeat, context: str) -> list[dict[str, Any]]:
        """One item per requirement group: a phase or step per theme of the brief, at most three."""
        requirements = list(self.brief.requirements)
        size = max(1, -(-len(requirements) // 3))
        groups = [(_short(requirements[i]), requirements[i : i + size]) for i in range(0, len(requirements), size)]
        items = []
        for title, group in groups or [(_short(self.brief.title), [])]:  # each titled by its first requirement
            self.focus = group
            item = self._node(repeat.prototype, f"{context} {title}")
            if not isinstance(item, dict):  # an item's fields are always named, even when there is only one
                flat = flat_field(repeat.prototype)
                item = {flat.name: item} if flat else {}
            if repeat.title is not None:
                item = {"title": title, **item}
            items.append(item)
        self.focus = list(self.brief.requirements)
        return items

    def _field(self, spec: FieldSpec, topic: Topic) -> Any:
        if spec.kind == "enum":
            return _enum_default(spec.choices)
        if spec.kind == "table":  # one row; the template's fixed columns are its own
            return [{column.key: _enum_default(column.choices) if column.choices else
                     _todo(topic, f"{topic.subject}: {column.name.lower()}")
                     for column in spec.columns if column.literal is None}]
        if spec.kind == "list":
            return self._items(spec, topic)
        if spec.kind == "code":
            if topic.about("test", "command", "install") or spec.lang in ("bash", "sh", "shell"):
                return self._test_command() or "# TODO: the command to run"
            return None if spec.optional else "# TODO: sketch the code"
        return self._text(spec, topic)

    def _text(self, spec: FieldSpec, topic: Topic) -> str:
        if topic.about("date", "created", "updated", "timestamp") or "YYYY-MM-DD" in "".join(spec.examples):
            return self.today
        if topic.about("feature", "task name", "title", "task_name", "name"):
            return self.brief.title
        if spec.role in ("modify", "mixed"):
            paths = [file.path for file in self._related()]
            listed = ", ".join(f"Modify `{path}`" for path in paths)
            return f"{listed} (TODO: say what changes in each)" if paths else _todo(topic, "the files to change")
        if spec.kind == "line":
            return self._line(topic)
        if (judged := self._judgement(topic)) is not None:
            return " ".join(judged)
        if _names_current_state(topic) and self._current_state():
            return " ".join(self._current_state())
        if re.search(r"\b(success|criteri|acceptance|done)", topic.subject):
            said = [s for s in self.sentences if re.search(r"\b(success|done when|means)", s, re.I)]
            return " ".join(said or [f"{r.rstrip('.')}." for r in self.focus]) or _todo(topic)
        if re.search(r"\b(why|motivation)", topic.subject):
            return self.sentences[0] if self.sentences else _todo(topic)
        if re.search(r"\b(architecture|approach)", topic.subject) and self._related():
            files = ", ".join(f"`{file.path}`" for file in self._related()[:3])
            return f"The change centres on {files}, the files closest to the brief. {_todo(topic)}"
        if topic.about("summary", "overview", "tldr", "problem", "executive", "goal", "purpose", "what"):
            return " ".join(self.sentences[:2]) or _todo(topic)
        found = self._matching_sentences(topic, limit=3)
        return " ".join(found) if found else _todo(topic)

    def _line(self, topic: Topic) -> str:
        if topic.about("test"):
            return self._test_command() or _todo(topic)
        if topic.about("depend"):
            return "None"
        if topic.about("goal", "objective", "purpose") and self.focus:
            return self.focus[0]
        found = self._matching_sentences(topic, limit=1, least=2)
        return found[0] if found else _todo(topic)

    def _items(self, spec: FieldSpec, topic: Topic) -> list[str]:
        if spec.role in ("modify", "mixed"):
            return ([f"`{file.path}` - TODO: say what changes here (ranked as related to the brief)"
                     for file in self._related()]
                    or ["TODO: name the files to change; no repository files matched the brief"])
        if spec.role == "create":
            return [_todo(topic, "name the new files this needs and what each holds")]
        if (judged := self._judgement(topic)) is not None:
            return judged
        if _names_current_state(topic) and self._current_state():
            return self._current_state()
        if topic.about("depend", "librar", "package"):
            return list(self.repo.stack.dependencies[:5]) if self.repo and self.repo.stack.dependencies else \
                [_todo(topic)]
        if topic.about("criteria", "acceptance", "success", "requirement", "goal", "task", "step", "deliverable"):
            return self.focus[:6] or [_todo(topic)]
        if topic.about("test"):
            return [f"Test: {requirement}" for requirement in self.focus[:4]] or [_todo(topic)]
        found = self._matching_sentences(topic, limit=3)
        return found or [_todo(topic)]

    def _judgement(self, topic: Topic) -> list[str] | None:
        """Parts a brief rarely answers: grounded where the repository says something, else an explicit TODO."""
        subject = topic.subject
        if re.search(r"\bquestion", subject):
            return [_todo(topic, "the questions this brief leaves open, and who answers each")]
        if re.search(r"\b(rollback|revert|undo)", subject):
            files = ", ".join(f"`{file.path}`" for file in self._related()[:3]) or "the changed files"
            return [f"Revert the commits that change {files}.",
                    _todo(topic, "how data written by the new code is kept or removed on rollback")]
        if re.search(r"\b(rollout|deploy|release)", subject):
            command = self._test_command()
            merge = f"Merge once `{command}` passes." if command else _todo(topic, "the checks that gate the merge")
            return [merge, _todo(topic, "how the change reaches users (flag, release, announcement)")]
        if re.search(r"\bconstraint", subject):
            return [s for s in self.sentences if CONSTRAINT_CUES.search(s)][:4] or [_todo(topic)]
        return None

    def _related(self) -> list[RankedFile]:
        """The files ranked closest to the brief (the context leaves the brief's own file out)."""
        return list(self.repo.ranked[:MAX_FILES]) if self.repo else []

    def _current_state(self) -> list[str]:
        """What the repository already has that the brief touches: its stack and the best-ranked files."""
        if self.repo is None:
            return []
        stack = self.repo.stack
        lines = [f"Written in {', '.join(stack.languages[:3])}" + (f" with {', '.join(stack.frameworks[:3])}"
                 if stack.frameworks else "") + "."] if stack.languages else []
        for file in self._related()[:3]:
            names = ", ".join(entry.name for entry in file.outline[:4])
            lines.append(f"`{file.path}`" + (f" defines {names}." if names else " is related to the brief."))
        return lines

    def _test_command(self) -> str | None:
        return self.repo.stack.test_command if self.repo else None

    def _matching_sentences(self, topic: Topic, limit: int, least: int = 1) -> list[str]:
        """The brief's sentences that share the most words with the topic, in the brief's order."""
        scored = [(len(topic.words & _words(sentence)), index, sentence) for index, sentence in enumerate(self.sentences)]
        best = sorted((s for s in scored if s[0] >= least), key=lambda s: (-s[0], s[1]))[:limit]
        return [sentence for _, _, sentence in sorted(best, key=lambda s: s[1])]


def _topic(spec: FieldSpec, context: str) -> Topic:
    name = spec.name.replace("_", " ")
    generic = name in ("text", "items", "rows", "code", "value")
    subject = (context.strip().split("  ")[-1] if generic else name).strip().lower() or "this"
    text = f"{context} {name} {spec.description}".lower()
    return Topic(_words(text), text, subject)


def _names_current_state(topic: Topic) -> bool:
    """"What exists", "Current behaviour": the field's own heading asks about the code as it is."""
    return bool(re.search(r"\b(current|exist|today|as.is)", topic.subject))


def _words(text: str) -> frozenset[str]:
    return frozenset(word[:6] for word in re.findall(r"[a-z]{3,}", text.lower()) if word not in STOP_WORDS)


def _enum_default(choices: tuple[str, ...]) -> str:
    for preferred in ENUM_DEFAULTS:
        for choice in choices:
            if choice.lower() == preferred:
                return choice
    return choices[len(choices) // 2] if choices else ""


def _short(text: str) -> str:
    words = text.rstrip(".").split()
    return " ".join(words[:8]) + ("…" if len(words) > 8 else "")


def _todo(topic: Topic, what: str = "") -> str:
    return f"TODO: {what or topic.subject} (not in the brief; decide before work starts)"

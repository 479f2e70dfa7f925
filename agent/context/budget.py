"""Token estimates and the budget that decides which prepared sections of context go in."""

from __future__ import annotations

from dataclasses import dataclass, field

from agent.context.repo import CutItem, IncludedItem

CHARS_PER_TOKEN = 4  # close for English and code with the common tokenizers, and needs no download


def estimate_tokens(text: str) -> int:
    """About four characters a token, rounded up: an estimate, never a download of a tokenizer."""
    return -(-len(text) // CHARS_PER_TOKEN)


@dataclass(frozen=True)
class Section:
    """One piece of the prompt, already scrubbed; `text` ends with a newline so pieces join cleanly."""

    kind: str
    path: str | None
    text: str
    # Set when the section was cut short to fit this many tokens: it is charged all of them, so that what is
    # left for files never shrinks as the budget grows (a longer file list must not push a file out).
    allowance: int | None = None

    @property
    def tokens(self) -> int:
        return estimate_tokens(self.text)

    @property
    def cost(self) -> int:
        return max(self.tokens, self.allowance or 0)


@dataclass
class Budget:
    """Greedy in priority order: a section goes in whole if it fits, else it is cut and recorded."""

    limit: int
    included: list[Section] = field(default_factory=list)
    cut: list[CutItem] = field(default_factory=list)
    used: int = 0

    @property
    def remaining(self) -> int:
        return self.limit - self.used

    def offer(self, section: Section) -> bool:
        if section.cost > self.remaining:
            self.cut.append(CutItem(section.kind, section.path or "", "over budget", section.tokens))
            return False
        self.included.append(section)
        self.used += section.cost
        return True

    def manifest_items(self) -> tuple[IncludedItem, ...]:
        return tuple(IncludedItem(s.kind, s.path, s.tokens) for s in self.included)

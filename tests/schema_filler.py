"""Test helper: a schema-valid answer with realistic text in every field (what a good model returns)."""

from __future__ import annotations

from itertools import count
from typing import Any

WORDS = ["parser", "cache", "retry", "export", "session", "billing", "webhook", "index", "queue", "audit"]


def fill(schema: dict[str, Any], seed: int = 0) -> Any:
    return _fill(schema, count(seed))


def _fill(schema: dict[str, Any], counter: count[int]) -> Any:
    if "anyOf" in schema:
        branch = next(s for s in schema["anyOf"] if s.get("type") != "null")
        return _fill(branch, counter)
    if "enum" in schema:
        return schema["enum"][next(counter) % len(schema["enum"])]
    kind = schema.get("type")
    if kind == "object":
        return {name: _fill(sub, counter) for name, sub in schema["properties"].items()}
    if kind == "array":
        return [_fill(schema["items"], counter) for _ in range(2)]
    n = next(counter)
    return f"Handle the {WORDS[n % len(WORDS)]} change in step {n} and cover it with a unit test"

"""Small helpers shared by the provider-layer tests: a request, a schema, a sleep that only records."""

from __future__ import annotations

from typing import Any

from agent.providers.base import ModelRequest
from agent.providers.retry import RetryPolicy

OPENAI_KEY = "sk-proj-TESTKEY-openai-0123456789abcdef"
ANTHROPIC_KEY = "sk-ant-TESTKEY-anthropic-0123456789abcdef"

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "title": {"type": "string"},
        "steps": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        "risk": {"type": "string", "enum": ["low", "medium", "high"]},
    },
    "required": ["title", "steps", "risk"],
    "additionalProperties": False,
}
ANSWER = {"title": "Rate limiting", "steps": ["Add a token bucket per API key"], "risk": "low"}


def make_request(**changes: Any) -> ModelRequest:
    fields: dict[str, Any] = {
        "system": "You write implementation plans.",
        "shared_prefix": "BRIEF: add rate limiting to the public API.",
        "prompt": "Write the Overview section.",
        "schema": SCHEMA,
        "schema_name": "overview",
        "max_output_tokens": 1234,
    }
    return ModelRequest(**(fields | changes))


class RecordingSleep:
    """Stands in for asyncio.sleep: remembers each wait and returns at once."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def fast_policy(attempts: int = 4) -> tuple[RetryPolicy, RecordingSleep]:
    sleep = RecordingSleep()
    return RetryPolicy(attempts=attempts, jitter=0.0, sleep=sleep), sleep


def everything_said(exc: BaseException) -> str:
    """str and repr of an exception and of every exception chained to it."""
    said = []
    current: BaseException | None = exc
    while current is not None:
        said += [str(current), repr(current), repr(current.args)]
        current = current.__cause__ or current.__context__
    return "\n".join(said)

"""Shared by the `plan batch` tests: a repository the good answers fit, backlogs, and respx wire answers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from draft_support import GOOD

TITLES = ("Export invoices as CSV", "Refund a payment", "Audit log of admin actions", "Dark mode",
          "Rate limit the public API", "Bulk invoice download")
CHAT_USAGE = {"prompt_tokens": 1000, "completion_tokens": 100, "total_tokens": 1100}


def make_repo(root: Path) -> Path:
    """The files the good answers name to modify exist (and the one they create does not)."""
    for path in ("src/billing/invoice.py", "src/billing/views.py", "tests/test_invoice.py"):
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(f"# {path}\n")
    return root


def write_backlog(path: Path, count: int) -> list[str]:
    """A JSONL backlog of `count` items; returns their ids."""
    rows = [{"id": f"T-{n}", "title": f"{TITLES[(n - 1) % len(TITLES)]} {n}", "body": f"Item {n} of the backlog.\n\n"
             f"- Do the first thing for item {n}\n- Do the second thing for item {n}"} for n in range(1, count + 1)]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return [row["id"] for row in rows]


def chat_section(body: dict[str, Any]) -> str:
    """The section a Chat Completions body asks for: its forced function (api.openai.com) or its schema."""
    if "tool_choice" in body:
        return str(body["tool_choice"]["function"]["name"])
    return str(body["response_format"]["json_schema"]["name"])


def is_warm_up(body: dict[str, Any]) -> bool:
    """The cache pre-warm a draft sends before its sections (one token on OpenAI, none on Anthropic)."""
    return body.get("max_completion_tokens") == 1 or body.get("max_tokens") == 0


def chat_completion(unit: str, value: Any) -> dict[str, Any]:
    """The answer as api.openai.com gives it for a forced function."""
    call = {"id": "call_1", "type": "function", "function": {"name": unit, "arguments": json.dumps({unit: value})}}
    message = {"role": "assistant", "content": None, "refusal": None, "tool_calls": [call]}
    return {"id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": "gpt-4.1-mini",
            "choices": [{"index": 0, "message": message, "finish_reason": "stop", "logprobs": None}],
            "usage": CHAT_USAGE}


def anthropic_message(unit: str, value: Any) -> dict[str, Any]:
    tool_use = {"type": "tool_use", "id": "toolu_1", "name": unit, "input": {unit: value}}
    return {"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
            "content": [tool_use], "stop_reason": "tool_use", "stop_sequence": None,
            "usage": {"input_tokens": 100, "output_tokens": 50, "cache_read_input_tokens": 800,
                      "cache_creation_input_tokens": 100}}


class ChatWire:
    """A respx side effect for Chat Completions: the good answer for each section, unless `fail(body)`
    says which HTTP status to answer instead. Every request body is kept."""

    def __init__(self, fail: Any = None) -> None:
        self.fail = fail
        self.bodies: list[dict[str, Any]] = []  # the sections' requests
        self.warm_ups: list[dict[str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        (self.warm_ups if is_warm_up(body) else self.bodies).append(body)
        status = self.fail(body) if self.fail else None
        if status:
            return httpx.Response(status, json={"error": {"message": "this item cannot be drafted", "type": "x"}})
        unit = chat_section(body)
        return httpx.Response(200, json=chat_completion(unit, GOOD[unit]))

    def briefs(self) -> set[str]:
        """The item titles the requests were about."""
        return {title_of(body) for body in self.bodies}


def title_of(body: dict[str, Any]) -> str:
    prefix = body["messages"][1]["content"] if "messages" in body and isinstance(body["messages"][1]["content"], str) \
        else "".join(block["text"] for block in body["system"])  # Anthropic: the prefix is in system blocks
    return prefix.split("<brief>\n# ", 1)[1].split("\n", 1)[0]

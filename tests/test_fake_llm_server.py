"""The test double itself: schema-valid default answers and scripted replies in both wire formats."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from fake_llm_filler import fill_schema
from fake_llm_server import Answer, Failure, FakeLLMServer

NESTED: dict[str, Any] = {
    "$defs": {
        "Step": {
            "type": "object",
            "properties": {"title": {"type": "string", "maxLength": 40}, "hours": {"type": "integer"}},
            "required": ["title", "hours"],
        }
    },
    "type": "object",
    "properties": {
        "steps": {"type": "array", "items": {"$ref": "#/$defs/Step"}, "minItems": 3},
        "note": {"anyOf": [{"type": "null"}, {"type": "string", "minLength": 120}]},
        "risk": {"enum": ["low", "high"]},
        "due_date": {"type": "string"},
    },
}


def post(server: FakeLLMServer, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(server.url + path, data=json.dumps(body).encode(), method="POST")
    try:
        with urllib.request.urlopen(request) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as failure:
        return failure.code, json.loads(failure.read())


def test_filler_is_deterministic_valid_and_varied() -> None:
    data = fill_schema(NESTED)
    assert data == fill_schema(NESTED)
    titles = [step["title"] for step in data["steps"]]
    assert len(titles) == 3 and len(set(titles)) == 3 and all(len(t) <= 40 for t in titles)
    assert all(isinstance(step["hours"], int) for step in data["steps"])
    assert len(data["note"]) >= 120 and data["risk"] in ("low", "high") and data["due_date"] == "2026-03-02"
    assert not any(word in json.dumps(data).lower() for word in ("lorem", "todo", "tbd", "placeholder"))


def test_scripted_replies_then_filler(fake_llm_server: FakeLLMServer) -> None:
    fake_llm_server.push(Failure(429, "slow down", {"retry-after": "2"}), Answer(stop="truncated"))
    body: dict[str, Any] = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    body["response_format"] = {"type": "json_schema", "json_schema": {"name": "n", "schema": NESTED}}
    status, failed = post(fake_llm_server, "/v1/chat/completions", body)
    assert status == 429 and failed["error"]["message"] == "slow down"
    status, cut = post(fake_llm_server, "/v1/chat/completions", body)
    assert cut["choices"][0]["finish_reason"] == "length"
    status, full = post(fake_llm_server, "/v1/chat/completions", body)
    assert json.loads(full["choices"][0]["message"]["content"]) == fill_schema(NESTED)
    assert len(fake_llm_server.requests) == 3 and fake_llm_server.requests[0].body == body


def test_handler_answers_anthropic_requests(fake_llm_server: FakeLLMServer) -> None:
    fake_llm_server.handler = lambda request: Answer(stop="refused", refusal=f"no {request.body['model']}")
    body: dict[str, Any] = {"model": "claude", "messages": [{"role": "user", "content": "x"}]}
    body["tools"] = [{"name": "n", "input_schema": NESTED}]
    status, answer = post(fake_llm_server, "/v1/messages", body)
    assert status == 200 and answer["stop_reason"] == "refusal"
    assert answer["content"] == [{"type": "text", "text": "no claude"}]


def test_latency_grows_with_output_tokens() -> None:
    with FakeLLMServer(delay_s=0.5, tokens_per_s=100.0) as server:  # asked, not waited for
        assert server._latency({"usage": {"completion_tokens": 50}}, "openai") == 1.0
        assert server._latency({"usage": {"output_tokens": 100}}, "anthropic") == 1.5

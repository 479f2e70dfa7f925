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


# --- The documented prompt-cache rules (see the fake's docstring for the pages they come from) ------------

WORDS = "the plan names real files and real commands from the repository context " * 40  # ~750 tokens


def anthropic_body(tool_choice: str = "goal", *, marks: int = 2, max_tokens: int = 100,
                   tools: tuple[str, ...] = ("goal", "steps")) -> dict[str, Any]:
    """Tools, a system prompt, a long shared user block (a breakpoint on the system and on that block)."""
    system: list[dict[str, Any]] = [{"type": "text", "text": "You draft plans. " + WORDS, "cache_control": {"type": "ephemeral"}}]
    shared: dict[str, Any] = {"type": "text", "text": "Repository: " + WORDS * 2, "cache_control": {"type": "ephemeral"}}
    extra = [{"type": "text", "text": f"note {n}", "cache_control": {"type": "ephemeral"}} for n in range(marks - 2)]
    choice = {"type": "tool", "name": tool_choice} if tool_choice != "auto" else {"type": "auto"}
    return {"model": "claude-test", "max_tokens": max_tokens, "system": system, "tool_choice": choice,
            "tools": [{"name": name, "description": WORDS, "input_schema": NESTED} for name in tools],
            "messages": [{"role": "user", "content": [shared, *extra, {"type": "text", "text": f"Write {tool_choice}."}]}]}


def cache_use(answer: dict[str, Any]) -> tuple[int, int]:
    usage = answer["usage"]
    return usage["cache_read_input_tokens"], usage["cache_creation_input_tokens"]


def test_anthropic_tool_choice_change_invalidates_only_the_messages_tier(fake_llm_server: FakeLLMServer) -> None:
    _, first = post(fake_llm_server, "/v1/messages", anthropic_body("goal"))
    _, same = post(fake_llm_server, "/v1/messages", anthropic_body("goal"))
    _, other = post(fake_llm_server, "/v1/messages", anthropic_body("steps"))
    read, write = cache_use(first)
    assert read == 0 and write > 2000  # tools + system + the shared block, written once
    assert cache_use(same) == (write, 0)  # everything up to the last breakpoint is read back
    other_read, other_write = cache_use(other)
    assert 0 < other_read < write  # tools and system still read; the shared user block is not
    assert other_read + other_write == write  # ...it is written again under the new tool_choice


def test_anthropic_changed_tool_definitions_invalidate_everything(fake_llm_server: FakeLLMServer) -> None:
    post(fake_llm_server, "/v1/messages", anthropic_body("goal"))
    _, changed = post(fake_llm_server, "/v1/messages", anthropic_body("goal", tools=("goal", "steps", "risks")))
    assert cache_use(changed)[0] == 0 and cache_use(changed)[1] > 0


def test_anthropic_refuses_a_fifth_breakpoint(fake_llm_server: FakeLLMServer) -> None:
    status, _ = post(fake_llm_server, "/v1/messages", anthropic_body(marks=4))
    assert status == 200
    status, five = post(fake_llm_server, "/v1/messages", anthropic_body(marks=5))
    assert status == 400 and "maximum of 4 blocks with cache_control" in five["error"]["message"]


def test_anthropic_caches_nothing_below_the_minimum_length() -> None:
    with FakeLLMServer(min_cache_tokens=100_000) as server:
        post(server, "/v1/messages", anthropic_body())
        _, again = post(server, "/v1/messages", anthropic_body())
    assert cache_use(again) == (0, 0)


def test_anthropic_max_tokens_0_warms_the_cache_but_refuses_a_forced_tool(fake_llm_server: FakeLLMServer) -> None:
    status, refused = post(fake_llm_server, "/v1/messages", anthropic_body("goal", max_tokens=0))
    assert status == 400 and "tool_choice" in refused["error"]["message"]
    status, warm = post(fake_llm_server, "/v1/messages", anthropic_body("auto", max_tokens=0))
    assert status == 200 and warm["content"] == [] and warm["usage"]["output_tokens"] == 0
    assert cache_use(warm)[1] > 2000
    _, section = post(fake_llm_server, "/v1/messages", anthropic_body("goal"))
    read, _ = cache_use(section)
    assert read > 0 and read < cache_use(warm)[1]  # a forced tool_choice reads the tools and system tiers


def openai_body(schema_name: str = "goal", *, prompt: str = "Write the goal.", tools: bool = False,
                key: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"model": "gpt-test", "messages": [
        {"role": "system", "content": "You draft plans."}, {"role": "user", "content": "Repository: " + WORDS * 2},
        {"role": "user", "content": prompt}]}
    schema = {**NESTED, "title": schema_name}
    if tools:
        body["tools"] = [{"type": "function", "function": {"name": name, "strict": True, "parameters": NESTED}}
                         for name in ("goal", "steps")]
        body["tool_choice"] = {"type": "function", "function": {"name": schema_name}}
    else:
        body["response_format"] = {"type": "json_schema", "json_schema": {"name": schema_name, "schema": schema}}
    if key:
        body["prompt_cache_key"] = key
    return body


def cached_tokens(answer: dict[str, Any]) -> int:
    return int(answer["usage"]["prompt_tokens_details"]["cached_tokens"])


def test_openai_caches_the_shared_prefix_in_128_token_steps(fake_llm_server: FakeLLMServer) -> None:
    _, first = post(fake_llm_server, "/v1/chat/completions", openai_body(prompt="Write the goal."))
    _, second = post(fake_llm_server, "/v1/chat/completions", openai_body(prompt="Write the goal again."))
    assert cached_tokens(first) == 0
    cached = cached_tokens(second)
    assert cached >= 1024 and cached % 128 == 0 and cached <= second["usage"]["prompt_tokens"]


def test_openai_caches_nothing_under_1024_tokens(fake_llm_server: FakeLLMServer) -> None:
    short = {**openai_body(), "messages": [{"role": "user", "content": WORDS}]}
    post(fake_llm_server, "/v1/chat/completions", short)
    _, again = post(fake_llm_server, "/v1/chat/completions", short)
    assert cached_tokens(again) == 0


def test_openai_renders_the_output_schema_ahead_of_the_messages(fake_llm_server: FakeLLMServer) -> None:
    post(fake_llm_server, "/v1/chat/completions", openai_body("goal"))
    _, other_schema = post(fake_llm_server, "/v1/chat/completions", openai_body("steps"))
    assert cached_tokens(other_schema) == 0


def test_openai_same_tools_share_the_prefix_whichever_is_forced(fake_llm_server: FakeLLMServer) -> None:
    _, goal = post(fake_llm_server, "/v1/chat/completions", openai_body("goal", tools=True))
    _, steps = post(fake_llm_server, "/v1/chat/completions", openai_body("steps", tools=True, prompt="Write steps."))
    assert cached_tokens(steps) >= 1024
    [call] = goal["choices"][0]["message"]["tool_calls"]
    assert call["function"]["name"] == "goal" and json.loads(call["function"]["arguments"]) == fill_schema(NESTED)
    assert goal["choices"][0]["message"]["content"] is None


def test_openai_prompt_cache_key_separates_caches(fake_llm_server: FakeLLMServer) -> None:
    post(fake_llm_server, "/v1/chat/completions", openai_body(key="draft-1"))
    _, other_key = post(fake_llm_server, "/v1/chat/completions", openai_body(key="draft-2"))
    _, same_key = post(fake_llm_server, "/v1/chat/completions", openai_body(key="draft-1", prompt="Again."))
    assert cached_tokens(other_key) == 0 and cached_tokens(same_key) >= 1024


def test_the_filler_changes_no_spine_and_its_review_finds_nothing() -> None:
    from agent.draft.review import review_schema
    from agent.draft.spine import spine_schema, with_spine_changes

    section = with_spine_changes({"type": "object", "properties": {"goal": {"type": "string"}},
                                  "required": ["goal"], "additionalProperties": False}, "goal")
    filled = fill_schema(section)
    assert filled["goal"] and filled["spine_changes"] == []
    assert fill_schema(review_schema(["goal"])) == {"findings": []}
    spine = fill_schema(spine_schema(["goal"]))
    assert spine["files_to_modify"] and spine["section_budgets"][0]["section"] == "goal"

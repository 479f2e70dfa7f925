"""`plan draft` through the real provider modules, with HTTP mocked at the wire by respx."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from draft_support import BRIEF, GOOD, NO_FINDINGS, SPINE_ANSWER, TEMPLATE, UNITS
from provider_support import ANTHROPIC_KEY, OPENAI_KEY, RecordingSleep, fast_policy
from typer.testing import CliRunner

from agent.cli import app
from agent.draft.loop import DraftResult, DraftSettings, draft_plan
from agent.draft.review import REVIEW, review_schema
from agent.draft.spine import SPINE, spine_schema, with_spine_changes
from agent.errors import TransportError
from agent.providers.anthropic import ANTHROPIC_URL, AnthropicProvider
from agent.providers.base import ModelRequest, Provider
from agent.providers.openai import OPENAI_URL, OpenAIProvider
from agent.session import Session
from agent.template.schema import json_schema, unit_model, unit_names

CHAT = f"{OPENAI_URL}/chat/completions"
MESSAGES = f"{ANTHROPIC_URL}/v1/messages"


def body_of(request: httpx.Request) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(request.content)
    return body


def section_of(request: httpx.Request) -> str:
    body = body_of(request)
    if "response_format" in body:
        return str(body["response_format"]["json_schema"]["name"])
    choice = body["tool_choice"]
    if "function" in choice:  # OpenAI's forced function
        return str(choice["function"]["name"])
    return str(choice.get("name") or body["tools"][0]["name"])  # Anthropic's pre-warm forces no tool


def is_warm_up(request: httpx.Request) -> bool:
    body = body_of(request)
    return body.get("max_tokens") == 0 or body.get("max_completion_tokens") == 1


def openai_reply(unit: str, value: Any, usage: dict[str, Any] | None = None) -> httpx.Response:
    """The answer through the forced function, as api.openai.com gives it."""
    call = {"id": "call_1", "type": "function", "function": {"name": unit, "arguments": json.dumps(_payload(unit, value))}}
    message = {"role": "assistant", "content": None, "refusal": None, "tool_calls": [call]}
    return httpx.Response(200, json={
        "id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": "gpt-4.1-mini",
        "choices": [{"index": 0, "message": message, "finish_reason": "stop", "logprobs": None}],
        "usage": usage or {"prompt_tokens": 1000, "completion_tokens": 100, "total_tokens": 1100},
    })


def anthropic_reply(unit: str, value: Any, usage: dict[str, Any] | None = None) -> httpx.Response:
    tool_use = {"type": "tool_use", "id": "toolu_1", "name": unit, "input": _payload(unit, value)}
    return httpx.Response(200, json={
        "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
        "content": [tool_use], "stop_reason": "tool_use", "stop_sequence": None,
        "usage": usage or {"input_tokens": 1000, "output_tokens": 100},
    })


REPLY = {"openai": openai_reply, "anthropic": anthropic_reply}
WHOLE_PLAN = {SPINE: SPINE_ANSWER, REVIEW: NO_FINDINGS}  # answered as they are, not under a section's key
GOOD_ANSWERS = {**GOOD, **WHOLE_PLAN}


def _payload(unit: str, value: Any) -> Any:
    return value if unit in WHOLE_PLAN else {unit: value}


class Wire:
    """A respx side effect: per-section scripted replies first, then the section's good answer."""

    def __init__(self, kind: str, scripts: dict[str, list[Any]] | None = None,
                 usage: dict[str, Any] | None = None) -> None:
        self.kind, self.usage = kind, usage
        self.scripts = {unit: list(replies) for unit, replies in (scripts or {}).items()}
        self.requests: list[httpx.Request] = []
        self.warm_ups: list[httpx.Request] = []  # the cache pre-warm, outside the scripts

    def __call__(self, request: httpx.Request) -> httpx.Response:
        unit = section_of(request)
        if is_warm_up(request):
            self.warm_ups.append(request)
            return REPLY[self.kind](unit, GOOD_ANSWERS[unit], self.usage)
        self.requests.append(request)
        scripted = self.scripts.get(unit)
        reply = scripted.pop(0) if scripted else GOOD_ANSWERS[unit]
        if isinstance(reply, Exception):
            raise reply
        if isinstance(reply, httpx.Response):
            return reply
        return REPLY[self.kind](unit, reply, self.usage)

    def bodies(self, unit: str | None = None) -> list[dict[str, Any]]:
        return [body_of(r) for r in self.requests if unit is None or section_of(r) == unit]


def mount(kind: str, wire: Wire) -> respx.Route:
    return respx.post(CHAT if kind == "openai" else MESSAGES).mock(side_effect=wire)


def provider(kind: str, attempts: int = 4) -> tuple[Provider, RecordingSleep]:
    policy, sleep = fast_policy(attempts)
    if kind == "openai":
        return OpenAIProvider("gpt-4.1-mini", OPENAI_KEY, retry=policy), sleep
    return AnthropicProvider("claude-sonnet-4-5", ANTHROPIC_KEY, retry=policy), sleep


def draft(target: Provider, **settings: Any) -> DraftResult:
    async def run() -> DraftResult:
        try:
            # the spine and review calls are left out: these tests are about section calls on the wire
            return await draft_plan(TEMPLATE, BRIEF, target, "## Files\n- src/billing/invoice.py", None,
                                    DraftSettings(**{"spine": False, "review": False, **settings}))
        finally:
            await target.aclose()

    return asyncio.run(run())


def error(kind: str, status: int, headers: dict[str, str] | None = None) -> httpx.Response:
    inner = {"message": "overloaded", "type": "api_error"}
    body = {"error": inner} if kind == "openai" else {"type": "error", "error": inner}
    return httpx.Response(status, headers=headers, json=body)


TEMPLATE_UNITS = unit_names(TEMPLATE)  # in the template's order, as the schemas' enums list them
KINDS = pytest.mark.parametrize("kind", ["openai", "anthropic"])


# --- what goes on the wire ---------------------------------------------------------------------


@respx.mock
def test_openai_forces_one_of_the_same_strict_tools_behind_one_prefix() -> None:
    wire = Wire("openai")
    mount("openai", wire)
    target, _ = provider("openai")
    result = draft(target)
    assert result.complete
    bodies = {section_of(r): body_of(r) for r in wire.requests}
    [warm_up] = [body_of(request) for request in wire.warm_ups]  # fills the cache before the fan-out
    assert sorted(bodies) == UNITS
    # Every call carries every tool, the spine's and the review's too, so one cached prefix serves them all.
    schemas = {unit: with_spine_changes(json_schema(unit_model(TEMPLATE, unit)), unit) for unit in UNITS}
    schemas |= {SPINE: spine_schema(list(TEMPLATE_UNITS)), REVIEW: review_schema(list(TEMPLATE_UNITS))}
    tools = [{"type": "function", "function": {"name": name, "description": tool["function"]["description"],
                                               "strict": True, "parameters": schemas[name]}}
             for name, tool in zip(sorted(schemas), sorted(warm_up["tools"], key=lambda t: t["function"]["name"]),
                                   strict=True)]
    for unit, body in bodies.items():
        assert "response_format" not in body
        assert sorted(body["tools"], key=lambda t: t["function"]["name"]) == tools
        assert body["tool_choice"] == {"type": "function", "function": {"name": unit}}
        assert [m["role"] for m in body["messages"]] == ["system", "user", "user"]
        assert body["max_completion_tokens"] == 4096
    # Tools, system and shared prefix are the same bytes in every call, and one cache key routes them.
    prefixes = {json.dumps([b["tools"], b["messages"][:2], b["prompt_cache_key"]]) for b in [warm_up, *bodies.values()]}
    assert len(prefixes) == 1
    assert BRIEF.text in bodies["goal"]["messages"][1]["content"]


def test_a_compatible_server_gets_a_strict_json_schema_per_section() -> None:
    target = OpenAIProvider("llama3", "no-key", "http://localhost:11434/v1")
    body = target.wire_body(ModelRequest("system", "prefix", "prompt", {"type": "object"}, "goal",
                                         toolbox=(("goal", {"type": "object"}),)))
    assert body["response_format"] == {"type": "json_schema", "json_schema": {
        "name": "goal", "strict": True, "schema": {"type": "object"}}}
    assert "tools" not in body and "prompt_cache_key" not in body and "max_tokens" in body


@respx.mock
def test_anthropic_forces_the_section_tool_and_caches_the_shared_prefix() -> None:
    wire = Wire("anthropic")
    mount("anthropic", wire)
    target, _ = provider("anthropic")
    assert draft(target).complete
    bodies = wire.bodies()
    [warm_up] = [body_of(request) for request in wire.warm_ups]  # writes the cache once; the sections read it
    assert warm_up["max_tokens"] == 0 and warm_up["tool_choice"] == {"type": "auto"}
    assert sorted(body["tool_choice"]["name"] for body in bodies) == UNITS
    for body in bodies:
        unit = body["tool_choice"]["name"]
        assert body["tool_choice"] == {"type": "tool", "name": unit}
        tools = {tool["name"]: tool["input_schema"] for tool in body["tools"]}
        assert tools[unit] == with_spine_changes(json_schema(unit_model(TEMPLATE, unit)), unit)
        _, common, own = body["system"]
        # Two breakpoints in the system tier, which a change of tool_choice does not invalidate: the
        # repository part, which other briefs share too, and then the brief.
        assert common["cache_control"] == own["cache_control"] == {"type": "ephemeral"}
        assert "## Files" in common["text"] and BRIEF.text not in common["text"] and BRIEF.text in own["text"]
        assert "untrusted data" in common["text"] and "<brief>" in own["text"]  # still labelled as data
        [prompt] = body["messages"][0]["content"]
        assert "cache_control" not in prompt and BRIEF.text not in prompt["text"]
    # Everything up to the cache breakpoints is the same bytes in every call, so the cache serves it.
    cached = {json.dumps([b["tools"], b["system"]]) for b in [warm_up, *bodies]}
    assert len(cached) == 1


@respx.mock
def test_a_server_that_refuses_the_pre_warm_gets_a_one_token_call() -> None:
    refused: list[httpx.Request] = []
    wire = Wire("anthropic")

    def refuse_max_tokens_0(request: httpx.Request) -> httpx.Response:
        if body_of(request)["max_tokens"] == 0:
            refused.append(request)
            return httpx.Response(400, json={"type": "error", "error": {"type": "invalid_request_error",
                                                                         "message": "max_tokens: must be >= 1"}})
        if body_of(request)["max_tokens"] == 1:
            wire.warm_ups.append(request)
            return anthropic_reply(section_of(request), GOOD[section_of(request)])
        return wire(request)

    respx.post(MESSAGES).mock(side_effect=refuse_max_tokens_0)
    target, _ = provider("anthropic")
    assert draft(target).complete
    assert len(refused) == 1 and len(wire.warm_ups) == 1 and len(wire.requests) == len(UNITS)
    assert body_of(wire.warm_ups[0])["tool_choice"]["type"] == "tool"


@KINDS
@respx.mock
def test_second_round_request_carries_the_finding(kind: str) -> None:
    wire = Wire(kind, {"goal": ["{Describe the outcome}"]})
    mount(kind, wire)
    target, _ = provider(kind)
    result = draft(target)
    first, second = wire.bodies("goal")
    if kind == "openai":
        prompts = [first["messages"][-1]["content"], second["messages"][-1]["content"]]
    else:
        prompts = [first["messages"][0]["content"][-1]["text"], second["messages"][0]["content"][-1]["text"]]
    assert "is still in the plan" not in prompts[0]
    assert "placeholder {Describe the outcome} is still in the plan" in prompts[1]
    assert len(wire.requests) == len(UNITS) + 1
    assert result.complete and result.rounds == 1 and result.plan["goal"] == GOOD["goal"]


# --- retries at the wire -----------------------------------------------------------------------


@KINDS
@respx.mock
def test_429_waits_as_told_then_the_draft_completes(kind: str) -> None:
    wire = Wire(kind, {"goal": [error(kind, 429, {"retry-after": "3"})]})
    mount(kind, wire)
    target, sleep = provider(kind)
    result = draft(target)
    assert sleep.waits == [3.0]
    warm_up = len(wire.warm_ups)  # Anthropic's cache warm-up is a call too
    assert result.complete and result.usage.calls == len(UNITS) + 1 + warm_up  # so is the refused attempt


@KINDS
@respx.mock
def test_a_5xx_sequence_backs_off_then_succeeds(kind: str) -> None:
    wire = Wire(kind, {"risks": [error(kind, 500), error(kind, 502), error(kind, 503)]})
    mount(kind, wire)
    target, sleep = provider(kind)
    result = draft(target)
    assert sleep.waits == [1.0, 2.0, 4.0]
    assert result.complete and len(wire.bodies("risks")) == 4


@KINDS
@respx.mock
def test_a_section_that_keeps_failing_is_a_finding_and_the_rest_is_drafted(kind: str) -> None:
    wire = Wire(kind, {"risks": [error(kind, 503)] * 8})
    mount(kind, wire)
    target, _ = provider(kind)
    result = draft(target, max_rounds=0)
    finding = next(f for f in result.findings if f.unit == "risks")
    assert finding.code == "transport" and "HTTP 503 after 4 attempts" in finding.message
    assert set(result.plan) == set(UNITS) - {"risks"} and not result.complete


@KINDS
@respx.mock
def test_a_timeout_is_retried(kind: str) -> None:
    wire = Wire(kind, {"plan": [httpx.ReadTimeout("slow")]})
    mount(kind, wire)
    target, sleep = provider(kind)
    assert draft(target).complete and len(sleep.waits) == 1


@KINDS
@respx.mock
def test_when_every_call_times_out_the_draft_fails(kind: str) -> None:
    wire = Wire(kind, {unit: [httpx.ReadTimeout("slow")] * 2 for unit in UNITS})
    mount(kind, wire)
    target, _ = provider(kind, attempts=2)
    with pytest.raises(TransportError, match="no answer within the call timeout after 2 attempts"):
        draft(target)


# --- through the CLI ---------------------------------------------------------------------------


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "src" / "billing").mkdir(parents=True)
    (tmp_path / "src" / "billing" / "invoice.py").write_text("class Invoice:\n    pass\n")
    (tmp_path / "src" / "billing" / "views.py").write_text("def invoice_page(request):\n    pass\n")
    (tmp_path / "brief.md").write_text("# Export invoices as CSV\n\nFinance wants a CSV download of invoices.\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def cli(*args: str, env: dict[str, str] | None = None, session: Session | None = None) -> Any:
    return CliRunner().invoke(app, ["draft", "brief.md", "--template", "compact", *args], env=env, obj=session)


@pytest.mark.parametrize(("model", "variable"), [
    ("openai:gpt-4.1-mini", "OPENAI_API_KEY"), ("anthropic:claude-sonnet-4-5", "ANTHROPIC_API_KEY")])
def test_missing_key_is_one_line_and_exit_1(repo: Path, model: str, variable: str) -> None:
    result = cli("--model", model)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        f"plan: error: No key for {model.split(':')[0]}: set {variable}, or use --model offline")
    assert "Traceback" not in result.output and result.stdout == ""
    assert not (repo / "implementation-plans").exists()


@pytest.mark.parametrize("args", [["--model", "mystery:model"], ["--base-url", "http://127.0.0.1:9/v1"]])
def test_bad_model_options_are_usage_errors(repo: Path, args: list[str]) -> None:
    result = cli(*args)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.stderr.startswith("plan: error: ") and len(result.stderr.splitlines()) == 1


USAGE_WITH_CACHE: dict[str, dict[str, Any]] = {
    "openai": {"prompt_tokens": 1000, "completion_tokens": 100, "total_tokens": 1100,
               "prompt_tokens_details": {"cached_tokens": 768}},
    "anthropic": {"input_tokens": 100, "output_tokens": 100, "cache_read_input_tokens": 700,
                  "cache_creation_input_tokens": 200},
}


@KINDS
@respx.mock
def test_json_report_sums_cache_reads_and_writes(repo: Path, kind: str) -> None:
    wire = Wire(kind, usage=USAGE_WITH_CACHE[kind])
    mount(kind, wire)
    model = "openai:gpt-4.1-mini" if kind == "openai" else "anthropic:claude-sonnet-4-5"
    env = {"OPENAI_API_KEY": OPENAI_KEY, "ANTHROPIC_API_KEY": ANTHROPIC_KEY}
    result = cli("--model", model, "--format", "json", env=env)
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    usage = report["usage"]
    calls = len(UNITS) + 2 + len(wire.warm_ups)  # the sections, the spine, the review, the warm-up
    if kind == "openai":
        assert (usage["input_tokens"], usage["cache_read_tokens"], usage["cache_write_tokens"]) == (
            1000 * calls, 768 * calls, 0)
        per_call = (232 * 0.40 + 768 * 0.10 + 100 * 1.60) / 1e6
    else:
        assert (usage["input_tokens"], usage["cache_read_tokens"], usage["cache_write_tokens"]) == (
            1000 * calls, 700 * calls, 200 * calls)
        per_call = (100 * 3.00 + 700 * 0.30 + 200 * 3.75 + 100 * 15.00) / 1e6
    assert usage["calls"] == calls and usage["output_tokens"] == 100 * calls
    assert usage["cost_usd"] == pytest.approx(per_call * calls)
    # And call by call, the warm-up included, what the cache did for each.
    assert sorted(call["section"] for call in report["calls"]) == sorted(
        [*UNITS, SPINE, REVIEW, *(section_of(request) for request in wire.warm_ups)])
    read = 768 if kind == "openai" else 700
    assert {(call["input_tokens"], call["cache_read_tokens"]) for call in report["calls"]} == {(1000, read)}


@respx.mock
def test_cli_gives_up_in_one_line_when_the_provider_stays_down(repo: Path) -> None:
    policy, sleeps = fast_policy(attempts=2)
    respx.post(CHAT).mock(side_effect=httpx.ConnectError("connection refused"))
    # The session's retry policy is handed to the app as click's `obj`: nothing in agent/ is patched.
    result = cli("--model", "openai:gpt-4.1-mini", env={"OPENAI_API_KEY": OPENAI_KEY}, session=Session(retry=policy))
    assert sleeps.waits, "the fast policy was not the one used: the test slept through real back-off"
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.stderr.splitlines()[-1].startswith("plan: error: openai: could not connect to https://api.openai.com/v1")
    assert OPENAI_KEY not in result.output
    assert not (repo / "implementation-plans").exists()

"""The providers shipped for tests (`agent.providers.testing`), and the capabilities every provider declares."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from draft_support import BRIEF
from provider_support import ANTHROPIC_KEY, OPENAI_KEY, SCHEMA, make_request
from template_support import public_path, public_templates

from agent.batch.batched import batched_provider
from agent.draft.cost import Account
from agent.draft.loop import DraftSettings, draft_plan
from agent.draft.review import REVIEW, review_schema
from agent.draft.spine import SPINE, spine_schema, with_spine_changes
from agent.errors import InputError, TransportError
from agent.evals.cassettes import RecordingProvider, ReplayProvider
from agent.providers import resolve_provider
from agent.providers.base import Capabilities, ModelRequest, ModelResponse, Usage
from agent.providers.offline import OfflineDrafter
from agent.providers.testing import PLAIN, FunctionProvider, SchemaProvider, fill_schema
from agent.session import ProviderOrder, build_provider
from agent.template.catalog import builtin_templates, load_template
from agent.template.model import Template
from agent.template.schema import json_schema, unit_model, unit_names

# --- FunctionProvider ------------------------------------------------------------------------------


def test_a_dict_comes_back_as_a_complete_answer_with_its_json_and_estimated_usage() -> None:
    provider = FunctionProvider(lambda request: {request.schema_name: "Add a token bucket per API key"})
    response = asyncio.run(provider.complete(make_request()))
    assert response.data == {"overview": "Add a token bucket per API key"} and response.stop == "complete"
    assert response.text == '{"overview": "Add a token bucket per API key"}'
    assert response.usage.calls == 1 and response.usage.input_tokens > 20 and response.usage.output_tokens > 5
    assert provider.requests == [make_request()]


def test_a_model_response_comes_back_unchanged_and_async_functions_are_awaited() -> None:
    cut = ModelResponse(None, '{"title": "Rate lim', "truncated", Usage(calls=1, output_tokens=7))

    async def answer(request: ModelRequest) -> ModelResponse:
        await asyncio.sleep(0)
        return cut

    provider = FunctionProvider(answer)
    responses = asyncio.run(_ask(provider, make_request(), make_request(prompt="again")))
    assert responses == [cut, cut]
    assert [request.prompt for request in provider.requests] == ["Write the Overview section.", "again"]


def test_an_exception_the_function_raises_is_the_call_failing_and_costs_nothing() -> None:
    def unreachable(request: ModelRequest) -> dict[str, Any]:
        raise TransportError("test: could not connect")

    provider, account = FunctionProvider(unreachable), Account()
    with pytest.raises(TransportError, match="could not connect"):
        asyncio.run(account.complete(provider, make_request()))
    assert account.usage == Usage() and len(provider.requests) == 1


def test_name_and_capabilities_are_what_the_test_declares() -> None:
    caching = Capabilities(warm_cache_first=True)
    provider = FunctionProvider(lambda request: {}, name="anthropic:claude-test", capabilities=caching)
    assert (provider.name, provider.model, provider.capabilities) == ("anthropic:claude-test", "claude-test", caching)
    assert FunctionProvider(lambda request: {}).capabilities == PLAIN == Capabilities()
    asyncio.run(provider.aclose())  # holds nothing; closing is allowed all the same


async def _ask(provider: FunctionProvider, *requests: ModelRequest) -> list[ModelResponse]:
    return [await provider.complete(request) for request in requests]


# --- SchemaProvider --------------------------------------------------------------------------------


def test_schema_provider_answers_valid_json_for_the_schema_the_same_every_time() -> None:
    provider = SchemaProvider()
    first, again = asyncio.run(_ask(provider, make_request(), make_request(prompt="again")))
    jsonschema.validate(first.data, SCHEMA)
    assert first.data == again.data and first.data is not None
    assert first.data["risk"] in ("low", "medium", "high") and len(first.data["steps"]) == 2


def test_fill_schema_follows_refs_consts_type_lists_bounds_and_optional_fields() -> None:
    schema: dict[str, Any] = {
        "type": "object",
        "$defs": {"Step": {"type": "object", "properties": {"kind": {"const": "step"}, "done": {"type": "boolean"}},
                           "required": ["kind", "done"], "additionalProperties": False}},
        "properties": {
            "steps": {"type": "array", "items": {"$ref": "#/$defs/Step"}, "minItems": 3},
            "owner": {"anyOf": [{"type": "null"}, {"type": "string"}]},
            "note": {"type": ["null", "string"]},
            "size": {"type": "integer", "minimum": 5, "maximum": 8},
            "findings": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["steps", "owner", "note", "size", "findings"],
        "additionalProperties": False,
    }
    value = fill_schema(schema, empty={"findings"})
    jsonschema.validate(value, schema)
    assert len(value["steps"]) == 3 and value["findings"] == [] and isinstance(value["owner"], str)


def _compiled(name: str) -> Template:
    return load_template(name if name in builtin_templates() else str(public_path(name)))


def _schemas(compiled: Template) -> list[tuple[str, dict[str, Any]]]:
    names = unit_names(compiled)
    units = [(unit, with_spine_changes(json_schema(unit_model(compiled, unit)), unit)) for unit in names]
    return [*units, (SPINE, spine_schema(names)), (REVIEW, review_schema(names))]


@pytest.mark.parametrize("name", [*builtin_templates(), *public_templates()])
def test_schema_provider_answers_every_section_of_a_template_with_what_its_model_accepts(name: str) -> None:
    compiled = _compiled(name)
    provider = SchemaProvider()
    for unit, schema in _schemas(compiled):
        data = asyncio.run(provider.complete(ModelRequest("", "", "", schema, unit))).data
        jsonschema.validate(data, schema)
        if unit not in (SPINE, REVIEW):  # a section's own model, without the loop's spine_changes
            unit_model(compiled, unit).model_validate({unit: data[unit]})


@pytest.mark.parametrize("name", [*builtin_templates(), *public_templates()])
def test_a_draft_answered_by_the_schema_provider_completes_in_one_round(name: str) -> None:
    provider = SchemaProvider()
    result = asyncio.run(draft_plan(_compiled(name), BRIEF, provider, "", None, DraftSettings()))
    assert result.complete and result.findings == [] and result.rounds == 0
    assert {request.schema_name for request in provider.requests} == {SPINE, REVIEW, *result.plan}


# --- capabilities: declared by every provider, passed on by every wrapper --------------------------


def test_the_sdk_providers_declare_what_their_wire_supports() -> None:
    platform = resolve_provider("openai:gpt-test", env={"OPENAI_API_KEY": OPENAI_KEY})
    compatible = resolve_provider("openai:qwen", base_url="http://127.0.0.1:9/v1", env={})
    ollama = resolve_provider("ollama:llama3", env={})
    anthropic = resolve_provider("anthropic:claude-test", env={"ANTHROPIC_API_KEY": ANTHROPIC_KEY})
    assert platform.capabilities == Capabilities(warm_cache_first=True, batch_api=True, forced_tools=True)
    assert compatible.capabilities == Capabilities(batch_api=True)  # response_format, nothing to warm
    assert ollama.capabilities == Capabilities()
    assert anthropic.capabilities == Capabilities(warm_cache_first=True, batch_api=True, forced_tools=True)
    for provider in (platform, compatible, ollama, anthropic):
        asyncio.run(provider.aclose())


def test_offline_is_built_with_its_brief_and_drafts_sections_only() -> None:
    offline = build_provider(ProviderOrder("offline", {}, template=load_template("compact"), brief=BRIEF))
    assert isinstance(offline, OfflineDrafter) and offline.capabilities == Capabilities(drafts_whole_plan=False, rate_limited=False)
    with pytest.raises(InputError, match="offline drafts from a brief and a repository"):
        resolve_provider("offline", env={})


def test_wrappers_pass_their_providers_capabilities_on(tmp_path: Path) -> None:
    caching = Capabilities(warm_cache_first=True, batch_api=True, forced_tools=True, context_window=200_000)
    inner = FunctionProvider(lambda request: {}, capabilities=caching)
    # A recorded warm-up would differ from its section's request only in what the cassette key leaves out.
    assert RecordingProvider(inner, tmp_path / "case.json").capabilities == Capabilities(
        batch_api=True, forced_tools=True, context_window=200_000)


def test_the_batch_api_is_refused_for_a_provider_that_has_none(tmp_path: Path) -> None:
    from agent.batch.manifest import Manifest

    with Manifest.open(tmp_path, "backlog.jsonl") as manifest, pytest.raises(InputError, match="has no batch API"):
        batched_provider(resolve_provider("ollama:llama3", env={}), manifest, lambda note: None)


def test_a_replay_declares_no_warm_up_and_closes_without_a_connection(tmp_path: Path) -> None:
    recorder = RecordingProvider(SchemaProvider(name="anthropic:claude-test"), tmp_path / "case.json")
    asyncio.run(recorder.complete(make_request()))
    recorder.save("case")
    replay = ReplayProvider(tmp_path / "case.json", "case")
    assert replay.capabilities == Capabilities()
    asyncio.run(replay.aclose())
    assert asyncio.run(replay.complete(make_request())).data == fill_schema(SCHEMA)

"""Cassettes at the Provider seam: a recorded draft replays with the same answers and usage and no
network; a request the cassette lacks is an error naming the case and section; keys never land in one."""

from __future__ import annotations

import asyncio
import json
from collections import deque
from pathlib import Path
from typing import Any

import pytest

from agent.errors import BudgetError, InputError, ProviderError, TransportError
from agent.evals.cassettes import RecordingProvider, ReplayMissError, ReplayProvider
from agent.providers.base import ModelRequest, ModelResponse, Usage
from agent.providers.testing import FunctionProvider

KEY = "sk-proj-Zq81mB7vX2pL0aaaaaaaaaaaaaaaaaaaaaaaaaa"


def queue_model(*answers: ModelResponse | Exception) -> FunctionProvider:
    """Answers from a queue; an exception in the queue is raised instead."""
    waiting = deque(answers)

    def next_answer(request: ModelRequest) -> ModelResponse:
        answer = waiting.popleft()
        if isinstance(answer, Exception):
            raise answer
        return answer

    return FunctionProvider(next_answer, name="openai:queue")


def request(section: str = "goal", prompt: str = "Draft the goal.") -> ModelRequest:
    return ModelRequest("system", "prefix: the brief and the repository", prompt,
                        {"type": "object", "properties": {section: {"type": "string"}}}, section)


def answer(value: str, tokens: int = 10) -> ModelResponse:
    return ModelResponse({"goal": value}, json.dumps({"goal": value}), "complete",
                         Usage(calls=1, input_tokens=tokens, output_tokens=3))


def record(path: Path, inner: FunctionProvider, *requests: ModelRequest) -> list[Any]:
    recorder = RecordingProvider(inner, path, secrets=[KEY])
    outcomes = asyncio.run(_ask_all(recorder, requests))
    recorder.save("case-1")
    return outcomes


async def _ask_all(provider: Any, requests: tuple[ModelRequest, ...]) -> list[Any]:
    outcomes = []
    for one in requests:
        try:
            outcomes.append(await provider.complete(one))
        except ProviderError as error:
            outcomes.append(error)
    return outcomes


def test_a_replay_gives_back_the_recorded_answers_in_order_with_their_usage(tmp_path: Path) -> None:
    path = tmp_path / "case-1.json"
    recorded = record(path, queue_model(answer("first", 10), answer("second", 20)), request(), request())
    replay = ReplayProvider(path, "case-1")
    replayed = asyncio.run(_ask_all(replay, (request(), request())))
    assert [r.data for r in replayed] == [r.data for r in recorded] == [{"goal": "first"}, {"goal": "second"}]
    assert replay.name == "openai:queue"
    assert replayed[0].usage + replayed[1].usage == Usage(calls=2, input_tokens=30, output_tokens=6)


@pytest.mark.parametrize("error", [TransportError("openai: still 503 after 3 attempts"),
                                   BudgetError("openai: still 503 after 3 attempts")])
def test_a_failed_call_is_recorded_and_fails_the_same_way_on_replay(tmp_path: Path, error: Exception) -> None:
    path = tmp_path / "case-1.json"
    record(path, queue_model(error), request())
    with pytest.raises(type(error), match="still 503"):
        asyncio.run(ReplayProvider(path, "case-1").complete(request()))


def test_a_changed_request_misses_naming_the_case_and_section(tmp_path: Path) -> None:
    path = tmp_path / "case-1.json"
    record(path, queue_model(answer("first")), request())
    with pytest.raises(ReplayMissError, match=r"case case-1, section goal: .* record again with --record"):
        asyncio.run(ReplayProvider(path, "case-1").complete(request(prompt="Draft the goal, briefly.")))


def test_matching_by_section_answers_a_changed_prompt_with_the_sections_next_answer(tmp_path: Path) -> None:
    path = tmp_path / "case-1.json"
    record(path, queue_model(answer("first"), answer("second")), request(), request(prompt="Fix the goal."))
    replay = ReplayProvider(path, "case-1", match="section")
    replayed = asyncio.run(_ask_all(replay, (request(prompt="Changed."), request(prompt="Changed again."))))
    assert [r.data["goal"] for r in replayed] == ["first", "second"]
    assert replay.by_section_answers == 2
    with pytest.raises(ReplayMissError):  # each recorded answer is given once
        asyncio.run(replay.complete(request(prompt="A third time.")))


def test_a_missing_or_foreign_cassette_is_a_one_line_input_error(tmp_path: Path) -> None:
    with pytest.raises(ReplayMissError, match="case case-9: no cassette at"):
        ReplayProvider(tmp_path / "case-9.json", "case-9")
    (tmp_path / "other.json").write_text('{"schema_version": 1}')
    with pytest.raises(InputError, match="not a version 1 cassette"):
        ReplayProvider(tmp_path / "other.json", "other")


def test_a_key_an_answer_echoes_is_scrubbed_from_the_cassette(tmp_path: Path) -> None:
    path = tmp_path / "case-1.json"
    record(path, queue_model(answer(f"use the key {KEY} and sk-ant-api03-{'b' * 30}")), request())
    text = path.read_text()
    assert KEY not in text and "sk-ant-api03-bbbb" not in text and "[REDACTED]" in text


def test_the_cassette_holds_digests_and_answers_not_the_prompt(tmp_path: Path) -> None:
    path = tmp_path / "case-1.json"
    record(path, queue_model(answer("first")), request())
    text = path.read_text()
    assert "prefix: the brief" not in text
    assert json.loads(text)["exchanges"][0].keys() == {"section", "seq", "key", "response"}

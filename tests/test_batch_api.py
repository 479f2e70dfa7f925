"""`plan batch --via batch-api` against OpenAI's Batch API and Anthropic's Message Batches, mocked by respx:
the jobs sent, the re-ask round as a second job, polling with backoff, and resuming across runs."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import pytest
import respx
from batch_api_support import FakeAnthropicBatches, FakeOpenAIBatches, good_answer, section
from batch_support import make_repo, title_of, write_backlog
from draft_support import UNITS
from provider_support import ANTHROPIC_KEY, OPENAI_KEY
from typer.testing import CliRunner, Result

from agent.batch.batched import PollPolicy
from agent.batch.manifest import MANIFEST_NAME
from agent.cli import app
from agent.draft.cost import PRICES
from agent.session import Session

ENV = {"OPENAI_API_KEY": OPENAI_KEY, "ANTHROPIC_API_KEY": ANTHROPIC_KEY}
OPENAI_MODEL = "openai:gpt-4.1-mini"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    write_backlog(tmp_path / "backlog.jsonl", 3)
    return make_repo(tmp_path)


class Sleeps:
    """Stands in for the poll's sleep: records each wait, returns at once, and can stop the run."""

    def __init__(self) -> None:
        self.polls: list[float] = []
        self.interrupt_after: int | None = None

    async def __call__(self, seconds: float) -> None:
        if seconds >= 1.0:  # poll waits; the short settle waits are not recorded
            self.polls.append(seconds)
            if self.interrupt_after is not None and len(self.polls) > self.interrupt_after:
                raise KeyboardInterrupt
        await asyncio.sleep(0.001)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


def batch(sleeps: Sleeps, model: str, *args: str) -> Result:
    """`plan batch --via batch-api`, its jobs polled quickly and its waits recorded: the poll policy is
    handed to the app in its session (click's `obj`), so nothing in agent/ is patched."""
    polls = PollPolicy(settle_s=0.05, first_s=1.0, factor=2.0, max_s=3.0, sleep=sleeps)
    return CliRunner().invoke(app, ["batch", "backlog.jsonl", "--via", "batch-api", "--model", model,
                                    "--template", "compact", "--out", "plans", "--format", "json", *args], env=ENV,
                              obj=Session(polls=polls))


def summary(result: Result) -> dict[str, Any]:
    line: dict[str, Any] = json.loads(result.stdout.splitlines()[-1])
    return line


def manifest() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(Path("plans", MANIFEST_NAME).read_text())
    return data


def placeholder_once_for_item_2(body: dict[str, Any]) -> Any:
    """Item 2's goal comes back as a placeholder until the re-ask names the finding."""
    prompt = json.dumps(body["messages"][-1])  # the section's own prompt, last on both wires
    if section(body) == "goal" and title_of(body) == "Refund a payment 2" and "is still in the plan" not in prompt:
        return "{Describe the outcome}"
    return good_answer(body)


@respx.mock
def test_openai_batch_api_first_round_then_the_re_asks_as_a_second_job(repo: Path, sleeps: Sleeps) -> None:
    service = FakeOpenAIBatches(polls_before_done=2, answer=placeholder_once_for_item_2)
    service.mount()
    result = batch(sleeps, OPENAI_MODEL)
    assert result.exit_code == 0, result.output
    first, second = service.bodies(0), service.bodies(1)
    assert len(first) == 3 * len(UNITS) and {title_of(body) for body in first} == {
        "Export invoices as CSV 1", "Refund a payment 2", "Audit log of admin actions 3"}
    assert all(body["model"] == "gpt-4.1-mini" and all(tool["function"]["strict"] for tool in body["tools"])
               for body in first)
    assert [(title_of(body), section(body)) for body in second] == [("Refund a payment 2", "goal")]
    assert "{Describe the outcome} is still in the plan" in second[0]["messages"][-1]["content"]
    assert sleeps.polls == [1.0, 2.0, 1.0, 2.0]  # each job polled with backoff
    jobs = manifest()["jobs"]
    assert [job["id"] for job in jobs] == list(service.jobs) == summary(result)["batch_ids"]
    assert {job["state"] for job in jobs} == {"ended"}
    list_price = (1000 * PRICES[OPENAI_MODEL].input + 100 * PRICES[OPENAI_MODEL].output) / 1e6
    assert summary(result)["usage"]["cost_usd"] == pytest.approx(list_price / 2 * (len(first) + 1))  # half price


@respx.mock
def test_anthropic_message_batches(repo: Path, sleeps: Sleeps) -> None:
    service = FakeAnthropicBatches(polls_before_done=1)
    service.mount()
    result = batch(sleeps, "anthropic:claude-sonnet-4-5")
    assert result.exit_code == 0, result.output
    [(job_id, requests)] = service.jobs.items()
    assert len(requests) == 3 * len(UNITS)
    for custom_id, params in requests:
        assert re.fullmatch(r"[a-zA-Z0-9_-]{1,64}", custom_id)
        _, common, own = params["system"]  # in the system tier, which each section's tool_choice leaves cached
        assert common["cache_control"] == own["cache_control"] == {"type": "ephemeral"}
        assert params["tool_choice"] == {"type": "tool", "name": section(params)}
    commons = {params["system"][1]["text"] for _, params in requests}
    assert len(commons) == 1  # the repository part is one cache entry for the whole backlog
    report = json.loads(next(Path("plans").glob("*/plan.json")).read_text())["report"]
    assert report["usage"]["cache_read_tokens"] == 800 * len(UNITS) and summary(result)["batch_ids"] == [job_id]


@respx.mock
def test_a_run_killed_while_waiting_resumes_the_recorded_job(repo: Path, sleeps: Sleeps) -> None:
    service = FakeOpenAIBatches(polls_before_done=10**6)
    service.mount()
    sleeps.interrupt_after = 2
    killed = batch(sleeps, OPENAI_MODEL)
    assert killed.exit_code == 130 and "plan: error: interrupted" in killed.stderr
    assert [job["id"] for job in manifest()["jobs"]] == ["batch_1"]
    assert set(item["state"] for item in manifest()["items"].values()) == {"running"}

    service.polls_before_done, sleeps.interrupt_after = 0, None
    resumed = batch(sleeps, OPENAI_MODEL)
    assert resumed.exit_code == 0 and list(service.jobs) == ["batch_1"]  # nothing was sent again
    assert summary(resumed)["done"] == 3 and len(list(Path("plans").glob("*/plan.md"))) == 3


@respx.mock
def test_only_the_requests_an_earlier_job_could_not_answer_are_sent_again(repo: Path, sleeps: Sleeps) -> None:
    service = FakeOpenAIBatches(polls_before_done=0)
    service.fails = lambda body: section(body) == "risks" and title_of(body) == "Refund a payment 2"
    service.mount()
    first = batch(sleeps, OPENAI_MODEL)
    assert first.exit_code == 1
    failed = manifest()["items"]["T-2"]
    assert failed["state"] == "failed" and "completion window expired" in failed["error"]
    sent = len(service.jobs)

    service.fails = lambda body: False
    retried = batch(sleeps, OPENAI_MODEL, "--retry-failed")
    assert retried.exit_code == 0 and summary(retried)["drafted"] == 1
    [new_job] = list(service.jobs)[sent:]
    assert [(title_of(body), section(body)) for _, body in service.jobs[new_job]] == [("Refund a payment 2", "risks")]


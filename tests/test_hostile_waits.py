"""Bounded waiting: a provider that accepts and never answers ends the draft with one line within the
deadline the user set, and an interrupted draft (Ctrl-C, SIGTERM) leaves nothing half-written."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest
from fake_llm_server import FakeLLMServer
from hostile_support import CLEAN_ENV, PLAN, SilentServer, plan, tree

from agent.providers.retry import RetryPolicy
from agent.session import Session

BRIEF = "# Invoice export\n\n- Export invoices as CSV\n"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "app.py").write_text("print('hello')\n")
    (tmp_path / "brief.md").write_text(BRIEF)
    return tmp_path


# The deadline tests run in-process: a deadline that failed would still end them, through the call timeout.
def test_a_server_that_never_answers_ends_the_draft_at_its_deadline(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo)
    with SilentServer() as server:
        started = time.monotonic()
        ran = plan("draft", "brief.md", "--model", "openai:test", "--base-url", f"{server.url}/v1",
                   "--timeout", "30", "--deadline", "1", env={"OPENAI_API_KEY": "sk-test"})
        took = time.monotonic() - started
        assert server.connections >= 1
    assert ran.code == 1
    assert "did not end within its 1 s deadline (flag --deadline)" in ran.error()
    assert took < 20
    assert set(tree(repo)) == {"app.py", "brief.md"}


def test_the_call_timeout_comes_from_the_environment_and_retries_stop(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo)
    waits: list[float] = []

    async def recorded(seconds: float) -> None:  # the back-off is recorded, not slept through
        waits.append(seconds)

    with SilentServer() as server:
        started = time.monotonic()
        ran = plan("draft", "brief.md", "--model", "openai:test", "--base-url", f"{server.url}/v1",
                   "--template", "compact", env={"OPENAI_API_KEY": "sk-test", "PLAN_TIMEOUT": "1"},
                   session=Session(retry=RetryPolicy(attempts=2, sleep=recorded)))
        took = time.monotonic() - started
    assert ran.code == 1
    assert "no answer within the call timeout after 2 attempts" in ran.error()
    assert len(waits) == 1  # two attempts of the first call, each ended by the 1 s timeout, then nothing more
    assert took < 45
    assert set(tree(repo)) == {"app.py", "brief.md"}


def test_a_batch_item_past_its_deadline_fails_and_the_batch_goes_on(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo)
    (repo / "briefs").mkdir()
    for name in ("a", "b"):
        (repo / "briefs" / f"{name}.md").write_text(f"# Feature {name}\n\n- Do {name}\n")
    with SilentServer() as server:
        started = time.monotonic()
        ran = plan("batch", "briefs", "--model", "openai:test", "--base-url", f"{server.url}/v1",
                   "--rpm", "6000", "--deadline", "1", "--format", "json", env={"OPENAI_API_KEY": "sk-test"})
        took = time.monotonic() - started
    assert ran.code == 1
    items = [json.loads(line) for line in ran.stdout.splitlines() if '"type": "item"' in line]
    assert len(items) == 2 and all(item["state"] == "failed" for item in items)
    assert all("1 s deadline" in item["error"] for item in items)
    assert took < 45


@pytest.mark.parametrize(("sent", "code", "said"), [(signal.SIGINT, 130, "interrupted"),
                                                    (signal.SIGTERM, 143, "terminated")])
def test_an_interrupted_draft_leaves_nothing_behind(repo: Path, sent: signal.Signals, code: int, said: str) -> None:
    with FakeLLMServer(delay_s=30) as server:
        process = subprocess.Popen(
            [*PLAN, "draft", "brief.md", "--model", "openai:test", "--base-url", server.openai_base_url,
             "--out", "plans/plan.md"],
            cwd=repo, env={**CLEAN_ENV, "OPENAI_API_KEY": "sk-test"}, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while not server.requests and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.requests, "the draft never called the model"
        process.send_signal(sent)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == code
    message = stderr.decode()
    assert "Traceback" not in message
    assert message.strip().splitlines()[-1].startswith(f"plan: error: {said}")
    assert set(tree(repo)) == {"app.py", "brief.md"}
    assert not (repo / "plans").exists()


def test_sigterm_ends_a_draft_started_with_sigint_ignored(repo: Path) -> None:
    with FakeLLMServer(delay_s=30) as server:
        process = subprocess.Popen(
            [*PLAN, "draft", "brief.md", "--model", "openai:test", "--base-url", server.openai_base_url],
            cwd=repo, env={**CLEAN_ENV, "OPENAI_API_KEY": "sk-test"}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))  # as a shell starts `plan ... &`
        deadline = time.monotonic() + 30
        while not server.requests and time.monotonic() < deadline:
            time.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 143, stderr.decode()
    assert set(tree(repo)) == {"app.py", "brief.md"}

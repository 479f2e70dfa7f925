"""Every entry point (draft, revise, batch, eval, the MCP server) runs through one `Session`: a test hands
it the shipped testing providers through its provider factory, and its clock, and patches nothing."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from batch_support import make_repo, write_backlog

from agent.batch.runner import BatchRequest, run_batch
from agent.batch.summary import BatchPlan, ItemOutcome
from agent.config import Settings
from agent.draft.revise import ReviseRequest, run_revise
from agent.evals.suite import EVAL_DATE, EvalRequest, run_eval
from agent.providers.base import ModelRequest, Provider
from agent.providers.testing import EMPTY_WHEN_FINE, FunctionProvider, SchemaProvider, fill_schema
from agent.session import Clock, DraftRequest, ProviderOrder, Session

ROOT = Path(__file__).resolve().parents[1]
BRIEF = "# Export invoices as CSV\n\nFinance wants to download any invoice as a CSV file from its page.\n"
GOAL = "Finance downloads any invoice as CSV from its page; done when the file opens in a spreadsheet."


class Factory:
    """A provider factory that hands out one provider and remembers every order it was given."""

    def __init__(self, provider: Provider) -> None:
        self.provider = provider
        self.orders: list[ProviderOrder] = []

    def __call__(self, order: ProviderOrder) -> Provider:
        self.orders.append(order)
        return self.provider


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    make_repo(tmp_path)
    (tmp_path / "brief.md").write_text(BRIEF)
    return tmp_path


def session(repo: Path, provider: Provider, **seams: Any) -> tuple[Session, Factory]:
    factory = Factory(provider)
    flags = {"model": "test:schema", "template": "compact"}
    return Session(providers=factory, **seams).resolve(flags, repo), factory


def test_draft_runs_through_the_sessions_provider_factory_and_clock(repo: Path) -> None:
    provider = SchemaProvider()
    ticks = itertools.count()  # a clock that moves a second each time it is read
    drafting, factory = session(repo, provider, clock=Clock(now=lambda: float(next(ticks)),
                                                            today=lambda: date(2031, 2, 3)))
    outcome = drafting.run_draft(DraftRequest(brief=str(repo / "brief.md"), repo=str(repo), out=str(repo / "plan.md")))
    assert outcome.result.complete and outcome.model == "test:schema"
    assert (repo / "plan.md").read_text() == outcome.result.markdown
    report = json.loads((repo / "plan.json").read_text())["report"]
    assert report["usage"]["calls"] == len(provider.requests) > 0
    [order] = factory.orders  # one provider for the draft, ordered with what it drafts
    assert order.spec == "test:schema" and order.template is outcome.template and order.brief is not None
    assert "Finance wants to download" in order.brief.text and order.context is outcome.context
    assert "2031-02-03" in provider.requests[0].shared_prefix + provider.requests[0].prompt  # the injected day
    timings = report["timings"]  # read off the injected clock: whole seconds, one a read
    assert timings["total_s"] >= timings["calls"] > 0 and float(timings["total_s"]).is_integer()


def test_revise_runs_through_the_session_and_changes_only_the_named_section(repo: Path) -> None:
    drafting, _ = session(repo, SchemaProvider())
    plan = repo / "plan.md"
    drafting.run_draft(DraftRequest(brief=str(repo / "brief.md"), repo=str(repo), out=str(plan)))
    before = plan.read_text()

    def answer(request: ModelRequest) -> dict[str, Any]:
        return {"goal": GOAL} if request.schema_name == "goal" else fill_schema(request.schema, empty=EMPTY_WHEN_FINE)

    provider = FunctionProvider(answer)
    revising, factory = session(repo, provider)
    outcome = run_revise(ReviseRequest(plan=str(plan), sections=("goal",), repo=str(repo)), revising)
    assert outcome.revised == ["goal"] and [order.spec for order in factory.orders] == ["test:schema"]
    assert [request.schema_name for request in provider.requests].count("goal") >= 1
    after = plan.read_text()
    assert GOAL in after and GOAL not in before
    goal_at = before.index("## Goal")
    next_heading = before.index("\n## ", goal_at + 1)
    assert after.startswith(before[:goal_at]) and after.endswith(before[next_heading:])  # every other byte kept


class Quiet:
    def __init__(self) -> None:
        self.finished_items: list[str] = []

    def started(self, plan: BatchPlan) -> None: ...
    def finished(self, outcome: ItemOutcome) -> None:
        self.finished_items.append(outcome.id)

    def note(self, message: str) -> None: ...


def test_batch_drafts_every_item_through_one_provider_from_the_sessions_factory(repo: Path) -> None:
    ids = write_backlog(repo / "backlog.jsonl", 3)
    provider = SchemaProvider()
    batching, factory = session(repo, provider)
    batching = replace(batching, settings=replace(batching.settings, rpm=60_000))  # a known pace: no probe to wait on
    observer = Quiet()
    summary = run_batch(BatchRequest(source=str(repo / "backlog.jsonl"), repo=str(repo), out=str(repo / "plans")),
                        batching, observer)
    assert summary.exit_code == 0 and summary.complete == 3 and sorted(observer.finished_items) == ids
    assert len(list((repo / "plans").glob("*/plan.md"))) == 3
    [order] = factory.orders  # one provider shared by every item, its retries paced by the batch's limiter
    assert order.spec == "test:schema" and order.retry is not None and order.retry.before_retry is not None
    assert summary.usage.calls == len(provider.requests) > 3


class VirtualTime:
    """A clock that moves only when a run sleeps, and moves at once."""

    def __init__(self) -> None:
        self.at = 0.0
        self.slept: list[float] = []

    def now(self) -> float:
        return self.at

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.at += seconds


def test_a_batch_waits_for_its_rate_limits_on_the_sessions_clock(repo: Path) -> None:
    ids = write_backlog(repo / "backlog.jsonl", 3)
    provider, time = SchemaProvider(), VirtualTime()
    pacing, _ = session(repo, provider, clock=Clock(now=time.now, sleep=time.sleep))
    pacing = replace(pacing, settings=replace(pacing.settings, rpm=60))  # one call a second
    summary = run_batch(BatchRequest(source=str(repo / "backlog.jsonl"), repo=str(repo), out=str(repo / "plans")),
                        pacing, Quiet())
    assert summary.complete == 3 and len(ids) == 3
    # Every call after the first waited its turn, on the session's clock: a minute's pace, taken in no time.
    assert time.at == pytest.approx(len(provider.requests) - 1) and all(wait <= 1.0 for wait in time.slept)


def test_eval_drafts_and_grades_a_case_through_the_session_on_the_eval_date() -> None:
    provider = SchemaProvider()
    factory = Factory(provider)
    evaluating = Session(settings=Settings(model="test:schema"), providers=factory)
    run = run_eval(EvalRequest(cases_dir=ROOT / "evals" / "cases", only=("tiny-brief-proportion",)), evaluating)
    [result] = run.results
    assert run.model == "test:schema" and run.mode == "live" and result.grades
    assert result.measures["calls"] == len(provider.requests) > 0 and result.measures["complete"]
    assert [order.spec for order in factory.orders] == ["test:schema"]
    assert EVAL_DATE.isoformat() in provider.requests[0].shared_prefix + provider.requests[0].prompt


def test_the_mcp_tools_draft_and_validate_through_the_servers_session(repo: Path) -> None:
    from agent.mcp_server import PlanTools

    provider = SchemaProvider()
    factory = Factory(provider)
    tools = PlanTools(Session(providers=factory))
    drafted = tools.draft_plan(brief_text=BRIEF, repo=str(repo), model="test:schema", template="compact",
                               out=str(repo / "plan.md"))
    assert drafted.complete and drafted.model == "test:schema" and drafted.plan_path == str(repo / "plan.md")
    assert [order.spec for order in factory.orders] == ["test:schema"] and provider.requests
    checked = tools.validate_plan(drafted.plan_path, repo=str(repo))
    assert checked.valid and checked.template == "compact"  # the template plan.json records


def test_the_cli_runs_in_the_session_a_program_hands_it(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from agent.cli import app

    monkeypatch.chdir(repo)
    provider = SchemaProvider()
    result = CliRunner().invoke(app, ["draft", "brief.md", "--model", "test:schema", "--template", "compact",
                                      "--format", "json"], obj=Session(providers=Factory(provider)), env={})
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["complete"] and report["model"] == "test:schema" and report["usage"]["calls"] == len(provider.requests)
    evaluated = CliRunner().invoke(app, ["eval", "--cases", str(ROOT / "evals" / "cases"), "--case",
                                         "tiny-brief-proportion", "--model", "test:schema", "--max-rounds", "0"],
                                   obj=Session(providers=Factory(SchemaProvider())), env={})
    assert evaluated.exit_code == 0, evaluated.output
    assert "tiny-brief-proportion" in evaluated.stdout and "test:schema" in evaluated.stderr + evaluated.stdout


def test_the_public_api_loads_on_first_use_so_import_agent_and_plan_help_stay_light() -> None:
    import subprocess
    import sys

    code = ("import sys, agent, agent.cli; heavy = {'pydantic', 'openai', 'anthropic', 'agent.session'} & set(sys.modules); "
            "assert not heavy, heavy; from agent import Session, draft_plan, validate_plan, compile_template; "
            "assert Session.__module__ == 'agent.session' and draft_plan.__module__ == 'agent.draft.loop'")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    import agent

    assert set(agent.__all__) <= set(dir(agent)) and all(getattr(agent, name) is not None for name in agent.__all__)


def test_the_session_loads_the_draft_stages_only_for_a_draft() -> None:
    """`plan validate`, `templates` and `config` resolve their settings through the Session, from editors on
    every save: the repository reader and the draft loop (pydantic models and all) wait for a draft."""
    code = ("import sys, agent.session; "
            "loaded = {'agent.context', 'agent.context.brief', 'agent.draft.loop', 'agent.providers.offline'} "
            "& set(sys.modules); assert not loaded, loaded")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)

"""Run the case set: prepare each repository, draft its plan through the chosen model (live, recorded
or replayed), and grade it. The library behind `plan eval`."""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from agent.context import build_context
from agent.context.brief import read_brief
from agent.context.repo import DEFAULT_CONTEXT_TOKENS
from agent.draft.loop import DraftSettings, draft_plan
from agent.errors import InputError
from agent.evals.cases import Case, Skipped, load_cases, prepare_repo
from agent.evals.cassettes import Match, RecordingProvider, ReplayProvider, cassette_path
from agent.evals.graders import Attempt, Grade, grade, mean_score
from agent.output import write_atomic
from agent.providers import resolve_provider
from agent.providers.base import ModelRequest, ModelResponse, Provider, TokenCount
from agent.session import make_provider
from agent.template.catalog import load_template
from agent.template.model import Template

Progress = Callable[[str], None]
SECRET_NAMES = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY")
EVAL_DATE = date(2026, 1, 5)


@dataclass(frozen=True)
class EvalSettings:
    cases_dir: Path
    model: str | None = None
    base_url: str | None = None
    record: Path | None = None
    replay: Path | None = None
    replay_match: Match = "exact"
    only: tuple[str, ...] = ()
    judge: str | None = None
    plans: Path | None = None  # where to write each case's plan, to read what the model wrote
    max_rounds: int = 2
    concurrency: int = 8
    context_tokens: int = DEFAULT_CONTEXT_TOKENS


@dataclass
class CaseResult:
    case: Case
    template: str
    grades: list[Grade]
    measures: dict[str, Any]
    notes: list[str] = field(default_factory=list)

    @property
    def score(self) -> float:
        return mean_score(self.grades)


@dataclass
class EvalRun:
    model: str
    mode: str  # live, record, replay or offline
    cases_dir: Path
    results: list[CaseResult]
    skipped: list[Skipped]
    wall_s: float
    judge: str | None = None


def run_eval(settings: EvalSettings, env: Mapping[str, str], progress: Progress = lambda _: None) -> EvalRun:
    """Draft and grade every case; the repositories live in a temporary directory removed afterwards."""
    _check(settings)
    cases, skipped = load_cases(settings.cases_dir, settings.only)
    for skip in skipped:
        progress(f"skipped {skip.id}: {skip.reason}")
    model = _model(settings, env, cases)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="plan-eval-") as workdir:
        runner = _Runner(settings, env, Path(workdir), model, progress)
        results = asyncio.run(runner.run_all(cases))
    mode = "replay" if settings.replay else "record" if settings.record else "offline" if model == "offline" else "live"
    return EvalRun(model, mode, settings.cases_dir, results, skipped, round(time.perf_counter() - started, 3),
                   settings.judge)


def _check(settings: EvalSettings) -> None:
    if settings.record and settings.replay:
        raise InputError("--record and --replay exclude each other: record once, then replay")
    if settings.replay and settings.model:
        raise InputError("--replay answers with the model the cassettes recorded; drop --model")
    if settings.replay and not settings.replay.is_dir():
        raise InputError(f"--replay {settings.replay}: no such cassette directory; record one with --record")
    if settings.judge and settings.judge == settings.model:
        raise InputError("--judge must name a different model than the one drafting the plans")
    if settings.judge == "offline":
        raise InputError("--judge needs a real model (openai:MODEL, anthropic:MODEL, ollama:MODEL)")
    if settings.max_rounds < 0 or settings.concurrency < 1:
        raise InputError("--max-rounds must be 0 or more and --concurrency at least 1")


def _model(settings: EvalSettings, env: Mapping[str, str], cases: list[Case]) -> str:
    if settings.replay:
        return ReplayProvider(cassette_path(settings.replay, cases[0].id), cases[0].id).name if cases else "replay"
    if settings.model:
        return settings.model
    if settings.base_url or env.get("OPENAI_BASE_URL"):
        raise InputError("--base-url needs a model name too: pass --model openai:MODEL")
    return "offline"


class _Runner:
    def __init__(self, settings: EvalSettings, env: Mapping[str, str], workdir: Path, model: str,
                 progress: Progress) -> None:
        self.settings, self.env, self.workdir, self.model, self.progress = settings, env, workdir, model, progress
        # A fixed date, so the requests (and so the cassettes) are the same whichever day a case runs; the
        # offline drafter writes sections only, replayed too (where only the cassette's model name says so).
        whole = model != "offline"
        self.draft_settings = DraftSettings(settings.max_rounds, settings.concurrency, spine=whole, review=whole,
                                            today=EVAL_DATE)

    async def run_all(self, cases: list[Case]) -> list[CaseResult]:
        results = []
        for case in cases:
            result = await self.run_case(case)
            notes = "".join(f"; {note}" for note in result.notes)
            self.progress(f"{case.id}: score {result.score:.3f} ({result.measures['calls']} calls, "
                          f"{result.measures['wall_s']:.2f} s{notes})")
            results.append(result)
        return results

    async def run_case(self, case: Case) -> CaseResult:
        repo = prepare_repo(case, self.workdir)
        brief = read_brief(str(case.brief))
        template = _template(case)
        context = build_context(repo, brief.text, self.settings.context_tokens)
        inner = self._provider(case, "", lambda: make_provider(self.model, self.env, template=template, brief=brief,
                                                                context=context, base_url=self.settings.base_url))
        provider = FirstAnswers(inner)
        started = time.perf_counter()
        try:
            result = await draft_plan(template, brief, provider, context.prompt_text, context.tracked_paths,
                                      self.draft_settings)
        finally:
            await inner.aclose()
        wall_s = time.perf_counter() - started
        _save(inner, case)
        if self.settings.plans:
            write_atomic(self.settings.plans / f"{case.id}.md", result.markdown)
        attempt = Attempt(result, template, brief, case.expect, context.tracked_paths, provider.first)
        grades = grade(attempt)
        measures = _measures(result, wall_s)
        if self.settings.judge:
            grades.append(await self._judge(case, attempt, measures, self.settings.judge))
        notes = [f"{inner.by_section_answers} answer(s) replayed by section"] \
            if isinstance(inner, ReplayProvider) and inner.by_section_answers else []
        return CaseResult(case, template.name, grades, measures, notes)

    async def _judge(self, case: Case, attempt: Attempt, measures: dict[str, Any], judge: str) -> Grade:
        from agent.draft.cost import Account
        from agent.evals.judge import judge_plan

        provider = self._provider(case, "judge", lambda: resolve_provider(judge, base_url=self.settings.base_url,
                                                                          env=self.env))
        account = Account()
        try:
            grade_ = await judge_plan(provider, attempt.brief, attempt.markdown, account)
        finally:
            await provider.aclose()
        _save(provider, case)
        measures["judge_calls"] = account.usage.calls
        return grade_

    def _provider(self, case: Case, role: str, live_provider: Callable[[], Provider]) -> Provider:
        """The cassette's answers when replaying; else the live provider, recorded when recording."""
        settings = self.settings
        if settings.replay:
            return ReplayProvider(cassette_path(settings.replay, case.id, role), case.id, settings.replay_match)
        live = live_provider()
        if settings.record:
            secrets = [self.env.get(name, "") for name in SECRET_NAMES]
            return RecordingProvider(live, cassette_path(settings.record, case.id, role), secrets)
        return live


class FirstAnswers:
    """Passes every call through and keeps each section's first answer, for first-pass schema validity."""

    def __init__(self, inner: Provider) -> None:
        self.inner, self.name, self.model = inner, inner.name, inner.model
        self.capabilities = inner.capabilities
        self.first: dict[str, ModelResponse] = {}

    async def complete(self, request: ModelRequest) -> ModelResponse:
        response = await self.inner.complete(request)
        self.first.setdefault(request.schema_name, response)
        return response

    def count_tokens(self, request: ModelRequest) -> TokenCount:
        return self.inner.count_tokens(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def _template(case: Case) -> Template:
    """The case's template, a file named by its stem: the prompt names the template, and a path that
    depends on where the checkout lives would change every request, and so miss every cassette."""
    return replace(load_template(case.template), name=Path(case.template).stem)  # a built-in's name is its stem


def _measures(result: Any, wall_s: float) -> dict[str, Any]:
    usage = result.usage
    return {"calls": usage.calls, "rounds": result.rounds, "input_tokens": usage.input_tokens,
            "output_tokens": usage.output_tokens, "cache_read_tokens": usage.cache_read_tokens,
            "cost_usd": result.cost_usd, "wall_s": round(wall_s, 3), "complete": result.complete,
            "words": len(result.markdown.split()),
            "calls_by_purpose": {purpose: entry["calls"] for purpose, entry in result.by_purpose.items()}}


def _save(provider: Provider, case: Case) -> None:
    if isinstance(provider, RecordingProvider):
        provider.save(case.id)

"""Run the case set: prepare each repository, draft its plan through the chosen model (live, recorded
or replayed), and grade it. The library behind `plan eval`."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from agent.context import build_context
from agent.context.brief import read_brief
from agent.errors import InputError
from agent.evals.cases import Case, Skipped, load_cases, prepare_repo
from agent.evals.cassettes import Match, RecordingProvider, ReplayProvider, cassette_path
from agent.evals.graders import Attempt, Grade, grade, mean_score
from agent.output import write_atomic
from agent.providers.base import ModelRequest, ModelResponse, Provider, TokenCount
from agent.session import Session
from agent.template.catalog import load_template

Progress = Callable[[str], None]
SECRET_NAMES = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY")
EVAL_DATE = date(2026, 1, 5)


@dataclass(frozen=True, kw_only=True)
class EvalRequest:
    """What `plan eval` was asked beyond the settings: the cases, and whether to record or replay the
    model's answers. The model, rounds, concurrency and context budget come from the `Session`."""

    cases_dir: Path
    record: Path | None = None
    replay: Path | None = None
    replay_match: Match = "exact"
    only: tuple[str, ...] = ()
    judge: str | None = None
    plans: Path | None = None  # where to write each case's plan, to read what the model wrote


def eval_session(session: Session) -> Session:
    """`session` as an eval runs it: the date fixed, so the requests (and so the cassettes) are the same
    whichever day a case runs."""
    return replace(session, clock=replace(session.clock, today=lambda: EVAL_DATE))


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


def run_eval(request: EvalRequest, session: Session, progress: Progress = lambda _: None) -> EvalRun:
    """Draft and grade every case; the repositories live in a temporary directory removed afterwards.
    Nothing is read from the environment or a config file but the API keys: an eval is the same run on
    any machine, so build `session` from its flags alone (`Session(settings=Settings(...), env=...)`)."""
    settings, model = session.settings, session.settings.model
    if request.record and request.replay:
        raise InputError("--record and --replay exclude each other: record once, then replay")
    if request.replay and model:
        raise InputError("--replay answers with the model the cassettes recorded; drop --model")
    if request.replay and not request.replay.is_dir():
        raise InputError(f"--replay {request.replay}: no such cassette directory; record one with --record")
    if request.judge and request.judge == model:
        raise InputError("--judge must name a different model than the one drafting the plans")
    if request.judge == "offline":
        raise InputError("--judge needs a real model (openai:MODEL, anthropic:MODEL, ollama:MODEL)")
    if settings.max_rounds < 0 or settings.concurrency < 1:
        raise InputError("--max-rounds must be 0 or more and --concurrency at least 1")
    cases, skipped = load_cases(request.cases_dir, request.only)
    for skip in skipped:
        progress(f"skipped {skip.id}: {skip.reason}")
    if request.replay:
        model = ReplayProvider(cassette_path(request.replay, cases[0].id), cases[0].id).name if cases else "replay"
    elif not model and (session.base_url or session.env.get("OPENAI_BASE_URL")):
        raise InputError("--base-url needs a model name too: pass --model openai:MODEL")
    model = model or "offline"  # not a model for whichever key is set: an eval names the model it measures
    session = eval_session(session)
    started = session.clock.now()
    with tempfile.TemporaryDirectory(prefix="plan-eval-") as workdir:
        runner = _Runner(request, session, Path(workdir), model, progress)
        results = asyncio.run(runner.run_all(cases))
    mode = "replay" if request.replay else "record" if request.record else "offline" if model == "offline" else "live"
    return EvalRun(model, mode, request.cases_dir, results, skipped, round(session.clock.now() - started, 3),
                   request.judge)


class _Runner:
    def __init__(self, request: EvalRequest, session: Session, workdir: Path, model: str, progress: Progress) -> None:
        self.request, self.session, self.workdir, self.model, self.progress = request, session, workdir, model, progress
        # The offline drafter writes sections only, replayed too (where only the cassette's model name says so).
        whole = model != "offline"
        self.draft_settings = session.draft_settings(spine=whole, review=whole)

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
        # The case's template, a file named by its stem: the prompt names the template, and a path that
        # depends on where the checkout lives would change every request, and so miss every cassette.
        template = replace(load_template(case.template), name=Path(case.template).stem)
        context = build_context(repo, brief.text, self.session.settings.context_tokens)
        inner = self._provider(case, "", lambda: self.session.provider(self.model, template=template, brief=brief,
                                                                       context=context))
        provider = FirstAnswers(inner)
        started = self.session.clock.now()
        try:
            result = await self.session.draft(template, brief, context, provider, settings=self.draft_settings)
        finally:
            await inner.aclose()
        wall_s = self.session.clock.now() - started
        _save(inner, case)
        if self.request.plans:
            write_atomic(self.request.plans / f"{case.id}.md", result.markdown)
        attempt = Attempt(result, template, brief, case.expect, context.tracked_paths, provider.first)
        grades = grade(attempt)
        usage = result.usage
        measures = {"calls": usage.calls, "rounds": result.rounds, "input_tokens": usage.input_tokens,
                    "output_tokens": usage.output_tokens, "cache_read_tokens": usage.cache_read_tokens,
                    "cost_usd": result.cost_usd, "wall_s": round(wall_s, 3), "complete": result.complete,
                    "words": len(result.markdown.split()),
                    "calls_by_purpose": {purpose: entry["calls"] for purpose, entry in result.by_purpose.items()}}
        if self.request.judge:
            grades.append(await self._judge(case, attempt, measures, self.request.judge))
        notes = [f"{inner.by_section_answers} answer(s) replayed by section"] \
            if isinstance(inner, ReplayProvider) and inner.by_section_answers else []
        return CaseResult(case, template.name, grades, measures, notes)

    async def _judge(self, case: Case, attempt: Attempt, measures: dict[str, Any], judge: str) -> Grade:
        from agent.draft.cost import Account
        from agent.evals.judge import judge_plan

        provider = self._provider(case, "judge", lambda: self.session.provider(judge))
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
        request = self.request
        if request.replay:
            return ReplayProvider(cassette_path(request.replay, case.id, role), case.id, request.replay_match)
        live = live_provider()
        if request.record:
            secrets = [self.session.env.get(name, "") for name in SECRET_NAMES]
            return RecordingProvider(live, cassette_path(request.record, case.id, role), secrets)
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


def _save(provider: Provider, case: Case) -> None:
    if isinstance(provider, RecordingProvider):
        provider.save(case.id)

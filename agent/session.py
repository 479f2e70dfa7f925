"""The one pipeline every command runs through: settings resolved once, then template, repository context,
provider and the draft loop. `plan draft` is `Session.run_draft`; `plan revise`, `plan batch`, `plan eval`
and the MCP server take a `Session` and use its steps, so what they share is written once here.

A `Session` holds what is not the request: the resolved settings, the environment (API keys are read
from it, never from `os.environ` here), and the seams a test or an embedding program replaces instead of
patching modules: how a model spec becomes a provider, the transport retry policy, the clock, and how a
batch job is polled.

    session = Session(env=os.environ).resolve({"model": "openai:gpt-4.1-mini"}, repo=".")
    outcome = session.run_draft(DraftRequest(brief="brief.md"))
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.config import Settings, default_model, origin, resolve_settings, settings_for_plan
from agent.errors import InputError, TransportError
from agent.output import check_output, json_text, plan_lock, plan_paths, write_files
from agent.providers import resolve_provider
from agent.providers.base import Provider
from agent.template.catalog import load_template
from agent.template.render import plan_json

# The stages (context, draft loop, offline drafter) load where a draft needs them: `plan validate`, `templates`
# and `config` resolve their settings and template here too, and run from editors on every save.
if TYPE_CHECKING:
    from agent.batch.batched import PollPolicy
    from agent.context.brief import Brief
    from agent.context.repo import RepoContext
    from agent.draft.cost import Account
    from agent.draft.loop import DraftResult, DraftSettings, Progress, Revision
    from agent.providers.retry import RetryPolicy
    from agent.template.model import Template

__all__ = ["Clock", "DraftOutcome", "DraftRequest", "ProviderOrder", "Session", "build_provider", "draft_report"]
OFFLINE_NOTE = ("no model configured: drafting with the offline skeleton drafter; set OPENAI_API_KEY or "
                "ANTHROPIC_API_KEY, or pass --model openai:MODEL / anthropic:MODEL / ollama:MODEL")


@dataclass(frozen=True)
class ProviderOrder:
    """What a provider is wanted for: the model spec (and where it was set, for messages), how to reach it,
    and the draft it serves. Only `offline` reads the template, brief and context: it drafts from them."""

    spec: str
    env: Mapping[str, str]
    base_url: str | None = None
    timeout: float | None = None
    retry: RetryPolicy | None = None
    origin: str = "--model"
    template: Template | None = None
    brief: Brief | None = None
    context: RepoContext | None = None
    today: date | None = None


ProviderFactory = Callable[[ProviderOrder], Provider]


def build_provider(order: ProviderOrder) -> Provider:
    """The one place a model spec becomes a provider: `offline` drafts from the brief and the repository,
    every other spec goes to `resolve_provider`, which imports only the SDK it needs."""
    if order.spec == "offline":
        if order.template is None or order.brief is None:
            raise InputError(f"{order.origin} offline drafts plans only; use openai:MODEL, anthropic:MODEL or "
                             "ollama:MODEL here")
        from agent.providers.offline import OfflineDrafter

        return OfflineDrafter(order.template, order.brief, order.context, order.today)
    return resolve_provider(order.spec, base_url=order.base_url, env=order.env, retry=order.retry,
                            timeout=order.timeout, origin=order.origin)


@dataclass(frozen=True)
class Clock:
    """Time as a run sees it: `now` (seconds, for wall times and the batch's pace), `today` (the date the model
    is told) and `sleep` (how a batch call waits for its turn under the rate limits)."""

    now: Callable[[], float] = time.perf_counter
    today: Callable[[], date] = date.today
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep


@dataclass(frozen=True, kw_only=True)
class DraftRequest:
    """What `plan draft` was asked beyond the settings: the brief, where the repository is and the plan goes."""

    brief: str
    repo: str = "."
    out: str | None = None
    force: bool = False
    review: bool = True  # the whole-plan review call (`--no-review` turns it off)


@dataclass
class DraftOutcome:
    result: DraftResult
    plan_path: Path
    json_path: Path
    model: str
    template: Template
    context: RepoContext
    brief: str = ""  # where the brief came from, so `plan revise` can find it again
    redacted_lines: tuple[int, ...] = ()  # lines of the brief where a secret-looking value was replaced


@dataclass(frozen=True, kw_only=True)
class Session:
    """Resolved settings, the environment, and the seams: `providers` (a `ProviderOrder` in, a provider
    out), `retry` (the transport retry policy, None for the providers' own), `clock`, and `polls` (how
    `plan batch --via batch-api` waits on its jobs, None for the default)."""

    settings: Settings = field(default_factory=Settings)
    env: Mapping[str, str] = field(default_factory=dict)
    base_url: str | None = None  # an OpenAI-compatible server (--base-url), over OPENAI_BASE_URL
    providers: ProviderFactory = build_provider
    retry: RetryPolicy | None = None
    clock: Clock = Clock()
    polls: PollPolicy | None = None

    def resolve(self, flags: Mapping[str, Any], repo: Path | str = ".", *, plan: str | None = None) -> Session:
        """This session with its settings resolved for `repo`: flag > environment > config file > default.
        For a command on an existing `plan`, the template its plan.json records comes right after --template."""
        settings = (settings_for_plan(plan, flags, self.env, repo) if plan is not None
                    else resolve_settings(flags, self.env, repo))
        return replace(self, settings=settings)

    def model(self) -> tuple[str, str | None]:
        """The model spec to use, and a note for the user when it fell back to the offline drafter."""
        if self.settings.model:
            return self.settings.model, None
        if self.base_url or self.env.get("OPENAI_BASE_URL"):
            raise InputError("a base URL is set (--base-url or OPENAI_BASE_URL) but no model: pass --model "
                             "openai:MODEL")
        chosen, _ = default_model(self.env)
        return chosen, OFFLINE_NOTE if chosen == "offline" else None

    def template(self) -> Template:
        return load_template(self.settings.template)

    def provider(self, spec: str, *, template: Template | None = None, brief: Brief | None = None,
                 context: RepoContext | None = None, retry: RetryPolicy | None = None) -> Provider:
        """A provider for `spec` through the session's factory; `retry` replaces the session's policy."""
        where = origin(self.settings, "model") if spec == self.settings.model else "--model"
        return self.providers(ProviderOrder(spec, self.env, self.base_url, self.settings.timeout,
                                            retry or self.retry, where, template, brief, context, self.clock.today()))

    def draft_settings(self, **changes: Any) -> DraftSettings:
        """The draft loop's settings from the session's: rounds, concurrency, the cost cap and its prices."""
        from agent.draft.loop import DraftSettings

        config = self.settings
        return replace(DraftSettings(max_rounds=config.max_rounds, concurrency=config.concurrency,
                                     max_cost_usd=config.max_cost, prices=config.prices,
                                     max_cost_origin=origin(config, "max_cost"), today=self.clock.today(),
                                     now=self.clock.now), **changes)

    async def draft(self, template: Template, brief: Brief, context: RepoContext, provider: Provider, *,
                    settings: DraftSettings | None = None, progress: Progress = lambda _: None,
                    revision: Revision | None = None, account: Account | None = None) -> DraftResult:
        """One plan (or the revised units of one) through the draft loop, with the repository's context;
        its calls charged to `account` (a batch item's), else to an account of the draft's own."""
        from agent.draft.loop import draft_plan

        return await draft_plan(template, brief, provider, context.prompt_text, context.tracked_paths,
                                settings or self.draft_settings(), progress, revision, account)

    def run(self, provider: Provider, drafting: Coroutine[Any, Any, DraftResult]) -> DraftResult:
        """Run a draft within the deadline, then close the provider's connections while their event loop is
        still running (closed later, by the garbage collector, they print "Event loop is closed" tracebacks)."""

        async def bounded() -> DraftResult:
            try:
                async with asyncio.timeout(self.settings.deadline):
                    return await drafting
            except TimeoutError:
                source = self.settings.sources.get("deadline", "default")
                raise TransportError(f"the draft did not end within its {self.settings.deadline:g} s deadline "
                                     f"({source}); nothing was written. The provider may be down or slow: try "
                                     "again later, or raise --deadline / --timeout") from None
            finally:
                await provider.aclose()

        return asyncio.run(bounded())

    def run_draft(self, request: DraftRequest, progress: Progress = lambda _: None) -> DraftOutcome:
        """`plan draft`: brief, template and repository in; plan.md and plan.json out."""
        from agent.context import context_for_brief
        from agent.context.brief import read_brief

        config = self.settings
        brief = read_brief(request.brief)
        template = self.template()
        paths = plan_paths(request.out, brief.slug, plans_dir=config.out_dir)
        check_output(paths, request.force)  # before spending a single token
        # The lock comes before the repository is read, so a second draft of the same plan is refused at once
        # instead of after building a context it cannot use.
        with plan_lock(paths[0]):
            check_output(paths, request.force)  # again: another run may have written it while we checked
            model, note = self.model()
            context = context_for_brief(Path(request.repo), brief, config.context_tokens,
                                        output_dir=Path(config.out_dir))
            if note:  # after the repository is known to be there, so a bad --repo is the only message
                progress(note)
            if brief.redacted_lines:
                lines = ", ".join(str(number) for number in brief.redacted_lines)
                progress(f"{brief.source}: secret-looking values on line(s) {lines} of the brief were replaced "
                         "with [REDACTED]; nothing redacted is sent or written")
            provider = self.provider(model, template=template, brief=brief, context=context)
            settings = self.draft_settings(review=request.review)
            result = self.run(provider, self.draft(template, brief, context, provider, settings=settings,
                                                   progress=progress))
            outcome = DraftOutcome(result, paths[0], paths[1], model, template, context, brief.source,
                                   brief.redacted_lines)
            write_outcome(outcome)
        return outcome


def write_outcome(outcome: DraftOutcome) -> None:
    """plan.md and plan.json (the plan's data, its spine, the review's findings and the report), both
    replaced or neither."""
    result = outcome.result
    review = None if result.review is None else [note.as_dict() for note in result.review]
    record = {**plan_json(outcome.template, result.plan), "spine": result.spine, "review": review,
              "report": draft_report(outcome)}
    write_files({outcome.plan_path: result.markdown, outcome.json_path: json_text(record)})


def draft_report(outcome: DraftOutcome) -> dict[str, Any]:
    """The JSON report: where the plan went, whether it is complete, findings, tokens, cost, timings."""
    result = outcome.result
    return {
        "schema_version": 1,
        "plan_path": str(outcome.plan_path),
        "json_path": str(outcome.json_path),
        "complete": result.complete,
        "rounds": result.rounds,
        "model": outcome.model,
        "template": outcome.template.name,
        "brief": outcome.brief,
        "brief_redacted_lines": list(outcome.redacted_lines),
        "findings": [finding.as_dict() for finding in result.findings],
        "usage": usage_json(result),
        "calls": result.calls,
        "calls_by_purpose": result.by_purpose,
        "timings": result.timings,
        "context": {"tokens_used": outcome.context.tokens_used, "budget_tokens": outcome.context.budget_tokens,
                    "included": list(outcome.context.manifest.included_names())},
    }


def usage_json(result: DraftResult) -> dict[str, Any]:
    usage = result.usage
    return {
        "calls": usage.calls,
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "cache_read_tokens": usage.cache_read_tokens,
        "cache_write_tokens": usage.cache_write_tokens,
        "cost_usd": result.cost_usd,  # cache reads and writes priced at their own rates
    }

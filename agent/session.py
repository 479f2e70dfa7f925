"""`plan draft` as a Python API: brief, template and repository in; plan.md and plan.json out."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.config import DEFAULT_MODELS, Settings, default_model, origin, resolve_settings
from agent.context import context_for_brief
from agent.context.brief import Brief, read_brief
from agent.context.repo import RepoContext
from agent.draft.loop import DraftResult, DraftSettings, Progress, draft_plan
from agent.errors import InputError, TransportError
from agent.output import check_output, json_text, plan_lock, plan_paths, write_files
from agent.providers import resolve_provider
from agent.providers.base import Provider
from agent.providers.offline import OfflineDrafter
from agent.template.catalog import load_template
from agent.template.model import Template
from agent.template.render import plan_json

if TYPE_CHECKING:  # agent.providers.retry imports tenacity; `plan --help` stays light
    from agent.providers.retry import RetryPolicy

__all__ = ["DEFAULT_MODELS", "DraftOutcome", "DraftRequest", "choose_model", "draft_report", "run_draft"]
OFFLINE_NOTE = ("no model configured: drafting with the offline skeleton drafter; set OPENAI_API_KEY or "
                "ANTHROPIC_API_KEY, or pass --model openai:MODEL / anthropic:MODEL / ollama:MODEL")


@dataclass(frozen=True)
class DraftRequest:
    """What the caller asked for. None means "not given": the setting comes from the environment, the
    repository's config file, or the built-in default (`agent.config`)."""

    brief: str
    template: str | None = None
    repo: str = "."
    model: str | None = None
    base_url: str | None = None
    out: str | None = None
    max_rounds: int | None = None
    concurrency: int | None = None
    max_cost_usd: float | None = None
    force: bool = False
    context_tokens: int | None = None
    timeout: float | None = None
    deadline: float | None = None
    review: bool = True  # the whole-plan review call (`--no-review` turns it off)

    def flags(self) -> dict[str, Any]:
        return {"template": self.template, "model": self.model, "max_rounds": self.max_rounds,
                "concurrency": self.concurrency, "max_cost": self.max_cost_usd, "context_tokens": self.context_tokens,
                "timeout": self.timeout, "deadline": self.deadline}


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


def choose_model(model: str | None, env: Mapping[str, str], base_url: str | None = None) -> tuple[str, str | None]:
    """The model spec to use, and a note for the user when we fell back to the offline drafter."""
    if model:
        return model, None
    if base_url or env.get("OPENAI_BASE_URL"):
        raise InputError("a base URL is set (--base-url or OPENAI_BASE_URL) but no model: pass --model openai:MODEL")
    chosen, _ = default_model(env)
    return chosen, OFFLINE_NOTE if chosen == "offline" else None


def run_draft(request: DraftRequest, env: Mapping[str, str], progress: Progress = lambda _: None) -> DraftOutcome:
    config = resolve_settings(request.flags(), env, request.repo)
    brief = read_brief(request.brief)
    template = load_template(config.template)
    paths = plan_paths(request.out, brief.slug, plans_dir=config.out_dir)
    check_output(paths, request.force)  # before spending a single token
    model, note = choose_model(config.model, env, request.base_url)
    context = context_for_brief(Path(request.repo), brief, config.context_tokens, output_dir=Path(config.out_dir))
    if note:  # after the repository is known to be there, so a bad --repo is the only message
        progress(note)
    if brief.redacted_lines:
        progress(f"{brief.source}: secret-looking values on line(s) {_lines(brief.redacted_lines)} of the brief "
                 "were replaced with [REDACTED]; nothing redacted is sent or written")
    provider = make_provider(model, env, template=template, brief=brief, context=context, base_url=request.base_url,
                             timeout=config.timeout, origin=origin(config, "model"))
    settings = replace(draft_settings(config), review=request.review)
    with plan_lock(paths[0]):
        check_output(paths, request.force)  # again: another run may have written it while we waited
        result = asyncio.run(draft_and_close(provider, draft_plan(template, brief, provider, context.prompt_text,
                                                                   context.tracked_paths, settings, progress),
                                             config))
        outcome = DraftOutcome(result, paths[0], paths[1], model, template, context, brief.source,
                               brief.redacted_lines)
        write_outcome(outcome)
    return outcome


def _lines(numbers: tuple[int, ...]) -> str:
    return ", ".join(str(number) for number in numbers)


def write_outcome(outcome: DraftOutcome) -> None:
    """plan.md and plan.json (the plan's data, its spine, the review's findings and the report), both
    replaced or neither."""
    result = outcome.result
    review = None if result.review is None else [note.as_dict() for note in result.review]
    record = {**plan_json(outcome.template, result.plan), "spine": result.spine, "review": review,
              "report": draft_report(outcome)}
    write_files({outcome.plan_path: result.markdown, outcome.json_path: json_text(record)})


def draft_settings(config: Settings) -> DraftSettings:
    return DraftSettings(config.max_rounds, config.concurrency, config.max_cost, prices=config.prices,
                         max_cost_origin=origin(config, "max_cost"))


async def draft_and_close(provider: Provider, drafting: Coroutine[Any, Any, DraftResult],
                          config: Settings) -> DraftResult:
    """Run the draft within its deadline, then close the provider's connections while their event loop is
    still running (closed later, by the garbage collector, they print "Event loop is closed" tracebacks)."""
    try:
        async with asyncio.timeout(config.deadline):
            return await drafting
    except TimeoutError:
        raise TransportError(deadline_message(config)) from None
    finally:
        await provider.aclose()


def deadline_message(config: Settings) -> str:
    source = config.sources.get("deadline", "default")
    return (f"the draft did not end within its {config.deadline:g} s deadline ({source}); nothing was written. "
            "The provider may be down or slow: try again later, or raise --deadline / --timeout")


def make_provider(spec: str, env: Mapping[str, str], *, template: Template, brief: Brief, context: RepoContext | None,
                  base_url: str | None = None, timeout: float | None = None, retry: RetryPolicy | None = None,
                  origin: str = "--model") -> Provider:
    """The one place a model spec becomes a provider for drafting `brief`. `offline` drafts from the brief
    and the repository, so it is built with them here; every other spec goes to `resolve_provider`."""
    if spec == "offline":
        return OfflineDrafter(template, brief, context)
    return resolve_provider(spec, base_url=base_url, env=env, retry=retry, timeout=timeout, origin=origin)


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

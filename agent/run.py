"""`plan draft` as a Python API: brief, template and repository in; plan.md and plan.json out."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.brief import read_brief
from agent.catalog import load_template
from agent.context import build_context
from agent.context.model import DEFAULT_CONTEXT_TOKENS, RepoContext
from agent.draft import DraftResult, DraftSettings, Progress, draft_plan
from agent.errors import InputError
from agent.offline import OfflineDrafter
from agent.output import plan_paths, refuse_overwrite, write_atomic, write_json
from agent.providers import resolve_provider
from agent.providers.base import Provider
from agent.render import plan_json
from agent.template import Template

DEFAULT_MODELS = {"OPENAI_API_KEY": "openai:gpt-4.1-mini", "ANTHROPIC_API_KEY": "anthropic:claude-sonnet-4-5"}
OFFLINE_NOTE = ("no model configured: drafting with the offline skeleton drafter; set OPENAI_API_KEY or "
                "ANTHROPIC_API_KEY, or pass --model openai:MODEL / anthropic:MODEL / ollama:MODEL")


@dataclass(frozen=True)
class DraftRequest:
    brief: str
    template: str | None = None
    repo: str = "."
    model: str | None = None
    base_url: str | None = None
    out: str | None = None
    max_rounds: int = 2
    concurrency: int = 8
    max_cost_usd: float | None = None
    force: bool = False
    context_tokens: int = DEFAULT_CONTEXT_TOKENS


@dataclass
class DraftOutcome:
    result: DraftResult
    plan_path: Path
    json_path: Path
    model: str
    template: Template
    context: RepoContext


def choose_model(model: str | None, env: Mapping[str, str], base_url: str | None = None) -> tuple[str, str | None]:
    """The model spec to use, and a note for the user when we fell back to the offline drafter."""
    if model:
        return model, None
    if base_url or env.get("OPENAI_BASE_URL"):
        raise InputError("--base-url needs a model name too: pass --model openai:MODEL")
    for key, default in DEFAULT_MODELS.items():
        if env.get(key):
            return default, None
    return "offline", OFFLINE_NOTE


def run_draft(request: DraftRequest, env: Mapping[str, str], progress: Progress = lambda _: None) -> DraftOutcome:
    _check_limits(request)
    brief = read_brief(request.brief)
    template = load_template(request.template)
    paths = plan_paths(request.out, brief.slug)
    refuse_overwrite(paths, request.force)  # before spending a single token
    model, note = choose_model(request.model, env, request.base_url)
    if note:
        progress(note)
    context = build_context(Path(request.repo), brief.text, request.context_tokens)
    provider = _provider(model, request, env, template, brief, context)
    settings = DraftSettings(request.max_rounds, request.concurrency, request.max_cost_usd)
    result = asyncio.run(_draft_and_close(provider, draft_plan(template, brief, provider, context.prompt_text,
                                                               context.tracked_paths, settings, progress)))
    outcome = DraftOutcome(result, paths[0], paths[1], model, template, context)
    write_atomic(outcome.plan_path, result.markdown)
    write_json(outcome.json_path, {**plan_json(template, result.plan), "report": draft_report(outcome)})
    return outcome


async def _draft_and_close(provider: Provider, drafting: Coroutine[Any, Any, DraftResult]) -> DraftResult:
    """Run the draft, then close the provider's connections while their event loop is still running
    (closed later, by the garbage collector, they print "Event loop is closed" tracebacks)."""
    try:
        return await drafting
    finally:
        close = getattr(provider, "aclose", None)  # the offline drafter holds no connections
        if close is not None:
            await close()


def _check_limits(request: DraftRequest) -> None:
    if request.max_rounds < 0:
        raise InputError("--max-rounds must be 0 or more")
    if request.concurrency < 1:
        raise InputError("--concurrency must be at least 1")
    if request.max_cost_usd is not None and request.max_cost_usd <= 0:
        raise InputError("--max-cost must be a positive amount in US dollars")


def _provider(model: str, request: DraftRequest, env: Mapping[str, str], template: Template, brief: Any,
              context: RepoContext) -> Provider:
    if model == "offline":
        return OfflineDrafter(template, brief, context)
    return resolve_provider(model, base_url=request.base_url, env=env)


def draft_report(outcome: DraftOutcome) -> dict[str, Any]:
    """The JSON report: where the plan went, whether it is complete, findings, tokens, cost, timings."""
    result = outcome.result
    usage = result.usage
    return {
        "schema_version": 1,
        "plan_path": str(outcome.plan_path),
        "json_path": str(outcome.json_path),
        "complete": result.complete,
        "rounds": result.rounds,
        "model": outcome.model,
        "template": outcome.template.name,
        "findings": [finding.as_dict() for finding in result.findings],
        "usage": {
            "calls": usage.calls,
            "input_tokens": usage.input_tokens,
            "output_tokens": usage.output_tokens,
            "cache_read_tokens": usage.cache_read_tokens,
            "cache_write_tokens": usage.cache_write_tokens,
            "cost_usd": result.cost_usd,
        },
        "timings": result.timings,
        "context": {"tokens_used": outcome.context.tokens_used, "budget_tokens": outcome.context.budget_tokens,
                    "included": [item.path or item.kind for item in outcome.context.manifest.included]},
    }

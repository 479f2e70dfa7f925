"""Benchmark: draft a template through the OpenAI and the Anthropic provider against the loopback fake
server, which answers each call after a fixed delay plus output tokens at a set speed, and applies each
provider's documented prompt-cache rules (see tests/fake_llm_server.py).

Usage: python bench/bench_draft.py [--template default] [--delay 0.5] [--tokens-per-s 100] [--concurrency 8]
                                  [--repo DIR]

Prints, per provider: wall time of the draft loop, calls, input/output tokens, the slowest single call,
wall/slowest (target <= 1.5: sections run side by side), the share of input tokens read from the cache
(target >= 60% on both providers), and billed input tokens with and without prompt caching, priced as
the server reported cache reads and writes. "openai" is the arrangement sent to api.openai.com (forced
function tools), "openai compatible" the one sent to other servers (`response_format`). Rows other than
those and "anthropic" are experiments, not shipped behaviour (see `Measured`).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fake_llm_filler import PATHS
from fake_llm_server import FakeLLMServer

from agent.context import build_context
from agent.context.brief import Brief, read_brief
from agent.context.repo import RepoContext
from agent.draft.cost import PRICES
from agent.draft.loop import DraftResult, DraftSettings, draft_plan
from agent.providers.anthropic import AnthropicProvider
from agent.providers.base import ModelRequest, ModelResponse, Provider, TokenCount
from agent.providers.openai import OpenAIProvider
from agent.template.catalog import load_template
from agent.template.model import Template

BRIEF = """# Rate limiting for the public API

Clients can flood the public API and slow it down for everyone else.

- Limit each API key to 100 requests a minute
- Answer over-limit requests with HTTP 429 and a Retry-After header
- Document the limits in the runbook
"""
# Cache prices relative to the input price, from a representative model of each provider.
PRICED_AS = {"openai": "openai:gpt-4.1-mini", "anthropic": "anthropic:claude-sonnet-4-5"}


class Measured:
    """Wraps the provider to time each call on its own (the loop's own timings include queueing) and, for
    the experiments, to change how calls are made: `warm_first` lets the first call finish before any other
    starts, so the others find its prefix cached; `one_tool` sends Anthropic only the section's own tool;
    `no_warm_up` hides the provider's wish for the loop's one-token cache warm-up."""

    def __init__(self, inner: Provider, warm_first: bool = False, one_tool: bool = False,
                 no_warm_up: bool = False) -> None:
        self.inner, self.name, self.model = inner, inner.name, inner.model
        self.warm_first, self.one_tool = warm_first, one_tool
        warm = inner.capabilities.warm_cache_first and not no_warm_up
        self.capabilities = replace(inner.capabilities, warm_cache_first=warm)
        self.first: asyncio.Future[ModelResponse] | None = None
        self.call_seconds: list[float] = []

    def count_tokens(self, request: ModelRequest) -> TokenCount:
        return self.inner.count_tokens(request)

    async def complete(self, request: ModelRequest) -> ModelResponse:
        if self.one_tool:
            request = replace(request, toolbox=())
        if not self.warm_first:
            return await self._timed(request)
        if self.first is None:
            self.first = asyncio.ensure_future(self._timed(request))
            return await self.first
        await asyncio.wait([self.first])
        return await self._timed(request)

    async def _timed(self, request: ModelRequest) -> ModelResponse:
        started = time.perf_counter()
        try:
            return await self.inner.complete(request)
        finally:
            self.call_seconds.append(time.perf_counter() - started)

    async def aclose(self) -> None:
        await self.inner.aclose()


VARIANTS = {
    "": {},
    "no warm-up": {"no_warm_up": True},
    "first call alone": {"warm_first": True, "no_warm_up": True},
    "one tool": {"one_tool": True, "no_warm_up": True},
    "compatible": {},  # OpenAI only: the request a compatible server gets
}
ANTHROPIC_VARIANTS = ("", "no warm-up", "first call alone", "one tool")


@dataclass
class Row:
    wire: str
    variant: str
    wall_s: float
    slowest_call_s: float
    result: DraftResult

    def billed_input(self) -> tuple[int, float]:
        """All input tokens, and what they bill as in input-token equivalents with the cache prices."""
        usage, price = self.result.usage, PRICES[PRICED_AS[self.wire]]
        uncached = usage.input_tokens - usage.cache_read_tokens - usage.cache_write_tokens
        cached = (usage.cache_read_tokens * price.cache_read + usage.cache_write_tokens * price.cache_write) / price.input
        return usage.input_tokens, uncached + cached


def make_repo(root: Path) -> Path:
    for path in PATHS:
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(f"# {path}\n")
    return root


async def draft_once(provider: Provider, template: Template, brief: Brief, context: RepoContext,
                     concurrency: int) -> tuple[float, DraftResult]:
    started = time.perf_counter()
    try:
        result = await draft_plan(template, brief, provider, context.prompt_text, context.tracked_paths,
                                  DraftSettings(concurrency=concurrency))
    finally:
        await provider.aclose()
    return time.perf_counter() - started, result


def run(wire: str, variant: str, args: argparse.Namespace, repo: Path, brief_path: Path) -> Row:
    template, brief = load_template(args.template), read_brief(str(brief_path))
    context = build_context(repo, brief.text)
    with FakeLLMServer(delay_s=args.delay, tokens_per_s=args.tokens_per_s) as server:
        provider: Provider
        if wire == "anthropic":
            provider = AnthropicProvider("bench", "sk-ant-bench-0000", server.anthropic_base_url)
        else:  # as sent to api.openai.com, or to a compatible server
            provider = OpenAIProvider("bench", "sk-bench-0000", server.openai_base_url, platform=variant != "compatible")
        measured = Measured(provider, **VARIANTS[variant])
        wall, result = asyncio.run(draft_once(measured, template, brief, context, args.concurrency))
    return Row(wire, variant, wall, max(measured.call_seconds), result)



def report(rows: list[Row]) -> None:
    print(f"{'run':<30}{'wall s':>8}{'calls':>7}{'in tok':>9}{'out tok':>9}{'slowest s':>11}{'wall/slow':>11}"
          f"{'cache rd':>10}{'read %':>8}{'cache wr':>10}{'billed in (no cache)':>22}{'billed in (cache)':>19}{'saved':>7}")
    for row in rows:
        usage, slowest = row.result.usage, row.slowest_call_s
        total, billed = row.billed_input()
        read = usage.cache_read_tokens / usage.input_tokens
        print(f"{(row.wire + ' ' + row.variant).strip():<30}{row.wall_s:>8.2f}{usage.calls:>7}{usage.input_tokens:>9}"
              f"{usage.output_tokens:>9}{slowest:>11.2f}{row.wall_s / slowest:>11.2f}{usage.cache_read_tokens:>10}"
              f"{read:>8.0%}{usage.cache_write_tokens:>10}{total:>22}{billed:>19.0f}{1 - billed / total:>7.0%}")
        if not row.result.complete:
            print(f"  (incomplete: {len(row.result.findings)} finding(s))")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--template", default="default")
    parser.add_argument("--delay", type=float, default=0.5, help="seconds before each answer")
    parser.add_argument("--tokens-per-s", type=float, default=100.0, help="output tokens per second")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--repo", help="a repository for the context (default: a few files, a small context)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(args.repo) if args.repo else make_repo(Path(tmp))
        brief_path = Path(tmp) / "brief.md"
        brief_path.write_text(BRIEF)
        rows = [run("openai", variant, args, repo, brief_path) for variant in ("", "compatible")]
        rows += [run("anthropic", variant, args, repo, brief_path) for variant in ANTHROPIC_VARIANTS]
    print(f"template {args.template}; server: {args.delay} s + 1 s per {args.tokens_per_s:g} output tokens; "
          f"concurrency {args.concurrency}; billed input in input-token equivalents "
          f"(priced as {', '.join(PRICED_AS.values())})")
    report(rows)


if __name__ == "__main__":
    main()

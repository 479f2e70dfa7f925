"""Benchmark: a draft's wall time against its critical path, spine + slowest section + review, against the
loopback fake server (each call waits a fixed delay plus its output tokens at a set speed).

Usage: python bench/bench_draft_stages.py [--template default] [--delay 0.3] [--tokens-per-s 200] [--runs 3]

The spine must finish before the sections start, and the review reads them all, so no draft can be faster
than the slowest call of each stage added up. Prints each stage's calls and slowest call, the floor, the wall
time and their ratio (target <= 1.3: the stages add nothing but the calls they wait for), then one draft
without the spine and review calls, for what those two cost in time and tokens.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fake_llm_server import FakeLLMServer

from agent.context.brief import Brief
from agent.draft.loop import DraftResult, DraftSettings, draft_plan
from agent.providers.openai import OpenAIProvider
from agent.template.catalog import load_template

BRIEF = Brief("Rate limiting for the public API", """# Rate limiting for the public API

Clients can flood the public API and slow it down for everyone else.

- Limit each API key to 100 requests a minute
- Answer over-limit requests with HTTP 429 and a Retry-After header
""", "brief.md", ("Limit each API key to 100 requests a minute",
                  "Answer over-limit requests with HTTP 429 and a Retry-After header"))
TARGET = 1.3
STAGES = ("spine", "section", "review", "reask")


async def draft_once(base_url: str, template_name: str, whole: bool = True) -> tuple[DraftResult, float]:
    provider = OpenAIProvider("fake-planner", "sk-bench-0000", base_url=base_url)
    settings = DraftSettings(spine=whole, review=whole)
    started = time.perf_counter()
    try:
        result = await draft_plan(load_template(template_name), BRIEF, provider, "", None, settings)
    finally:
        await provider.aclose()
    return result, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--template", default="default")
    parser.add_argument("--delay", type=float, default=0.3)
    parser.add_argument("--tokens-per-s", type=float, default=200.0)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    ratios = []
    with FakeLLMServer(delay_s=args.delay, tokens_per_s=args.tokens_per_s) as server:
        for run in range(1, args.runs + 1):
            result, wall = asyncio.run(draft_once(server.openai_base_url, args.template))
            stages = {stage: result.by_purpose[stage] for stage in STAGES if stage in result.by_purpose}
            floor = sum(stage["slowest_call_s"] for stage in stages.values())
            ratios.append(wall / floor)
            shown = ", ".join(f"{name} {entry['calls']} call(s) slowest {entry['slowest_call_s']:.2f} s"
                              for name, entry in stages.items())
            print(f"run {run}: {shown}; floor {floor:.2f} s, wall {wall:.2f} s, wall/floor {wall / floor:.2f}")
        alone, alone_wall = asyncio.run(draft_once(server.openai_base_url, args.template, whole=False))
    print(f"sections alone (no spine, no review): wall {alone_wall:.2f} s, {alone.usage.input_tokens} input and "
          f"{alone.usage.output_tokens} output tokens; with both: {result.usage.input_tokens} and "
          f"{result.usage.output_tokens}")
    best = min(ratios)
    verdict = "met" if best <= TARGET else "MISSED"
    print(f"template {args.template}: best wall/floor {best:.2f} (target <= {TARGET}): {verdict}")
    if best > TARGET:
        sys.exit(1)


if __name__ == "__main__":
    main()

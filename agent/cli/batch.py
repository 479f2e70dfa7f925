"""`plan batch`: a whole backlog."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from agent.cli.app import OutputFormat, TemplateOption, TimeoutOption, app, user_errors


class BatchVia(StrEnum):
    direct = "direct"
    batch_api = "batch-api"


@app.command("batch")
def batch(
    source: Annotated[str, typer.Argument(help="A directory of briefs, a .jsonl or .csv backlog (id, title, body, "
                                               "labels), or a GitHub issues export (.json array).")],
    template: TemplateOption = None,
    repo: Annotated[str, typer.Option("--repo", help="Repository the plans are about.")] = ".",
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="openai:MODEL, anthropic:MODEL, ollama:MODEL or offline.")
    ] = None,
    base_url: Annotated[
        str | None, typer.Option("--base-url", help="OpenAI-compatible server URL (vLLM, LM Studio, OpenRouter).")
    ] = None,
    out: Annotated[
        str | None, typer.Option("--out", "-o", help="Directory for OUT/<id>-<slug>/plan.md and the manifest. "
                                 "Default: implementation-plans")
    ] = None,
    concurrency: Annotated[int | None, typer.Option("--concurrency", help="Items drafted at once [8].")] = None,
    rpm: Annotated[int | None, typer.Option("--rpm", help="Requests per minute to stay under (learnt from the "
                                            "provider's rate-limit headers when not given).")] = None,
    tpm: Annotated[int | None, typer.Option("--tpm", help="Tokens per minute to stay under.")] = None,
    max_cost: Annotated[
        float | None, typer.Option("--max-cost", help="Stop before a call that could take the whole batch past this many US dollars.")
    ] = None,
    retry_failed: Annotated[bool, typer.Option("--retry-failed", help="Draft the failed items again too.")] = False,
    via: Annotated[BatchVia, typer.Option("--via", help="direct: one call per section; batch-api: the provider's "
                                          "batch API, at half price, answers within 24 hours.")] = BatchVia.direct,
    output: Annotated[
        OutputFormat, typer.Option("--format", help="text: progress and a summary table; json: a JSON line per item, then a summary line.")
    ] = OutputFormat.text,
    max_rounds: Annotated[int | None, typer.Option("--max-rounds", help="Re-ask rounds for failing sections [2].")] = None,
    context_tokens: Annotated[
        int | None, typer.Option("--context-tokens", help="Budget for repository context, in tokens [12000].")
    ] = None,
    timeout: TimeoutOption = None,
    deadline: Annotated[
        float | None, typer.Option("--deadline", help="Seconds one item may take before it is marked failed [900].")
    ] = None,
) -> None:
    """Draft a plan for every item of a backlog, as `plan draft` would, resumably and within rate limits.

    Re-running the same command skips finished items and redoes unfinished ones. Exit 0: every plan
    complete; 3: every item drafted, some with findings; 1: items failed or were not drafted; 2: bad usage.
    """
    import os

    from agent.batch.display import JsonLinesDisplay, TextDisplay
    from agent.batch.runner import BatchRequest, run_batch

    request = BatchRequest(source, template=template, repo=repo, model=model, base_url=base_url, out=out,
                           concurrency=concurrency, rpm=rpm, tpm=tpm, max_cost_usd=max_cost, retry_failed=retry_failed,
                           via=via.value, max_rounds=max_rounds, context_tokens=context_tokens, timeout=timeout,
                           deadline=deadline)
    display = JsonLinesDisplay() if output is OutputFormat.json else TextDisplay()
    with user_errors(), display:
        summary = run_batch(request, dict(os.environ), display)
    display.summary(summary)
    raise typer.Exit(summary.exit_code)

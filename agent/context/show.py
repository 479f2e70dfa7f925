"""Show a RepoContext to people (`plan context`), to programs (the JSON report) and in a plan's appendix."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from agent.context.repo import RepoContext

SCHEMA_VERSION = 1
TEXT_FILES, TEXT_ENTRIES = 10, 8


def to_json(ctx: RepoContext, include_paths: bool = False) -> dict[str, Any]:
    """A JSON-ready dict; every walked path is listed only when asked, since a repository may hold 50,000."""
    report: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "root": str(ctx.root),
        "is_git": ctx.is_git,
        "budget_tokens": ctx.budget_tokens,
        "tokens_used": ctx.tokens_used,
        "tracked_file_count": len(ctx.tracked_paths),
        "stack": asdict(ctx.stack),
        "ranked": [asdict(file) for file in ctx.ranked],
        "manifest": asdict(ctx.manifest),
        "prompt_text": ctx.prompt_text,
    }
    if include_paths:
        report["tracked_paths"] = sorted(ctx.tracked_paths)
    return report


def format_text(ctx: RepoContext) -> str:
    """What would be sent, for a person to check before spending tokens: sizes, cuts, and top outlines."""
    lines = [
        f"Repository context for {ctx.root} ({'git' if ctx.is_git else 'no git'}, "
        f"{len(ctx.tracked_paths):,} files): {ctx.tokens_used:,} of {ctx.budget_tokens:,} estimated tokens",
        f"Stack: {', '.join(ctx.stack.languages) or 'unknown'} · tests: {ctx.stack.test_command or 'unknown'}"
        f" · lint: {ctx.stack.lint_command or 'unknown'} · frameworks: {', '.join(ctx.stack.frameworks) or 'none'}",
        "",
        "Sent:",
        *(f"  {item.tokens:>6,}  {item.kind:<8} {item.path or ''}".rstrip() for item in ctx.manifest.included),
    ]
    if ctx.manifest.cut:
        lines += ["", "Left out:"]
        lines += [f"  {item.kind:<8} {item.path}  ({_cut_reason(item.reason, item.tokens)})" for item in ctx.manifest.cut]
    if ctx.manifest.skipped:
        counts = " · ".join(f"{reason} {count:,}" for reason, count in ctx.manifest.skipped.items())
        lines += ["", f"Skipped before ranking: {counts}"]
    lines += ["", "Best-ranked files:"]
    for number, file in enumerate(ctx.ranked[:TEXT_FILES], start=1):
        named = "  (named in the brief)" if file.named_in_brief else ""
        role = f"  [{file.role}]" if file.role != "source" else ""
        tests = f"  tests: {', '.join(file.tests)}" if file.tests else ""
        lines.append(f"  {number:>2}. {file.path}  score {file.score:.3f}{named}{role}{tests}")
        lines += [f"        L{e.line} {e.kind} {e.name}" for e in file.outline[:TEXT_ENTRIES]]
        if len(file.outline) > TEXT_ENTRIES:
            lines.append(f"        … {len(file.outline) - TEXT_ENTRIES} more")
    return "\n".join(lines)


def format_appendix(ctx: RepoContext) -> str:
    """A collapsed Markdown appendix for the plan: what went in, with sizes, and what was left out."""
    rows = [f"| {item.kind} | {_cell(item.path or '')} | {item.tokens:,} |" for item in ctx.manifest.included]
    cut = [f"- `{item.path}` ({item.kind}): {_cut_reason(item.reason, item.tokens)}" for item in ctx.manifest.cut]
    return "\n".join([
        "<details>",
        f"<summary>Repository context sent: {ctx.tokens_used:,} of {ctx.budget_tokens:,} estimated tokens</summary>",
        "",
        "| Kind | Path | Tokens |",
        "|---|---|---:|",
        *rows,
        *(["", "Left out:", "", *cut] if cut else []),
        "",
        "</details>",
        "",
    ])


def _cut_reason(reason: str, tokens: int | None) -> str:
    return f"{reason}, {tokens:,} tokens" if tokens else reason


def _cell(text: str) -> str:
    return text.replace("|", "\\|")

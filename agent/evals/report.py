"""The eval report: JSON (what `compare` reads), a terminal table, and a Markdown summary."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from agent.errors import InputError
from agent.evals.suite import EvalRun
from agent.inputs import load_json, read_text
from agent.output import write_atomic

SCHEMA_VERSION = 1
SHORT = {"schema_validity": "schema", "completeness": "complete", "grounding": "ground", "consistency": "consist",
         "coverage": "cover", "proportion": "prop", "expectations": "expect", "rubric": "rubric"}
SUMMED = ("calls", "input_tokens", "output_tokens", "cache_read_tokens", "wall_s")

MAX_REPORT_BYTES = 100_000_000


def report_json(run: EvalRun) -> dict[str, Any]:
    cases = [{
        "id": result.case.id,
        "title": result.case.title,
        "template": result.template,
        "tags": list(result.case.tags),
        "score": round(result.score, 4),
        "grades": {g.name: {"score": round(g.score, 4), "details": g.details} for g in result.grades},
        "measures": result.measures,
        "notes": result.notes,
    } for result in run.results]
    return {
        "schema_version": SCHEMA_VERSION,
        "model": run.model,
        "mode": run.mode,
        "judge": run.judge,
        "cases_dir": str(run.cases_dir),
        "graders": grader_names(cases),
        "aggregate": aggregate(cases, run.wall_s),
        "cases": cases,
        "skipped": [{"id": skip.id, "reason": skip.reason} for skip in run.skipped],
    }


def grader_names(cases: list[dict[str, Any]]) -> list[str]:
    return list(dict.fromkeys(name for case in cases for name in case["grades"]))


def aggregate(cases: list[dict[str, Any]], wall_s: float) -> dict[str, Any]:
    """Mean scores over the cases; calls, tokens, cost and time summed."""
    scores = [case["score"] for case in cases]
    graders = {name: _mean([case["grades"][name]["score"] for case in cases if name in case["grades"]])
               for name in grader_names(cases)}
    totals: dict[str, Any] = {key: sum(case["measures"].get(key) or 0 for case in cases) for key in SUMMED}
    costs = [case["measures"].get("cost_usd") for case in cases]
    priced = [cost for cost in costs if cost is not None]
    return {"score": _mean(scores), "graders": graders, "cases": len(cases), **totals,
            "wall_s": round(totals["wall_s"], 3), "eval_wall_s": wall_s,
            "cost_usd": round(sum(priced), 6) if priced else None}


def _mean(values: list[float]) -> float:
    return round(sum(values) / len(values), 4) if values else 0.0


def format_table(report: dict[str, Any]) -> str:
    """One row per case and a mean row: scores per grader, then calls, tokens, cost and draft time."""
    names = report["graders"]
    header = ["case", "score", *(SHORT.get(name, name) for name in names), "calls", "tokens", "cost", "wall s"]
    rows = [_row(case["id"], case["score"], [case["grades"][n]["score"] for n in names], case["measures"])
            for case in report["cases"]]
    total = report["aggregate"]
    rows.append(_row("mean / total", total["score"], [total["graders"][n] for n in names], total))
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]
    lines = [_line(header, widths), _line(["-" * w for w in widths], widths)]
    lines += [_line(row, widths) for row in rows[:-1]] + [_line(["-" * w for w in widths], widths), _line(rows[-1], widths)]
    title = f"plan eval: {report['model']} ({report['mode']}), {total['cases']} case(s)"
    skipped = [f"skipped {skip['id']}: {skip['reason']}" for skip in report["skipped"]]
    return "\n".join([title, "", *lines, *skipped])


def _row(name: str, score: float, grades: list[float], measures: dict[str, Any]) -> list[str]:
    tokens = (measures.get("input_tokens") or 0) + (measures.get("output_tokens") or 0)
    cost = measures.get("cost_usd")
    return [name, f"{score:.3f}", *(f"{g:.2f}" for g in grades), str(measures.get("calls", 0)), str(tokens),
            "-" if cost is None else f"${cost:.4f}", f"{measures.get('wall_s', 0):.2f}"]


def _line(cells: list[str], widths: list[int]) -> str:
    return "  ".join(cell.ljust(width) if i == 0 else cell.rjust(width)
                     for i, (cell, width) in enumerate(zip(cells, widths, strict=True))).rstrip()


def format_markdown(report: dict[str, Any]) -> str:
    names = report["graders"]
    total = report["aggregate"]
    cost = "unpriced" if total["cost_usd"] is None else f"${total['cost_usd']:.4f}"
    lines = [f"# plan eval: {report['model']} ({report['mode']})", "",
             f"Score **{total['score']:.3f}** over {total['cases']} case(s); {total['calls']} calls, "
             f"{total['input_tokens'] + total['output_tokens']} tokens, {cost}, {total['wall_s']:.1f} s drafting.", "",
             "| case | template | score | " + " | ".join(SHORT.get(n, n) for n in names) + " | calls | cost |",
             "|---|---|---:|" + "---:|" * len(names) + "---:|---:|"]
    for case in report["cases"]:
        grades = " | ".join(f"{case['grades'][n]['score']:.2f}" for n in names)
        cost_cell = "-" if case["measures"].get("cost_usd") is None else f"${case['measures']['cost_usd']:.4f}"
        lines.append(f"| {case['id']} | {case['template']} | {case['score']:.3f} | {grades} | "
                     f"{case['measures']['calls']} | {cost_cell} |")
    means = " | ".join(f"{total['graders'][n]:.2f}" for n in names)
    lines.append(f"| **mean** | | **{total['score']:.3f}** | {means} | {total['calls']} | {cost} |")
    lines += [f"\nSkipped {skip['id']}: {skip['reason']}." for skip in report["skipped"]]
    return "\n".join(lines) + "\n"


def write_reports(report: dict[str, Any], out: Path) -> Path:
    """`out` (JSON) and the Markdown summary beside it (same name, `.md`); returns the summary's path."""
    summary = out.with_suffix(".md") if out.suffix != ".md" else out.with_name(out.name + ".summary.md")
    write_atomic(out, json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    write_atomic(summary, format_markdown(report))
    return summary


def read_report(path: Path) -> dict[str, Any]:
    try:
        if not path.exists():
            raise FileNotFoundError(path)
        data = load_json(read_text(str(path), "report", MAX_REPORT_BYTES), str(path))
    except FileNotFoundError:
        raise InputError(f"{path}: no such report; write one with `plan eval --out {path}`") from None
    if not isinstance(data, dict) or data.get("schema_version") != SCHEMA_VERSION or "cases" not in data:
        raise InputError(f"{path}: not a `plan eval` report (schema_version {SCHEMA_VERSION}); run `plan eval --out`")
    return data

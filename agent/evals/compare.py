"""Compare two eval reports: which scores got better or worse, and whether any drop is a regression."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

DEFAULT_THRESHOLD = 0.05


@dataclass(frozen=True)
class Change:
    what: str  # "score", a grader's name, or "case ID"
    before: float
    after: float

    @property
    def delta(self) -> float:
        return round(self.after - self.before, 4)


@dataclass(frozen=True)
class Comparison:
    changes: list[Change]
    threshold: float
    only_before: list[str]
    only_after: list[str]
    costs: tuple[float | None, float | None]
    models: tuple[str, str]

    @property
    def regressions(self) -> list[Change]:
        return [change for change in self.changes if change.delta < -self.threshold]


def compare_reports(before: dict[str, Any], after: dict[str, Any], threshold: float = DEFAULT_THRESHOLD) -> Comparison:
    """The mean score, each grader's mean and each case's score, on the cases both reports hold."""
    ids_before = {case["id"]: case for case in before["cases"]}
    ids_after = {case["id"]: case for case in after["cases"]}
    shared = [case_id for case_id in ids_before if case_id in ids_after]
    old, new = [ids_before[i] for i in shared], [ids_after[i] for i in shared]
    changes = [Change("score", _mean([c["score"] for c in old]), _mean([c["score"] for c in new]))]
    for name in dict.fromkeys([*before["graders"], *after["graders"]]):
        if all(name in c["grades"] for c in old + new):
            changes.append(Change(name, _mean([c["grades"][name]["score"] for c in old]),
                                  _mean([c["grades"][name]["score"] for c in new])))
    changes += [Change(f"case {i}", ids_before[i]["score"], ids_after[i]["score"]) for i in shared]
    return Comparison(changes, threshold, sorted(set(ids_before) - set(ids_after)),
                      sorted(set(ids_after) - set(ids_before)),
                      (before["aggregate"].get("cost_usd"), after["aggregate"].get("cost_usd")),
                      (_model(before), _model(after)))


def _model(report: dict[str, Any]) -> str:
    return f"{report.get('model', '?')} ({report.get('mode', '?')})"


def _mean(values: list[float]) -> float:
    return round(sum(values) / len(values), 4) if values else 0.0


def format_comparison(comparison: Comparison, before: str, after: str) -> str:
    lines = [f"{before}: {comparison.models[0]}", f"{after}: {comparison.models[1]}"]
    width = max(len(change.what) for change in comparison.changes)
    for change in comparison.changes:
        if change.what.startswith("case ") and change.delta == 0:
            continue
        verdict = ("REGRESSION" if change.delta < -comparison.threshold else "worse" if change.delta < 0
                   else "better" if change.delta > 0 else "same")
        lines.append(f"{change.what.ljust(width)}  {change.before:.3f} -> {change.after:.3f}  "
                     f"{change.delta:+.3f}  {verdict}")
    lines += [f"only in {before}: {case}" for case in comparison.only_before]
    lines += [f"only in {after}: {case}" for case in comparison.only_after]
    lines.append(f"cost: {_money(comparison.costs[0])} -> {_money(comparison.costs[1])}")
    count = len(comparison.regressions)
    lines.append(f"{count} regression(s) beyond {comparison.threshold:g}" if count else
                 f"no regression beyond {comparison.threshold:g}")
    return "\n".join(lines)


def _money(value: float | None) -> str:
    return "unpriced" if value is None else f"${value:.4f}"

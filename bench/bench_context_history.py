"""Benchmark: does the repository context find the code a change touches? Measured on real history.

Cases: every non-merge commit of this project's own git history that changed at most ten existing source files
and whose message has three words or more and names none of them (the message is the brief, the parent commit
is the repository, those files are the gold set), then the eval cases (their brief, their repository,
`must_change` as the gold set).

Printed, for `build_context` and, in the same run, for a plain BM25 ranking over the source files alone:
recall within the budget at 4k, 12k and 30k tokens (the share of gold files whose outline or excerpt is
sent), recall@5 and @10 of the ranked list, and the share of gold files' excerpts that overlap the lines
the commit edited. The baseline's context at a budget is whole files, best first, while they fit.

Usage: python bench/bench_context_history.py [--repo GIT_DIR] [--rev HEAD] [--limit N] [--no-evals] [--verbose]
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUDGETS = (4_000, 12_000, 30_000)
BASELINE_BUDGETS = (4_000, 12_000, 27_000, 30_000)
MAX_GOLD_FILES = 10  # a commit that touches more is a sweep (a rename, a reformat), not a brief's change
MIN_BRIEF_WORDS = 3  # "v2.9.2", "years", "Fixed style" are not briefs
CODE_EXTENSIONS = frozenset(
    "py pyi js jsx mjs cjs ts tsx go rs java kt scala rb php cs swift c h cc cpp hpp ex exs sql sh tf".split()
)
_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? ", re.MULTILINE)
_EXCERPT_HEADER = re.compile(r"^## (.+?) — lines ([\d ,\-]+) of (\d+)$", re.MULTILINE)


@dataclass
class Case:
    name: str
    brief: str
    gold: tuple[str, ...]  # paths; one ending in "/" stands for any file under it
    edited: dict[str, list[tuple[int, int]]] = field(default_factory=dict)  # path -> old-side line ranges


@dataclass
class Result:
    recall: dict[int, float]
    at5: float
    at10: float
    overlaps: list[bool]  # one per gold file that got an excerpt in the 12k context
    partial_overlaps: list[bool]  # the same, for excerpts that show only part of their file
    baseline_recall: dict[int, float]
    baseline_at5: float
    baseline_at10: float


REPO = ROOT  # the repository whose history is walked; --repo changes it


def git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True, check=True).stdout


def is_source(path: str) -> bool:
    """Code that is not a test and not a fixture: independent of how the context builder sorts files."""
    directory, _, name = path.rpartition("/")
    parts = directory.split("/")
    test_like = name.startswith("test_") or name.endswith(("_test.py", "_test.go", ".test.ts", ".spec.ts"))
    return (name.rpartition(".")[2] in CODE_EXTENSIONS and not test_like
            and not {"tests", "test", "fixtures", "testdata"} & set(parts) and not path.startswith("evals/cases/"))


def names_its_files(message: str, gold: Iterable[str]) -> bool:
    """The message names a file by its path, its file name, or a multi-word stem (bench_batch, section_checks)."""
    lower = message.lower()
    for path in gold:
        name = path.rpartition("/")[2].lower()
        stem = name.rpartition(".")[0]
        if path.lower() in lower or name in lower or ("_" in stem.strip("_") and stem in lower):
            return True
    return False


def history_cases(rev: str, limit: int | None) -> list[Case]:
    cases: list[Case] = []
    for commit in git("rev-list", "--no-merges", rev).split():
        parents = git("rev-list", "--parents", "-n", "1", commit).split()[1:]
        if len(parents) != 1:
            continue
        changed = [line.split("\t") for line in git("diff", "--name-status", parents[0], commit).splitlines()]
        # Modified or deleted files existed in the parent: a new file cannot be found before it exists.
        gold = tuple(sorted(cols[1] for cols in changed if cols[0][0] in "MD" and is_source(cols[1])))
        message = git("log", "-1", "--format=%B", commit).strip()
        if (not gold or len(gold) > MAX_GOLD_FILES or len(message.split()) < MIN_BRIEF_WORDS
                or names_its_files(message, gold)):
            continue
        edited = {path: edited_lines(git("diff", "-U0", parents[0], commit, "--", path)) for path in gold}
        cases.append(Case(f"{commit[:8]}^", message, gold, edited))
        if limit and len(cases) >= limit:
            break
    return cases


def edited_lines(diff: str) -> list[tuple[int, int]]:
    """Old-side line ranges of each hunk; a pure insertion is the line it follows and the one after it."""
    ranges = []
    for start, count in _HUNK.findall(diff):
        first, length = int(start), 1 if count == "" else int(count)
        ranges.append((first, first + length - 1) if length else (first, first + 1))
    return ranges


def checkout(commit: str, target: Path) -> Path:
    archive = subprocess.run(["git", "-C", str(REPO), "archive", commit], capture_output=True, check=True).stdout
    target.mkdir(parents=True)
    with tarfile.open(fileobj=__import__("io").BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")
    return target


def covers(gold: str, paths: Iterable[str]) -> bool:
    return any(path == gold or (gold.endswith("/") and path.startswith(gold)) for path in paths)


def recall(gold: Sequence[str], paths: Iterable[str]) -> float:
    found = set(paths)
    return sum(covers(item, found) for item in gold) / len(gold)


def sent_files(ctx: object) -> set[str]:
    items = ctx.manifest.included  # type: ignore[attr-defined]
    return {item.path for item in items if item.path and item.kind in ("outline", "excerpt", "readme")}


def excerpt_ranges(prompt_text: str) -> dict[str, tuple[list[tuple[int, int]], bool]]:
    """Each excerpted file's line ranges, and whether they are only part of the file."""
    found: dict[str, tuple[list[tuple[int, int]], bool]] = {}
    for path, spans, total in _EXCERPT_HEADER.findall(prompt_text):
        ranges = []
        for span in spans.split(","):
            first, _, last = span.strip().partition("-")
            ranges.append((int(first), int(last or first)))
        found[path] = (ranges, sum(b - a + 1 for a, b in ranges) < int(total))
    return found


def overlaps(sent: list[tuple[int, int]], edited: list[tuple[int, int]]) -> bool:
    return any(a <= d and c <= b for a, b in sent for c, d in edited)


class Baseline:
    """BM25 (bm25s, English stopwords, Snowball stemmer) over the path and text of every source file."""

    def __init__(self, root: Path) -> None:
        import bm25s
        import Stemmer

        self.paths = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()
                            and ".git" not in p.parts and is_source(p.relative_to(root).as_posix()))
        self.texts = [(root / p).read_text(errors="replace") for p in self.paths]
        self.stemmer = Stemmer.Stemmer("english")
        self.retriever = bm25s.BM25()
        corpus = [f"{path}\n{text}" for path, text in zip(self.paths, self.texts, strict=True)]
        self.retriever.index(bm25s.tokenize(corpus, stopwords="en", stemmer=self.stemmer, show_progress=False),
                             show_progress=False)

    def ranked(self, brief: str) -> list[str]:
        import bm25s

        query = bm25s.tokenize([brief], stopwords="en", stemmer=self.stemmer, show_progress=False,
                               return_ids=False)[0]
        scores = self.retriever.get_scores(query)
        order = sorted(range(len(self.paths)), key=lambda i: (-scores[i], self.paths[i]))
        return [self.paths[i] for i in order]

    def within(self, ranked: Sequence[str], budget: int) -> list[str]:
        from agent.context import estimate_tokens

        text = dict(zip(self.paths, self.texts, strict=True))
        kept, used = [], 0
        for path in ranked:
            tokens = estimate_tokens(f"## {path}\n```\n{text[path]}\n```\n")
            if used + tokens <= budget:
                kept.append(path)
                used += tokens
        return kept


def measure(case: Case, repo: Path) -> Result:
    from agent.context import build_context

    contexts = {budget: build_context(repo, case.brief, budget) for budget in BUDGETS}
    ranked = [file.path for file in contexts[12_000].ranked]
    excerpts = excerpt_ranges(contexts[12_000].prompt_text)
    shown = [(path, *excerpts[path]) for path in case.gold if path in excerpts and case.edited.get(path)]
    overlap = [overlaps(ranges, case.edited[path]) for path, ranges, _ in shown]
    partial = [overlaps(ranges, case.edited[path]) for path, ranges, part in shown if part]
    baseline = Baseline(repo)
    base_ranked = baseline.ranked(case.brief)
    return Result(
        {budget: recall(case.gold, sent_files(ctx)) for budget, ctx in contexts.items()},
        recall(case.gold, ranked[:5]), recall(case.gold, ranked[:10]), overlap, partial,
        {budget: recall(case.gold, baseline.within(base_ranked, budget)) for budget in BASELINE_BUDGETS},
        recall(case.gold, base_ranked[:5]), recall(case.gold, base_ranked[:10]),
    )


def run_history(cases: list[Case], rev_of: dict[str, str], work: Path, verbose: bool) -> list[Result]:
    results = []
    for case in cases:
        repo = checkout(rev_of[case.name], work / case.name.rstrip("^"))
        results.append(measure(case, repo))
        if verbose:
            print_case(case, results[-1])
    return results


def eval_cases(work: Path) -> list[tuple[Case, Path]]:
    from agent.context.brief import read_brief
    from agent.evals.cases import load_cases, prepare_repo

    loaded, _ = load_cases(ROOT / "evals" / "cases")
    found = []
    for case in loaded:
        if case.expect.must_change:
            brief = read_brief(str(case.brief))
            found.append((Case(case.id, brief.text, case.expect.must_change), prepare_repo(case, work / "evals")))
    return found


def print_case(case: Case, result: Result) -> None:
    first = case.brief.splitlines()[0][:70]
    print(f"  {case.name:<30} 4k {result.recall[4000]:.2f} 12k {result.recall[12000]:.2f} "
          f"@10 {result.at10:.2f} | bm25 @10 {result.baseline_at10:.2f}  {first}")


def summary(label: str, results: list[Result]) -> dict[str, float]:
    def mean(values: Iterable[float]) -> float:
        values = list(values)
        return statistics.fmean(values) if values else float("nan")

    excerpts = [hit for result in results for hit in result.overlaps]
    figures = {
        **{f"recall {b // 1000}k": mean(r.recall[b] for r in results) for b in BUDGETS},
        "recall@5": mean(r.at5 for r in results), "recall@10": mean(r.at10 for r in results),
        **{f"bm25 recall {b // 1000}k": mean(r.baseline_recall[b] for r in results) for b in BASELINE_BUDGETS},
        "bm25 recall@5": mean(r.baseline_at5 for r in results), "bm25 recall@10": mean(r.baseline_at10 for r in results),
        "excerpt overlap": sum(excerpts) / len(excerpts) if excerpts else float("nan"),
    }
    full = {b: sum(r.recall[b] == 1.0 for r in results) for b in BUDGETS}
    print(f"{label}: {len(results)} cases")
    print("  context  " + "  ".join(f"{b // 1000}k {figures[f'recall {b // 1000}k']:.3f} ({full[b]} all found)"
                                    for b in BUDGETS)
          + f"  @5 {figures['recall@5']:.3f}  @10 {figures['recall@10']:.3f}")
    print("  bm25     " + "  ".join(f"{b // 1000}k {figures[f'bm25 recall {b // 1000}k']:.3f}" for b in BASELINE_BUDGETS)
          + f"  @5 {figures['bm25 recall@5']:.3f}  @10 {figures['bm25 recall@10']:.3f}")
    partial = [hit for result in results for hit in result.partial_overlaps]
    print(f"  excerpts of gold files that overlap the edited lines (12k): {sum(excerpts)} of {len(excerpts)}"
          f" ({figures['excerpt overlap']:.0%}); of those showing part of a file: {sum(partial)} of {len(partial)}")
    return figures


def verdicts(figures: dict[str, float]) -> None:
    checks = [
        ("recall@10 >= bm25 recall@10", figures["recall@10"] >= figures["bm25 recall@10"]),
        ("recall 12k >= bm25 recall 27k", figures["recall 12k"] >= figures["bm25 recall 27k"]),
        ("recall 30k >= 12k >= 4k", figures["recall 30k"] >= figures["recall 12k"] >= figures["recall 4k"]),
        ("excerpt overlap >= 70%", figures["excerpt overlap"] >= 0.7),
    ]
    for label, held in checks:
        print(f"  {'met   ' if held else 'MISSED'} {label}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repo", type=Path, default=ROOT, help="another git repository's history (no eval cases)")
    parser.add_argument("--rev", default="HEAD", help="the history to walk back from (default HEAD)")
    parser.add_argument("--limit", type=int, help="at most this many history cases, newest first")
    parser.add_argument("--no-evals", action="store_true", help="history cases only")
    parser.add_argument("--verbose", action="store_true", help="one line per case")
    args = parser.parse_args()
    global REPO
    REPO = args.repo
    started = time.perf_counter()
    try:
        cases = history_cases(args.rev, args.limit)
    except subprocess.CalledProcessError as error:
        sys.exit(f"bench_context_history: git history unreadable ({error.stderr.strip()}); run it in a clone")
    rev_of = {case.name: git("rev-parse", case.name).strip() for case in cases}
    with tempfile.TemporaryDirectory(prefix="bench-history-") as tmp:
        history = run_history(cases, rev_of, Path(tmp), args.verbose)
        evals = []
        if not args.no_evals and REPO == ROOT:
            for case, repo in eval_cases(Path(tmp)):
                evals.append(measure(case, repo))
                if args.verbose:
                    print_case(case, evals[-1])
    summary(f"history of {args.rev}", history)
    if evals:
        summary("eval cases", evals)
    print("Done-when targets, over all cases:")
    verdicts(summary("all", history + evals))
    print(f"({time.perf_counter() - started:.1f}s)")


if __name__ == "__main__":
    main()

"""Benchmark: compile each reference template, and validate a complete plan for it.

Usage: python bench/bench_templates.py [--seeds DIR] [--runs 50]
Times the reference templates in DIR, the public templates beside it (`../shared/templates`) and the built-ins.
Every run compiles from the text afresh (`compile_template`, not the cached `load_template`), with the
placeholder cache emptied first.
Targets, checked on the median: compile < 20 ms, validate < 50 ms. Exits 1 when one is missed.
Then the scale figure: one template made of every reference and public template (`../shared/templates`)
and built-in, repeated to about 46 KB and to the 1 MB limit, compiled and validated once each; the
seconds per 100 KB should stay about the same at both sizes (near-linear), and in seconds overall.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from schema_filler import fill  # noqa: E402

from agent.check.validate import has_errors, validate_plan  # noqa: E402
from agent.template.catalog import builtin_templates  # noqa: E402
from agent.template.compile import compile_template  # noqa: E402
from agent.template.placeholders import clear_placeholder_cache  # noqa: E402
from agent.template.render import render_plan  # noqa: E402
from agent.template.schema import json_schema, plan_model  # noqa: E402

COMPILE_TARGET_MS = 20.0
VALIDATE_TARGET_MS = 50.0


def timings_ms(action: Callable[[], object], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        clear_placeholder_cache()  # each run as cold as the first: no line's placeholders known yet
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return times


def templates(seeds: Path) -> list[tuple[str, Path]]:
    found = [(path.stem.split("_")[0], path) for path in sorted(seeds.glob("*.txt"))]
    found += [(path.stem[:10], path) for path in sorted((seeds.parent / "templates").glob("*.md"))]
    if not found:
        print(f"note: no reference templates in {seeds}; timing the built-ins only", file=sys.stderr)
    return found + sorted(builtin_templates().items())


def bench(name: str, path: Path, runs: int) -> tuple[list[float], list[float], bool]:
    text = path.read_text(encoding="utf-8")
    compile_ms = timings_ms(lambda: compile_template(text, str(path), name), runs)
    template = compile_template(text, str(path), name)
    plan = render_plan(template, fill(json_schema(plan_model(template))))
    clean = not has_errors(validate_plan(template, plan, "plan.md"))
    validate_ms = timings_ms(lambda: validate_plan(template, plan, "plan.md"), runs)
    return compile_ms, validate_ms, clean


def scale_texts(seeds: Path) -> list[str]:
    paths = [*sorted(seeds.glob("*.txt")), *sorted((seeds.parent / "templates").glob("*.md"))]
    paths += [path for _, path in sorted(builtin_templates().items())]
    return [path.read_text(encoding="utf-8").replace("\n# ", "\n## ") for path in paths]


def scale(texts: list[str], target_bytes: int) -> tuple[int, float, float]:
    """Bytes, compile seconds and validate seconds for one template of about `target_bytes`."""
    parts, size = ["# Everything\n"], 0
    while size < target_bytes:
        text = texts[len(parts) % len(texts)]
        parts.append(text.split("---\n", 2)[-1] if text.startswith("---") else text)  # one front matter at most
        size += len(parts[-1].encode())
    text = "\n\n".join(parts)[: target_bytes - 100]
    clear_placeholder_cache()
    start = time.perf_counter()
    template = compile_template(text, "scale.md")
    compiled = time.perf_counter()
    plan = render_plan(template, fill(json_schema(plan_model(template))))
    clear_placeholder_cache()
    start_validate = time.perf_counter()
    validate_plan(template, plan, "plan.md")
    return len(text.encode()), compiled - start, time.perf_counter() - start_validate


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=Path, default=ROOT.parent / "shared" / "seeds")
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()

    print(f"{'template':<10} {'compile best':>13} {'median':>8} {'validate best':>14} {'median':>8}  result")
    missed = False
    for name, path in templates(args.seeds):
        compile_ms, validate_ms, clean = bench(name, path, args.runs)
        compile_median, validate_median = statistics.median(compile_ms), statistics.median(validate_ms)
        ok = compile_median < COMPILE_TARGET_MS and validate_median < VALIDATE_TARGET_MS and clean
        missed |= not ok
        verdict = "ok" if ok else "MISSED" if clean else "PLAN HAS ERRORS"
        print(f"{name:<10} {min(compile_ms):>10.2f} ms {compile_median:>5.2f} ms "
              f"{min(validate_ms):>11.2f} ms {validate_median:>5.2f} ms  {verdict}")
    print(f"targets (median): compile < {COMPILE_TARGET_MS:g} ms, validate < {VALIDATE_TARGET_MS:g} ms; "
          f"{args.runs} runs each")
    texts = scale_texts(args.seeds)
    for target in (46_000, 990_000):
        size, compile_s, validate_s = scale(texts, target)
        per = 100_000 / size
        print(f"scale {size / 1000:>6.0f} KB: compile {compile_s:6.2f} s ({compile_s * per:.2f} s per 100 KB), "
              f"validate {validate_s:6.2f} s ({validate_s * per:.2f} s per 100 KB)")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())

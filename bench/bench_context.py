"""Benchmark: `build_context` against `git ls-files -z | xargs -0 cat` on a synthetic repository.

Usage: python bench/bench_context.py [--dir DIR] [--files 50000] [--subset 10000] [--reps 3]
The repository is generated once per size under DIR (a temporary directory by default) and reused.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

BRIEF = "Add rate limiting to the billing service invoice API, configurable per customer plan."
GIT_ENV = {
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
}
WORDS = (
    "billing invoice customer plan order payment account user session token cache queue worker "
    "report export import search index notify email webhook audit metric limit quota rate retry "
    "schedule shipment inventory product catalog price discount tax refund ledger tenant role"
).split()
# The shares of a 50,000-file, ~500 MB tree; smaller trees scale every count and size down.
FULL_FILES = 50_000
LOG_FILES, LOG_BYTES = 10, 15_000_000
BINARY_FILES, BINARY_BYTES = 1_000, 150_000
NODE_MODULES_FILES = 5_000
SOURCE_TARGET_BYTES = 4_000


def python_module(rng: random.Random, name: str) -> str:
    lines = [f'"""The {name} module."""', "", "import logging", ""]
    while sum(len(line) + 1 for line in lines) < SOURCE_TARGET_BYTES:
        noun, verb = rng.choice(WORDS), rng.choice(WORDS)
        lines += [
            f"class {noun.title()}{verb.title()}Handler:",
            f"    def handle_{verb}(self, {noun}_id: int, amount: float = 0.0) -> dict:",
            f"        logging.info('handling {verb} for %s', {noun}_id)",
            f"        return {{'{noun}': {noun}_id, 'amount': amount * {rng.randint(1, 99)}}}",
            "",
        ]
    return "\n".join(lines) + "\n"


def typescript_module(rng: random.Random, name: str) -> str:
    lines = [f"// The {name} module.", "import { Router } from 'express';", ""]
    while sum(len(line) + 1 for line in lines) < SOURCE_TARGET_BYTES:
        noun, verb = rng.choice(WORDS), rng.choice(WORDS)
        lines += [
            f"export function {verb}{noun.title()}(id: number): Promise<{noun.title()}> {{",
            f"  return fetch(`/api/{noun}/${{id}}/{verb}`).then((r) => r.json());",
            "}",
            "",
        ]
    return "\n".join(lines) + "\n"


def source_file(rng: random.Random, index: int) -> tuple[str, str]:
    service, area = rng.choice(WORDS), rng.choice(WORDS)
    name = f"{rng.choice(WORDS)}_{index}"
    if index % 3 == 2:
        return f"web/src/{service}/{area}/{name}.ts", typescript_module(rng, name)
    if index % 17 == 0:
        return f"docs/{service}/{name}.md", f"# {name}\n\n" + " ".join(rng.choices(WORDS, k=600)) + "\n"
    return f"services/{service}/{area}/{name}.py", python_module(rng, name)


def write(root: Path, rel: str, data: str | bytes) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(data)
    else:
        path.write_bytes(data)


def write_fixed_files(root: Path) -> None:
    write(root, ".gitignore", "node_modules/\n*.tmp\n")
    write(root, "README.md", "# Synthetic shop\n\nA monorepo of Python services and a TypeScript web app.\n")
    write(root, "pyproject.toml", '[project]\nname = "shop"\ndependencies = ["fastapi", "sqlalchemy"]\n')
    write(root, "package.json", '{"name": "web", "scripts": {"test": "vitest"}, "dependencies": {"react": "18"}}')


def write_bulk_files(root: Path, scale: float, rng: random.Random) -> int:
    logs, binaries = max(1, round(LOG_FILES * scale)), max(1, round(BINARY_FILES * scale))
    log_line = b"2024-01-01T00:00:00Z INFO billing.invoice request served in 12ms status=200\n"
    for i in range(logs):
        write(root, f"logs/server-{i}.log", log_line * (LOG_BYTES // len(log_line)))
    for i in range(binaries):
        write(root, f"assets/img/{rng.choice(WORDS)}_{i}.png", os.urandom(BINARY_BYTES))
    for i in range(round(NODE_MODULES_FILES * scale)):
        write(root, f"node_modules/pkg{i % 300}/lib/file{i}.js", "module.exports = {};\n" * 50)
    return logs + binaries


def generate(root: Path, files: int) -> None:
    rng, scale = random.Random(files), files / FULL_FILES
    root.mkdir(parents=True)
    write_fixed_files(root)
    bulk = write_bulk_files(root, scale, rng)
    for i in range(files - bulk - 4):
        rel, text = source_file(rng, i)
        write(root, rel, text)
        if i % 10_000 == 0:
            print(f"  wrote {i} source files", flush=True)
    env = {**os.environ, **GIT_ENV}
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "synthetic"]):
        subprocess.run(["git", "-c", "gc.auto=0", *args], cwd=root, env=env, check=True)


def ensure_repository(base: Path, files: int) -> Path:
    root = base / f"repo-{files}"
    if not (root / ".git").exists():
        print(f"generating {files} files under {root} ...", flush=True)
        started = time.perf_counter()
        generate(root, files)
        print(f"  generated in {time.perf_counter() - started:.1f}s", flush=True)
    return root


def cat_all(root: Path) -> None:
    subprocess.run("git ls-files -z | xargs -0 cat >/dev/null", shell=True, cwd=root, check=True)


def context_in_process(root: Path) -> None:
    from agent.context import build_context

    build_context(root, BRIEF)


def context_cli(root: Path) -> None:
    """`plan context BRIEF --repo ROOT --format json`, as a user runs it: interpreter start-up and imports included."""
    brief = root.parent / "brief.md"
    brief.write_text(BRIEF + "\n")
    plan = Path(sys.executable).with_name("plan")
    command = [str(plan)] if plan.exists() else [sys.executable, "-c", "from agent.cli import main; main()"]
    args = [*command, "context", str(brief), "--repo", str(root), "--format", "json"]
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)


def timed(run: Callable[[], None]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def measure(root: Path, reps: int) -> tuple[int, float, float]:
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=root, capture_output=True, check=True).stdout
    count = tracked.count(b"\0")
    print(f"{root} ({count} tracked files)")
    cat_all(root)  # warm the page cache so both sides read from memory
    context_in_process(root)  # and pay the lazy imports once, outside the in-process timings
    runs: dict[str, Callable[[], None]] = {
        "git ls-files | xargs cat": lambda: cat_all(root),
        "build_context (in process)": lambda: context_in_process(root),
        "plan context --format json": lambda: context_cli(root),
    }
    # Interleaved, so a neighbour's burst of load hits every contender alike; the best run is the least disturbed.
    times: dict[str, list[float]] = {label: [] for label in runs}
    for _ in range(reps):
        for label, run in runs.items():
            times[label].append(timed(run))
    for label, values in times.items():
        print(f"  {label:<34} best {min(values):7.3f}s  median {statistics.median(values):7.3f}s")
    baseline, in_process, cli = (min(values) for values in times.values())
    print(f"  ratio in process {in_process / baseline:.2f}   ratio plan context {cli / baseline:.2f}")
    return count, baseline, cli


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dir", type=Path, help="where to generate (reused across runs)")
    parser.add_argument("--files", type=int, default=FULL_FILES)
    parser.add_argument("--subset", type=int, default=10_000)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    base = args.dir or Path(tempfile.mkdtemp(prefix="bench-context-"))
    rows = [measure(ensure_repository(base, n), args.reps) for n in (args.subset, args.files)]
    for count, baseline, cli in rows:
        print(f"{count:>7} files: cat {1e6 * baseline / count:6.1f} us/file   context {1e6 * cli / count:6.1f} us/file")
    (small, small_cat, small_cli), (large, large_cat, large_cli) = rows
    # The slope between the two sizes is the per-file cost; what is left at zero files is start-up.
    slope_cat, slope_cli = (large_cat - small_cat) / (large - small), (large_cli - small_cli) / (large - small)
    print(f"marginal cost per extra file: cat {1e6 * slope_cat:.1f} us   context {1e6 * slope_cli:.1f} us")
    print(f"fixed cost (intercept): cat {small_cat - slope_cat * small:.3f}s   context {small_cli - slope_cli * small:.3f}s")


if __name__ == "__main__":
    main()

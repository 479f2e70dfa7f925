"""Benchmark: how long `plan --help` takes against a minimal two-command typer app's `--help`.

Usage: python bench/bench_help.py [--runs 15]

Both run with this Python, as fresh processes. Prints the median of each, the ratio (target <= 1.5), which
heavy modules `import agent.cli` loads (none of openai, anthropic, pydantic should be), and the modules
`plan --help` imports beyond the minimal app, slowest first (from `python -X importtime`).
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MINIMAL_APP = '''import typer

app = typer.Typer(OPTIONS)


@app.command()
def hello(name: str) -> None:
    """Say hello."""


@app.command()
def goodbye(name: str) -> None:
    """Say goodbye."""


if __name__ == "__main__":
    app()
'''
PLAN_HELP = "import sys; sys.argv = ['plan', '--help']; from agent.cli import main; main()"
HEAVY = ("openai", "anthropic", "pydantic", "httpx", "tenacity", "yaml", "rich", "bm25s", "numpy", "agent.draft.loop",
         "agent.template.compile", "agent.context")
SHOWN_IMPORTS = 12
# Typer's defaults load rich for help and tracebacks; `plan` turns both off, so compare with both.
BASELINES = {"typer defaults": "", "rich off like plan": "rich_markup_mode=None, pretty_exceptions_enable=False"}


def seconds(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def median_of(command: list[str], runs: int) -> float:
    seconds(command)  # warm the file cache and .pyc files
    return statistics.median(seconds(command) for _ in range(runs))


def heavy_imports() -> list[str]:
    code = f"import sys, agent.cli; print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    found = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    return found.split()


def import_times(command: list[str]) -> dict[str, int]:
    """Import time in microseconds of each module the command imports, its own part only."""
    stderr = subprocess.run([sys.executable, "-X", "importtime", *command], capture_output=True, text=True).stderr
    found = (re.match(r"import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)", line) for line in stderr.splitlines())
    return {match.group(2): int(match.group(1)) for match in found if match}


def by_package(times: dict[str, int], leave_out: dict[str, int]) -> list[tuple[int, str]]:
    """Milliseconds per top-level package, over the modules `leave_out` does not import, slowest first."""
    packages: dict[str, int] = {}
    for module, micros in times.items():
        if module not in leave_out:
            packages[module.split(".")[0]] = packages.get(module.split(".")[0], 0) + micros
    return sorted(((micros, package) for package, micros in packages.items()), reverse=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    plan = median_of([sys.executable, "-c", PLAN_HELP], args.runs)
    print(f"python {sys.version.split()[0]}, {args.runs} runs each")
    print(f"{'plan --help':<52} median {plan * 1000:6.1f} ms")
    with tempfile.TemporaryDirectory() as tmp:
        for label, options in BASELINES.items():
            minimal = Path(tmp) / "minimal_app.py"
            minimal.write_text(MINIMAL_APP.replace("OPTIONS", options))
            base = median_of([sys.executable, str(minimal), "--help"], args.runs)
            print(f"{'minimal two-command typer app --help, ' + label:<52} median {base * 1000:6.1f} ms"
                  f"   plan/minimal {plan / base:.2f} (target <= 1.5)")
        minimal_imports = import_times([str(minimal), "--help"])
    heavy = heavy_imports()
    print(f"`import agent.cli` loads: {', '.join(heavy) if heavy else 'none of ' + ', '.join(HEAVY)}")
    print("imported by `plan --help` beyond the last minimal app, per package (own import time, ms):")
    for micros, package in by_package(import_times(["-c", PLAN_HELP]), minimal_imports)[:SHOWN_IMPORTS]:
        print(f"  {micros / 1000:7.1f}  {package}")


if __name__ == "__main__":
    main()

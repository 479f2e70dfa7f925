"""Benchmark: `plan batch` on a backlog against a loopback server that admits N requests a minute (enforced
per second, as providers do) and answers 429 with retry-after above that.

Usage: python bench/bench_batch.py [--items 30] [--rpm 1200] [--delay 0.5] [--template default]

Runs the real `plan batch` command in a subprocess, three ways: told the limit (--rpm), learning it from
the server's x-ratelimit-* headers, and learning it from 429s alone. Prints, per run: wall time of the
whole command (and, in brackets, of `run_batch` inside it: the rest is Python and SDK start-up), calls
the server admitted, 429s it answered and their share of all calls, the floor the rate limit alone imposes
(admitted calls / limit), wall/floor, items per minute, and items lost (no plan) or duplicated (more than
one folder). Targets: wall/floor <= 1.25 when told the limit and when learning it from 429s alone; 429s
at most 10% of calls from 429s alone, at most 5% with headers.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fake_llm_filler import PATHS
from fake_llm_server import FakeLLMServer

PLAN = Path(sys.executable).with_name("plan")
TARGET = 1.25
RUNS = {"told --rpm": True, "headers": False, "429s only": False}
MOST_REJECTED = {"told --rpm": 0.0, "headers": 0.05, "429s only": 0.10}  # share of calls answered 429
WALL_TARGET = {"told --rpm": TARGET, "429s only": TARGET}


def make_repo(root: Path, items: int) -> list[str]:
    for path in PATHS:  # the fake answers name these files, so its plans pass the path checks
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(f"# {path}\n")
    rows = [{"id": n, "title": f"Backlog item {n}: rate limiting for tenant {n}",
             "body": f"Limit each API key of tenant {n}.\n\n- Answer over-limit requests with 429\n- Document it"}
            for n in range(1, items + 1)]
    (root / "backlog.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    return [str(row["id"]) for row in rows]


def run(name: str, args: argparse.Namespace) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        ids = make_repo(root, args.items)
        headers = name == "headers"
        with FakeLLMServer(delay_s=args.delay, admit_rpm=args.rpm, rate_headers=headers) as server:
            command = [str(PLAN), "batch", "backlog.jsonl", "--out", "plans", "--template", args.template,
                       "--model", "openai:bench", "--base-url", server.openai_base_url, "--format", "json"]
            if RUNS[name]:
                command += ["--rpm", str(args.rpm)]
            started = time.perf_counter()
            done = subprocess.run(command, cwd=root, capture_output=True, text=True, env=_env())
            wall = time.perf_counter() - started
            inside = json.loads(done.stdout.splitlines()[-1])["wall_s"] if done.stdout else float("nan")
            assert server.admission is not None
            admitted, refused = server.admission.admitted, server.admission.refused
        if done.returncode not in (0, 3):
            sys.exit(f"plan batch failed ({done.returncode}): {done.stderr[-2000:]}")
        lost, duplicated = _check(root / "plans", ids)
    floor = admitted / (args.rpm / 60)
    return {"wall": wall, "inside": inside, "admitted": admitted, "refused": refused,
            "rejected": refused / (admitted + refused), "floor": floor, "ratio": wall / floor,
            "per_minute": args.items / wall * 60, "lost": lost, "duplicated": duplicated}


def _env() -> dict[str, str]:
    import os

    return {key: value for key, value in os.environ.items() if not key.endswith(("_API_KEY", "_BASE_URL"))}


def _check(out: Path, ids: list[str]) -> tuple[int, int]:
    folders = [path for path in out.iterdir() if path.is_dir()]
    lost = sum(not any((f / "plan.md").is_file() for f in folders if f.name.startswith(f"{i}-")) for i in ids)
    duplicated = len(folders) - (len(ids) - lost)
    return lost, duplicated


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=30)
    parser.add_argument("--rpm", type=int, default=1200, help="requests a minute the server admits")
    parser.add_argument("--delay", type=float, default=0.5, help="seconds the server takes per answer")
    parser.add_argument("--template", default="default")
    parser.add_argument("--runs", nargs="+", choices=list(RUNS), default=list(RUNS))
    args = parser.parse_args()
    print(f"{args.items} items, template {args.template}; server admits {args.rpm} requests/min "
          f"({args.rpm / 60:g}/s, bucket of one second), answers after {args.delay} s; target wall/floor <= {TARGET}")
    print(f"{'run':<12}{'wall s':>8}{'(drafting)':>11}{'calls':>7}{'429s':>6}{'429 %':>7}{'floor s':>9}{'wall/floor':>12}"
          f"{'items/min':>11}{'lost':>6}{'dup':>5}")
    for name in args.runs:
        row = run(name, args)
        misses = [f"wall/floor over {WALL_TARGET[name]}" for _ in [1] if row["ratio"] > WALL_TARGET.get(name, 99)]
        misses += [f"429s over {MOST_REJECTED[name]:.0%}" for _ in [1] if row["rejected"] > MOST_REJECTED[name]]
        print(f"{name:<12}{row['wall']:>8.2f}{row['inside']:>11.2f}{row['admitted']:>7.0f}{row['refused']:>6.0f}"
              f"{row['rejected']:>7.1%}{row['floor']:>9.2f}{row['ratio']:>12.2f}{row['per_minute']:>11.1f}{row['lost']:>6.0f}"
              f"{row['duplicated']:>5.0f}  {'; '.join(misses) or 'ok'}")


if __name__ == "__main__":
    main()

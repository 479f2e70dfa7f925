"""Benchmark: how long `plan draft` takes to give up on a provider that accepts connections and never
answers, against the deadline the user set.

Usage: python bench/bench_bounds.py

Runs `plan draft` as a fresh process against a loopback server that accepts and never sends a byte:
- with `--deadline D --timeout T`: the draft must end within D (plus process start-up);
- with `--timeout T` alone: retries stop after their attempts (4, backing off 1, 2, 4 s), well inside the
  default 900 s deadline.
Prints each run's wall time, the bound it must respect, and the ratio of one to the other (target <= 1).
The bound adds what the same draft takes offline in the same run (start-up, reading the repository,
rendering), so a loaded machine moves both sides alike.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

PLAN = [sys.executable, "-c", "from agent.cli import main; main()"]
SLACK_S = 2.0  # importing the SDK (the offline run does not), closing connections, writing the error


def silent_server() -> tuple[socket.socket, list[socket.socket]]:
    server = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                held.append(server.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    return server, held


def timed_draft(model: list[str]) -> tuple[float, int, str]:
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "brief.md").write_text("# Invoice export\n\n- Export invoices as CSV\n")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PLAN_", "OPENAI_", "ANTHROPIC_"))}
        started = time.monotonic()
        done = subprocess.run([*PLAN, "draft", "brief.md", *model], cwd=folder,
                              env={**env, "OPENAI_API_KEY": "sk-bench"}, capture_output=True, text=True, timeout=300)
        return time.monotonic() - started, done.returncode, done.stderr.strip().splitlines()[-1]


def main() -> int:
    server, held = silent_server()
    url = f"http://127.0.0.1:{server.getsockname()[1]}/v1"
    missed = False
    cases = [("--deadline 5 --timeout 60", ["--deadline", "5", "--timeout", "60"], 5.0),
             ("--timeout 2 (default deadline)", ["--timeout", "2"], 4 * 2.0 + (1 + 2 + 4) * 1.0)]
    overhead, _, _ = timed_draft(["--model", "offline"])
    print(f"the same draft offline (start-up, context, writing): {overhead:.1f} s, added to each bound")
    print(f"{'run':<34} {'wall s':>7} {'bound s':>8} {'ratio':>6}  exit  message")
    for label, extra, bound in cases:
        wall, code, message = timed_draft(["--model", "openai:bench", "--base-url", url, *extra])
        limit = bound + overhead + SLACK_S
        missed |= wall > limit or code != 1
        print(f"{label:<34} {wall:7.1f} {limit:8.1f} {wall / limit:6.2f}  {code:>4}  {message[:90]}")
    print(f"connections the server accepted and never answered: {len(held)}")
    server.close()
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())

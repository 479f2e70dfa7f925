"""What every hostile-input and fault test checks: the command ended, in time, with its documented exit
code and one `plan: error:` line (or none), and no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from agent.cli import app

PLAN = [sys.executable, "-c", "from agent.cli import main; main()"]
# No key, no base URL, no PLAN_ setting from the machine running the tests.
CLEAN_ENV = {name: value for name, value in os.environ.items()
             if not name.startswith(("PLAN_", "OPENAI_", "ANTHROPIC_"))}


@dataclass
class Ran:
    code: int
    stdout: str
    stderr: str

    def error(self) -> str:
        """The one error line, without its `plan: error: ` prefix: the last thing the command said (progress
        lines may come before it)."""
        lines = self.stderr.strip().splitlines()
        errors = [line for line in lines if line.startswith("plan: error: ")]
        assert len(errors) == 1 and lines[-1] == errors[0], self.stderr
        return errors[0].removeprefix("plan: error: ")


def plan(*args: str, env: dict[str, str] | None = None, stdin: bytes | None = None, session: Any = None) -> Ran:
    """`plan ARGS` in-process; our errors must end as exit codes, never as an exception. `session`: the
    `agent.Session` the app runs in, for its seams (retry policy, clock, provider factory)."""
    result = CliRunner().invoke(app, list(args), env={**_unset(), **(env or {})}, input=stdin, obj=session)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    ran = Ran(result.exit_code, result.stdout, result.stderr)
    assert "Traceback" not in ran.stdout + ran.stderr
    return ran


def _unset() -> dict[str, str | None]:
    # CliRunner's env only adds; a None value removes the variable for the run.
    return {name: None for name in os.environ if name.startswith(("PLAN_", "OPENAI_", "ANTHROPIC_"))}  # type: ignore[misc]


def plan_process(*args: str, env: dict[str, str] | None = None, timeout: float = 30, cwd: Path | None = None,
                 stdin: int | bytes | None = None) -> Ran:
    """`plan ARGS` as its own process, for what would hang or kill a test run in-process (a FIFO, a
    closed descriptor); `timeout` bounds it, and a hang fails the test instead of stalling the suite."""
    data = stdin if isinstance(stdin, bytes) else None
    done = subprocess.run([*PLAN, *args], env={**CLEAN_ENV, **(env or {})}, cwd=cwd, timeout=timeout,
                          capture_output=True, input=data,
                          stdin=None if data is not None else (stdin if stdin is not None else subprocess.DEVNULL))
    ran = Ran(done.returncode, done.stdout.decode(errors="replace"), done.stderr.decode(errors="replace"))
    assert "Traceback" not in ran.stdout + ran.stderr, ran.stderr
    return ran


def tree(root: Path) -> dict[str, bytes]:
    """Every file under `root` and its bytes, to show that a failed command changed nothing."""
    return {str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


class SilentServer:
    """A server that accepts every connection and never sends a byte: the worst a provider can do."""

    def __init__(self) -> None:
        import socket
        import threading

        self._socket = socket.create_server(("127.0.0.1", 0))
        self._held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._socket.getsockname()[1]}"

    @property
    def connections(self) -> int:
        return len(self._held)

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._socket.accept()
            except OSError:
                return
            self._held.append(connection)

    def __enter__(self) -> SilentServer:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._socket.close()
        for connection in self._held:
            connection.close()

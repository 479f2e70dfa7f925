"""The `plan` app and what every command shares: one-line errors with exit codes, the output formats."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from enum import StrEnum
from typing import Annotated, Any, NoReturn

import typer

from agent import __version__

app = typer.Typer(
    help="Draft implementation plans in your team's own template, then check them.",
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)

EXIT_FINDINGS = 3


class OutputFormat(StrEnum):
    text = "text"
    json = "json"


def _version(value: bool) -> None:
    if value:
        typer.echo(f"plan-agent {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Draft implementation plans in your team's own template, then check them."""
    _warn_unknown_settings()


def _warn_unknown_settings() -> None:
    """A misspelled PLAN_ variable would otherwise be ignored without a word (its value is not echoed)."""
    import difflib
    import os

    given = [name for name in os.environ if name.startswith("PLAN_")]
    if not given:
        return
    from agent.config import KEYS

    known = [key.env for key in KEYS.values()]
    for name in sorted(set(given) - set(known)):
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"did you mean {close[0]}? " if close else f"known: {', '.join(known)}; "
        typer.echo(f"plan: warning: {name} is not a plan setting ({hint}it is ignored)", err=True)


def fail(message: str, code: int) -> NoReturn:
    typer.echo(f"plan: error: {message}", err=True)
    raise typer.Exit(code)


_terminated = False  # SIGTERM arrived: it is handled as Ctrl-C, and reported as itself


def _terminate(_signal: int, _frame: object) -> None:
    """SIGTERM becomes SIGINT, so it takes Ctrl-C's path: asyncio cancels the running draft cleanly (raising
    from this handler instead could land inside any task), every `finally` runs, locks and temporaries go."""
    import signal

    global _terminated
    _terminated = True
    signal.raise_signal(signal.SIGINT)


@contextmanager
def user_errors() -> Iterator[None]:
    """Our errors become one line on stderr and their exit code; nothing else is caught."""
    from agent.errors import PlanError

    try:
        yield
    except PlanError as error:
        fail(str(error), error.exit_code)
    except KeyboardInterrupt:
        if _terminated:
            fail("terminated; nothing half-written was left behind", 143)
        fail("interrupted; nothing half-written was left behind", 130)


TemplateOption = Annotated[
    str | None, typer.Option("--template", "-t", help="Built-in template name or path to a markdown template.")
]


TimeoutOption = Annotated[
    float | None, typer.Option("--timeout", help="Seconds to wait for one model call before retrying it [120].")
]
DeadlineOption = Annotated[
    float | None, typer.Option("--deadline", help="Seconds a whole draft may take before it stops with an error [900].")
]


def print_json(data: dict[str, Any]) -> None:
    if sys.stdout is None:  # started with descriptor 1 closed (`>&-`)
        raise OSError(9, "standard output is closed")
    sys.stdout.write(json.dumps(data, indent=2) + "\n")
    sys.stdout.flush()  # now, so a full or closed stdout is an error we report, not a warning at exit


def main() -> None:
    import signal

    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        # A shell starts background jobs with SIGINT ignored; SIGTERM borrows SIGINT's clean path, so it must
        # be live (and asyncio only cancels a draft on SIGINT when the default handler is in place).
        signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _terminate)
    run: Callable[[], Any] = app
    try:
        run()
    except OSError as error:  # stdout closed or full while we printed (click handles a broken pipe itself)
        _drop_stdout()
        typer.echo(f"plan: error: cannot write the output: {error.strerror or error}", err=True)
        sys.exit(1)


def _drop_stdout() -> None:
    """Point stdout at the null device, so the interpreter's last flush at exit cannot fail again."""
    import os

    if sys.stdout is None:  # descriptor 1 was closed from the start: nothing will flush it
        return
    with suppress(OSError, ValueError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())

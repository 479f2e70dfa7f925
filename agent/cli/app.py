"""The `plan` app and what every command shares: one-line errors with exit codes, the output formats."""

from __future__ import annotations

import functools
import inspect
import json
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer

from agent import __version__
from agent.config import KEYS

if TYPE_CHECKING:
    from agent.session import Session

Command = TypeVar("Command", bound=Callable[..., Any])

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
    import difflib
    import os

    # A misspelled PLAN_ variable would otherwise be ignored without a word (its value is not echoed).
    given = [name for name in os.environ if name.startswith("PLAN_")]
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


Flags = dict[str, Any] | None  # a command's `flags`: its options for settings, made by `with_settings`
BaseURLOption = Annotated[
    str | None, typer.Option("--base-url", metavar="URL", help="OpenAI-compatible server URL (vLLM, LM Studio, OpenRouter).")
]


def setting_option(name: str, help: str | None = None) -> Any:
    """The option for setting `name` as agent.config declares it (flag, short flag, help with its default);
    `help` words it for a command where it means something narrower (`plan batch --deadline`: per item)."""
    key = KEYS[name]
    return typer.Option(key.flag, *filter(None, [key.short]), metavar=key.placeholder,
                        help=help or key.help_with_default)


def with_settings(*names: str, **helps: str) -> Callable[[Command], Command]:
    """Give a command an option per named setting, built from its declaration, in place of its `flags`
    parameter; the command gets the values given as `flags`, a dict of setting name to value (None: not
    given, so the environment, a config file or the default decides). Typer reads options from the
    signature, so the signature is rewritten rather than each option restated in every command."""

    def decorate(command: Command) -> Command:
        signature = inspect.signature(command, eval_str=True)
        options = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None,
                                     annotation=Annotated[KEYS[name].kind | None,
                                                          setting_option(name, helps.get(name))])
                   for name in names]
        parameters = []
        for parameter in signature.parameters.values():
            parameters += options if parameter.name == "flags" else [parameter.replace(kind=parameter.KEYWORD_ONLY)]

        @functools.wraps(command)
        def run(**values: Any) -> Any:
            return command(**{name: value for name, value in values.items() if name not in names},
                           flags={name: values[name] for name in names})

        run.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
        run.__annotations__ = {parameter.name: parameter.annotation for parameter in parameters}
        return run  # type: ignore[return-value]

    return decorate


def session(ctx: typer.Context, flags: Mapping[str, Any], repo: str = ".", *, base_url: str | None = None,
            plan: str | None = None, flags_only: bool = False) -> Session:
    """The session a command runs in, its settings resolved for `repo` (or, `flags_only`, from the flags
    and the built-in defaults alone). A program that runs the app itself can hand in its own seams
    (provider factory, retry and poll policies, clock) as click's `obj`, a `Session`; the environment is
    always the process's."""
    import os
    from dataclasses import replace

    from agent.config import Settings
    from agent.session import Session

    base = replace(ctx.obj if isinstance(ctx.obj, Session) else Session(), env=dict(os.environ), base_url=base_url)
    if flags_only:
        return replace(base, settings=Settings(**{name: value for name, value in flags.items() if value is not None}))
    return base.resolve(flags, repo, plan=plan)


def print_json(data: dict[str, Any]) -> None:
    if sys.stdout is None:  # started with descriptor 1 closed (`>&-`)
        raise OSError(9, "standard output is closed")
    sys.stdout.write(json.dumps(data, indent=2) + "\n")
    sys.stdout.flush()  # now, so a full or closed stdout is an error we report, not a warning at exit


def main() -> None:
    import os
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
        # Point stdout at the null device, so the interpreter's last flush at exit cannot fail again; when
        # descriptor 1 was closed from the start (sys.stdout is None) nothing will flush it.
        if sys.stdout is not None:
            with suppress(OSError, ValueError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        typer.echo(f"plan: error: cannot write the output: {error.strerror or error}", err=True)
        sys.exit(1)

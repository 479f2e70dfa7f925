"""The `plan` command: argument parsing only; each command calls one library function.

Library modules are imported inside the commands so that `plan --help` stays fast.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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
templates_app = typer.Typer(help="List, inspect and compile plan templates.", no_args_is_help=True)
app.add_typer(templates_app, name="templates")

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


def fail(message: str, code: int) -> NoReturn:
    typer.echo(f"plan: error: {message}", err=True)
    raise typer.Exit(code)


@contextmanager
def user_errors() -> Iterator[None]:
    """Our errors become one line on stderr and their exit code; nothing else is caught."""
    from agent.errors import PlanError

    try:
        yield
    except PlanError as error:
        fail(str(error), error.exit_code)
    except KeyboardInterrupt:
        fail("interrupted", 130)


TemplateOption = Annotated[
    str | None, typer.Option("--template", "-t", help="Built-in template name or path to a markdown template.")
]


@templates_app.command("list")
def templates_list() -> None:
    """List the built-in templates."""
    from agent.catalog import builtin_templates, load_template

    with user_errors():
        for name in builtin_templates():
            template = load_template(name)
            typer.echo(f"{name}\t{len(template.units)} sections")


@templates_app.command("show")
def templates_show(name: Annotated[str, typer.Argument(help="Built-in template name or path.")]) -> None:
    """Show the sections and fields a template compiles to."""
    from agent.catalog import load_template
    from agent.outline import describe_template

    with user_errors():
        typer.echo(describe_template(load_template(name)))


@templates_app.command("schema")
def templates_schema(name: Annotated[str, typer.Argument(help="Built-in template name or path.")]) -> None:
    """Print the JSON schema of a whole plan for this template (OpenAI strict-mode compatible)."""
    from agent.catalog import load_template
    from agent.schema import json_schema, plan_model

    with user_errors():
        typer.echo(json.dumps(json_schema(plan_model(load_template(name))), indent=2))


@app.command("validate")
def validate(
    plan: Annotated[str, typer.Argument(help="The plan markdown file to check.")],
    template: TemplateOption = None,
    repo: Annotated[
        str | None, typer.Option("--repo", help="Repository root: check that named files exist (or not).")
    ] = None,
    output: Annotated[OutputFormat, typer.Option("--format", help="text or json.")] = OutputFormat.text,
) -> None:
    """Check a plan against its template: placeholders, missing or reordered headings, empty sections,
    enum values, table columns, and with --repo the files it names.

    Prints PLAN:LINE: severity: message. Exit 0 without errors, 3 with errors, 2 on bad usage.
    """
    from agent.catalog import load_template
    from agent.validate import has_errors, validate_file

    with user_errors():
        compiled = load_template(template)
        findings = validate_file(plan, compiled, repo)
    if output is OutputFormat.json:
        _print_json(_validation_report(plan, compiled.name, findings))
    else:
        for finding in findings:
            typer.echo(finding.format(plan))
        _summary(plan, findings)
    raise typer.Exit(EXIT_FINDINGS if has_errors(findings) else 0)


def _validation_report(plan: str, template: str, findings: list[Any]) -> dict[str, Any]:
    errors = sum(1 for finding in findings if finding.severity == "error")
    return {
        "schema_version": 1,
        "plan_path": plan,
        "template": template,
        "valid": errors == 0,
        "errors": errors,
        "warnings": len(findings) - errors,
        "findings": [finding.as_dict() for finding in findings],
    }


def _summary(plan: str, findings: list[Any]) -> None:
    errors = sum(1 for finding in findings if finding.severity == "error")
    warnings = len(findings) - errors
    verdict = "ok" if errors == 0 else "needs work"
    typer.echo(f"{plan}: {verdict}: {errors} error(s), {warnings} warning(s)", err=True)


def _print_json(data: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(data, indent=2) + "\n")


def main() -> None:
    run: Callable[[], Any] = app
    run()

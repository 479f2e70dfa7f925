"""`plan templates` and `plan config`: what templates compile to, and the settings in force."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from agent.cli.app import OutputFormat, app, print_json, user_errors

templates_app = typer.Typer(help="List, inspect and compile plan templates.", no_args_is_help=True)
app.add_typer(templates_app, name="templates")


@templates_app.command("list")
def templates_list() -> None:
    """List the built-in templates."""
    from agent.template.catalog import builtin_templates, load_template

    with user_errors():
        for name in builtin_templates():
            template = load_template(name)
            typer.echo(f"{name}\t{len(template.units)} sections")


@templates_app.command("show")
def templates_show(name: Annotated[str, typer.Argument(metavar="NAME", help="Built-in template name or path.")]) -> None:
    """Show the sections and fields a template compiles to."""
    from agent.template.catalog import load_template
    from agent.template.describe import describe_template

    with user_errors():
        typer.echo(describe_template(load_template(name)))


@templates_app.command("check")
def templates_check(name: Annotated[str, typer.Argument(metavar="NAME", help="Built-in template name or path.")]) -> None:
    """Warn where the template may be read differently from what its author meant.

    Prints TEMPLATE:LINE: warning: message for kept text that reads like guidance and for sections with
    nothing to fill. Exit 0 when clean, 3 with warnings, 2 when the template cannot be read.
    """
    from agent.template.catalog import load_template
    from agent.template.describe import check_template

    with user_errors():
        template = load_template(name)
    warnings = check_template(template)
    for warning in warnings:
        typer.echo(f"{template.path}:{warning.line}: warning: {warning.message}")
    typer.echo(f"{template.path}: {'ok' if not warnings else 'check'}: {len(warnings)} warning(s)", err=True)
    raise typer.Exit(3 if warnings else 0)


@templates_app.command("schema")
def templates_schema(name: Annotated[str, typer.Argument(metavar="NAME", help="Built-in template name or path.")]) -> None:
    """Print the JSON schema of a whole plan for this template (OpenAI strict-mode compatible)."""
    from agent.template.catalog import load_template
    from agent.template.schema import json_schema, plan_model

    with user_errors():
        typer.echo(json.dumps(json_schema(plan_model(load_template(name))), indent=2))


config_app = typer.Typer(help="Show the settings plan uses and where each comes from.", no_args_is_help=True)
app.add_typer(config_app, name="config")


def _settings_epilog() -> str:
    """Each setting's config key, flag and environment variable, and what it does, from its declaration."""
    import textwrap

    from agent.config import KEYS

    rows = [f"  {key.name:<15} {', '.join(filter(None, [key.flag, key.env]))}\n"
            + textwrap.fill(key.help_with_default, 78, initial_indent=" " * 6, subsequent_indent=" " * 6)
            for key in KEYS.values()]
    # \b: click prints the block as it is, instead of rewrapping it into one paragraph.
    return "\b\nSettings: the key in .plan.toml or [tool.plan], its flag and environment variable:\n" + "\n".join(rows)


@config_app.command("show", epilog=_settings_epilog())
def config_show(
    repo: Annotated[str, typer.Option("--repo", metavar="DIR", help="Repository whose .plan.toml / pyproject.toml to read.")] = ".",
    output: Annotated[OutputFormat, typer.Option("--format", help="text or json.")] = OutputFormat.text,
) -> None:
    """Print each setting, its value, and where it came from: flag, environment, config file or default."""
    import os

    from agent.config import config_report, format_config, resolve_settings

    with user_errors():
        report = config_report(resolve_settings({}, os.environ, repo), os.environ)
    if output is OutputFormat.json:
        print_json(report)
    else:
        typer.echo(format_config(report))

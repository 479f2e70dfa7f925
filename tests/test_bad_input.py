"""Bad templates and plans: one clear line naming the file (and line), a usage exit code, never a traceback."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from template_support import rendered, seed_path
from typer.testing import CliRunner, Result

from agent.cli import app
from agent.errors import PlanError, TemplateError
from agent.template.compile import compile_template

GOOD_TEMPLATE = "# Plan\n\n## Goal\n\n{The goal}\n\n## Steps\n\n- {Step one}\n"


def run(*args: str) -> Result:
    result = CliRunner().invoke(app, list(args))
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result


def one_error_line(result: Result) -> str:
    """The single `plan: error: ...` line a failed command prints."""
    assert result.exit_code in (1, 2)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("plan: error: ")
    return lines[0].removeprefix("plan: error: ")


def write(directory: Path, name: str, content: str | bytes) -> str:
    path = directory / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return str(path)


def show(template: str) -> Result:
    return run("templates", "show", template)


BAD_TEMPLATES = [
    ("no-headings.md", "Just some notes about a plan.\n\n- with a list\n", None, "no markdown headings found"),
    ("empty.md", "", None, "no markdown headings found"),
    ("yaml.md", "---\nstatus: [draft | done\nowner: x\n---\n# Plan\n\n## Goal\n\n{The goal}\n", 3,
     "front matter is not valid YAML"),
    ("list-yaml.md", "---\n- just\n- a list\n---\n# Plan\n\n## Goal\n\n{The goal}\n", 2,
     "front matter must be a YAML mapping"),
]


@pytest.mark.parametrize(("name", "content", "line", "message"), BAD_TEMPLATES, ids=[c[0] for c in BAD_TEMPLATES])
def test_bad_template_is_one_line_naming_file_and_line(
    tmp_path: Path, name: str, content: str, line: int | None, message: str
) -> None:
    path = write(tmp_path, name, content)

    error = one_error_line(show(path))

    where = f"{path}:{line}: " if line else f"{path}: "
    assert error.startswith(where)
    assert message in error


def test_bad_template_fails_validate_the_same_way(tmp_path: Path) -> None:
    template = write(tmp_path, "yaml.md", BAD_TEMPLATES[2][1])
    plan = write(tmp_path, "plan.md", "# Plan\n\n## Goal\n\nShip it.\n")

    result = run("validate", plan, "--template", template)

    assert result.exit_code == 2
    assert one_error_line(result).startswith(f"{template}:3: ")


def test_binary_template(tmp_path: Path) -> None:
    path = write(tmp_path, "logo.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))

    result = show(path)

    assert result.exit_code == 2
    assert one_error_line(result) == f"{path}: this is a binary file, not a template"


def test_non_utf8_template(tmp_path: Path) -> None:
    path = write(tmp_path, "latin1.md", "# Plan\n\n## Café\n\n{Text}\n".encode("latin-1"))

    error = one_error_line(show(path))

    assert error.startswith(f"{path}: the template is not UTF-8 (byte ")
    assert "Latin-1" in error and "iconv" in error


def test_directory_as_template(tmp_path: Path) -> None:
    result = show(str(tmp_path))

    assert result.exit_code == 2
    assert one_error_line(result).startswith(f"{tmp_path}: is a directory")


def test_unreadable_template(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "secret.md", GOOD_TEMPLATE)
    real_open = os.open

    def refuse(name: str, flags: int, *args: int) -> int:  # the OS refusing, as chmod 000 does for anyone but root
        if str(name) == path:
            raise PermissionError(13, "Permission denied", str(name))
        return real_open(name, flags, *args)

    monkeypatch.setattr(os, "open", refuse)

    result = show(path)

    assert result.exit_code == 2
    assert one_error_line(result) == f"{path}: cannot read the template: Permission denied"


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_template_by_mode(tmp_path: Path) -> None:
    path = write(tmp_path, "secret.md", GOOD_TEMPLATE)
    os.chmod(path, 0)

    try:
        error = one_error_line(show(path))
    finally:
        os.chmod(path, 0o600)

    assert error == f"{path}: cannot read the template: Permission denied"


def test_five_megabyte_template(tmp_path: Path) -> None:
    path = write(tmp_path, "huge.md", GOOD_TEMPLATE + "{More guidance text here}\n\n" * 200_000)
    assert Path(path).stat().st_size > 5_000_000

    error = one_error_line(show(path))

    assert error.startswith(f"{path}: the template is 5.")
    assert "over the 1 MB (1,000,000 bytes) limit" in error


def test_five_megabyte_template_text_is_refused_by_the_compiler() -> None:
    with pytest.raises(TemplateError, match=r"^big\.md: template is 5\.\d MB"):
        compile_template(GOOD_TEMPLATE + "x" * 5_000_000, "big.md")


def test_binary_text_is_refused_by_the_compiler() -> None:
    with pytest.raises(TemplateError, match=r"^blob\.md: this is a binary file"):
        compile_template("# Plan\n\n## A\n\n\x00\x01\x02", "blob.md")


def test_missing_template_file(tmp_path: Path) -> None:
    result = show(str(tmp_path / "nope.md"))

    assert result.exit_code == 2
    assert "not found" in one_error_line(result)


def test_empty_plan(tmp_path: Path) -> None:
    plan = write(tmp_path, "plan.md", "\n  \n")

    result = run("validate", plan, "-t", "compact")

    assert result.exit_code == 2
    assert one_error_line(result).startswith(f"{plan}: the plan is empty")


def test_plan_for_a_different_template(tmp_path: Path) -> None:
    plan = write(tmp_path, "plan.md", rendered("000"))

    result = run("validate", plan, "--template", str(seed_path("003")))

    assert result.exit_code == 2
    error = one_error_line(result)
    assert error.startswith(f"{plan}: does not follow template ")
    assert "--template" in error


def test_plan_file_missing(tmp_path: Path) -> None:
    plan = str(tmp_path / "missing.md")

    result = run("validate", plan, "-t", "compact")

    assert result.exit_code == 2
    assert one_error_line(result) == f"{plan}: no such file; pass the path of the plan"


def test_plan_is_a_directory(tmp_path: Path) -> None:
    result = run("validate", str(tmp_path), "-t", "compact")

    assert result.exit_code == 2
    assert one_error_line(result).startswith(f"{tmp_path}: is a directory")


def test_binary_plan(tmp_path: Path) -> None:
    plan = write(tmp_path, "plan.md", b"\x00\x01\x02binary")

    result = run("validate", plan, "-t", "compact")

    assert result.exit_code == 2
    assert one_error_line(result) == f"{plan}: this is a binary file, not a plan"


def test_plan_over_the_size_limit(tmp_path: Path) -> None:
    plan = write(tmp_path, "plan.md", rendered("compact") + "More text.\n" * 600_000)

    error = one_error_line(run("validate", plan, "-t", "compact"))

    assert error.startswith(f"{plan}: the plan is 6.")


def test_repo_that_is_not_a_directory(tmp_path: Path) -> None:
    plan = write(tmp_path, "plan.md", rendered("compact"))

    result = run("validate", plan, "-t", "compact", "--repo", str(tmp_path / "nowhere"))

    assert result.exit_code == 2
    assert "not a directory" in one_error_line(result)


def test_plan_with_invalid_front_matter_is_a_finding_not_a_crash(tmp_path: Path) -> None:
    text = rendered("default").replace("effort: ", "effort: [unclosed ", 1)
    plan = write(tmp_path, "plan.md", text)

    result = run("validate", plan, "-t", "default", "--format", "json")

    assert result.exit_code == 3
    finding = json.loads(result.stdout)["findings"][0]
    assert finding["code"] == "front-matter"
    assert finding["message"].startswith("front matter is not valid YAML")
    assert 3 <= finding["line"] <= 5  # within the `---` block, where the YAML parser stopped


def test_errors_are_plan_errors_with_exit_codes() -> None:
    with pytest.raises(PlanError) as caught:
        compile_template("no headings", "notes.md")

    assert caught.value.exit_code == 2

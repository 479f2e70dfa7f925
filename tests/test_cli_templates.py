"""`plan templates list|show|schema`, `plan validate` and `plan --version` through the real CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from template_support import line_of, rendered, replace_line_under, seed_path
from typer.testing import CliRunner, Result

from agent import __version__
from agent.cli import app
from agent.template.schema import strict_problems

FINDING_LINE = re.compile(r"^.+:\d+:\d+: (error|warning): .+")


def run(*args: str) -> Result:
    result = CliRunner().invoke(app, list(args))
    assert "Traceback" not in result.output
    return result


def write(directory: Path, name: str, text: str) -> str:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_version() -> None:
    result = run("--version")

    assert result.exit_code == 0
    assert result.stdout.strip() == f"plan-agent {__version__}"


def test_templates_list_names_the_builtins() -> None:
    result = run("templates", "list")

    assert result.exit_code == 0
    names = [line.split("\t")[0] for line in result.stdout.splitlines()]
    assert {"default", "compact"} <= set(names)


def test_templates_show_describes_sections_and_fields() -> None:
    result = run("templates", "show", "default")

    assert result.exit_code == 0
    assert result.stdout.startswith("template default")
    assert "## Summary" in result.stdout
    assert "enum draft|in_review|approved" in result.stdout  # front matter `status`
    assert "(repeated)" in result.stdout  # "### Step 1", "### Step 2"


def test_templates_show_accepts_a_path() -> None:
    result = run("templates", "show", str(seed_path("001")))

    assert result.exit_code == 0
    assert "enum Low|Medium|High" in result.stdout
    assert "task-N" in result.stdout


@pytest.mark.parametrize("stem", ["000", "001", "002", "003", "004"])
def test_templates_schema_prints_a_strict_schema(stem: str) -> None:
    result = run("templates", "schema", str(seed_path(stem)))

    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema["type"] == "object"
    assert strict_problems(schema) == []


def test_templates_schema_of_a_builtin() -> None:
    result = run("templates", "schema", "compact")

    assert result.exit_code == 0
    assert set(json.loads(result.stdout)["properties"]) >= {"goal", "plan", "files", "tests", "risks"}


def test_unknown_template_is_a_usage_error() -> None:
    result = run("templates", "show", "no-such-template")

    assert result.exit_code == 2
    assert result.stderr.startswith("plan: error: template 'no-such-template' not found")
    assert "default" in result.stderr


def test_validate_a_good_plan_exits_0(tmp_path: Path) -> None:
    plan = write(tmp_path, "plan.md", rendered("compact"))

    result = run("validate", plan, "--template", "compact")

    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr.strip() == f"{plan}: ok: 0 error(s), 0 warning(s)"


def flawed_compact() -> str:
    plan = replace_line_under(rendered("compact"), None, "**Size:**", "**Size:** XXL")
    return replace_line_under(plan, "## Goal", "", "TODO: write the goal")


def test_validate_a_flawed_plan_exits_3_with_one_line_per_finding(tmp_path: Path) -> None:
    text = flawed_compact()
    plan = write(tmp_path, "plan.md", text)

    result = run("validate", plan, "-t", "compact")

    assert result.exit_code == 3
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    assert all(FINDING_LINE.match(line) for line in lines)
    assert lines[0].startswith(f"{plan}:{line_of(text, '**Size:** XXL')}:11: error: ")  # the column of XXL
    assert lines[1].startswith(f"{plan}:{line_of(text, 'TODO: write')}:1: error: ")
    assert "needs work: 2 error(s)" in result.stderr


def test_validate_with_a_template_path(tmp_path: Path) -> None:
    plan = write(tmp_path, "plan.md", rendered("003"))

    result = run("validate", plan, "--template", str(seed_path("003")))

    assert result.exit_code == 0


def test_validate_json_report(tmp_path: Path) -> None:
    text = flawed_compact()
    plan = write(tmp_path, "plan.md", text)

    result = run("validate", plan, "-t", "compact", "--format", "json")

    assert result.exit_code == 3
    report = json.loads(result.stdout)
    assert report["schema_version"] == 1
    assert report["valid"] is False
    assert report["errors"] == 2
    assert report["template"] == "compact"
    findings = report["findings"]
    assert [(f["line"], f["severity"], f["code"]) for f in findings] == [
        (line_of(text, "**Size:** XXL"), "error", "enum"),
        (line_of(text, "TODO: write"), "error", "placeholder"),
    ]
    assert all(isinstance(f["message"], str) and f["message"] for f in findings)


def test_validate_json_report_of_a_good_plan(tmp_path: Path) -> None:
    plan = write(tmp_path, "plan.md", rendered("default"))

    result = run("validate", plan, "--format", "json")  # default template when none is named

    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["valid"] is True
    assert report["findings"] == []


def test_validate_checks_files_against_the_repo(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "app").mkdir(parents=True)
    (repo / "app" / "export.py").write_text("pass\n")
    text = replace_line_under(rendered("compact"), "### Files to modify", "- ", "- `app/missing.py` - retries")
    text = replace_line_under(text, "### Files to modify", "- ", "- `app/export.py` - retries", index=1)
    plan = write(tmp_path, "plan.md", text)

    result = run("validate", plan, "-t", "compact", "--repo", str(repo), "--format", "json")

    assert result.exit_code == 3
    findings = json.loads(result.stdout)["findings"]
    assert [(f["code"], f["line"]) for f in findings] == [("path-missing", line_of(text, "app/missing.py"))]


def test_validate_without_repo_does_not_check_files(tmp_path: Path) -> None:
    text = replace_line_under(rendered("compact"), "### Files to modify", "- ", "- `app/missing.py` - retries")
    plan = write(tmp_path, "plan.md", text)

    assert run("validate", plan, "-t", "compact").exit_code == 0


def test_validate_unknown_format_is_a_usage_error(tmp_path: Path) -> None:
    plan = write(tmp_path, "plan.md", rendered("compact"))

    result = run("validate", plan, "-t", "compact", "--format", "xml")

    assert result.exit_code == 2


@pytest.mark.parametrize("name", ["default", "compact"])
def test_templates_check_is_clean_on_the_builtins(name: str) -> None:
    result = run("templates", "check", name)

    assert result.exit_code == 0
    assert result.stdout == ""


PLANTED = ("# Plan\n\n**Owner:** {Name}\n\n## Goal\n\n{The goal}\n\nIs it under a page?\n\n"
           "## Risks\n\n- {Risk}\n\n## Gates\n\n- [ ] CI is green\n- [ ] Docs updated\n")


def test_templates_check_flags_kept_guidance_and_sections_with_nothing_to_fill(tmp_path: Path) -> None:
    path = write(tmp_path, "planted.md", PLANTED)

    result = run("templates", "check", path)

    assert result.exit_code == 3
    guidance, gates = line_of(PLANTED, "Is it under"), line_of(PLANTED, "## Gates")
    assert f"{path}:{guidance}: warning: kept as written but reads like guidance: 'Is it under a page?'" in result.stdout
    assert f"{path}:{gates}: warning: section 'Gates' has nothing to fill" in result.stdout


def test_annotations_settle_what_check_warns_about(tmp_path: Path) -> None:
    text = PLANTED.replace("Is it under", "<!-- plan: fill -->\nIs it under").replace(
        "- [ ] CI is green", "<!-- plan: keep -->\n- [ ] CI is green")
    path = write(tmp_path, "annotated.md", text)

    result = run("templates", "check", path)
    shown = run("templates", "show", path).stdout

    assert result.exit_code == 0, result.stdout
    assert re.search(rf"L{line_of(text, 'Is it under')} +fill +text_2: text — Guidance \(write this plan's own words, never a copy\): Is it under", shown)
    assert re.search(rf"L{line_of(text, 'CI is green')} +keep \(annotated\) +- \[ \] CI is green", shown)


def test_templates_show_marks_guidance_and_tool_filled_lines(tmp_path: Path) -> None:
    path = write(tmp_path, "marks.md", "# Plan\n\n**Created:** YYYY-MM-DD\n\n## Goal\n\n<!-- Why we do this -->\n\n"
                 "> Keep it short.\n\n{The goal}\n")

    shown = run("templates", "show", path).stdout

    assert re.search(r"L3 +tool +created: line \[the tool writes today's date\]", shown)
    assert re.search(r"L7 +guidance <!-- Why we do this -->", shown)
    assert re.search(r"L9 +guidance > Keep it short\.", shown)
    assert re.search(r"L11 +fill +text: text", shown)

"""docs/ide/vscode-tasks.json: its problemMatcher, applied to what the real `plan` prints, catches every finding
at its file, line and column, and nothing else."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

TASKS = Path(__file__).resolve().parents[1] / "docs" / "ide" / "vscode-tasks.json"
PLAN_EXECUTABLE = Path(sys.executable).parent / "plan"
# Flawed on purpose: a value outside the template's choices, a placeholder mid-line, a guidance comment,
# an extra heading, and no Risks section.
FLAWED_PLAN = """# Invoice CSV export — one-page plan

**Status:** draft
**Size:** XXL

## Goal

Finance downloads invoices as CSV; {how we will know it worked}.

<!-- one paragraph -->

## Plan

1. Add a to_csv method to the Invoice class

## Files

### Files to modify

- `src/billing/invoice.py` - add to_csv

### Files to create

- `src/billing/csv_export.py` - the CSV writer

## Tests

- [ ] The CSV of a two-line invoice has a header row and two rows

## Notes

Ask finance about currencies.
"""


def tasks() -> list[dict[str, Any]]:
    data = json.loads(TASKS.read_text(encoding="utf-8"))  # strict JSON: no comments to strip
    return list(data["tasks"])


def python_regex(javascript: str) -> re.Pattern[str]:
    """VS Code matchers are JavaScript regular expressions; named groups are the one syntax that differs."""
    return re.compile(javascript.replace("(?<", "(?P<").replace("(?P<=", "(?<=").replace("(?P<!", "(?<!"))


def matcher(task: dict[str, Any]) -> tuple[re.Pattern[str], dict[str, int]]:
    problem = task["problemMatcher"]
    pattern = problem["pattern"]
    groups = {key: pattern[key] for key in ("file", "line", "column", "severity", "message")}
    return python_regex(pattern["regexp"]), groups


def problems(task: dict[str, Any], output: str) -> list[dict[str, str]]:
    """What VS Code would put in the Problems panel for `output`, line by line."""
    regex, groups = matcher(task)
    found = []
    for line in output.splitlines():
        if match := regex.match(line):
            found.append({key: match.group(index) for key, index in groups.items()})
    return found


def plan_command(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The `plan` executable as the task runs it, stdout and stderr both shown in the terminal."""
    env = {"PATH": str(PLAN_EXECUTABLE.parent), "HOME": str(cwd), "NO_COLOR": "1"}
    return subprocess.run([str(PLAN_EXECUTABLE), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    folder = tmp_path / "my workspace"  # a space in the path, as workspaces often have
    (folder / "src/billing").mkdir(parents=True)
    (folder / "src/billing/invoice.py").write_text("class Invoice:\n    pass\n")
    return folder


def test_the_tasks_file_has_a_draft_and_a_validate_task_on_the_open_file() -> None:
    by_command = {task["args"][0]: task for task in tasks()}

    assert {"draft", "validate"} <= set(by_command)
    for task in by_command.values():
        assert task["command"] == "plan" and "${file}" in task["args"]
        problem = task["problemMatcher"]
        assert problem["owner"] and problem["fileLocation"]
        assert set(matcher(task)[1].values()) == {1, 2, 3, 4, 5}


def test_the_validate_matcher_catches_every_finding_at_its_line_and_column(workspace: Path) -> None:
    plan = workspace / "plans" / "plan.md"
    plan.parent.mkdir()
    plan.write_text(FLAWED_PLAN)
    task = next(task for task in tasks() if task["args"][0] == "validate")

    shown = plan_command("validate", str(plan), "-t", "compact", cwd=workspace)
    report = json.loads(plan_command("validate", str(plan), "-t", "compact", "--format", "json", cwd=workspace).stdout)

    assert shown.returncode == 3
    caught = problems(task, shown.stdout + shown.stderr)
    expected = [{"file": str(plan), "line": str(f["line"]), "column": str(f["column"]), "severity": f["severity"]}
                for f in report["findings"]]
    assert [{key: p[key] for key in ("file", "line", "column", "severity")} for p in caught] == expected
    assert all(p["message"].startswith(f["message"]) for p, f in zip(caught, report["findings"], strict=True))
    assert {f["code"] for f in report["findings"]} >= {"enum", "placeholder", "guidance", "extra-heading",
                                                         "missing-heading"}
    lines = FLAWED_PLAN.splitlines()
    placeholder = next(p for p in caught if "{how we will know it worked}" in p["message"])
    row = lines.index("Finance downloads invoices as CSV; {how we will know it worked}.")
    assert (int(placeholder["line"]), int(placeholder["column"])) == (row + 1, lines[row].index("{") + 1)


def test_the_draft_matcher_catches_every_finding_of_a_draft(workspace: Path) -> None:
    brief = workspace / "brief.md"
    brief.write_text("# Export invoices as CSV\n\nFinance wants to download each invoice as a CSV file.\n")
    task = next(task for task in tasks() if task["args"][0] == "draft")

    shown = plan_command("draft", str(brief), "-t", "compact", cwd=workspace)  # no key: the offline drafter

    plan = workspace / "implementation-plans" / "export-invoices-as-csv" / "plan.md"
    findings = json.loads(plan.with_suffix(".json").read_text())["report"]["findings"]
    caught = problems(task, shown.stdout + shown.stderr)
    assert shown.returncode == 3 and findings
    assert [(p["file"], int(p["line"])) for p in caught] == [(str(plan), f["line"]) for f in findings]

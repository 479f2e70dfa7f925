"""`--format json`: every command prints one JSON object on stdout, in the shape the README documents, with a
`schema_version`; progress and messages stay on stderr."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from agent.cli import app

# The README's "Machine output" section, key for key.
FINDING = {"severity", "code", "message", "line", "column", "section", "unit"}
USAGE = {"calls", "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "cost_usd"}
SHAPES = {
    "draft": {"schema_version", "plan_path", "json_path", "complete", "rounds", "model", "template", "brief",
              "brief_redacted_lines", "findings", "usage", "calls", "calls_by_purpose", "timings", "context"},
    "validate": {"schema_version", "plan_path", "template", "valid", "errors", "warnings", "findings"},
    "context": {"schema_version", "root", "is_git", "budget_tokens", "tokens_used", "tracked_file_count", "stack",
                "ranked", "manifest", "prompt_text"},
    "revise": {"schema_version", "plan_path", "revised", "complete", "rounds", "model", "template", "findings",
               "usage", "timings"},
    "config": {"schema_version", "settings"},
}
BRIEF = "# Export invoices as CSV\n\nFinance wants to download each invoice as a CSV file.\n"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_BASE_URL", "PLAN_MODEL"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "brief.md").write_text(BRIEF)
    (tmp_path / "src").mkdir()
    (tmp_path / "src/invoice.py").write_text("class Invoice:\n    pass\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def json_of(*args: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(app, [*args, "--format", "json"])
    assert "Traceback" not in result.output
    return result.exit_code, json.loads(result.stdout)  # the whole of stdout is one object


def test_every_command_prints_its_documented_shape(repo: Path) -> None:
    outputs = {
        "draft": json_of("draft", "brief.md", "-t", "compact", "--out", "plan.md"),
        "validate": json_of("validate", "plan.md", "-t", "compact"),
        "context": json_of("context", "brief.md"),
        "revise": json_of("revise", "plan.md", "--section", "risks"),
        "config": json_of("config", "show"),
    }

    for command, (_, report) in outputs.items():
        assert set(report) == SHAPES[command], command
        assert report["schema_version"] == 1, command
    for command in ("draft", "validate", "revise"):
        code, report = outputs[command]
        assert code == 3 and report["findings"], command  # the offline skeleton's TODOs, as findings
        assert all(set(finding) == FINDING for finding in report["findings"]), command
    for command in ("draft", "revise"):
        assert set(outputs[command][1]["usage"]) == USAGE
    assert outputs["context"][0] == 0 and outputs["config"][0] == 0
    assert all(set(row) == {"value", "source"} for row in outputs["config"][1]["settings"].values())

"""Done when: every reference template, and each built-in, drafts through both providers against a real
loopback server into a plan that `plan validate` accepts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fake_llm_filler import PATHS
from fake_llm_server import FakeLLMServer
from typer.testing import CliRunner

from agent.cli import app
from agent.template.catalog import builtin_templates, load_template
from agent.template.schema import unit_names

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
REFERENCE = sorted(SEEDS.glob("*.txt")) if SEEDS.is_dir() else []
TEMPLATES = [pytest.param(str(path), id=path.stem) for path in REFERENCE] + [
    pytest.param(name, id=name) for name in builtin_templates()
]
BRIEF = """# Rate limiting for the public API

Clients can flood the public API and slow it down for everyone else.

- Limit each API key to 100 requests a minute
- Answer over-limit requests with HTTP 429 and a Retry-After header
- Document the limits in the runbook
"""


def test_the_reference_templates_are_here() -> None:
    assert len(REFERENCE) == 5, f"the five reference templates are not in {SEEDS}; clone shared/ beside the repo"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository holding the files the server's answers name as files to modify."""
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    for path in PATHS:
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(f"# {path}\n")
    (tmp_path / "brief.md").write_text(BRIEF)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("template", TEMPLATES)
@pytest.mark.parametrize("wire", ["openai", "anthropic"])
def test_template_drafts_into_a_plan_that_validates(
    repo: Path, fake_llm_server: FakeLLMServer, template: str, wire: str
) -> None:
    if wire == "openai":  # one provider gets its server by flag, the other by environment
        args = ["--model", "openai:test", "--base-url", fake_llm_server.openai_base_url]
        env: dict[str, str] = {}
    else:
        args = ["--model", "anthropic:test"]
        env = {"ANTHROPIC_API_KEY": "sk-ant-dummy-key-0000", "ANTHROPIC_BASE_URL": fake_llm_server.anthropic_base_url}
    runner = CliRunner()
    drafted = runner.invoke(app, ["draft", "brief.md", "--template", template, "--format", "json", *args],
                            env=env)
    assert drafted.exit_code == 0, drafted.stderr
    report = json.loads(drafted.stdout)
    assert report["complete"] and report["rounds"] == 0 and report["findings"] == []
    sections = unit_names(load_template(template))
    warm_up = 1 if wire == "anthropic" else 0  # one call writes Anthropic's cache before the sections fan out
    # one spine call before the sections, one review call after them
    assert report["usage"]["calls"] == len(sections) + 2 + warm_up == len(fake_llm_server.requests)
    by_purpose = {purpose: entry["calls"] for purpose, entry in report["calls_by_purpose"].items()}
    assert by_purpose == {"spine": 1, "section": len(sections), "review": 1, **({"warm_up": 1} if warm_up else {})}
    assert all(entry["input_tokens"] > 0 for entry in report["calls_by_purpose"].values())
    assert {r.wire for r in fake_llm_server.requests} == {wire}

    plan = Path(report["plan_path"])
    assert plan == repo / "implementation-plans" / "rate-limiting-for-the-public-api" / "plan.md"
    for extra in ([], ["--repo", str(repo)]):
        checked = runner.invoke(app, ["validate", str(plan), "--template", template, *extra])
        assert checked.exit_code == 0, checked.output
    saved = json.loads(Path(report["json_path"]).read_text())
    assert saved["report"]["plan_path"] == str(plan) and set(saved["plan"]) == set(sections)
    assert saved["spine"]["files_to_modify"] and saved["review"] == []  # the fake server finds nothing wrong

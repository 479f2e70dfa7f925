"""`plan revise` as a user runs it: one section of an existing plan drafted again through a real loopback
model server, spliced into the file, every other byte left as it was, and the plan checked again."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fake_llm_server import Answer, FakeLLMServer
from typer.testing import CliRunner, Result

from agent.cli import app

# Written by hand: spacing, an extra note and a trailing space no renderer would produce, so only a
# splice (not a re-render of the whole plan) can leave them alone.
PLAN = """# Invoice CSV export — one-page plan

**Status:** draft
**Size:**   S

## Goal

{One paragraph: the outcome, and how we will know it worked.}

## Plan

1. Add a to_csv method to the Invoice class{TRAILING_SPACE}
2. Add a download route beside the invoice page


## Files

### Files to modify

- `src/billing/invoice.py` - add to_csv

### Files to create

- `src/billing/csv_export.py` - the CSV writer

## Tests

- [ ] TODO: decide the tests

## Risks

- Large invoices are slow to export; stream the rows
   (agreed with finance on 3 May)
""".replace("{TRAILING_SPACE}", " ")
GOAL = "Finance downloads any invoice as CSV from its page; done when the file opens in a spreadsheet."
TESTS = ["The CSV of a two-line invoice has a header row and two rows"]


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    for path in ("src/billing/invoice.py", "src/billing/views.py", "tests/test_invoice.py"):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("x = 1\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def revise(server: FakeLLMServer | None, *args: str, env: dict[str, str] | None = None) -> Result:
    wire = {"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": server.openai_base_url} if server else {}
    model = ["--model", "openai:gpt-test"] if server else []
    return CliRunner().invoke(app, ["revise", *args, "--template", "compact", *model], env={**wire, **(env or {})})


def write_plan(repo: Path, text: str = PLAN, name: str = "plan.md") -> Path:
    path = repo / name
    path.write_bytes(text.encode())
    return path


def section(text: str, heading: str) -> tuple[int, int]:
    """Byte offsets of a section: its heading up to the last non-blank line before the next `## `."""
    start = text.index(heading)
    following = text.find("\n## ", start + len(heading))
    end = len(text) if following < 0 else following + 1
    return start, len(text[:end].rstrip("\n")) + 1


def test_revise_one_broken_section_fixes_it_and_keeps_every_other_byte(repo: Path, fake_llm_server: FakeLLMServer) -> None:
    plan = write_plan(repo)
    fake_llm_server.push(Answer(data={"goal": GOAL}))

    result = revise(fake_llm_server, str(plan), "--section", "goal")

    after = plan.read_text()
    start, end = section(PLAN, "## Goal")
    assert after[:start] == PLAN[:start]
    assert after[start:].startswith(f"## Goal\n\n{GOAL}\n")
    assert after[start + len(f"## Goal\n\n{GOAL}\n"):] == PLAN[end:]
    assert len(fake_llm_server.requests) == 1  # one section, one call
    # the plan is checked again: the goal is fixed, the TODO in Tests is still reported
    assert result.exit_code == 3
    assert "Goal" not in result.stderr.replace("revised goal", "")
    assert f"{plan}:{after.splitlines().index('- [ ] TODO: decide the tests') + 1}:7: error: TODO" in result.stderr


def test_the_model_sees_the_section_its_findings_and_the_note(repo: Path, fake_llm_server: FakeLLMServer) -> None:
    plan = write_plan(repo)
    fake_llm_server.push(Answer(data={"goal": GOAL}))

    revise(fake_llm_server, str(plan), "-s", "Goal", "--note", "Say who asked for it.")

    sent = json.dumps(fake_llm_server.requests[0].body)
    assert "Say who asked for it." in sent
    assert "{One paragraph: the outcome" in sent and "is still in the plan" in sent  # current text, its finding
    assert "stream the rows" in sent  # the rest of the plan, to stay consistent with


def test_failing_revises_every_section_with_errors_and_nothing_else(repo: Path, fake_llm_server: FakeLLMServer) -> None:
    plan = write_plan(repo)
    fake_llm_server.push(Answer(data={"goal": GOAL}), Answer(data={"tests": TESTS}))

    result = revise(fake_llm_server, str(plan), "--failing", "--concurrency", "1", "--format", "json")

    report = json.loads(result.stdout)
    assert result.exit_code == 0 and report["complete"] is True and report["findings"] == []
    assert report["schema_version"] == 1 and report["revised"] == ["goal", "tests"]
    after = plan.read_text()
    goal, tests = section(PLAN, "## Goal"), section(PLAN, "## Tests")
    assert after == (PLAN[:goal[0]] + f"## Goal\n\n{GOAL}\n" + PLAN[goal[1]:tests[0]]
                     + f"## Tests\n\n- [ ] {TESTS[0]}\n" + PLAN[tests[1]:])


def test_a_missing_section_is_written_where_the_template_puts_it(repo: Path, fake_llm_server: FakeLLMServer) -> None:
    start, end = section(PLAN, "## Tests")
    text = PLAN[:start] + PLAN[end + 1:]  # no Tests section at all
    plan = write_plan(repo, text.replace("{One paragraph: the outcome, and how we will know it worked.}", GOAL))
    fake_llm_server.push(Answer(data={"tests": TESTS}))

    result = revise(fake_llm_server, str(plan), "--failing")

    assert result.exit_code == 0, result.stderr
    after = plan.read_text()
    assert f"## Tests\n\n- [ ] {TESTS[0]}\n\n## Risks\n" in after
    assert after.replace(f"## Tests\n\n- [ ] {TESTS[0]}\n\n", "") == plan_text_before(text)


def plan_text_before(text: str) -> str:
    return text.replace("{One paragraph: the outcome, and how we will know it worked.}", GOAL)


def test_windows_line_endings_and_a_byte_order_mark_are_kept(repo: Path, fake_llm_server: FakeLLMServer) -> None:
    original = "\ufeff" + PLAN.replace("\n", "\r\n")
    plan = repo / "plan.md"
    plan.write_bytes(original.encode())
    fake_llm_server.push(Answer(data={"goal": GOAL}))

    revise(fake_llm_server, str(plan), "--section", "goal")

    after = plan.read_bytes().decode()
    assert after.startswith("\ufeff# Invoice") and "\n" not in after.replace("\r\n", "")
    assert after == original.replace("{One paragraph: the outcome, and how we will know it worked.}", GOAL)


def test_template_comes_from_plan_json_when_not_given(repo: Path, fake_llm_server: FakeLLMServer) -> None:
    plan = write_plan(repo)
    (repo / "plan.json").write_text(json.dumps({"schema_version": 1, "template": "compact", "plan": {}}))
    fake_llm_server.push(Answer(data={"goal": GOAL}))

    env = {"OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": fake_llm_server.openai_base_url}
    result = CliRunner().invoke(app, ["revise", str(plan), "-s", "goal", "-m", "openai:gpt-test"], env=env)

    assert result.exit_code == 3  # the Tests TODO remains; the compact template was found without --template
    recorded = json.loads((repo / "plan.json").read_text())
    assert recorded["plan"]["goal"] == GOAL and recorded["revisions"][0]["revised"] == ["goal"]


def test_an_unknown_section_is_a_usage_error_listing_the_sections(repo: Path) -> None:
    plan = write_plan(repo)

    result = revise(None, str(plan), "--section", "budget")

    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [
        "plan: error: no section 'budget' in template compact; sections: header, goal, plan, files, tests, risks"]
    assert plan.read_text() == PLAN


def test_nothing_failing_means_nothing_to_do(repo: Path, fake_llm_server: FakeLLMServer) -> None:
    text = plan_text_before(PLAN).replace("TODO: decide the tests", TESTS[0])
    plan = write_plan(repo, text)

    result = revise(fake_llm_server, str(plan), "--failing")

    assert result.exit_code == 0 and fake_llm_server.requests == []
    assert plan.read_text() == text

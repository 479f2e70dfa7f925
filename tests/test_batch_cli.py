"""`plan batch` as a user runs it: CliRunner in a temporary repository, offline or with HTTP mocked by respx."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import respx
from batch_support import ChatWire, make_repo, title_of, write_backlog
from draft_support import UNITS
from provider_support import OPENAI_KEY
from typer.testing import CliRunner, Result

from agent.batch.manifest import MANIFEST_NAME
from agent.cli import app
from agent.providers.openai import OPENAI_URL

CHAT = f"{OPENAI_URL}/chat/completions"
MODEL = ["--model", "openai:gpt-4.1-mini", "--template", "compact"]
# With a known pace; without one a batch starts at ten calls a second and speeds up as answers come back,
# which the shared-prefix test below still goes through (and tests/test_batch_limiter.py checks).
PACED = [*MODEL, "--rpm", "60000"]
ENV = {"OPENAI_API_KEY": OPENAI_KEY}


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return make_repo(tmp_path)


def batch(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(app, ["batch", *args], env=env)


def manifest(out: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((out / MANIFEST_NAME).read_text())
    return data


def states(out: Path) -> dict[str, str]:
    return {key: item["state"] for key, item in manifest(out)["items"].items()}


def json_lines(result: Result) -> list[dict[str, Any]]:
    return [json.loads(line) for line in result.stdout.splitlines()]


# --- offline -------------------------------------------------------------------------------------


def test_a_directory_of_briefs_drafts_offline_into_one_folder_each(repo: Path) -> None:
    (repo / "briefs").mkdir()
    (repo / "briefs" / "login.md").write_text("# Log in with SSO\n\nStaff log in through the company IdP.\n")
    (repo / "briefs" / "export.md").write_text("# Export invoices\n\nFinance wants a CSV of each invoice.\n")
    result = batch("briefs", "--out", "plans")
    assert result.exit_code == 3, result.output  # offline skeletons carry TODO findings, as with plan draft
    assert "no model configured" in result.stderr and "Traceback" not in result.output
    for folder in ("export-export-invoices", "login-log-in-with-sso"):
        plan = repo / "plans" / folder / "plan.md"
        report = json.loads(plan.with_suffix(".json").read_text())["report"]
        assert plan.read_text().strip() and report["plan_path"] == str(Path("plans") / folder / "plan.md")
        assert {"findings", "usage", "timings", "context", "model", "template"} <= set(report)
    assert states(repo / "plans") == {"export": "done", "login": "done"}
    assert "done, with findings" in result.stdout and "manifest" in result.stdout  # the summary table


def test_json_lines_one_per_item_then_a_summary(repo: Path) -> None:
    ids = write_backlog(repo / "backlog.jsonl", 3)
    result = batch("backlog.jsonl", "--out", "plans", "--format", "json")
    lines = json_lines(result)
    assert [line["type"] for line in lines] == ["item", "item", "item", "summary"]
    assert all(line["schema_version"] == 1 for line in lines)
    assert sorted(line["id"] for line in lines[:3]) == ids
    assert {line["state"] for line in lines[:3]} == {"done"} and Path(lines[0]["plan_path"]).is_file()
    report = json.loads(Path(lines[0]["json_path"]).read_text())["report"]
    assert lines[0]["findings"] == report["findings"] and lines[0]["findings"][0]["code"]  # finding objects
    assert set(lines[0]["usage"]) == set(report["usage"])  # the usage object of plan draft, cost_usd included
    summary = lines[-1]
    assert (summary["items"], summary["done"], summary["drafted"], summary["failed"]) == (3, 3, 3, 0)
    assert summary["manifest"] == str(Path("plans") / MANIFEST_NAME) and result.exit_code == 3


def test_a_second_run_skips_finished_items(repo: Path) -> None:
    write_backlog(repo / "backlog.jsonl", 2)
    batch("backlog.jsonl", "--out", "plans")
    plan = next((repo / "plans").glob("*/plan.md"))
    plan.write_text("edited by hand")
    again = batch("backlog.jsonl", "--out", "plans", "--format", "json")
    assert json_lines(again)[-1]["drafted"] == 0 and plan.read_text() == "edited by hand"
    assert "drafting 0 of 2 item(s)" in again.stderr


# --- through a provider (respx) ------------------------------------------------------------------


@respx.mock
def test_every_item_is_drafted_behind_one_shared_repository_prefix(repo: Path) -> None:
    wire = ChatWire()
    respx.post(CHAT).mock(side_effect=wire)
    write_backlog(repo / "backlog.jsonl", 3)
    result = batch("backlog.jsonl", "--out", "plans", *MODEL, env=ENV)
    assert result.exit_code == 0, result.output
    assert len(wire.bodies) == 3 * len(UNITS) and len(wire.briefs()) == 3
    prefixes = [body["messages"][1]["content"] for body in wire.bodies]
    common = {prefix.split("# The brief (user-supplied data)")[0] for prefix in prefixes}
    shared = common.pop()
    assert not common and "src/billing/invoice.py" in shared  # one context, byte-identical for every item
    assert "plans/" not in shared and MANIFEST_NAME not in shared  # the batch's own output is not context
    assert set(states(repo / "plans").values()) == {"done"}


@respx.mock
def test_a_failed_item_never_stops_the_batch_and_retry_failed_redoes_only_it(repo: Path) -> None:
    broken = ChatWire(fail=lambda body: 400 if title_of(body).startswith("Refund") else None)
    respx.post(CHAT).mock(side_effect=broken)
    write_backlog(repo / "backlog.jsonl", 3)  # T-2 is "Refund a payment 2"
    result = batch("backlog.jsonl", "--out", "plans", *PACED, env=ENV)
    assert result.exit_code == 1 and states(repo / "plans") == {"T-1": "done", "T-2": "failed", "T-3": "done"}
    assert "this item cannot be drafted" in manifest(repo / "plans")["items"]["T-2"]["error"]
    assert "failed T-2: openai: the request was rejected (HTTP 400)" in result.stderr

    respx.post(CHAT).mock(side_effect=ChatWire())
    skipped = batch("backlog.jsonl", "--out", "plans", *PACED, env=ENV)
    assert skipped.exit_code == 1 and "1 failed left as they are (--retry-failed redoes them)" in skipped.stderr
    fixed = ChatWire()
    respx.post(CHAT).mock(side_effect=fixed)
    retried = batch("backlog.jsonl", "--out", "plans", "--retry-failed", *PACED, env=ENV)
    assert retried.exit_code == 0 and fixed.briefs() == {"Refund a payment 2"}
    assert manifest(repo / "plans")["items"]["T-2"]["attempts"] == 2


@respx.mock
def test_max_cost_caps_the_whole_batch_across_runs(repo: Path) -> None:
    respx.post(CHAT).mock(side_effect=ChatWire())
    write_backlog(repo / "backlog.jsonl", 12)
    capped = batch("backlog.jsonl", "--out", "plans", "--max-cost", "0.02", "--concurrency", "1", *PACED, env=ENV)
    summary = manifest(repo / "plans")
    counts = list(states(repo / "plans").values())
    assert capped.exit_code == 1 and "stopped early: --max-cost $0.02 reached" in capped.stderr
    assert 0 < counts.count("done") < 12 and counts.count("pending") > 0  # later items were never started
    assert 0 < summary["spent_usd"] <= 0.02
    spent = summary["spent_usd"]

    finished = batch("backlog.jsonl", "--out", "plans", "--max-cost", "1", "--retry-failed", *PACED, env=ENV)
    assert finished.exit_code == 0 and set(states(repo / "plans").values()) == {"done"}
    assert manifest(repo / "plans")["spent_usd"] > spent  # the cap counts what earlier runs spent


# --- bad usage -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("args", "message"), [
    (["--concurrency", "0"], "--concurrency must be at least 1"),
    (["--rpm", "0"], "--rpm must be 1 or more"),
    (["--via", "batch-api"], "--via batch-api needs --model openai:MODEL or anthropic:MODEL, not offline"),
])
def test_bad_options_are_one_line_usage_errors(repo: Path, args: list[str], message: str) -> None:
    write_backlog(repo / "backlog.jsonl", 1)
    result = batch("backlog.jsonl", *args)
    assert result.exit_code == 2 and result.stderr == f"plan: error: {message}\n"
    assert "Traceback" not in result.output


def test_missing_key_fails_before_any_drafting(repo: Path) -> None:
    write_backlog(repo / "backlog.jsonl", 1)
    result = batch("backlog.jsonl", *MODEL)
    assert result.exit_code == 1 and result.stderr.splitlines()[-1] == (
        "plan: error: No key for openai: set OPENAI_API_KEY, or use --model offline")
    assert not list(repo.glob("implementation-plans/*/plan.md"))


def test_plans_no_manifest_records_are_never_overwritten(repo: Path) -> None:
    write_backlog(repo / "backlog.jsonl", 1)
    mine = repo / "plans" / "T-1-export-invoices-as-csv-1" / "plan.md"
    mine.parent.mkdir(parents=True)
    mine.write_text("my own plan")
    result = batch("backlog.jsonl", "--out", "plans")
    assert result.exit_code == 2 and "already exists" in result.stderr and mine.read_text() == "my own plan"


@respx.mock
def test_items_in_a_row_failing_alike_stop_the_batch(repo: Path) -> None:
    respx.post(CHAT).mock(side_effect=ChatWire(fail=lambda body: 401))
    write_backlog(repo / "backlog.jsonl", 6)
    result = batch("backlog.jsonl", "--out", "plans", "--concurrency", "1", *PACED, env=ENV)
    assert result.exit_code == 1
    assert list(states(repo / "plans").values()) == ["failed"] * 3 + ["pending"] * 3  # no point trying the rest
    assert "stopped early: 3 items in a row failed alike: openai: the API key was rejected (HTTP 401)" in result.stderr


@respx.mock
def test_concurrency_is_the_number_of_items_in_flight(repo: Path) -> None:
    wire = ChatWire()
    respx.post(CHAT).mock(side_effect=wire)
    write_backlog(repo / "backlog.jsonl", 3)
    batch("backlog.jsonl", "--out", "plans", "--concurrency", "1", *PACED, env=ENV)
    titles = [title_of(body) for body in wire.bodies]
    assert titles == sorted(titles, key=titles.index)  # one item's calls, then the next item's: never mixed
    assert len(set(titles)) == 3

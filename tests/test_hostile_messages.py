"""Messages that send the user to the right place: where a bad value came from, misspelled settings,
a base URL that is not one, titles in any script, output streams that close, and JSON-RPC errors
for lines an MCP client should not have sent."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from hostile_support import CLEAN_ENV, PLAN, plan

BRIEF = "# Invoice export\n\n- Export invoices as CSV\n"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "brief.md").write_text(BRIEF)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize(("env", "config", "said"), [
    ({"PLAN_MODEL": "gpt4"}, "", "Unknown provider in PLAN_MODEL 'gpt4'"),
    ({}, 'model = "gpt4"\n', "Unknown provider in `model` in "),
    ({"PLAN_MODEL": "openai:"}, "", "No model named in PLAN_MODEL 'openai:'"),
], ids=["env", "config", "env-no-model"])
def test_a_bad_model_names_where_it_was_set(repo: Path, env: dict[str, str], config: str, said: str) -> None:
    if config:
        (repo / ".plan.toml").write_text(config)
    ran = plan("draft", "brief.md", env={"OPENAI_API_KEY": "sk-test", **env})
    assert ran.code == 2 and said in ran.error()
    assert "--model" not in ran.error().split(";")[0]


def test_an_unpriced_cap_from_the_environment_names_the_variable(repo: Path) -> None:
    ran = plan("draft", "brief.md", "--model", "openai:my-finetune", "--base-url", "http://127.0.0.1:9/v1",
               env={"OPENAI_API_KEY": "sk-test", "PLAN_MAX_COST": "0.5"})
    assert ran.code == 2
    assert ran.error().startswith("PLAN_MAX_COST needs a price for openai:my-finetune")


@pytest.mark.parametrize(("variable", "value", "said"), [
    ("PLAN_TIMEOUT", "soon", "PLAN_TIMEOUT must be a number"),
    ("PLAN_DEADLINE", "0", "PLAN_DEADLINE must be 1 seconds or more"),
    ("PLAN_MAX_COST", "-1", "PLAN_MAX_COST must be a positive amount in US dollars"),
])
def test_a_bad_number_in_the_environment_names_the_variable(repo: Path, variable: str, value: str, said: str) -> None:
    ran = plan("draft", "brief.md", "--model", "offline", env={variable: value})
    assert ran.code == 2 and ran.error() == said + ("; fix or unset it" if "must be a number" in said else "")


def test_a_misspelled_setting_is_warned_about_without_its_value(repo: Path) -> None:
    ran = plan("config", "show", env={"PLAN_MODLE": "anthropic:secret-model-name"})
    assert ran.code == 0
    assert "plan: warning: PLAN_MODLE is not a plan setting (did you mean PLAN_MODEL?" in ran.stderr
    assert "secret-model-name" not in ran.stderr


@pytest.mark.parametrize(("flags", "env", "said"), [
    (["--base-url", "not a url"], {}, "--base-url 'not a url' is not a URL"),
    (["--base-url", "localhost:8000/v1"], {}, "is not a URL"),
    ([], {"OPENAI_BASE_URL": "ftp://example.com"}, "OPENAI_BASE_URL 'ftp://example.com' is not a URL"),
], ids=["words", "no-scheme", "env"])
def test_a_base_url_that_is_not_one_is_refused_at_once(repo: Path, flags: list[str], env: dict[str, str],
                                                       said: str) -> None:
    ran = plan("draft", "brief.md", "--model", "openai:gpt-test", *flags, env={"OPENAI_API_KEY": "sk-test", **env})
    assert ran.code == 2 and said in ran.error()


def test_titles_in_other_scripts_get_folders_of_their_own(repo: Path) -> None:
    (repo / "ru.md").write_text("# План миграции базы\n\n- Перенести таблицы\n")
    (repo / "jp.md").write_text("# 請求書のエクスポート\n\n- CSV で出力する\n")
    (repo / "symbols.md").write_text("# !!!\n\n- something\n")
    for name in ("ru.md", "jp.md", "symbols.md"):
        assert plan("draft", name, "--model", "offline").code == 3
    folders = sorted(path.parent.name for path in (repo / "implementation-plans").glob("*/plan.md"))
    assert len(folders) == 3
    assert "план-миграции-базы" in folders and "請求書のエクスポート" in folders


def test_json_output_to_a_full_stream_is_one_line_not_a_traceback(repo: Path) -> None:
    assert plan("draft", "brief.md", "--model", "offline", "--template", "compact", "--out", "plan.md").code == 3
    with open("/dev/full", "wb") as full:
        done = subprocess.run([*PLAN, "validate", "plan.md", "--format", "json"],
                              cwd=repo, env=CLEAN_ENV, stdout=full, stderr=subprocess.PIPE, timeout=30)
    assert done.returncode == 1
    assert b"Traceback" not in done.stderr
    assert done.stderr.decode().strip().splitlines()[-1].startswith("plan: error: cannot write the output")


def test_output_to_a_closed_pipe_ends_quietly(repo: Path) -> None:
    process = subprocess.Popen([*PLAN, "templates", "schema", "default"], cwd=repo, env=CLEAN_ENV,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None
    process.stdout.close()  # like `| head -0`
    _, stderr = process.communicate(timeout=30)
    assert b"Traceback" not in stderr
    assert process.returncode in (0, 1, 141)


def test_the_mcp_server_answers_a_line_that_is_not_json_with_a_parse_error(repo: Path) -> None:
    init = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}
    lines = b"this is not json\n" + json.dumps(init).encode() + b"\n"
    done = subprocess.run([*PLAN, "mcp"], cwd=repo, env=CLEAN_ENV, input=lines, capture_output=True, timeout=30)
    answers = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert answers[0] == {"jsonrpc": "2.0", "id": None, "error": {
        "code": -32700, "message": "Parse error: each line must be one JSON-RPC 2.0 message in JSON"}}
    assert answers[1]["id"] == 1 and "result" in answers[1]
    assert done.returncode == 0


def test_the_mcp_server_returns_a_tool_error_for_a_fifo_brief_and_still_exits(repo: Path) -> None:
    import os

    os.mkfifo(repo / "pipe.md")
    messages = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
         "params": {"name": "draft_plan", "arguments": {"brief_path": "pipe.md", "model": "offline"}}},
    ]
    process = subprocess.Popen([*PLAN, "mcp"], cwd=repo, env=CLEAN_ENV, stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdin is not None and process.stdout is not None
    for message in messages:
        process.stdin.write(json.dumps(message).encode() + b"\n")
    process.stdin.flush()
    answers = [json.loads(process.stdout.readline()) for _ in range(2)]
    process.stdin.close()
    process.wait(timeout=30)
    result = answers[1]["result"]
    assert result["isError"] is True
    assert "named pipe" in result["content"][0]["text"]

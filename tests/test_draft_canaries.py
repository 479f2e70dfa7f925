"""Issue 4's end-to-end promise: `plan draft` sends no secret from the repository, over any wire."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fake_llm_server import FakeLLMServer
from test_context_secrets import CANARIES, canary_repo
from typer.testing import CliRunner

from agent.cli import app

BRIEF = "# Rotate the deployment settings\n\n- Move the AWS settings in `shop/settings.py` to the environment.\n"


@pytest.mark.parametrize("wire", ["openai", "anthropic"])
def test_no_canary_secret_leaves_through_plan_draft(
    wire: str, tmp_path: Path, fake_llm_server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = canary_repo(tmp_path / "repo")
    brief = tmp_path / "brief.md"
    brief.write_text(BRIEF)
    url = fake_llm_server.openai_base_url if wire == "openai" else fake_llm_server.anthropic_base_url
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key-not-a-secret")
    out = tmp_path / "out" / "plan.md"

    result = CliRunner().invoke(app, ["draft", str(brief), "--repo", str(repo), "--model", f"{wire}:test",
                                      "--base-url", url, "--out", str(out), "--format", "json"])

    assert result.exit_code in (0, 3), result.output
    bodies = [json.dumps(request.body) for request in fake_llm_server.requests]
    assert bodies, "the draft made no request"
    assert any("eu-west-1" in body for body in bodies)  # the settings file itself was sent, redacted
    written = out.read_text() + out.with_suffix(".json").read_text() + result.output
    for canary in CANARIES:
        assert all(canary not in body for body in bodies), canary
        assert canary not in written, canary

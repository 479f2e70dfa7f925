"""What `plan context` shows: the JSON report, the text view, and the plan appendix."""

from __future__ import annotations

import json
from pathlib import Path

from context_support import PYTHON_REPO, git_repo

from agent.context import SCHEMA_VERSION, build_context, format_appendix, format_text, to_json


def test_json_report_is_versioned_and_serialisable(tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "repo", {**PYTHON_REPO, ".env": "X=1\n"})
    ctx = build_context(repo, "Add rate limiting to shop/billing/invoices.py")
    report = json.loads(json.dumps(to_json(ctx)))
    assert report["schema_version"] == SCHEMA_VERSION == 1
    assert report["tracked_file_count"] == len(ctx.tracked_paths)
    assert "tracked_paths" not in report
    assert report["ranked"][0]["path"] == "shop/billing/invoices.py"
    assert {"kind": "class", "name": "InvoiceService", "line": 7, "detail": ""} in report["ranked"][0]["outline"]
    assert {"kind": "file", "path": ".env", "reason": "secret file", "tokens": None} in report["manifest"]["cut"]
    assert report["stack"]["test_command"] == "pytest"
    assert report["prompt_text"] == ctx.prompt_text
    assert sorted(to_json(ctx, include_paths=True)["tracked_paths"]) == sorted(ctx.tracked_paths)


def test_text_view_shows_sizes_cuts_and_outlines(tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "repo", {**PYTHON_REPO, ".env": "X=1\n"})
    text = format_text(build_context(repo, "Add rate limiting to shop/billing/invoices.py"))
    assert "of 12,000 estimated tokens" in text
    assert "Stack: Python · tests: pytest · lint: ruff check ." in text
    assert ".env  (secret file)" in text
    assert "1. shop/billing/invoices.py" in text and "(named in the brief)" in text
    assert "class InvoiceService" in text


def test_appendix_is_a_collapsed_markdown_table(tmp_path: Path) -> None:
    ctx = build_context(git_repo(tmp_path / "repo", PYTHON_REPO), "Add rate limiting to invoices")
    appendix = format_appendix(ctx)
    assert appendix.startswith("<details>\n<summary>Repository context sent:")
    assert "| readme | README.md |" in appendix
    assert appendix.rstrip().endswith("</details>")


def test_each_sent_file_is_named_once_and_ranked_files_carry_their_role_and_tests(tmp_path: Path) -> None:
    ctx = build_context(git_repo(tmp_path / "repo", PYTHON_REPO), "Create invoices for a customer")
    names = ctx.manifest.included_names()
    kinds = [(item.kind, item.path) for item in ctx.manifest.included]
    assert ("outline", "shop/billing/invoices.py") in kinds and ("excerpt", "shop/billing/invoices.py") in kinds
    assert names.count("shop/billing/invoices.py") == 1 and len(names) == len(set(names))
    assert names[:3] == ("README.md", "stack", "tree")
    report = json.loads(json.dumps(to_json(ctx)))
    invoices = next(file for file in report["ranked"] if file["path"] == "shop/billing/invoices.py")
    assert invoices["role"] == "source" and invoices["tests"] == ["tests/test_invoices.py"]
    assert "shop/billing/invoices.py  score" in format_text(ctx) and "tests: tests/test_invoices.py" in format_text(ctx)

"""Reading a backlog: a directory of briefs, JSONL, CSV, a GitHub issues export; bad ones named by line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.batch.sources import read_backlog
from agent.errors import BriefError

ISSUES = [
    {"number": 12, "title": "Export invoices as CSV", "body": "Finance wants CSV.\n\n- Add a CSV export",
     "labels": [{"name": "billing"}, {"name": "p1"}]},
    {"number": 14, "title": "Dark mode", "body": None, "labels": []},
]


def test_github_issues_export(tmp_path: Path) -> None:
    source = tmp_path / "issues.json"
    source.write_text(json.dumps(ISSUES))
    first, second = read_backlog(str(source))
    assert (first.id, first.dir_name, second.dir_name) == ("12", "12-export-invoices-as-csv", "14-dark-mode")
    assert first.brief.text.startswith("# Export invoices as CSV (#12)\n\nLabels: billing, p1\n\nFinance wants CSV.")
    assert first.brief.requirements == ("Add a CSV export",) and first.brief.labels == ("billing", "p1")
    assert second.brief.text == "# Dark mode (#14)"


def test_jsonl_with_any_ids_and_labels_as_text(tmp_path: Path) -> None:
    source = tmp_path / "backlog.jsonl"
    rows = [{"id": "PAY-7", "title": "Refunds", "body": "Refund a payment.", "labels": "payments, api"},
            {"id": "a/b c", "title": "Odd id"}]
    source.write_text("\n".join(json.dumps(row) for row in rows) + "\n\n")
    refunds, odd = read_backlog(str(source))
    assert (refunds.id, refunds.dir_name, refunds.brief.labels) == ("PAY-7", "PAY-7-refunds", ("payments", "api"))
    assert refunds.brief.number is None and refunds.brief.text.startswith("# Refunds\n")
    assert (odd.id, odd.dir_name) == ("a/b c", "a-b-c-odd-id")


def test_csv(tmp_path: Path) -> None:
    source = tmp_path / "backlog.csv"
    source.write_text('ID,Title,Body,Labels\n1,Refunds,"Refund a payment.\n\n- Partial refunds",payments;api\n2,Audit log,,\n')
    refunds, audit = read_backlog(str(source))
    assert refunds.brief.requirements == ("Partial refunds",) and refunds.brief.labels == ("payments", "api")
    assert (audit.id, audit.dir_name) == ("2", "2-audit-log")


def test_directory_of_briefs_in_name_order(tmp_path: Path) -> None:
    (tmp_path / "b-login.md").write_text("# Log in with SSO\n\nUse the company IdP.")
    (tmp_path / "a-export.yaml").write_text("feature: Export\nrequirements:\n  - CSV download\n")
    (tmp_path / ".hidden.md").write_text("# not a brief")
    (tmp_path / "notes.png").write_bytes(b"\x89PNG")
    items = read_backlog(str(tmp_path))
    assert [(item.id, item.dir_name) for item in items] == [("a-export", "a-export-export"),
                                                            ("b-login", "b-login-log-in-with-sso")]


@pytest.mark.parametrize(("name", "text", "message"), [
    ("b.jsonl", '{"id": 1, "title": "a"}\n{"id": 1, "title": "b"}\n', "b.jsonl:2: id '1' is also used by"),
    ("b.jsonl", '{"id": "x y", "title": "a"}\n{"id": "x-y", "title": "a"}\n', "directory x-y-a is also used by"),
    ("b.csv", "name,body\nx,y\n", "b.csv:1: the CSV header needs `id` and `title` columns"),
    ("b.json", '{"number": 1, "title": "one issue"}', "expected a JSON array of issues"),
    ("b.json", "[]", "the backlog has no items"),
    ("b.txt", "hello", "not a backlog"),
])
def test_bad_backlogs_name_the_place(tmp_path: Path, name: str, text: str, message: str) -> None:
    (tmp_path / name).write_text(text)
    with pytest.raises(BriefError, match="^" + str(tmp_path).replace("\\", "\\\\")) as caught:
        read_backlog(str(tmp_path / name))
    assert message in str(caught.value)


@pytest.mark.parametrize(("text", "item_id", "message"), [
    ('{"id": 1, "title": "ok"}\n{"id": 2}\n', "2", "b.jsonl:2: an item needs an `id` (or `number`) and a `title`"),
    ('{"id": 1, "title": "ok"}\nnot json\n', "line-2", "b.jsonl:2:1: not valid JSON"),
    ('{"id": 1, "title": "ok"}\n{"id": 3, "title": "x", "body": ["a"]}\n', "3", "`body` must be text"),
])
def test_a_bad_row_fails_alone_and_names_its_place(tmp_path: Path, text: str, item_id: str, message: str) -> None:
    (tmp_path / "b.jsonl").write_text(text)
    items = read_backlog(str(tmp_path / "b.jsonl"))
    assert next(item.error for item in items) is None
    assert items[1].id == item_id and message in (items[1].error or "")


def test_missing_source(tmp_path: Path) -> None:
    with pytest.raises(BriefError, match="no such file or directory"):
        read_backlog(str(tmp_path / "nope.jsonl"))

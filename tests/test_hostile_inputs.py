"""One way in, tried as a careless or hostile user would: every file `plan` reads is a regular file of
bounded size in UTF-8, parsed with bounded depth, or a one-line usage error (exit 2) that says what to do."""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hostile_support import plan, plan_process

TEMPLATE = "# Plan\n\n## Goal\n\n{The goal}\n\n## Steps\n\n- {Step one}\n"
BRIEF = "# Export invoices as CSV\n\n- Finance downloads an invoice as CSV.\n"


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "template.md").write_text(TEMPLATE)
    (tmp_path / "brief.md").write_text(BRIEF)
    (tmp_path / "plan.md").write_text("# Plan\n\n## Goal\n\nShip it.\n\n## Steps\n\n- Do it\n")
    return tmp_path


@contextmanager
def fifo(path: Path) -> Iterator[str]:
    """A FIFO nobody writes to. A command that wrongly opened it to read would wait for a writer forever, so
    after 5 s a writer comes and goes each time a reader waits: the test, run in-process, fails on what the
    command did instead of hanging."""
    os.mkfifo(path)
    finished = threading.Event()

    def release() -> None:
        finished.wait(5)
        while not finished.wait(0.05):
            with contextlib.suppress(OSError):  # ENXIO: nobody has it open to read
                os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))

    writer = threading.Thread(target=release, daemon=True)
    writer.start()
    try:
        yield str(path)
    finally:
        finished.set()
        writer.join()


# A FIFO nobody writes to would block a reader forever; each command must refuse it by its type.
@pytest.mark.parametrize("args", [
    ["draft", "{fifo}", "--model", "offline"],
    ["draft", "brief.md", "--template", "{fifo}", "--model", "offline"],
    ["validate", "{fifo}", "--template", "template.md"],
    ["validate", "plan.md", "--template", "{fifo}"],
    ["context", "{fifo}"],
    ["revise", "{fifo}", "--section", "goal", "--template", "template.md"],
    ["templates", "show", "{fifo}"],
    ["batch", "{fifo}", "--model", "offline"],
], ids=["draft-brief", "draft-template", "validate-plan", "validate-template", "context-brief", "revise-plan",
        "templates-show", "batch-source"])
def test_a_fifo_is_refused_by_its_type_not_waited_on(work: Path, args: list[str]) -> None:
    started = time.monotonic()
    with fifo(work / "pipe.md") as path:
        ran = plan(*[arg.replace("{fifo}", path) for arg in args])
    assert ran.code == 2, ran.stderr
    assert "named pipe" in ran.error() or "not a regular file" in ran.error() or "no such file" in ran.error()
    assert time.monotonic() - started < 30


@pytest.mark.parametrize("args", [
    ["draft", "/dev/zero", "--model", "offline"],
    ["validate", "/dev/zero", "--template", "template.md"],
    ["templates", "show", "/dev/zero"],
    ["context", "/dev/zero"],
], ids=["draft", "validate", "templates", "context"])
def test_a_device_is_never_read(work: Path, args: list[str]) -> None:
    ran = plan_process(*args, cwd=work, timeout=60)
    assert ran.code == 2
    assert ran.error() == "/dev/zero: is a device, not a regular file; pass the " + ran.error().rsplit("pass the ", 1)[1]


def test_a_config_file_that_is_a_fifo_is_refused(work: Path) -> None:
    with fifo(work / ".plan.toml"):
        ran = plan("config", "show")
    assert ran.code == 2
    assert "named pipe" in ran.error()


def test_a_directory_as_brief(work: Path) -> None:
    (work / "briefs").mkdir()
    ran = plan("draft", "briefs", "--model", "offline")
    assert ran.code == 2 and "is a directory" in ran.error()


def test_standard_input_closed(work: Path) -> None:
    ran = plan_process("draft", "-", "--model", "offline", cwd=work, stdin=-1)  # -1: no descriptor 0 at all
    assert ran.code == 2, ran.stderr


@pytest.mark.parametrize(("data", "said"), [
    (b"\x00\x01\x02binary", "binary file"),
    ("# Café crème plan\n\nFaire un export.\n".encode("latin-1"), "Latin-1"),
    ("# Plan\n\n- Export as CSV\n".encode("utf-16"), "UTF-16"),
    (b"", "empty"),
    (b"   \n\n", "empty"),
], ids=["binary", "latin-1", "utf-16", "empty", "blank"])
def test_bad_bytes_on_standard_input(work: Path, data: bytes, said: str) -> None:
    ran = plan("draft", "-", "--model", "offline", stdin=data)
    assert ran.code == 2
    assert said in ran.error()
    assert ran.error().startswith("standard input: ")


def test_standard_input_larger_than_the_limit_is_cut_off_while_reading(work: Path) -> None:
    ran = plan("draft", "-", "--model", "offline", stdin=b"# Big\n" + b"x" * 1_100_000)
    assert ran.code == 2
    assert "larger than the 1 MB limit" in ran.error()


@pytest.mark.parametrize(("name", "data", "said"), [
    ("brief.md", "# Plan\n\n- Export\n".encode("utf-16"), "UTF-16 text; save it as UTF-8 (iconv -f UTF-16"),
    ("brief.md", "# Plan\n\n- Export\n".encode("utf-16-le"), "UTF-16"),  # no byte-order mark
    ("brief.md", "# Crème brûlée\n".encode("latin-1"), "looks like Latin-1"),
], ids=["utf16-bom", "utf16-no-bom", "latin1"])
def test_encodings_are_named_with_how_to_convert(work: Path, name: str, data: bytes, said: str) -> None:
    (work / name).write_bytes(data)
    ran = plan("draft", name, "--model", "offline")
    assert ran.code == 2 and said in ran.error()


def test_a_utf16_template_is_named_as_utf16(work: Path) -> None:
    (work / "t16.md").write_bytes(TEMPLATE.encode("utf-16"))
    ran = plan("templates", "show", "t16.md")
    assert ran.code == 2 and "UTF-16" in ran.error()


def test_a_yaml_brief_with_nested_aliases_is_refused_at_once(work: Path) -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(9))
    bomb += "feature: *j\n"
    (work / "bomb.yaml").write_text(bomb)
    assert len(bomb) < 1000
    started = time.monotonic()
    ran = plan_process("draft", "bomb.yaml", "--model", "offline", cwd=work, timeout=60)
    assert ran.code == 2 and "aliases" in ran.error()
    assert time.monotonic() - started < 30


@pytest.mark.parametrize(("name", "text"), [
    ("deep.json", '{"title": "x", "body": ' + "[" * 50_000 + "]" * 50_000 + "}"),
    ("deep.yaml", "feature: x\nproblem: " + "[" * 5_000 + "]" * 5_000 + "\n"),
    ("deep2.yaml", "feature: x\nnotes:\n" + "".join("  " * depth + "- \n" for depth in range(1, 200))),
], ids=["json", "yaml-flow", "yaml-block"])
def test_deeply_nested_briefs(work: Path, name: str, text: str) -> None:
    (work / name).write_text(text)
    ran = plan("draft", name, "--model", "offline")
    assert ran.code == 2
    assert "nested more than 64 levels" in ran.error()


@pytest.mark.parametrize(("data", "field"), [
    ({"title": "Export", "labels": 5}, "labels"),
    ({"title": 7}, "title"),
    ({"title": "Export", "body": {"text": "x"}}, "body"),
    ({"title": "Export", "number": "twelve"}, "number"),
    ({"title": ""}, "title"),
], ids=["labels", "title", "body", "number", "empty-title"])
def test_an_issue_brief_with_a_wrong_type_names_the_field(work: Path, data: dict[str, object], field: str) -> None:
    (work / "issue.json").write_text(json.dumps(data))
    ran = plan("draft", "issue.json", "--model", "offline")
    assert ran.code == 2
    assert f"`{field}`" in ran.error()


def test_an_issue_brief_that_is_not_an_object(work: Path) -> None:
    (work / "issue.json").write_text("[1, 2]")
    ran = plan("draft", "issue.json", "--model", "offline")
    assert ran.code == 2 and "GitHub issue object" in ran.error()


def test_a_yaml_brief_with_a_mapping_where_text_belongs_names_the_key(work: Path) -> None:
    (work / "brief.yaml").write_text("feature: Export\nrequirements:\n  first: a\n")
    ran = plan("draft", "brief.yaml", "--model", "offline")
    assert ran.code == 2 and "`requirements`" in ran.error()


def test_a_template_just_over_the_limit_says_by_how_much(work: Path) -> None:
    (work / "big.md").write_text(TEMPLATE + "x" * (1_000_001 - len(TEMPLATE)))
    ran = plan("templates", "show", "big.md")
    assert ran.code == 2
    assert "1,000,001 bytes, over the 1 MB (1,000,000 bytes) limit" in ran.error()


def test_a_plan_over_the_size_limit_is_not_read_whole(work: Path) -> None:
    (work / "huge.md").write_bytes(b"# Plan\n\n" + b"text " * 1_300_000)
    ran = plan("validate", "huge.md", "--template", "template.md")
    assert ran.code == 2 and "over the 5 MB" in ran.error()


def test_a_missing_repository(work: Path) -> None:
    ran = plan("context", "brief.md", "--repo", "no-such-dir")
    assert ran.code == 2 and "no-such-dir" in ran.error()


def test_a_template_front_matter_alias_bomb_is_refused_at_once(work: Path) -> None:
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(9))
    (work / "bomb.md").write_text(f"---\n{bomb}---\n# Plan\n\n## Goal\n\n{{The goal}}\n")
    started = time.monotonic()
    ran = plan_process("templates", "show", "bomb.md", cwd=work, timeout=60)
    assert ran.code == 2 and "aliases" in ran.error()
    assert time.monotonic() - started < 30


def test_a_repository_with_a_manifest_nested_thousands_deep_still_gives_context(work: Path) -> None:
    (work / "package.json").write_text('{"name": "x", "config": ' + "[" * 50_000 + "]" * 50_000 + "}")
    ran = plan("context", "brief.md", "--format", "json")
    assert ran.code == 0
    assert json.loads(ran.stdout)["schema_version"] == 1


@pytest.mark.parametrize("content", ["[" * 10_000 + "]" * 10_000, '{"schema_version": 1, "cases": "', "\x00\x01"],
                         ids=["deep", "truncated", "binary"])
def test_eval_compare_refuses_a_bad_report_in_one_line(work: Path, content: str) -> None:
    (work / "a.json").write_text(content)
    (work / "b.json").write_text(content)
    ran = plan("eval", "compare", "a.json", "b.json")
    assert ran.code == 2 and ran.error().startswith("a.json")

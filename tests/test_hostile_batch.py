"""A batch never dies of one item: whatever is wrong with an item (its bytes, its type, its size), that
item fails with its message and the others are drafted; spending is recorded call by call."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from fake_llm_server import FakeLLMServer
from hostile_support import CLEAN_ENV, PLAN, plan

from agent.batch.manifest import MANIFEST_NAME


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "app.py").write_text("def export():\n    pass\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def items(ran_stdout: str) -> dict[str, dict[str, object]]:
    lines = [json.loads(line) for line in ran_stdout.splitlines() if line.strip()]
    return {str(line["id"]): line for line in lines if line["type"] == "item"}


def test_an_unpaired_surrogate_in_a_body_neither_crashes_the_batch_nor_its_rerun(repo: Path) -> None:
    (repo / "backlog.jsonl").write_text('{"id": 1, "title": "Export", "body": "bad \\udc80 byte"}\n'
                                        '{"id": 2, "title": "Import", "body": "fine"}\n')
    first = plan("batch", "backlog.jsonl", "--model", "offline", "--format", "json")
    again = plan("batch", "backlog.jsonl", "--model", "offline", "--format", "json")

    assert set(items(first.stdout)) == {"1", "2"}
    assert all(item["state"] == "done" for item in items(first.stdout).values())
    manifest = json.loads((repo / "implementation-plans" / MANIFEST_NAME).read_text())
    assert {record["state"] for record in manifest["items"].values()} == {"done"}
    assert again.code in (0, 3) and items(again.stdout) == {}  # nothing left to do, nothing broken


def test_a_csv_field_over_128_kb_is_read(repo: Path) -> None:
    body = "Export every invoice. " * 9_000  # about 200 KB, over the csv module's default field limit
    (repo / "backlog.csv").write_text(f'id,title,body\n7,Export,"{body}"\n')
    ran = plan("batch", "backlog.csv", "--model", "offline", "--format", "json")
    assert items(ran.stdout)["7"]["state"] == "done"


def test_a_csv_that_cannot_be_parsed_names_its_line(repo: Path) -> None:
    (repo / "backlog.csv").write_text('id,title,body\n7,Export,"' + "x" * 1_100_000 + '"\n')
    ran = plan("batch", "backlog.csv", "--model", "offline")
    assert ran.code == 2 and "backlog.csv:" in ran.error() and "fix the CSV" in ran.error()


def test_out_set_to_the_briefs_folder_never_reads_its_own_manifest(repo: Path) -> None:
    (repo / "briefs").mkdir()
    (repo / "briefs" / "a.md").write_text("# Export invoices\n\n- As CSV\n")
    first = plan("batch", "briefs", "--model", "offline", "--out", "briefs", "--format", "json")
    again = plan("batch", "briefs", "--model", "offline", "--out", "briefs", "--format", "json", "--retry-failed")
    assert set(items(first.stdout)) == {"a"}
    summary = json.loads(again.stdout.splitlines()[-1])
    assert summary["items"] == 1 and summary["failed"] == 0


def test_unreadable_briefs_fail_alone(repo: Path) -> None:
    briefs = repo / "briefs"
    briefs.mkdir()
    (briefs / "good.md").write_text("# Export invoices\n\n- As CSV\n")
    (briefs / "binary.md").write_bytes(b"\x00\x01\x02")
    (briefs / "bad.yaml").write_text("feature: [unclosed\n")
    os.mkfifo(briefs / "pipe.md")
    started = time.monotonic()
    done = subprocess.run([*PLAN, "batch", "briefs", "--model", "offline", "--format", "json"], cwd=repo,
                          env=CLEAN_ENV, capture_output=True, text=True, timeout=60)
    assert time.monotonic() - started < 45
    outcome = items(done.stdout)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert outcome["good"]["state"] == "done"
    assert {name: outcome[name]["state"] for name in ("binary", "bad", "pipe")} == dict.fromkeys(
        ("binary", "bad", "pipe"), "failed")
    assert "binary file" in str(outcome["binary"]["error"]) and "named pipe" in str(outcome["pipe"]["error"])
    assert "not valid YAML" in str(outcome["bad"]["error"])


def test_spending_is_recorded_call_by_call_so_a_killed_run_keeps_it(repo: Path) -> None:
    (repo / "backlog.jsonl").write_text("".join(
        json.dumps({"id": n, "title": f"Feature {n}", "body": "- Do it"}) + "\n" for n in range(6)))
    with FakeLLMServer(delay_s=0.2) as server:
        process = subprocess.Popen(
            [*PLAN, "batch", "backlog.jsonl", "--model", "openai:gpt-4.1-mini", "--base-url", server.openai_base_url,
             "--concurrency", "1", "--rpm", "6000", "--max-cost", "5"],
            cwd=repo, env={**CLEAN_ENV, "OPENAI_API_KEY": "sk-test"}, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while len(server.requests) < 4 and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.3)  # the fourth answer is in
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    manifest = json.loads((repo / "implementation-plans" / MANIFEST_NAME).read_text())
    assert not any(record["state"] == "done" for record in manifest["items"].values()), "killed too late to tell"
    assert manifest["spent_usd"] > 0


def test_an_item_whose_folder_is_in_the_way_fails_alone(repo: Path) -> None:
    (repo / "backlog.jsonl").write_text("".join(
        json.dumps({"id": name, "title": f"Feature {name}", "body": "- Do it"}) + "\n" for name in "abc"))
    (repo / "out" / "a-feature-a" / "plan.json").mkdir(parents=True)  # a folder where the report goes
    ran = plan("batch", "backlog.jsonl", "--model", "offline", "--out", "out", "--concurrency", "1", "--format", "json")
    outcome = items(ran.stdout)
    assert ran.code == 1
    assert outcome["a"]["state"] == "failed" and "cannot write the plan" in str(outcome["a"]["error"])
    assert outcome["b"]["state"] == outcome["c"]["state"] == "done"
    assert not (repo / "out" / "a-feature-a" / "plan.md").exists()

"""A real `plan batch` process, killed with SIGKILL part way (twice), then run again to the end: every item
has exactly one plan, nothing is lost, nothing is duplicated, no half-written file is left."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from batch_support import write_backlog
from fake_llm_filler import PATHS
from fake_llm_server import FakeLLMServer

from agent.batch.manifest import MANIFEST_NAME

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
ITEMS = 10
PLAN = Path(sys.executable).with_name("plan")


def done_items(out: Path) -> int:
    try:
        items = json.loads((out / MANIFEST_NAME).read_text())["items"]
    except (OSError, ValueError, KeyError):
        return 0
    return sum(item["state"] == "done" for item in items.values())


def kill_after(command: list[str], out: Path, cwd: Path, done: int) -> None:
    process = subprocess.Popen(command, cwd=cwd, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while done_items(out) < done and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert process.poll() is None, "the batch ended before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    assert process.returncode == -signal.SIGKILL


def _env() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.endswith(("_API_KEY", "_BASE_URL"))}
    return env | {"PYTHONUNBUFFERED": "1"}


def test_sigkill_part_way_then_rerun_leaves_exactly_one_plan_per_item(tmp_path: Path) -> None:
    for path in PATHS:  # the fake answers name these files, so its plans pass the path checks
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(f"# {path}\n")
    ids = write_backlog(tmp_path / "backlog.jsonl", ITEMS)
    out = tmp_path / "plans"
    with FakeLLMServer(delay_s=0.1) as server:
        command = [str(PLAN), "batch", "backlog.jsonl", "--out", "plans", "--template", "compact",
                   "--model", "openai:gpt-4.1-mini", "--base-url", server.openai_base_url, "--concurrency", "2",
                   "--rpm", "60000", "--format", "json"]
        kill_after(command, out, tmp_path, done=2)
        first = done_items(out)
        kill_after(command, out, tmp_path, done=first + 2)
        assert done_items(out) < ITEMS
        finished = subprocess.run(command, cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=120)
    assert finished.returncode == 0, finished.stderr
    summary = json.loads(finished.stdout.splitlines()[-1])
    assert (summary["items"], summary["done"], summary["complete"]) == (ITEMS, ITEMS, ITEMS)

    folders = sorted(path for path in out.iterdir() if path.is_dir())
    assert len(folders) == ITEMS
    for item_id in ids:
        [folder] = [path for path in folders if path.name.startswith(f"{item_id}-")]
        assert sorted(file.name for file in folder.iterdir()) == ["plan.json", "plan.md"]
        report = json.loads((folder / "plan.json").read_text())["report"]
        assert report["complete"] and Path(report["plan_path"]).name == "plan.md"
    assert not [path for path in out.rglob("*") if path.name.endswith(".tmp")]
    manifest = json.loads((out / MANIFEST_NAME).read_text())
    assert {item["state"] for item in manifest["items"].values()} == {"done"}
    assert sum(item["attempts"] for item in manifest["items"].values()) >= ITEMS

"""The batch manifest: what a re-run reads back, one run per --out, leftovers of a killed run cleared."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from agent.batch.manifest import MANIFEST_NAME, BatchJob, Manifest
from agent.errors import InputError

ENTRIES = {"1": ("1-export", "Export"), "2": ("2-refunds", "Refunds")}


def test_states_and_jobs_survive_a_reopen(tmp_path: Path) -> None:
    with Manifest.open(tmp_path, "backlog.jsonl") as manifest:
        manifest.register(ENTRIES)
        manifest.begin(["1"])
        manifest.update("1", state="done", complete=True, cost_usd=0.25)
        manifest.charge(0.25)
        manifest.add_job(BatchJob("batch_1", "openai:m", "batch-jobs/batch_1.json"), ["abc", "def"])
    with Manifest.open(tmp_path, "backlog.jsonl") as again:
        assert (again.items["1"].state, again.items["1"].attempts, again.items["1"].complete) == ("done", 1, True)
        assert again.items["2"].state == "pending" and again.spent_usd == 0.25
        assert again.job_requests(again.jobs[0]) == ["abc", "def"]
        again.register({"1": ("changed", "Changed"), "3": ("3-new", "New")})  # known items keep their place
        assert again.items["1"].dir == "1-export" and again.items["3"].state == "pending"


def test_one_run_per_out_directory(tmp_path: Path) -> None:
    with Manifest.open(tmp_path, "backlog.jsonl"), pytest.raises(InputError, match="another `plan batch` is writing"):
        Manifest.open(tmp_path, "backlog.jsonl")
    Manifest.open(tmp_path, "backlog.jsonl").close()  # the lock goes with the run


def test_another_backlog_needs_another_out(tmp_path: Path) -> None:
    with Manifest.open(tmp_path, "/work/a.jsonl") as manifest:
        manifest.register(ENTRIES)
    with pytest.raises(InputError, match=r"holds the batch of /work/a\.jsonl; pass another --out for /work/b\.jsonl"):
        Manifest.open(tmp_path, "/work/b.jsonl")


def test_leftovers_of_a_killed_write_are_removed(tmp_path: Path) -> None:
    (tmp_path / f".{MANIFEST_NAME}.x1y2.tmp").write_text("{half")
    with Manifest.open(tmp_path, "b.jsonl"):
        assert not list(tmp_path.glob("*.tmp")) and not list(tmp_path.glob(".*.tmp"))


def test_an_unreadable_manifest_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / MANIFEST_NAME).write_text('{"items": ')
    with pytest.raises(InputError, match="not a batch manifest this version can read"):
        Manifest.open(tmp_path, "b.jsonl")


def test_held_back_changes_are_written_within_the_interval_and_on_close(tmp_path: Path) -> None:
    async def run() -> list[str]:
        with Manifest.open(tmp_path, "b.jsonl") as manifest:
            manifest.register(ENTRIES)
            manifest.save_interval_s = 0.2
            manifest.update("1", state="done")
            manifest.update("2", state="done")
            seen = [_state_on_disk(tmp_path, "2")]
            await asyncio.sleep(0.3)
            seen.append(_state_on_disk(tmp_path, "2"))
            manifest.update("1", state="failed")
        seen.append(_state_on_disk(tmp_path, "1"))
        return seen

    assert asyncio.run(run()) == ["pending", "done", "failed"]


def _state_on_disk(out: Path, key: str) -> str:
    state: str = json.loads((out / MANIFEST_NAME).read_text())["items"][key]["state"]
    return state

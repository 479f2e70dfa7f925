"""One way out: where the plan goes is checked before a token is paid for, one plan is written by one
`plan` at a time, and plan.md and plan.json are replaced together or not at all, keeping their mode."""

from __future__ import annotations

import errno
import json
import os
import stat
import subprocess
import threading
import time
from pathlib import Path

import pytest
from fake_llm_server import Answer, FakeLLMServer, RecordedRequest
from hostile_support import CLEAN_ENV, PLAN, plan, tree

BRIEF = "# Invoice export\n\n- Export invoices as CSV\n- Keep the totals exact\n"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "invoice.py").write_text("class Invoice:\n    pass\n")
    (tmp_path / "brief.md").write_text(BRIEF)
    monkeypatch.chdir(tmp_path)
    return tmp_path


class Held:
    """Answers no call until released: the first `plan` holds its plan's lock for as long as the test needs
    it to, however slowly the second one starts."""

    def __init__(self) -> None:
        self.released = threading.Event()

    def __call__(self, request: RecordedRequest) -> Answer:
        self.released.wait(20)
        return Answer()


def online(server: FakeLLMServer) -> tuple[list[str], dict[str, str]]:
    return ["--model", "openai:test", "--base-url", server.openai_base_url], {"OPENAI_API_KEY": "sk-test"}


def test_out_naming_the_report_is_refused_before_any_call(repo: Path, fake_llm_server: FakeLLMServer) -> None:
    flags, env = online(fake_llm_server)
    ran = plan("draft", "brief.md", *flags, "--out", "plans/plan.json", env=env)
    assert ran.code == 2 and "name a .md file" in ran.error()
    assert fake_llm_server.requests == []


def test_a_file_in_the_way_of_the_output_folder(repo: Path, fake_llm_server: FakeLLMServer) -> None:
    (repo / "plans").write_text("not a folder")
    flags, env = online(fake_llm_server)
    ran = plan("draft", "brief.md", *flags, "--out", "plans/feature/plan.md", env=env)
    assert ran.code == 2 and "is a file, where a directory" in ran.error()
    assert fake_llm_server.requests == []


def test_an_output_folder_that_cannot_be_written(repo: Path, fake_llm_server: FakeLLMServer,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    (repo / "locked").mkdir()
    real_access = os.access
    # Tests run as root here, for whom chmod 555 stops nothing; the OS's answer is what is replaced.
    monkeypatch.setattr(os, "access", lambda path, mode: False if Path(path).resolve() == repo / "locked" else real_access(path, mode))
    flags, env = online(fake_llm_server)
    ran = plan("draft", "brief.md", *flags, "--out", "locked/plan.md", env=env)
    assert ran.code == 2 and "permission denied" in ran.error()
    assert fake_llm_server.requests == []


def test_a_read_only_report_is_found_before_any_call(repo: Path, fake_llm_server: FakeLLMServer,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    (repo / "plan.md").write_text("old plan\n")
    (repo / "plan.json").write_text("{}\n")
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode: False if Path(path).name == "plan.json" else real_access(path, mode))
    flags, env = online(fake_llm_server)
    ran = plan("draft", "brief.md", *flags, "--out", "plan.md", "--force", env=env)
    assert ran.code == 2 and "plan.json: is read-only" in ran.error()
    assert fake_llm_server.requests == []
    assert (repo / "plan.md").read_text() == "old plan\n"


def test_an_existing_plan_is_kept_without_force_and_nothing_is_asked(repo: Path, fake_llm_server: FakeLLMServer) -> None:
    (repo / "plan.md").write_text("mine\n")
    flags, env = online(fake_llm_server)
    ran = plan("draft", "brief.md", *flags, "--out", "plan.md", env=env)
    assert ran.code == 2 and "--force" in ran.error()
    assert (repo / "plan.md").read_text() == "mine\n" and fake_llm_server.requests == []


def test_a_full_disk_leaves_the_old_pair_untouched(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert plan("draft", "brief.md", "--model", "offline", "--out", "plan.md").code == 3
    before = tree(repo)
    real_fsync, calls = os.fsync, []

    def full(handle: int) -> None:  # the second file (plan.json) hits a full disk
        calls.append(handle)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(handle)

    monkeypatch.setattr(os, "fsync", full)
    (repo / "brief.md").write_text("# Another feature\n\n- Something else entirely\n")
    ran = plan("draft", "brief.md", "--model", "offline", "--out", "plan.md", "--force")

    assert ran.code == 1
    assert "No space left on device; nothing was changed" in ran.error()
    assert {k: v for k, v in tree(repo).items() if k != "brief.md"} == {k: v for k, v in before.items() if k != "brief.md"}


def test_modes_are_kept_and_new_files_follow_the_umask(repo: Path) -> None:
    old = os.umask(0o027)
    try:
        assert plan("draft", "brief.md", "--model", "offline", "--out", "new/plan.md").code == 3
        assert stat.S_IMODE((repo / "new/plan.md").stat().st_mode) == 0o640
        os.chmod(repo / "new/plan.md", 0o604)
        os.chmod(repo / "new/plan.json", 0o600)
        assert plan("draft", "brief.md", "--model", "offline", "--out", "new/plan.md", "--force").code == 3
    finally:
        os.umask(old)
    assert stat.S_IMODE((repo / "new/plan.md").stat().st_mode) == 0o604
    assert stat.S_IMODE((repo / "new/plan.json").stat().st_mode) == 0o600


def test_a_symlinked_plan_is_written_through(repo: Path) -> None:
    (repo / "shared").mkdir()
    (repo / "shared" / "plan.md").write_text("old\n")
    (repo / "plan.md").symlink_to(repo / "shared" / "plan.md")

    assert plan("draft", "brief.md", "--model", "offline", "--out", "plan.md", "--force").code == 3

    assert (repo / "plan.md").is_symlink()
    assert "Invoice export" in (repo / "shared" / "plan.md").read_text()


def test_two_drafts_of_one_plan_never_both_claim_success(repo: Path) -> None:
    held = Held()
    with FakeLLMServer(handler=held) as server:
        env = {**CLEAN_ENV, "OPENAI_API_KEY": "sk-test"}
        args = [*PLAN, "draft", "brief.md", "--model", "openai:test", "--base-url", server.openai_base_url,
                "--out", "plan.md", "--template", "compact", "--no-review"]
        first = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 20
        while not server.requests and time.monotonic() < deadline:  # the first one is drafting
            time.sleep(0.05)
        ran = plan("draft", "brief.md", "--model", "openai:test", "--base-url", server.openai_base_url,
                   "--out", "plan.md", "--force", env={"OPENAI_API_KEY": "sk-test"})
        held.released.set()
        first_code = first.wait(timeout=120)
    assert ran.code == 2 and "another `plan` is writing this plan" in ran.error()
    assert first_code in (0, 3)
    assert json.loads((repo / "plan.json").read_text())["report"]["plan_path"] == "plan.md"
    assert not list(repo.glob(".plan.md.lock")) and not list(repo.glob(".*.tmp"))


def test_two_revisions_of_one_plan_never_both_claim_success(repo: Path) -> None:
    assert plan("draft", "brief.md", "--model", "offline", "--template", "compact", "--out", "plan.md").code == 3
    held = Held()
    with FakeLLMServer(handler=held) as server:
        env = {**CLEAN_ENV, "OPENAI_API_KEY": "sk-test"}
        args = [*PLAN, "revise", "plan.md", "--section", "goal", "--model", "openai:test",
                "--base-url", server.openai_base_url]
        first = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 20
        while not server.requests and time.monotonic() < deadline:
            time.sleep(0.05)
        ran = plan("revise", "plan.md", "--section", "tests", "--model", "openai:test",
                   "--base-url", server.openai_base_url, env={"OPENAI_API_KEY": "sk-test"})
        held.released.set()
        first_code = first.wait(timeout=120)
    assert ran.code == 2 and "another `plan` is writing this plan" in ran.error()
    assert first_code in (0, 3)
    assert json.loads((repo / "plan.json").read_text())["revisions"][0]["revised"] == ["goal"]


def test_revise_with_a_corrupt_record_changes_nothing(repo: Path, fake_llm_server: FakeLLMServer) -> None:
    assert plan("draft", "brief.md", "--model", "offline", "--template", "compact", "--out", "plan.md").code == 3
    (repo / "plan.json").write_text('{"template": "compact", "plan": ')
    before = tree(repo)
    flags, env = online(fake_llm_server)

    ran = plan("revise", "plan.md", "--section", "goal", *flags, env=env)

    assert ran.code == 2 and "fix or delete plan.json" in ran.error()
    assert tree(repo) == before and fake_llm_server.requests == []


def test_a_failed_draft_leaves_no_empty_folder(repo: Path) -> None:
    ran = plan("draft", "brief.md", "--model", "openai:test", env={"OPENAI_API_KEY": ""})
    assert ran.code == 1
    assert not (repo / "implementation-plans").exists()


def test_a_rename_that_fails_half_way_is_undone(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert plan("draft", "brief.md", "--model", "offline", "--out", "plan.md").code == 3
    before = tree(repo)
    real_replace, calls = os.replace, []

    def second_fails(source: str, target: str) -> None:  # plan.md renamed, then plan.json cannot be
        calls.append(target)
        if len(calls) == 2:
            raise OSError(errno.EIO, "Input/output error")
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", second_fails)
    (repo / "brief.md").write_text(BRIEF)
    ran = plan("draft", "brief.md", "--model", "offline", "--template", "compact", "--out", "plan.md", "--force")

    assert ran.code == 1 and "Input/output error; nothing was changed" in ran.error()
    assert tree(repo) == before


def test_a_symlink_to_nothing_is_not_followed(repo: Path, tmp_path: Path) -> None:
    (repo / "out").mkdir()
    (repo / "out" / "plan.md").symlink_to(tmp_path / "elsewhere" / "deep" / "stolen.md")
    ran = plan("draft", "brief.md", "--model", "offline", "--out", "out/")
    assert ran.code == 2 and "symbolic link to a missing file" in ran.error()
    assert not (tmp_path / "elsewhere").exists()


def test_one_plan_reached_by_two_names_is_still_locked(repo: Path) -> None:
    (repo / "alias").symlink_to(repo)
    held = Held()
    with FakeLLMServer(handler=held) as server:
        env = {**CLEAN_ENV, "OPENAI_API_KEY": "sk-test"}
        first = subprocess.Popen([*PLAN, "draft", "brief.md", "--model", "openai:test", "--base-url",
                                  server.openai_base_url, "--out", "plan.md", "--template", "compact", "--no-review"],
                                 env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 20
        while not server.requests and time.monotonic() < deadline:
            time.sleep(0.05)
        ran = plan("draft", "brief.md", "--model", "openai:test", "--base-url", server.openai_base_url,
                   "--out", "alias/plan.md", "--force", env={"OPENAI_API_KEY": "sk-test"})
        held.released.set()
        first.wait(timeout=120)
    assert ran.code == 2 and "another `plan` is writing this plan" in ran.error()


def test_json_report_with_standard_output_closed(repo: Path) -> None:
    done = subprocess.run(" ".join([*(f"'{part}'" for part in PLAN), "draft", "brief.md", "--model", "offline",
                                    "--format", "json", ">&-"]), shell=True, cwd=repo, env=CLEAN_ENV,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1] == "plan: error: cannot write the output: standard output is closed"


def test_a_busy_plan_is_refused_before_the_repository_is_read(repo: Path) -> None:
    """The lock is taken first: a second draft of a plan being written is refused at once, not after it has
    built a repository context it cannot use (here the repository does not even exist)."""
    from agent.output import plan_lock

    with plan_lock(repo / "plan.md"):
        ran = plan("draft", "brief.md", "--out", "plan.md", "--repo", str(repo / "missing"), "--model", "offline")

    assert ran.code == 2 and "another `plan` is writing this plan" in ran.error()

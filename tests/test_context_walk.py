"""The walk: git listing with untracked files, .gitignore without git, and files that must not be read."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from context_support import PYTHON_REPO, git, git_repo, write_tree

import agent.context.read
from agent.context import build_context
from agent.context.paths import skip_reason
from agent.context.walk import list_files
from agent.errors import InputError


def cut_reasons(repo: Path, brief: str = "anything") -> dict[str, str]:
    return {item.path: item.reason for item in build_context(repo, brief).manifest.cut}


def test_git_listing_adds_untracked_files_and_leaves_out_ignored_ones(tmp_path: Path) -> None:
    repo = git_repo(
        tmp_path / "repo",
        {**PYTHON_REPO, ".gitignore": "node_modules/\n*.tmp\n"},
        untracked={"shop/new_module.py": "x = 1\n", "scratch.tmp": "ignored\n", "node_modules/lib/index.js": "1\n"},
    )
    listing = list_files(repo)
    assert listing.is_git
    assert "shop/billing/invoices.py" in listing.paths
    assert "shop/new_module.py" in listing.paths
    assert "scratch.tmp" not in listing.paths
    assert not any(path.startswith("node_modules/") for path in listing.paths)
    assert list(listing.paths) == sorted(listing.paths)


def test_a_directory_without_git_honours_nested_gitignore_files(tmp_path: Path) -> None:
    repo = write_tree(tmp_path / "plain", {
        ".gitignore": "build/\n*.tmp\n",
        "app.py": "print('hi')\n",
        "build/out.js": "generated\n",
        "notes.tmp": "scratch\n",
        "sub/.gitignore": "!keep.tmp\nlocal.txt\n",
        "sub/keep.tmp": "kept by the deeper rule\n",
        "sub/local.txt": "ignored only here\n",
        "local.txt": "not ignored at the root\n",
        "node_modules/pkg/index.js": "vendored\n",
    })
    ctx = build_context(repo, "print a greeting")
    assert not ctx.is_git
    assert {"app.py", "sub/keep.tmp", "local.txt", ".gitignore"} <= ctx.tracked_paths
    assert not {"build/out.js", "notes.tmp", "sub/local.txt", "node_modules/pkg/index.js"} & ctx.tracked_paths


def test_an_empty_git_repository_gives_an_empty_but_well_formed_context(tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "empty", {})
    ctx = build_context(repo, "Add a login page")
    assert ctx.is_git
    assert ctx.tracked_paths == frozenset()
    assert ctx.ranked == ()
    assert ctx.prompt_text.startswith("<repository_context>\n")
    assert ctx.prompt_text.endswith("</repository_context>\n")
    assert ctx.stack.languages == ()


def test_an_empty_plain_directory_works_too(tmp_path: Path) -> None:
    (tmp_path / "nothing").mkdir()
    ctx = build_context(tmp_path / "nothing", "Add a login page")
    assert not ctx.is_git and ctx.tracked_paths == frozenset()


def test_binaries_and_huge_files_are_listed_but_never_read(tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "repo", {
        **PYTHON_REPO,
        "assets/logo.png": b"\x89PNG\r\n\x1a\n" + os.urandom(2048),
        "tools/compiled": b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 512,  # binary without a telling extension
        "data/huge.json": '{"rows": [' + ",".join(["1"] * 400_000) + "]}\n",
        "logs/server.log": "GET /invoices 200\n" * 1000,
    })
    ctx = build_context(repo, "Read the compiled tool and the huge json data")
    assert {"assets/logo.png", "tools/compiled", "data/huge.json", "logs/server.log"} <= ctx.tracked_paths
    reasons = {item.path: item.reason for item in ctx.manifest.cut}
    assert reasons["tools/compiled"] == "binary"
    assert reasons["data/huge.json"] == "too large"
    assert ctx.manifest.skipped == {"binary": 1, "log": 1}
    assert "ELF" not in ctx.prompt_text and "400000" not in ctx.prompt_text


def test_symlink_loops_do_not_hang_and_links_leading_outside_are_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("private text outside the repository\n")
    repo = git_repo(tmp_path / "repo", PYTHON_REPO)
    os.symlink("b", repo / "a")
    os.symlink("a", repo / "b")
    os.symlink(".", repo / "loop")
    os.symlink(outside, repo / "shop" / "outside_link.txt")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "links")
    ctx = build_context(repo, "outside link loop")
    assert {"a", "b", "loop", "shop/outside_link.txt"} <= ctx.tracked_paths
    reasons = {item.path: item.reason for item in ctx.manifest.cut}
    assert reasons["a"] == "symlink loop"
    assert reasons["shop/outside_link.txt"] == "symlink outside the repository"
    assert "private text" not in ctx.prompt_text


def test_the_plain_walk_lists_a_directory_symlink_without_entering_it(tmp_path: Path) -> None:
    repo = write_tree(tmp_path / "plain", {"src/app.py": "x = 1\n"})
    os.symlink(".", repo / "src" / "loop")
    os.symlink("missing", repo / "dangling")
    listing = list_files(repo)
    assert listing.paths == ("dangling", "src/app.py", "src/loop")


def test_an_unreadable_file_is_cut_with_a_reason_and_the_rest_still_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = git_repo(tmp_path / "repo", {**PYTHON_REPO, "shop/locked.py": "LOCKED = True\n"})
    (repo / "shop" / "locked.py").chmod(0)
    if os.geteuid() == 0:  # root reads through chmod 000, so simulate the refusal at the open call
        real_open = open

        def refusing_open(file: object, *args: object, **kwargs: object) -> object:
            if str(file).endswith("locked.py"):
                raise PermissionError(13, "Permission denied", str(file))
            return real_open(file, *args, **kwargs)  # type: ignore[call-overload]

        monkeypatch.setattr(agent.context.read, "open", refusing_open, raising=False)
    try:
        ctx = build_context(repo, "Make shop/locked.py configurable")
    finally:
        (repo / "shop" / "locked.py").chmod(0o644)
    assert "shop/locked.py" in ctx.tracked_paths
    assert {item.path: item.reason for item in ctx.manifest.cut}["shop/locked.py"].startswith("unreadable")
    assert ctx.ranked and ctx.ranked[0].path != "shop/locked.py"


def test_a_missing_or_non_directory_repo_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such directory"):
        build_context(tmp_path / "nope", "brief")
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(InputError, match="not a directory"):
        build_context(tmp_path / "file.txt", "brief")


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("node_modules/react/index.js", "vendored"),
        ("vendor/github.com/x/y.go", "vendored"),
        ("dist/bundle.js", "generated"),
        ("static/app.min.js", "generated"),
        ("package-lock.json", "lock file"),
        ("poetry.lock", "lock file"),
        ("img/photo.JPG", "binary"),
        ("logs/app.log", "log"),
        (".env", "secret file"),
        ("config/.env.production", "secret file"),
        ("deploy/id_ed25519", "secret file"),
        ("certs/server.pem", "secret file"),
        ("home/.aws/credentials", "secret file"),
        (".npmrc", "secret file"),
        ("src/app.py", None),
        ("src/build.py", None),
        ("Makefile", None),
    ],
)
def test_paths_are_triaged_by_name(path: str, reason: str | None) -> None:
    assert skip_reason(path) == reason


def test_a_symlink_to_a_secret_file_inside_the_repository_is_not_followed(tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "repo", PYTHON_REPO, untracked={".env": "TOKEN=do-not-send-this-value\n"})
    os.symlink("../.env", repo / "shop" / "env_link.txt")
    ctx = build_context(repo, "Read shop/env_link.txt")
    assert cut_reasons(repo, "Read shop/env_link.txt")["shop/env_link.txt"] == (
        "symlink to a file that is not read (secret file)"
    )
    assert "do-not-send-this-value" not in ctx.prompt_text

"""The file list: every tracked path, compact, within its share of the budget, counted when it cannot all fit."""

from __future__ import annotations

from pathlib import Path

from context_support import PYTHON_REPO, git_repo

from agent.context import build_context


def tree_text(prompt_text: str) -> str:
    return prompt_text.split("## Files (", 1)[1].split("\n\n", 1)[0]


def test_every_tracked_path_is_listed(tmp_path: Path) -> None:
    ctx = build_context(git_repo(tmp_path / "repo", PYTHON_REPO), "Invoices")
    tree = tree_text(ctx.prompt_text)
    for path in PYTHON_REPO:
        directory, _, name = path.rpartition("/")
        line = next(line for line in tree.splitlines() if line.startswith(f"{directory}/  " if directory else "./  "))
        assert name in line.split()[1:], path


def test_a_huge_list_is_cut_to_its_share_of_the_budget_with_a_count(tmp_path: Path) -> None:
    files = {f"pkg/area_{i // 40:03}/module_{i:05}.py": "" for i in range(4_000)}
    files["node_modules/left-pad/index.js"] = "module.exports = 1;\n"
    ctx = build_context(git_repo(tmp_path / "repo", files), "Module", budget_tokens=4_000)
    tree = tree_text(ctx.prompt_text)
    assert len(tree) <= 4_000 // 6 * 4
    assert "node_modules/  (1 files, not read)" in tree or "more files in" in tree
    listed = sum(len(line.split()) - 1 for line in tree.splitlines()[1:] if not line.startswith("…"))
    left = int(tree.splitlines()[-1].split()[1].replace(",", ""))
    assert tree.splitlines()[-1].startswith("… ") and listed + left >= 4_000


def test_unread_folders_are_one_count_each(tmp_path: Path) -> None:
    files = {**PYTHON_REPO, **{f"node_modules/pkg{i}/index.js": "x\n" for i in range(50)}}
    ctx = build_context(git_repo(tmp_path / "repo", files), "Invoices")
    tree = tree_text(ctx.prompt_text)
    assert "node_modules/  (50 files, not read)" in tree
    assert "pkg7" not in tree

"""The token budget: never exceeded, and what did not fit is listed in the manifest."""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path

import pytest
from context_support import PYTHON_REPO, git_repo

from agent.context import RepoContext, build_context, estimate_tokens
from agent.errors import InputError


def big_repo(root: Path) -> Path:
    modules = {
        f"shop/module_{i}.py": "\n".join(f"def invoice_step_{i}_{j}(value: int) -> int:\n    return value + {j}\n"
                                         for j in range(40))
        for i in range(12)
    }
    return git_repo(root, {**PYTHON_REPO, **modules})


def test_estimate_tokens_is_about_four_characters_a_token() -> None:
    assert estimate_tokens("") == 0
    assert estimate_tokens("abcd") == 1
    assert estimate_tokens("abcde") == 2
    assert estimate_tokens("x" * 4000) == 1000


@pytest.mark.parametrize("budget", [256, 600, 2_000, 5_000, 12_000])
def test_the_budget_is_never_exceeded(tmp_path: Path, budget: int) -> None:
    ctx = build_context(big_repo(tmp_path / "repo"), "Change every invoice step", budget_tokens=budget)
    assert ctx.tokens_used == estimate_tokens(ctx.prompt_text) <= budget
    assert ctx.budget_tokens == budget


def test_what_did_not_fit_is_listed_as_cut_with_its_reason(tmp_path: Path) -> None:
    ctx = build_context(big_repo(tmp_path / "repo"), "Change every invoice step", budget_tokens=1_500)
    over = [item for item in ctx.manifest.cut if item.reason == "over budget"]
    assert over, "a 1,500-token budget cannot hold twelve 40-function modules"
    included_paths = {(item.kind, item.path) for item in ctx.manifest.included}
    assert not any((item.kind, item.path) in included_paths for item in over)
    assert sum(item.tokens for item in ctx.manifest.included) <= ctx.tokens_used


def test_the_manifest_adds_up_to_the_prompt(tmp_path: Path) -> None:
    ctx = build_context(big_repo(tmp_path / "repo"), "Change every invoice step")
    kinds = [item.kind for item in ctx.manifest.included]
    assert kinds[:3] == ["readme", "stack", "tree"]
    assert {"outline", "excerpt"} <= set(kinds)
    for item in ctx.manifest.included:
        if item.path:
            assert item.path in ctx.prompt_text


def test_a_budget_too_small_to_hold_anything_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="--context-tokens"):
        build_context(git_repo(tmp_path / "repo", PYTHON_REPO), "brief", budget_tokens=10)


def test_importing_the_package_loads_no_heavy_library() -> None:
    code = (
        "import sys, agent.context; "
        "heavy = {'bm25s', 'numpy', 'detect_secrets', 'Stemmer', 'pathspec'} & set(sys.modules); "
        "print(sorted(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def module(index: int) -> str:
    return "\n".join(f"def invoice_total_{index}_{j}(value: int) -> int:\n    return value + {j}\n" for j in range(25))


def many_modules(root: Path, count: int = 40) -> Path:
    return git_repo(root, {**PYTHON_REPO, **{f"shop/invoices/step_{i:02}.py": module(i) for i in range(count)}})


def sent_files(ctx: RepoContext) -> set[str]:
    return {item.path for item in ctx.manifest.included if item.kind in ("outline", "excerpt") and item.path}


def test_no_fixed_file_cap_the_budget_decides(tmp_path: Path) -> None:
    repo = many_modules(tmp_path / "repo")
    small = build_context(repo, "Change how an invoice total is computed", budget_tokens=4_000)
    large = build_context(repo, "Change how an invoice total is computed", budget_tokens=30_000)
    assert len(sent_files(large)) > 30 > len(sent_files(small))  # more than the 20 outlines there once were
    assert large.budget_tokens - large.tokens_used < 500 or len(sent_files(large)) == len(large.tracked_paths) - 2


def test_a_larger_budget_sends_every_file_a_smaller_one_does(tmp_path: Path) -> None:
    # One folder's line of the file list is about 1,000 tokens: the budget at which it first fits must not
    # leave less room for files than a slightly smaller one did. The README is cut short at every budget too.
    images = {f"assets/image_{i:03}.png": "" for i in range(300)}
    readme = {"README.md": "# Shop\n\n" + "A line about invoices and the shop's billing totals.\n" * 400}
    modules = {f"shop/invoices/step_{i:02}.py": module(i) for i in range(40)}
    repo = git_repo(tmp_path / "repo", {**PYTHON_REPO, **images, **readme, **modules})
    sent = [sent_files(build_context(repo, "Change how an invoice total is computed", budget_tokens=budget))
            for budget in range(6_000, 7_400, 70)]
    for smaller, larger in itertools.pairwise(sent):
        assert smaller <= larger
    assert len(sent[0]) < len(sent[-1])


def test_the_section_that_does_not_fit_goes_in_shortened_and_the_rest_is_listed_as_cut(tmp_path: Path) -> None:
    ctx = build_context(many_modules(tmp_path / "repo"), "Change how an invoice total is computed", budget_tokens=2_000)
    assert ctx.budget_tokens - ctx.tokens_used < 150  # the budget is spent, not left over
    last = ctx.manifest.included[-1]
    cut = {(item.kind, item.path) for item in ctx.manifest.cut if item.reason == "over budget"}
    assert cut and (last.kind, last.path) not in cut

"""Ranking against the brief: named paths first, then named symbols and content, deterministically."""

from __future__ import annotations

from pathlib import Path

from context_support import PYTHON_REPO, TYPESCRIPT_REPO, git_repo

from agent.context import build_context, to_json
from agent.context.rank import brief_terms, named_identifiers, named_paths


def test_the_file_the_brief_names_comes_first(tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "py", PYTHON_REPO)
    ctx = build_context(repo, "Add rate limiting to shop/billing/payments.py")
    assert ctx.ranked[0].path == "shop/billing/payments.py"
    assert ctx.ranked[0].named_in_brief
    assert not any(file.named_in_brief for file in ctx.ranked[1:])


def test_content_and_stemming_find_the_file_when_no_path_is_named(tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "py", PYTHON_REPO)
    ctx = build_context(repo, "Users who forgot their passwords get a reset email")
    assert ctx.ranked[0].path == "shop/users/accounts.py"


def test_an_identifier_the_brief_names_lifts_the_file_that_defines_it(tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "ts", TYPESCRIPT_REPO)
    ctx = build_context(repo, "Let support staff call `cancelOrder` from the admin screen")
    assert ctx.ranked[0].path == "src/orders/OrderService.ts"


def test_the_same_repository_and_brief_give_byte_identical_context(tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "py", PYTHON_REPO)
    first = build_context(repo, "Add rate limiting to invoice creation")
    second = build_context(repo, "Add rate limiting to invoice creation")
    assert first.prompt_text == second.prompt_text
    assert to_json(first) == to_json(second)
    assert str(tmp_path) not in first.prompt_text  # where the clone lives must not change the prompt


def test_brief_parsing() -> None:
    brief = "Add retries to `ChargeClient` in billing/client.py and handle_timeout; invoices too."
    assert named_identifiers(brief) == ("ChargeClient", "handle_timeout")
    assert named_paths(brief, ["billing/client.py", "other/client.py", "client.py.bak"]) == {"billing/client.py"}
    assert "invoic" in brief_terms(brief) and "add" not in brief_terms(brief)


def test_a_named_directory_and_a_path_with_a_line_number_are_understood(tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "py", PYTHON_REPO)
    ctx = build_context(repo, "Tidy everything under shop/users/ please")
    assert ctx.ranked[0].path == "shop/users/accounts.py"
    ctx = build_context(repo, "The bug is at shop/billing/payments.py:2, in the print call")
    assert ctx.ranked[0].path == "shop/billing/payments.py" and ctx.ranked[0].named_in_brief


def test_path_scores_are_bm25_as_bm25s_computes_them() -> None:
    """The ranking was tuned with bm25s's scores; ours count only the query's terms, and must agree."""
    import random

    import bm25s
    import pytest

    from agent.context.rank import _bm25_scores

    chooser = random.Random(7)
    vocabulary = [f"w{i}" for i in range(200)]
    documents = [[chooser.choice(vocabulary) for _ in range(chooser.randint(0, 10))] for _ in range(1500)]
    query = (*(chooser.choice(vocabulary) for _ in range(5)), "absent")
    reference = bm25s.BM25()
    reference.index(documents, show_progress=False)
    expected = [float(score) for score in reference.get_scores(list(query))]

    assert _bm25_scores(documents, query) == pytest.approx(expected, abs=1e-5)


def test_the_stop_words_are_the_ones_bm25s_tokenizes_with() -> None:
    from bm25s.stopwords import STOPWORDS_EN

    from agent.context.rank import STOPWORDS

    assert frozenset(STOPWORDS_EN) == STOPWORDS

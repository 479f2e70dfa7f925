"""Ranking by role: the source a change lands in comes before docs, CI files, vendored copies and fixture
projects that share its words, tests sit beside the source they exercise, and imports pull in neighbours."""

from __future__ import annotations

from pathlib import Path

from context_support import git_repo

from agent.context import build_context
from agent.context.roles import Roles, subject_keys, subjects_tested

SHOP = {
    "shop/__init__.py": "",
    "shop/refunds.py": (
        "from shop.ledger import post_entry\n\n\n"
        "def refund_order(order_id: int, amount: float) -> None:\n"
        "    '''Refund part of an order.'''\n"
        "    post_entry(order_id, -amount)\n"
    ),
    "shop/ledger.py": "def post_entry(account: int, value: float) -> None:\n    print(account, value)\n",
    "shop/catalog.py": "def list_products() -> list[str]:\n    return ['hat', 'scarf']\n",
    "tests/test_refunds.py": "from shop.refunds import refund_order\n\n\ndef test_refund_order() -> None:\n"
                             "    refund_order(1, 2.0)\n",
    "docs/refunds.md": "# Refunds\n\nRefunds refund an order. A partial refund refunds part of an order amount.\n"
                       "Refund refund refund order order.\n",
    "CHANGELOG.md": "# Changelog\n\n- Refunds: partial refund of an order amount.\n",
    ".github/workflows/refund-check.yml": "name: refund order check\non: push\n",
    ".gitmodules": '[submodule "refund"]\n\tpath = third\n\turl = https://github.com/acme/shop\n',
    "shop/packages/refundlib/__init__.py": "def refund_order(order: int, amount: float) -> None:\n    pass\n",
    "shop/packages/refundlib/LICENSE": "MIT License (refund order amount)\n",
    "examples/refund-app/pyproject.toml": '[project]\nname = "refund-app"\n',
    "examples/refund-app/app.py": "def refund_order(order: int, amount: float) -> None:\n    pass\n",
}


def ranked_paths(repo: Path, brief: str) -> list[str]:
    return [file.path for file in build_context(repo, brief).ranked]


def test_source_comes_before_docs_changelogs_ci_vendored_copies_and_example_projects(tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "shop", SHOP)
    ranked = ranked_paths(repo, "Refund part of an order amount")
    assert ranked[0] == "shop/refunds.py"
    for other in ("docs/refunds.md", "CHANGELOG.md", ".github/workflows/refund-check.yml",
                  "shop/packages/refundlib/__init__.py", "examples/refund-app/app.py"):
        assert ranked.index(other) > ranked.index("shop/refunds.py"), other


def test_a_brief_about_docs_lifts_the_docs(tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "shop", SHOP)
    def docs_share(brief: str) -> float:
        ranked = build_context(repo, brief).ranked
        return next(f.score for f in ranked if f.path == "docs/refunds.md") / ranked[0].score

    assert docs_share("Document how to refund part of an order amount in the docs") > docs_share(
        "Refund part of an order amount")


def test_a_named_docs_page_does_not_outrank_the_module_it_documents(tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "shop", SHOP)
    ranked = ranked_paths(repo, "Partial refunds of an order amount (see docs/refunds.md) round the wrong way")
    assert ranked.index("shop/refunds.py") < ranked.index("docs/refunds.md")
    assert "docs/refunds.md" in ranked[:5]  # still near the top: the brief did name it


def test_a_link_to_the_issue_matches_no_file_but_a_link_to_a_file_names_it(tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "shop", SHOP)
    ranked = ranked_paths(repo, "Refunds fail, see https://github.com/acme/shop/issues/12 for the report")
    assert ranked.index(".gitmodules") > ranked.index("shop/refunds.py")
    linked = build_context(repo, "Broken: https://github.com/acme/shop/blob/main/shop/catalog.py#L2")
    assert linked.ranked[0].path == "shop/catalog.py" and linked.ranked[0].named_in_brief


def test_roles_of_paths() -> None:
    roles = Roles.of(list(SHOP))
    assert roles.role("shop/refunds.py") == "source"
    assert roles.role("tests/test_refunds.py") == "test"
    assert roles.role("docs/refunds.md") == roles.role("CHANGELOG.md") == "docs"
    assert roles.role(".github/workflows/refund-check.yml") == roles.role(".gitmodules") == "config"
    # A licensed package inside another Python package is a bundled copy; a project under examples/ is data.
    assert roles.role("shop/packages/refundlib/__init__.py") == "vendored"
    assert roles.role("examples/refund-app/app.py") == "fixture"
    assert roles.role("vendor/lib/x.go") == roles.role("pkg/_vendor/six.py") == "vendored"


def test_tests_are_attached_to_the_source_they_exercise(tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "shop", SHOP)
    ctx = build_context(repo, "Refund part of an order amount")
    refunds = next(file for file in ctx.ranked if file.path == "shop/refunds.py")
    assert refunds.tests == ("tests/test_refunds.py",)
    assert "## shop/refunds.py — outline (6 lines); tests: tests/test_refunds.py" in ctx.prompt_text
    assert ctx.ranked[0].path == "shop/refunds.py"  # the test shares every word but does not lead


def test_what_the_best_file_imports_is_lifted_by_one_hop(tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "shop", SHOP)
    ranked = ranked_paths(repo, "Refund part of an order amount")
    # ledger.py shares no word with the brief; refunds.py imports it, and catalog.py is unrelated.
    assert ranked.index("shop/ledger.py") < ranked.index("shop/catalog.py")
    score = {file.path: file.score for file in build_context(repo, "Refund part of an order amount").ranked}
    assert score["shop/ledger.py"] > score["shop/catalog.py"]


def test_relative_imports_in_scripts_count_as_a_hop(tmp_path: Path) -> None:
    files = {
        "src/checkout.ts": "import { total } from './money/sum';\n\nexport function checkoutBasket() { return total(); }\n",
        "src/money/sum.ts": "export function total(): number { return 0; }\n",
        "src/profile.ts": "export function avatar(): string { return ''; }\n",
    }
    ranked = ranked_paths(git_repo(tmp_path / "web", files), "Checkout basket should refuse an empty basket")
    assert ranked[0] == "src/checkout.ts"
    assert ranked.index("src/money/sum.ts") < ranked.index("src/profile.ts")


def test_bundled_copies_inside_a_python_package_are_vendored() -> None:
    paths = ["requests/__init__.py", "requests/models.py", "requests/packages/__init__.py",
             "requests/packages/urllib3/__init__.py", "requests/packages/urllib3/response.py",
             "pkg/__init__.py", "pkg/lib/six/setup.py", "pkg/lib/six/six.py", "packages/web/src/index.ts"]
    roles = Roles.of(paths)
    assert roles.role("requests/packages/urllib3/response.py") == "vendored"
    assert roles.role("pkg/lib/six/six.py") == "vendored"
    assert roles.role("requests/models.py") == roles.role("packages/web/src/index.ts") == "source"


def test_tests_are_matched_to_their_subject_in_several_languages() -> None:
    paths = ["agent/context/rank.py", "tests/test_context_rank.py", "tests/test_rank.py", "pkg/store/store.go",
             "pkg/store/store_test.go", "web/src/cart.ts", "web/src/cart.spec.ts", "src/main/java/Order.java",
             "src/test/java/OrderTest.java", "lib/user.rb", "spec/user_spec.rb"]
    tests = subjects_tested(paths, Roles.of(paths))
    for source, test in [("agent/context/rank.py", "tests/test_context_rank.py"), ("pkg/store/store.go",
                         "pkg/store/store_test.go"), ("web/src/cart.ts", "web/src/cart.spec.ts"),
                         ("src/main/java/Order.java", "src/test/java/OrderTest.java"), ("lib/user.rb", "spec/user_spec.rb")]:
        # the most specific name wins: context_rank before rank
        key = next(key for key in reversed(subject_keys(source)) if key in tests)
        assert tests[key] == [test], source

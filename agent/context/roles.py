"""What part a file plays in its repository (source, test, docs, config, vendored, fixture), from paths alone.

The ranking weighs a file by its role: a change lands in source, so docs, changelogs, CI files, vendored
copies and fixture projects give way to it unless the brief is about them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from agent.context.manifests import is_manifest

SOURCE, TEST, DOCS, CONFIG, VENDORED, FIXTURE, OTHER = "source", "test", "docs", "config", "vendored", "fixture", "other"
# Measured on bench/bench_context_history.py: low enough that source outranks a page about the same words.
WEIGHTS = {SOURCE: 1.0, TEST: 0.45, DOCS: 0.35, CONFIG: 0.35, VENDORED: 0.2, FIXTURE: 0.3, OTHER: 0.6}
# Words that make a brief about a role, so that role keeps its full weight.
ABOUT = {
    TEST: frozenset("test tests testing pytest unittest coverage flaky jest vitest rspec spec specs".split()),
    DOCS: frozenset("doc docs documentation documented document readme changelog guide tutorial".split()),
    CONFIG: frozenset("ci workflow workflows pipeline pre-commit tox dependency dependencies bump lockfile".split()),
    VENDORED: frozenset("vendor vendored bundled upstream".split()),
    FIXTURE: frozenset("example examples fixture fixtures sample samples demo".split()),
}
CODE_EXTENSIONS = frozenset("""
    py pyi js jsx mjs cjs ts tsx mts go rs java kt kts scala rb php cs fs swift m mm dart ex exs erl clj hs
    lua r jl c h cc cpp cxx hpp sh bash sql vue svelte html htm css scss sass less proto graphql tf hcl
    erb haml jinja j2 tmpl
""".split())
DOC_EXTENSIONS = frozenset("md markdown rst txt adoc asciidoc org tex".split())
DOC_NAMES = re.compile(r"^(changelog|changes|history|news|authors|contributors|contributing|license|licence|copying"
                       r"|notice|code_of_conduct|security|releasing|release-notes)(\.|$)", re.IGNORECASE)
DOC_DIRECTORIES = frozenset({"docs", "doc", "documentation", "man", "site", "website", "changelog.d", "newsfragments"})
TEST_DIRECTORIES = frozenset({"tests", "test", "__tests__", "spec", "specs", "testing", "e2e"})
FIXTURE_DIRECTORIES = frozenset({
    "fixtures", "fixture", "__fixtures__", "testdata", "test_data", "__snapshots__", "cassettes",
    "examples", "example", "samples", "sample", "demo", "demos",
})
# Folders whose nested projects (a folder with its own manifest) are data for tests, evals or benchmarks.
DATA_HOLDERS = TEST_DIRECTORIES | FIXTURE_DIRECTORIES | {"evals", "eval", "benchmarks", "bench"}
VENDORED_DIRECTORIES = frozenset({"_vendor", "vendored", "vendor", "third_party", "thirdparty", "extern"})
CI_DIRECTORIES = frozenset({".github", ".gitlab", ".circleci", ".buildkite", ".ci", ".devcontainer", ".husky"})
CONFIG_EXTENSIONS = frozenset("json yaml yml toml ini cfg conf xml properties lock".split())
_TEST_NAME = re.compile(
    r"^(test_.*\.py|.*_test\.(py|go|rb|exs?)|conftest\.py|.*\.(test|spec)\.[cm]?[jt]sx?|.*Tests?\.(java|kt|cs|swift)"
    r"|.*_spec\.rb|.*Test\.php)$"
)
_OWN_PROJECT = re.compile(r"^(license|licence|copying)(\.|$)|^(setup\.py|setup\.cfg|pyproject\.toml)$", re.IGNORECASE)
_TEST_AFFIX = re.compile(r"^tests?_|_tests?$|\.(test|spec)$|Tests?$|_spec$")


@dataclass(frozen=True)
class Roles:
    """The repository-wide facts a file's role depends on, gathered from the path list once."""

    vendored_roots: tuple[str, ...]  # "pkg/packages/urllib3/": copies of other projects inside this one
    fixture_roots: tuple[str, ...]  # "tests/data/app/": whole projects kept as test data
    _by_directory: dict[str, str | None] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def of(cls, paths: Sequence[str]) -> Roles:
        files_by_directory: dict[str, set[str]] = {}
        for path in paths:
            directory, _, name = path.rpartition("/")
            files_by_directory.setdefault(directory, set()).add(name)
        vendored, fixtures = [], []
        for directory, names in files_by_directory.items():
            if not directory:
                continue
            # Inside a Python package, a folder with its own licence or setup file, or one called `packages`,
            # holds bundled copies of other projects (requests/packages/urllib3, pip/_vendor).
            if _inside_package(directory, files_by_directory) and (
                directory.rpartition("/")[2] == "packages" or any(_OWN_PROJECT.match(name) for name in names)
            ):
                vendored.append(directory + "/")
            # A project of its own under a test or example folder is test data, whatever its files are.
            elif any(is_manifest(name) for name in names) and not DATA_HOLDERS.isdisjoint(directory.split("/")):
                fixtures.append(directory + "/")
        return cls(tuple(sorted(vendored)), tuple(sorted(fixtures)))

    def role(self, path: str) -> str:
        directory, _, name = path.rpartition("/")
        by_directory = self._directory_role(directory)
        if by_directory in (VENDORED, FIXTURE):
            return by_directory
        if by_directory == TEST or _TEST_NAME.match(name):
            return TEST
        extension = name.rpartition(".")[2].lower() if "." in name else ""
        if by_directory == CONFIG or name.startswith(".") or is_manifest(name) or name in ("Makefile", "Dockerfile"):
            return CONFIG
        if by_directory == DOCS or DOC_NAMES.match(name) or extension in DOC_EXTENSIONS:
            return DOCS
        if extension in CODE_EXTENSIONS:
            return SOURCE
        return CONFIG if extension in CONFIG_EXTENSIONS else OTHER

    def _directory_role(self, directory: str) -> str | None:
        """What a folder alone says, worked out once per folder: 50,000 paths share a few thousand."""
        if directory in self._by_directory:
            return self._by_directory[directory]
        parts = set(directory.split("/")) if directory else set()
        prefix = directory + "/"
        found = None
        if parts & VENDORED_DIRECTORIES or prefix.startswith(self.vendored_roots):
            found = VENDORED
        elif parts & FIXTURE_DIRECTORIES or prefix.startswith(self.fixture_roots):
            found = FIXTURE
        elif parts & TEST_DIRECTORIES:
            found = TEST
        elif parts & CI_DIRECTORIES:
            found = CONFIG
        elif parts & DOC_DIRECTORIES:
            found = DOCS
        self._by_directory[directory] = found
        return found


def _inside_package(directory: str, files_by_directory: dict[str, set[str]]) -> bool:
    parent = directory.rpartition("/")[0]
    while parent:
        if "__init__.py" in files_by_directory.get(parent, ()):
            return True
        parent = parent.rpartition("/")[0]
    return False


def weights_for(brief_words: Iterable[str]) -> dict[str, float]:
    """Each role's weight for this brief: more for the roles the brief is about."""
    words = {word.lower() for word in brief_words}
    # Halfway up, not all the way: "and tests" in a brief about code must not put every test above the code.
    return {role: math.sqrt(weight) if words & ABOUT.get(role, frozenset()) else weight
            for role, weight in WEIGHTS.items()}


def subject_keys(path: str) -> tuple[str, ...]:
    """The names a source file's tests may use: rank, context_rank, agent_context_rank for agent/context/rank.py."""
    parts = [part.lower() for part in path.rpartition(".")[0].split("/")]
    return tuple("_".join(parts[-depth:]) for depth in range(1, min(3, len(parts)) + 1))


def subjects_tested(paths: Iterable[str], roles: Roles) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in paths:
        if _TEST_NAME.match(path.rpartition("/")[2]) and roles.role(path) == TEST:
            # The name a test file's subject goes by: tests/test_context_rank.py -> context_rank.
            stem = path.rpartition("/")[2].rpartition(".")[0]
            subject = _TEST_AFFIX.sub("", stem.removesuffix(".test").removesuffix(".spec")).lower()
            found.setdefault(subject, []).append(path)
    return found

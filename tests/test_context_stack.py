"""Stack facts read from real manifests: languages, dependencies, frameworks, test and lint commands."""

from __future__ import annotations

from pathlib import Path

from context_support import PYTHON_REPO, TYPESCRIPT_REPO, git_repo, write_tree

from agent.context import StackFacts, build_context
from agent.context.stack import detect_stack


def stack_of(root: Path, files: dict[str, str]) -> StackFacts:
    write_tree(root, files)
    paths = sorted(files)
    return detect_stack(root, paths, paths)


def test_a_python_repository(tmp_path: Path) -> None:
    stack = build_context(git_repo(tmp_path / "py", PYTHON_REPO), "anything").stack
    assert stack.languages == ("Python",)
    assert stack.manifests == ("pyproject.toml",)
    assert {"fastapi", "sqlalchemy", "pytest", "ruff"} <= set(stack.dependencies)
    assert stack.test_command == "pytest"
    assert stack.lint_command == "ruff check ."
    assert {"FastAPI", "SQLAlchemy"} <= set(stack.frameworks)


def test_a_typescript_repository(tmp_path: Path) -> None:
    stack = build_context(git_repo(tmp_path / "ts", TYPESCRIPT_REPO), "anything").stack
    assert stack.languages == ("TypeScript",)
    assert stack.test_command == "pnpm test"  # the lock file beside package.json names the runner
    assert stack.lint_command == "pnpm run lint"
    assert {"React", "Express", "Vitest"} <= set(stack.frameworks)


def test_go_rust_and_java_manifests(tmp_path: Path) -> None:
    go = stack_of(tmp_path / "go", {
        "go.mod": "module example.com/api\n\ngo 1.22\n\nrequire (\n\tgithub.com/gin-gonic/gin v1.9.1\n)\n",
        "main.go": "package main\n",
    })
    assert (go.test_command, go.lint_command, go.frameworks) == ("go test ./...", "go vet ./...", ("Gin",))
    rust = stack_of(tmp_path / "rs", {"Cargo.toml": '[package]\nname = "x"\n\n[dependencies]\naxum = "0.7"\n'})
    assert (rust.test_command, rust.frameworks) == ("cargo test", ("Axum",))
    java = stack_of(tmp_path / "java", {
        "pom.xml": "<project><dependencies><dependency><groupId>org.springframework.boot</groupId>"
        "<artifactId>spring-boot-starter-web</artifactId></dependency></dependencies></project>",
        "mvnw": "#!/bin/sh\n",
    })
    assert (java.test_command, java.frameworks) == ("./mvnw test", ("Spring Boot",))


def test_a_makefile_target_outranks_the_language_default(tmp_path: Path) -> None:
    stack = stack_of(tmp_path, {
        "Makefile": "test:\n\tpytest -q\nlint:\n\truff check .\n",
        "pyproject.toml": '[project]\nname = "x"\ndependencies = ["pytest"]\n',
    })
    assert (stack.test_command, stack.lint_command) == ("make test", "make lint")


def test_a_broken_manifest_is_ignored_rather_than_fatal(tmp_path: Path) -> None:
    stack = stack_of(tmp_path, {
        "pyproject.toml": "[project\nname = ",
        "package.json": '{"dependencies": ["not", "a", "mapping"]}',
        "app.py": "x = 1\n",
    })
    assert stack.languages == ("Python",)
    assert stack.test_command is None


def test_manifests_in_vendored_trees_do_not_count(tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "repo", {
        **PYTHON_REPO,
        "vendor/lib/package.json": '{"dependencies": {"left-pad": "1.0.0"}}',
    })
    stack = build_context(repo, "anything").stack
    assert "left-pad" not in stack.dependencies
    assert "vendor/lib/package.json" not in stack.manifests

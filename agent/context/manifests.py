"""Read build manifests (pyproject.toml, package.json, go.mod, Cargo.toml, pom.xml...) into plain facts."""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ManifestFacts:
    language: str
    dependencies: tuple[str, ...] = ()
    test_command: str | None = None
    lint_command: str | None = None


# A manifest parser gets the file's text and the names of the files beside it (lock files, wrappers...).
Parser = Callable[[str, frozenset[str]], ManifestFacts]
_REQUIREMENT_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_NPM_DEFAULT_TEST = "no test specified"


def parser_for(name: str) -> Parser | None:
    if name.startswith("requirements") and name.endswith(".txt"):
        return _requirements
    return _PARSERS.get(name)


def is_manifest(name: str) -> bool:
    return parser_for(name) is not None


def _requirement_names(lines: Iterable[str]) -> tuple[str, ...]:
    names = (_REQUIREMENT_NAME.match(line) for line in lines if not line.lstrip().startswith(("#", "-")))
    return tuple(sorted({match.group(1).lower().replace("_", "-") for match in names if match}))


def _python_commands(names: Iterable[str], tools: Iterable[str], nearby: frozenset[str]) -> tuple[str | None, str | None]:
    signals = set(names) | set(tools) | nearby
    test = "pytest" if signals & {"pytest", "pytest.ini", "conftest.py"} else None
    lint = next((command for tool, command in _PYTHON_LINTERS if tool in signals), None)
    return test, lint


_PYTHON_LINTERS = (("ruff", "ruff check ."), ("ruff.toml", "ruff check ."), ("flake8", "flake8"), ("pylint", "pylint"))


def _pyproject(text: str, nearby: frozenset[str]) -> ManifestFacts:
    data = _toml(text)
    project, tool = data.get("project", {}), data.get("tool", {})
    specs: list[str] = list(project.get("dependencies", []))
    for group in (*project.get("optional-dependencies", {}).values(), *data.get("dependency-groups", {}).values()):
        specs += [spec for spec in group if isinstance(spec, str)]
    poetry = tool.get("poetry", {})
    specs += [*poetry.get("dependencies", {}), *poetry.get("dev-dependencies", {})]
    for group in poetry.get("group", {}).values():
        specs += list(group.get("dependencies", {}))
    names = tuple(name for name in _requirement_names(specs) if name != "python")
    return ManifestFacts("Python", names, *_python_commands(names, tool, nearby))


def _requirements(text: str, nearby: frozenset[str]) -> ManifestFacts:
    names = _requirement_names(text.splitlines())
    return ManifestFacts("Python", names, *_python_commands(names, (), nearby))


def _package_json(text: str, nearby: frozenset[str]) -> ManifestFacts:
    data = _json(text)
    names: set[str] = set()
    for key in ("dependencies", "devDependencies", "peerDependencies"):
        names.update(data.get(key) or {})
    scripts = data.get("scripts") or {}
    runner = _package_manager(data, nearby)
    test = f"{runner} test" if _NPM_DEFAULT_TEST not in str(scripts.get("test", _NPM_DEFAULT_TEST)) else None
    lint = f"{runner} run lint" if "lint" in scripts else ("npx eslint ." if "eslint" in names else None)
    language = "TypeScript" if "typescript" in names or "tsconfig.json" in nearby else "JavaScript"
    return ManifestFacts(language, tuple(sorted(names)), test, lint)


def _package_manager(data: dict[str, Any], nearby: frozenset[str]) -> str:
    declared = str(data.get("packageManager", "")).split("@")[0]
    for lock, runner in (("pnpm-lock.yaml", "pnpm"), ("yarn.lock", "yarn"), ("bun.lockb", "bun")):
        if lock in nearby or declared == runner:
            return runner
    return "npm"


def _go_mod(text: str, nearby: frozenset[str]) -> ManifestFacts:
    modules = re.findall(r"^\s*(?:require\s+)?([\w.-]+\.[\w.-]+/[\w./-]+)\s+v\S+", text, re.MULTILINE)
    golangci = nearby & {".golangci.yml", ".golangci.yaml", ".golangci.toml", ".golangci.json"}
    lint = "golangci-lint run" if golangci else "go vet ./..."
    return ManifestFacts("Go", tuple(sorted(set(modules))), "go test ./...", lint)


def _cargo_toml(text: str, nearby: frozenset[str]) -> ManifestFacts:
    data = _toml(text)
    names: set[str] = set()
    for table in (data, data.get("workspace", {})):
        for key in ("dependencies", "dev-dependencies"):
            names.update(table.get(key, {}))
    return ManifestFacts("Rust", tuple(sorted(names)), "cargo test", "cargo clippy")


def _pom_xml(text: str, nearby: frozenset[str]) -> ManifestFacts:
    names = re.findall(r"<dependency>.*?<artifactId>\s*([^<\s]+)\s*</artifactId>", text, re.DOTALL)
    maven = "./mvnw" if "mvnw" in nearby else "mvn"
    lint = f"{maven} checkstyle:check" if "maven-checkstyle-plugin" in text else None
    return ManifestFacts("Java", tuple(sorted(set(names))), f"{maven} test", lint)


def _gradle(text: str, nearby: frozenset[str]) -> ManifestFacts:
    coordinates = re.findall(r"""(?:[Ii]mplementation|api|[Oo]nly)\s*\(?\s*["']([^:"']+):([^:"']+)""", text)
    gradle = "./gradlew" if "gradlew" in nearby else "gradle"
    return ManifestFacts("Java", tuple(sorted({name for _, name in coordinates})), f"{gradle} test")


def _gemfile(text: str, nearby: frozenset[str]) -> ManifestFacts:
    names = tuple(sorted(set(re.findall(r"""^\s*gem\s+["']([^"']+)""", text, re.MULTILINE))))
    test = "bundle exec rspec" if any(name.startswith("rspec") for name in names) else "bundle exec rake test"
    lint = "bundle exec rubocop" if "rubocop" in names else None
    return ManifestFacts("Ruby", names, test, lint)


def _composer_json(text: str, nearby: frozenset[str]) -> ManifestFacts:
    data = _json(text)
    names = sorted({*(data.get("require") or {}), *(data.get("require-dev") or {})} - {"php"})
    test = "vendor/bin/phpunit" if "phpunit/phpunit" in names else None
    lint = "vendor/bin/phpstan analyse" if "phpstan/phpstan" in names else None
    return ManifestFacts("PHP", tuple(names), test, lint)


def _makefile(text: str, nearby: frozenset[str]) -> ManifestFacts:
    # A Makefile target is the team's own entry point, so it outranks what the language would suggest.
    targets = set(re.findall(r"^([A-Za-z][\w-]*)\s*:(?!=)", text, re.MULTILINE))
    lint = "make lint" if "lint" in targets else ("make check" if "check" in targets else None)
    return ManifestFacts("", (), "make test" if "test" in targets else None, lint)


def _toml(text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError):
        return {}  # a broken manifest tells us nothing, but must not stop the plan


def _json(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nested thousands deep
        return {}
    return data if isinstance(data, dict) else {}


_PARSERS: dict[str, Parser] = {
    "pyproject.toml": _pyproject,
    "package.json": _package_json,
    "go.mod": _go_mod,
    "Cargo.toml": _cargo_toml,
    "pom.xml": _pom_xml,
    "build.gradle": _gradle,
    "build.gradle.kts": _gradle,
    "Gemfile": _gemfile,
    "composer.json": _composer_json,
    "Makefile": _makefile,
}

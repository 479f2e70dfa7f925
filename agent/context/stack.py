"""Stack facts (languages, manifests, dependencies, test and lint commands, frameworks) from the repository's files."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from agent.context.manifests import ManifestFacts, is_manifest, parser_for
from agent.context.read import SourceFile, read_source
from agent.context.repo import StackFacts

MAX_MANIFEST_DEPTH = 3  # root, packages/api, services/billing/api: deeper ones are fixtures or examples
MAX_MANIFESTS = 24

LANGUAGE_BY_EXTENSION = {
    "py": "Python", "pyi": "Python", "ts": "TypeScript", "tsx": "TypeScript", "mts": "TypeScript",
    "js": "JavaScript", "jsx": "JavaScript", "mjs": "JavaScript", "cjs": "JavaScript", "go": "Go",
    "rs": "Rust", "java": "Java", "kt": "Kotlin", "kts": "Kotlin", "scala": "Scala", "rb": "Ruby",
    "php": "PHP", "cs": "C#", "fs": "F#", "c": "C", "h": "C", "cc": "C++", "cpp": "C++", "hpp": "C++",
    "swift": "Swift", "m": "Objective-C", "dart": "Dart", "ex": "Elixir", "exs": "Elixir", "erl": "Erlang",
    "clj": "Clojure", "hs": "Haskell", "lua": "Lua", "r": "R", "jl": "Julia", "sh": "Shell", "bash": "Shell",
    "sql": "SQL", "vue": "Vue", "svelte": "Svelte", "html": "HTML", "css": "CSS", "scss": "CSS",
}
FRAMEWORKS = {
    "django": "Django", "flask": "Flask", "fastapi": "FastAPI", "starlette": "Starlette", "typer": "Typer",
    "click": "Click", "pydantic": "Pydantic", "sqlalchemy": "SQLAlchemy", "celery": "Celery",
    "aiohttp": "aiohttp", "tornado": "Tornado", "streamlit": "Streamlit", "pytest": "pytest",
    "react": "React", "next": "Next.js", "vue": "Vue", "nuxt": "Nuxt", "svelte": "Svelte",
    "@angular/core": "Angular", "express": "Express", "fastify": "Fastify", "@nestjs/core": "NestJS",
    "koa": "Koa", "electron": "Electron", "jest": "Jest", "vitest": "Vitest", "mocha": "Mocha",
    "@playwright/test": "Playwright", "actix-web": "Actix Web", "axum": "Axum", "rocket": "Rocket",
    "tokio": "Tokio", "warp": "warp", "tonic": "tonic", "rails": "Rails", "sinatra": "Sinatra",
    "rspec": "RSpec", "laravel/framework": "Laravel", "symfony/framework-bundle": "Symfony",
    "phpunit/phpunit": "PHPUnit", "junit-jupiter": "JUnit 5", "junit": "JUnit",
}
# Go modules carry their host and a major-version suffix; Java artifacts come in families.
FRAMEWORK_PREFIXES = (
    ("github.com/gin-gonic/gin", "Gin"), ("github.com/labstack/echo", "Echo"),
    ("github.com/gofiber/fiber", "Fiber"), ("github.com/go-chi/chi", "chi"), ("github.com/gorilla/mux", "gorilla/mux"),
    ("google.golang.org/grpc", "gRPC"), ("spring-boot", "Spring Boot"), ("quarkus", "Quarkus"),
    ("micronaut", "Micronaut"),
)


def detect_stack(root: Path, readable: Sequence[str], every_path: Sequence[str]) -> StackFacts:
    """Facts from the extensions and manifests of readable files; lock files beside them name the tools."""
    languages = detect_languages(readable)
    shallow = (path for path in readable if path.count("/") < MAX_MANIFEST_DEPTH)
    found = [path for path in shallow if is_manifest(path.rpartition("/")[2])]
    found = sorted(found, key=lambda path: (path.count("/"), path))[:MAX_MANIFESTS]
    # The names beside each manifest, ignored files included: a lock file or `mvnw` says which tool runs.
    nearby: dict[str, set[str]] = {path.rpartition("/")[0]: set() for path in found}
    for path in every_path:
        directory, _, name = path.rpartition("/")
        if directory in nearby:
            nearby[directory].add(name)
    facts = [_parse(root, path, frozenset(nearby[path.rpartition("/")[0]])) for path in found]
    ordered = _by_priority(list(zip(found, facts, strict=True)), languages)
    dependencies = sorted({name for fact in facts for name in fact.dependencies})
    frameworks = {FRAMEWORKS[name] for name in dependencies if name in FRAMEWORKS}
    frameworks |= {label for name in dependencies for prefix, label in FRAMEWORK_PREFIXES if name.startswith(prefix)}
    return StackFacts(
        languages=languages,
        manifests=tuple(found),
        dependencies=tuple(dependencies),
        test_command=next((fact.test_command for fact in ordered if fact.test_command), None),
        lint_command=next((fact.lint_command for fact in ordered if fact.lint_command), None),
        frameworks=tuple(sorted(frameworks)),
    )


def detect_languages(paths: Sequence[str]) -> tuple[str, ...]:
    extensions = Counter(path.rpartition(".")[2] for path in paths if "." in path.rpartition("/")[2])
    counts: Counter[str] = Counter()
    for extension, count in extensions.items():
        language = LANGUAGE_BY_EXTENSION.get(extension.lower())
        if language:
            counts[language] += count
    return tuple(language for language, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def _parse(root: Path, path: str, nearby: frozenset[str]) -> ManifestFacts:
    parser = parser_for(path.rpartition("/")[2])
    source = read_source(root, path)
    if parser is None or not isinstance(source, SourceFile):
        return ManifestFacts("")
    try:
        return parser(source.text, nearby)
    except (TypeError, AttributeError, ValueError):  # a manifest whose shape is not the documented one
        return ManifestFacts("")


def _by_priority(found: list[tuple[str, ManifestFacts]], languages: tuple[str, ...]) -> list[ManifestFacts]:
    """Shallow manifests first; the root Makefile first of all; then the repository's main language."""

    def rank(item: tuple[str, ManifestFacts]) -> tuple[int, int, str]:
        path, fact = item
        language = languages.index(fact.language) if fact.language in languages else len(languages)
        return (path.count("/"), -1 if not fact.language else language, path)

    return [fact for _, fact in sorted(found, key=rank)]


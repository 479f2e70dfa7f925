"""`prompts/` and `templates/` ship inside the wheel, where the installed package finds them."""

from __future__ import annotations

import ast
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("hatchling", reason="the wheel is built without isolation: install the dev extra")
    out = tmp_path_factory.mktemp("wheel")
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out),
               str(ROOT)]
    subprocess.run(command, check=True, capture_output=True)
    (built,) = out.glob("plan_agent-*.whl")
    return built


def shipped(directory: str) -> set[str]:
    return {f"agent/{directory}/{path.name}" for path in (ROOT / directory).iterdir() if path.is_file()}


def test_wheel_holds_the_templates_and_prompts(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())

    assert "agent/templates/default.md" in names
    assert "agent/templates/compact.md" in names
    assert shipped("templates") <= names
    assert shipped("prompts") <= names
    assert "agent/cli/__init__.py" in names


def test_installed_wheel_finds_its_builtin_templates(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    install = [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)]
    subprocess.run(install, check=True, capture_output=True)
    probe = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "import agent; from agent.template.catalog import builtin_templates, load_template;"
        "print(agent.__file__); print(sorted(builtin_templates())); print(len(load_template('default').units))"
    )

    done = subprocess.run([sys.executable, "-c", probe, str(target)], check=True, capture_output=True, text=True)

    package_file, names, units = done.stdout.splitlines()
    assert Path(package_file).is_relative_to(target)  # the wheel's copy, not the source checkout
    assert {"compact", "default"} <= set(ast.literal_eval(names))
    assert int(units) > 0


def test_the_package_layout_is_the_one_the_readme_draws() -> None:
    """Packages in data-flow order, a handful of modules at the top, and no two modules with the same name."""
    root = Path(__file__).resolve().parents[1] / "agent"
    top = sorted(p.stem for p in root.glob("*.py") if p.stem != "__init__")
    packages = sorted(p.name for p in root.iterdir() if (p / "__init__.py").is_file())
    names = [p.stem for p in root.rglob("*.py") if p.stem != "__init__" and "__pycache__" not in p.parts]

    assert top == ["config", "errors", "inputs", "mcp_server", "output", "session"]
    assert packages == ["batch", "check", "cli", "context", "draft", "evals", "providers", "template"]
    assert len(names) == len(set(names)), sorted(n for n in set(names) if names.count(n) > 1)

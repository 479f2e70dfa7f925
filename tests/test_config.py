"""Settings: flag > environment > config file (.plan.toml, then [tool.plan] in pyproject.toml) > default,
through the library and as `plan draft`, `plan config show` and a priced draft use them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fake_llm_server import Answer, FakeLLMServer
from typer.testing import CliRunner, Result

from agent.cli import app
from agent.config import KEYS, Settings, resolve_settings

BRIEF = "# Export invoices as CSV\n\nFinance wants to download each invoice as a CSV file.\n"
SECRET = "sk-test-Zq81mB7vX2pL0aaaaaaaaaaaaaaaaaaaaaaa"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_BASE_URL",
                 *(key.env for key in KEYS.values())):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "brief.md").write_text(BRIEF)
    (tmp_path / "src").mkdir()
    (tmp_path / "src/invoice.py").write_text("class Invoice:\n    pass\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def pyproject(repo: Path, table: str) -> None:
    (repo / "pyproject.toml").write_text(f'[project]\nname = "billing"\n\n[tool.plan]\n{table}\n')


def plan_toml(repo: Path, text: str) -> None:
    (repo / ".plan.toml").write_text(text + "\n")


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(app, list(args), env=env)


# --- one test per layer -----------------------------------------------------------------------------


def test_built_in_defaults_when_nothing_is_set(repo: Path) -> None:
    settings = resolve_settings({}, {}, repo)

    assert settings == Settings()
    assert (settings.template, settings.concurrency, settings.max_rounds, settings.model) == ("default", 8, 2, None)
    assert set(settings.sources.values()) == {"default"}


def test_pyproject_tool_plan_sets_defaults(repo: Path) -> None:
    pyproject(repo, 'template = "compact"\nconcurrency = 3\nmax_cost = 0.5\nrpm = 60\ntpm = 90000')

    settings = resolve_settings({}, {}, repo)

    assert (settings.template, settings.concurrency, settings.max_cost, settings.rpm, settings.tpm) == (
        "compact", 3, 0.5, 60, 90000)
    assert settings.sources["concurrency"] == f"{repo / 'pyproject.toml'} [tool.plan]"


def test_plan_toml_wins_over_pyproject_key_by_key(repo: Path) -> None:
    pyproject(repo, 'template = "compact"\nconcurrency = 3')
    plan_toml(repo, "concurrency = 4")

    settings = resolve_settings({}, {}, repo)

    assert settings.concurrency == 4 and settings.sources["concurrency"] == str(repo / ".plan.toml")
    assert settings.template == "compact"


def test_environment_wins_over_the_config_file(repo: Path) -> None:
    plan_toml(repo, 'concurrency = 4\nmodel = "anthropic:claude-haiku-4-5"')

    settings = resolve_settings({}, {"PLAN_CONCURRENCY": "5", "PLAN_MODEL": "offline"}, repo)

    assert (settings.concurrency, settings.model) == (5, "offline")
    assert settings.sources["concurrency"] == "env PLAN_CONCURRENCY"


def test_a_flag_wins_over_everything(repo: Path) -> None:
    plan_toml(repo, "concurrency = 4")

    settings = resolve_settings({"concurrency": 7, "model": None}, {"PLAN_CONCURRENCY": "5"}, repo)

    assert settings.concurrency == 7 and settings.sources["concurrency"] == "flag --concurrency"
    assert settings.sources["model"] == "default"  # a flag left out (None) is not a flag given


def test_paths_in_a_config_file_are_relative_to_it(repo: Path) -> None:
    plan_toml(repo, 'template = "templates/ours.md"\nout_dir = "docs/plans"')

    settings = resolve_settings({}, {}, repo)
    from_env = resolve_settings({}, {"PLAN_OUT_DIR": "out"}, repo)

    assert settings.template == str(repo / "templates/ours.md") and settings.out_dir == str(repo / "docs/plans")
    assert from_env.out_dir == "out"  # the environment and flags stay relative to the working directory


# --- as commands use them ---------------------------------------------------------------------------


def test_draft_uses_the_repositorys_template_and_output_directory(repo: Path) -> None:
    plan_toml(repo, 'template = "compact"\nout_dir = "docs/plans"')

    result = run("draft", "brief.md")

    plan = repo / "docs/plans/export-invoices-as-csv/plan.md"
    assert result.exit_code == 3 and plan.is_file()  # offline: TODOs remain
    assert json.loads(plan.with_suffix(".json").read_text())["template"] == "compact"


def test_draft_environment_and_flag_override_the_config_file(repo: Path) -> None:
    plan_toml(repo, 'template = "compact"')

    by_env = run("draft", "brief.md", "--out", "env/", env={"PLAN_TEMPLATE": "default"})
    by_flag = run("draft", "brief.md", "--out", "flag/", "--template", "compact", env={"PLAN_TEMPLATE": "default"})

    assert json.loads((repo / "env/plan.json").read_text())["template"] == "default", by_env.stderr
    assert json.loads((repo / "flag/plan.json").read_text())["template"] == "compact", by_flag.stderr


def test_prices_from_the_config_file_price_the_draft(repo: Path, fake_llm_server: FakeLLMServer) -> None:
    plan_toml(repo, '[prices."openai:gpt-test"]\ninput = 1000.0\noutput = 0.0')
    fake_llm_server.handler = lambda request: Answer(input_tokens=1000, output_tokens=10)
    env = {"OPENAI_API_KEY": SECRET, "OPENAI_BASE_URL": fake_llm_server.openai_base_url}

    result = run("draft", "brief.md", "-m", "openai:gpt-test", "-t", "compact", "--format", "json", env=env)

    report = json.loads(result.stdout)
    calls = report["usage"]["calls"]
    assert calls >= 1 and report["usage"]["cost_usd"] == pytest.approx(calls * 1000 * 1000.0 / 1_000_000)


def test_config_show_says_where_each_value_came_from_and_never_prints_a_key(repo: Path) -> None:
    pyproject(repo, "max_rounds = 1")
    plan_toml(repo, 'template = "compact"')
    env = {"PLAN_CONCURRENCY": "2", "OPENAI_API_KEY": SECRET}

    text = run("config", "show", "--repo", str(repo), env=env)
    shown = json.loads(run("config", "show", "--repo", str(repo), "--format", "json", env=env).stdout)

    assert text.exit_code == 0 and SECRET not in text.output and SECRET not in json.dumps(shown)
    settings = shown["settings"]
    assert shown["schema_version"] == 1
    assert settings["template"] == {"value": "compact", "source": str(repo / ".plan.toml")}
    assert settings["max_rounds"] == {"value": 1, "source": f"{repo / 'pyproject.toml'} [tool.plan]"}
    assert settings["concurrency"] == {"value": 2, "source": "env PLAN_CONCURRENCY"}
    assert settings["model"] == {"value": "openai:gpt-4.1-mini", "source": "default (OPENAI_API_KEY is set)"}
    assert settings["context_tokens"]["source"] == "default"
    line = next(line for line in text.stdout.splitlines() if line.startswith("concurrency"))
    assert line.split() == ["concurrency", "2", "env", "PLAN_CONCURRENCY"]


@pytest.mark.parametrize(("files", "env", "expected"), [
    ({".plan.toml": "modle = 'x'"}, {}, "unknown setting 'modle'; known settings: model,"),
    ({".plan.toml": "concurrency = 'many'"}, {}, "`concurrency` in "),
    ({".plan.toml": "concurrency = [1"}, {}, "not valid TOML"),
    ({}, {"PLAN_CONCURRENCY": "many"}, "PLAN_CONCURRENCY must be a whole number"),
    ({}, {"PLAN_MAX_ROUNDS": "-1"}, "PLAN_MAX_ROUNDS must be 0 or more"),
    ({".plan.toml": "[prices.'openai:x']\ninput = 1.0"}, {}, "needs `input` and `output`"),
])
def test_bad_settings_are_one_line_usage_errors(repo: Path, files: dict[str, str], env: dict[str, str],
                                                 expected: str) -> None:
    for name, text in files.items():
        (repo / name).write_text(text + "\n")

    result = run("draft", "brief.md", env=env)

    assert result.exit_code == 2 and "Traceback" not in result.output
    assert len(result.stderr.splitlines()) == 1 and expected in result.stderr, result.stderr
    assert not (repo / "implementation-plans").exists()


# --- one declaration per setting ------------------------------------------------------------------


COMMANDS_WITH_SETTINGS = {"draft": ("template", "model", "max_rounds", "concurrency", "max_cost", "context_tokens",
                                    "timeout", "deadline"),
                          "revise": ("template", "max_rounds", "concurrency", "context_tokens", "timeout", "deadline"),
                          "batch": ("template", "model", "max_rounds", "context_tokens", "timeout", "rpm", "tpm"),
                          "context": ("context_tokens",), "validate": ("template",)}


@pytest.mark.parametrize("command", sorted(COMMANDS_WITH_SETTINGS))
def test_each_commands_help_shows_its_settings_as_declared(command: str) -> None:
    result = run(command, "--help")
    assert result.exit_code == 0
    # The help as one line: click wraps it at spaces and after hyphens ("rate-" / "limit").
    text = re.sub(r"-\s+(?=[a-z])", "-", re.sub(r"\s+", " ", result.stdout))
    for name in COMMANDS_WITH_SETTINGS[command]:
        key = KEYS[name]
        flag = f"{key.short}, {key.flag}" if key.short else key.flag
        assert f"{flag} {key.placeholder} {key.help_with_default}" in text, (command, name)


def test_help_names_what_each_value_is() -> None:
    """`--deadline SECONDS` teaches what to type; `--deadline <float>` does not."""
    text = re.sub(r"\s+", " ", run("draft", "--help").stdout)
    assert " draft [OPTIONS] {BRIEF} " in text  # typer's braces: a required argument
    for option in ("-m, --model PROVIDER:MODEL", "-t, --template NAME|PATH", "--deadline SECONDS", "--max-cost USD",
                   "--max-rounds N", "--repo DIR", "-o, --out PATH", "--base-url URL"):
        assert option in text, option
    assert "<str>" not in text.split("Options:")[1] and "<int>" not in text and "<float>" not in text


def test_options_built_from_the_declarations_reach_their_settings(repo: Path) -> None:
    # `--max-rounds` and `--context-tokens`, added by `with_settings`, reach `max_rounds` and `context_tokens`.
    result = run("draft", "brief.md", "--model", "offline", "--template", "compact", "--max-rounds", "0",
                 "--context-tokens", "500", "--format", "json")
    assert result.exit_code in (0, 3), result.output
    report = json.loads(result.stdout)
    assert report["rounds"] == 0 and report["context"]["budget_tokens"] == 500


def test_config_show_help_lists_every_setting_with_its_flag_and_variable() -> None:
    result = run("config", "show", "--help")
    assert result.exit_code == 0
    for key in KEYS.values():
        [line] = [line for line in result.stdout.splitlines() if line.strip().startswith(f"{key.name} ")]
        assert key.env in line and (key.flag in line if key.flag else "--" not in line)
    assert list(KEYS) == [name for name in json.loads(run("config", "show", "--format", "json").stdout)["settings"]
                          if name != "prices"]


def test_flags_and_variables_follow_from_the_settings_names() -> None:
    assert KEYS["max_rounds"].flag == "--max-rounds" and KEYS["max_rounds"].env == "PLAN_MAX_ROUNDS"
    assert KEYS["out_dir"].flag == "" and KEYS["out_dir"].env == "PLAN_OUT_DIR"  # --out is a plan's path instead
    assert KEYS["timeout"].kind is float and KEYS["max_cost"].kind is float and KEYS["rpm"].kind is int
    assert KEYS["concurrency"].help_with_default == "Section calls in flight at once [8]."
    assert KEYS["deadline"].help_with_default.endswith("[900].")

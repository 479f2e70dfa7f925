"""`plan eval` as a user runs it: the shipped case set against the loopback fake LLM server, recorded,
replayed offline, compared; and the offline model. Few cases where the test allows, for speed."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_llm_server import FakeLLMServer
from typer.testing import CliRunner, Result

from agent.cli import app

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "evals" / "cases"
CASE_IDS = sorted(path.name for path in CASES.iterdir() if (path / "expect.yaml").is_file())
SMALL = ["python-flask-invoice-csv", "prompt-injection"]  # small repositories, built-in template
NO_KEYS: dict[str, str | None] = dict.fromkeys(
    ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_BASE_URL"))
GRADERS = {"schema_validity", "completeness", "grounding", "consistency", "coverage", "proportion", "substance",
           "expectations"}


def plan_eval(*args: str, env: dict[str, str | None] | None = None) -> Result:
    return CliRunner().invoke(app, ["eval", "--cases", str(CASES), *args], env={**NO_KEYS, **(env or {})})


def one_line_error(result: Result) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.stderr.strip().count("\n") == 0
    return result.stderr


@pytest.fixture(scope="module")
def server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as running:
        yield running


@pytest.fixture(scope="module")
def recorded(server: FakeLLMServer, tmp_path_factory: pytest.TempPathFactory) -> tuple[Result, Path]:
    """Every case drafted live against the fake server, recorded, with the report written."""
    out = tmp_path_factory.mktemp("live")
    result = plan_eval("--model", "openai:test", "--base-url", server.openai_base_url,
                       "--record", str(out / "cassettes"), "--out", str(out / "report.json"))
    return result, out


def test_every_case_is_scored_and_the_report_written(recorded: tuple[Result, Path]) -> None:
    result, out = recorded
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    assert report["schema_version"] == 1 and report["model"] == "openai:test" and report["mode"] == "record"
    assert len(CASE_IDS) >= 12
    assert sorted([c["id"] for c in report["cases"]] + [s["id"] for s in report["skipped"]]) == CASE_IDS
    for case in report["cases"]:
        assert set(case["grades"]) == GRADERS
        assert all(0.0 <= grade["score"] <= 1.0 for grade in case["grades"].values())
        assert case["measures"]["calls"] >= 1 and case["measures"]["input_tokens"] > 0
    assert 0 < report["aggregate"]["score"] <= 1
    for case in report["cases"]:  # the terminal table has a row per case, the summary too
        assert case["id"] in result.stdout
        assert f"| {case['id']} |" in (out / "report.md").read_text()


def test_a_replay_reproduces_the_recorded_scores_without_the_server(recorded: tuple[Result, Path]) -> None:
    _, out = recorded
    only = [arg for case in SMALL for arg in ("--case", case)]
    result = plan_eval("--replay", str(out / "cassettes"), "--out", str(out / "replay.json"), *only,
                       env={"OPENAI_BASE_URL": "http://127.0.0.1:9"})  # nothing listens there
    assert result.exit_code == 0, result.output
    live = {case["id"]: case for case in json.loads((out / "report.json").read_text())["cases"]}
    replayed = json.loads((out / "replay.json").read_text())
    assert replayed["mode"] == "replay" and replayed["model"] == "openai:test"
    for case in replayed["cases"]:
        assert case["grades"] == live[case["id"]]["grades"]
        assert case["measures"]["input_tokens"] == live[case["id"]]["measures"]["input_tokens"]


def test_compare_flags_a_planted_regression_and_passes_an_equal_pair(recorded: tuple[Result, Path]) -> None:
    _, out = recorded
    baseline = out / "report.json"
    report = json.loads(baseline.read_text())
    worse = copy.deepcopy(report)
    worse["cases"][0]["score"] -= 0.2
    worse["cases"][0]["grades"]["grounding"]["score"] = 0.0
    (out / "worse.json").write_text(json.dumps(worse))
    same = CliRunner().invoke(app, ["eval", "compare", str(baseline), str(baseline)])
    assert same.exit_code == 0 and "no regression" in same.stdout
    flagged = CliRunner().invoke(app, ["eval", "compare", str(baseline), str(out / "worse.json")])
    assert flagged.exit_code == 3
    assert f"case {report['cases'][0]['id']}" in flagged.stdout and "REGRESSION" in flagged.stdout
    tolerant = CliRunner().invoke(app, ["eval", "compare", str(baseline), str(out / "worse.json"), "--threshold", "0.5"])
    assert tolerant.exit_code == 0


def test_a_cassette_recorded_with_a_key_set_holds_no_key(server: FakeLLMServer, tmp_path: Path) -> None:
    key = "sk-test-Zq81mB7vX2pL0aaaaaaaaaaaaaaaaaaaaaaa"
    result = plan_eval("--model", "openai:test", "--case", SMALL[0], "--record", str(tmp_path),
                       env={"OPENAI_API_KEY": key, "OPENAI_BASE_URL": server.openai_base_url})
    assert result.exit_code == 0, result.output
    assert server.requests[-1].headers["authorization"] == f"Bearer {key}"  # the key was in use
    cassette = (tmp_path / f"{SMALL[0]}.json").read_text()
    assert key not in cassette and "Zq81mB7" not in cassette


def test_the_offline_model_runs_the_cases_with_no_server(tmp_path: Path) -> None:
    result = plan_eval("--model", "offline", "--case", SMALL[0], "--out", str(tmp_path / "offline.json"),
                       "--plans", str(tmp_path / "plans"))
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "offline.json").read_text())
    assert report["mode"] == "offline" and [case["id"] for case in report["cases"]] == [SMALL[0]]
    assert (tmp_path / "plans" / f"{SMALL[0]}.md").read_text().startswith("# ")


def test_the_judge_adds_a_rubric_grade_from_another_model(server: FakeLLMServer) -> None:
    result = plan_eval("--model", "offline", "--case", SMALL[0], "--judge", "openai:judge",
                       env={"OPENAI_BASE_URL": server.openai_base_url})
    assert result.exit_code == 0, result.output
    assert "rubric" in result.stdout
    assert server.requests[-1].body["response_format"]["json_schema"]["name"] == "rubric"


def test_a_replay_miss_names_the_case_and_section(recorded: tuple[Result, Path], tmp_path: Path) -> None:
    _, out = recorded
    cassette = json.loads((out / "cassettes" / f"{SMALL[0]}.json").read_text())
    cassette["exchanges"] = [e for e in cassette["exchanges"] if e["section"] != "goal"]
    (tmp_path / f"{SMALL[0]}.json").write_text(json.dumps(cassette))
    error = one_line_error(plan_eval("--replay", str(tmp_path), "--case", SMALL[0]))
    assert f"case {SMALL[0]}, section goal" in error and "--record" in error


@pytest.mark.parametrize(("args", "says"), [
    (["--record", "a", "--replay", "b"], "exclude each other"),
    (["--case", "no-such-case"], "no case named no-such-case"),
    (["--replay", "no-such-dir"], "no such cassette directory"),
    (["--model", "openai:x", "--judge", "openai:x"], "different model"),
])
def test_bad_usage_is_one_line_and_exit_2(args: list[str], says: str) -> None:
    assert says in one_line_error(plan_eval(*args))


def test_a_case_whose_template_is_absent_is_skipped_with_a_note(tmp_path: Path) -> None:
    case = tmp_path / "cases" / "needs-seed"
    (case / "repo").mkdir(parents=True)
    (case / "repo" / "app.py").write_text("print('hi')\n")
    (case / "brief.md").write_text("# Say hello\n\n- Print a greeting\n")
    (case / "expect.yaml").write_text("template: ../../shared/seeds/none.txt\n")
    kept = tmp_path / "cases" / "kept"
    (kept / "repo").mkdir(parents=True)
    (kept / "brief.md").write_text("# Say goodbye\n\n- Print a farewell\n")
    (kept / "expect.yaml").write_text("template: compact\nmust_change: [app.py]\n")
    result = CliRunner().invoke(app, ["eval", "--cases", str(tmp_path / "cases"), "--model", "offline"], env=NO_KEYS)
    assert result.exit_code == 0, result.output
    assert "skipped needs-seed: template" in result.stderr and "kept" in result.stdout


def test_plot_draws_a_png_or_says_how_to_install_matplotlib(recorded: tuple[Result, Path], tmp_path: Path) -> None:
    report = str(recorded[1] / "report.json")
    result = CliRunner().invoke(app, ["eval", "compare", report, report, "--plot", str(tmp_path / "scores.png")])
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert "pip install 'plan-agent[plot]'" in one_line_error(result)
        assert not (tmp_path / "scores.png").exists()
    else:
        assert result.exit_code == 0, result.output
        assert (tmp_path / "scores.png").read_bytes().startswith(b"\x89PNG")

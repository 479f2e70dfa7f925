"""The relay cassettes: eval cases drafted with a person playing a capable model (../shared/tools/relayllm.py),
replayed exactly with no network. They are the closest thing to a real model the suite has, so they show
whether the graders tell a good plan from the offline skeleton, and what the spine and review calls did."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from agent.evals.suite import EvalRequest, EvalRun, run_eval
from agent.session import Session

ROOT = Path(__file__).resolve().parents[1]
RELAY = ROOT / "evals" / "cassettes" / "relay"
CASES = tuple(sorted(path.stem for path in RELAY.glob("*.json")))


@pytest.fixture(scope="module")
def replayed() -> EvalRun:
    return run_eval(EvalRequest(cases_dir=ROOT / "evals" / "cases", replay=RELAY, only=CASES), Session())


def test_there_are_relay_cassettes_for_at_least_three_cases() -> None:
    assert len(CASES) >= 3


def test_the_relay_cassettes_replay_exactly_and_complete(replayed: EvalRun) -> None:
    assert [result.case.id for result in replayed.results] == list(CASES)
    for result in replayed.results:
        assert result.measures["complete"] and not result.notes  # every request answered by its exact digest


def test_relay_plans_score_clearly_above_the_offline_skeleton_on_the_same_cases(replayed: EvalRun) -> None:
    offline = run_eval(EvalRequest(cases_dir=ROOT / "evals" / "cases", only=CASES), Session())
    relay_mean = sum(result.score for result in replayed.results) / len(CASES)
    offline_mean = sum(result.score for result in offline.results) / len(CASES)
    assert relay_mean - offline_mean >= 0.2, (relay_mean, offline_mean)
    for relayed, skeleton in zip(replayed.results, offline.results, strict=True):
        assert relayed.score > skeleton.score, relayed.case.id


def test_each_relay_draft_made_one_spine_and_one_review_call(replayed: EvalRun) -> None:
    for result in replayed.results:
        calls = result.measures["calls_by_purpose"]
        assert calls["spine"] == calls["review"] == 1 and calls["section"] >= 6, result.case.id
    for case in CASES:
        sections = [entry["section"] for entry in json.loads((RELAY / f"{case}.json").read_text())["exchanges"]]
        assert sections.count("plan-spine") == 1 and sections.count("plan-review") == 1, case


def test_a_case_with_a_template_of_its_own_replays_exactly_from_another_checkout(tmp_path: Path) -> None:
    # The prompt names the case's template by its stem, never by a path that depends on the checkout.
    shutil.copytree(ROOT / "evals" / "cases" / "go-cli-json-output", tmp_path / "evals" / "cases" / "go-cli-json-output")
    shutil.copytree(ROOT / "evals" / "templates", tmp_path / "evals" / "templates")
    run = run_eval(EvalRequest(cases_dir=tmp_path / "evals" / "cases", replay=ROOT / "evals" / "cassettes" / "fake-openai",
                               only=("go-cli-json-output",)), Session())
    assert run.results[0].template == "upper-snake" and not run.results[0].notes

"""Trust boundaries: a secret in a brief reaches no request, plan, report or output; what plan.json or a
config file names is read only when it lies inside the repository (or beside the plan) and is not a
credentials file, because those files can arrive in anybody's pull request."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fake_llm_server import FakeLLMServer
from hostile_support import plan, tree
from test_context_secrets import AWS_KEY_ID, AWS_SECRET, GITHUB_TOKEN, PRIVATE_KEY, STRIPE_KEY

BRIEF_CANARIES = (AWS_KEY_ID, AWS_SECRET, GITHUB_TOKEN, STRIPE_KEY)
SECRET_BRIEF = f"""# Rotate the payment credentials

The old key `{STRIPE_KEY}` leaked in a support ticket; the deploy user still uses
AWS_ACCESS_KEY_ID={AWS_KEY_ID} and aws_secret_access_key = "{AWS_SECRET}".

- Replace the GitHub token {GITHUB_TOKEN} in the release workflow
- Move the settings in `shop/settings.py` to the environment
"""


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    (root / "shop").mkdir(parents=True)
    (root / "shop" / "settings.py").write_text('REGION = "eu-west-1"\n')
    monkeypatch.chdir(root)
    return root


def wire_env(server: FakeLLMServer, wire: str) -> tuple[list[str], dict[str, str]]:
    if wire == "openai":
        return ["--model", "openai:test", "--base-url", server.openai_base_url], {"OPENAI_API_KEY": "sk-test"}
    return (["--model", "anthropic:test", "--base-url", server.anthropic_base_url],
            {"ANTHROPIC_API_KEY": "test-key-not-a-secret"})


@pytest.mark.parametrize("wire", ["openai", "anthropic"])
@pytest.mark.parametrize("kind", ["markdown", "issue-json", "yaml"])
def test_a_secret_in_the_brief_reaches_no_request_and_no_output(
        repo: Path, fake_llm_server: FakeLLMServer, wire: str, kind: str) -> None:
    brief = {"markdown": ("brief.md", SECRET_BRIEF),
             "issue-json": ("issue.json", json.dumps({"title": "Rotate keys", "body": SECRET_BRIEF, "number": 9})),
             "yaml": ("brief.yaml", "feature: Rotate keys\nproblem: |\n"
                      + "".join(f"  {line}\n" for line in SECRET_BRIEF.splitlines()))}[kind]
    (repo / brief[0]).write_text(brief[1])
    flags, env = wire_env(fake_llm_server, wire)

    ran = plan("draft", brief[0], *flags, "--out", "out/plan.md", "--format", "json", env=env)

    assert ran.code in (0, 3), ran.stderr
    bodies = [json.dumps(request.body) for request in fake_llm_server.requests]
    assert bodies and any("Rotate" in body for body in bodies)  # the brief itself was sent, redacted
    written = (repo / "out/plan.md").read_text() + (repo / "out/plan.json").read_text() + ran.stdout + ran.stderr
    for canary in BRIEF_CANARIES:
        assert all(canary not in body for body in bodies), canary
        assert canary not in written, canary
    assert json.loads(ran.stdout)["brief_redacted_lines"], "the report says the brief was redacted"
    assert "[REDACTED]" in " ".join(bodies)


def test_the_offline_drafter_copies_no_secret_from_the_brief(repo: Path) -> None:
    (repo / "brief.md").write_text(SECRET_BRIEF + f"\n{PRIVATE_KEY}\n")

    ran = plan("draft", "brief.md", "--model", "offline", "--format", "json")

    assert ran.code == 3
    everything = ran.stdout + ran.stderr + "".join(text.decode() for text in tree(repo).values() if text)
    plans = [path for path in tree(repo) if path.endswith("plan.md")]
    assert plans
    for canary in BRIEF_CANARIES:
        assert canary not in everything.replace(SECRET_BRIEF, ""), canary
    assert "line(s)" in ran.stderr and "[REDACTED]" in ran.stderr


def draft_plan_with_record(repo: Path, brief: str) -> Path:
    """A plan and a plan.json as `plan draft` writes them, with the recorded brief replaced by `brief`."""
    (repo / "brief.md").write_text("# Invoice export\n\n- Export invoices as CSV\n")
    assert plan("draft", "brief.md", "--model", "offline", "--template", "compact", "--out", "plan.md").code == 3
    record = json.loads((repo / "plan.json").read_text())
    record["report"]["brief"] = brief
    (repo / "plan.json").write_text(json.dumps(record))
    return repo / "plan.md"


@pytest.mark.parametrize("where", ["outside", "credentials", "ssh-key"])
def test_revise_refuses_a_brief_plan_json_names_outside_the_repository_or_a_credentials_file(
        repo: Path, tmp_path: Path, fake_llm_server: FakeLLMServer, where: str) -> None:
    secret = {"outside": tmp_path / "teammate" / "credentials.txt",
              "credentials": repo / ".env",
              "ssh-key": repo / ".ssh" / "notes.md"}[where]
    secret.parent.mkdir(parents=True, exist_ok=True)
    secret.write_text(f"STRIPE={STRIPE_KEY}\n")
    draft_plan_with_record(repo, str(secret))
    before = tree(repo)
    flags, env = wire_env(fake_llm_server, "openai")

    ran = plan("revise", "plan.md", "--section", "goal", *flags, env=env)

    assert ran.code == 2
    assert "plan.json names the brief" in ran.error() and "--brief" in ran.error()
    assert fake_llm_server.requests == []
    assert tree(repo) == before


def test_revise_reads_a_recorded_brief_inside_the_repository(repo: Path, fake_llm_server: FakeLLMServer) -> None:
    (repo / "docs").mkdir()
    (repo / "docs" / "brief.md").write_text("# Invoice export\n\n- Export invoices as CSV for finance audits\n")
    draft_plan_with_record(repo, "docs/brief.md")
    flags, env = wire_env(fake_llm_server, "openai")

    ran = plan("revise", "plan.md", "--section", "goal", *flags, env=env)

    assert ran.code in (0, 3), ran.stderr
    assert any("finance audits" in json.dumps(request.body) for request in fake_llm_server.requests)


def test_a_template_plan_json_names_outside_the_repository_is_refused(repo: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.md"
    outside.write_text("# Plan\n\n## Goal\n\n{The goal}\n")
    (repo / "plan.md").write_text("# Plan\n\n## Goal\n\nShip.\n")
    (repo / "plan.json").write_text(json.dumps({"schema_version": 1, "template": str(outside)}))

    ran = plan("validate", "plan.md")

    assert ran.code == 2
    assert "names the template" in ran.error() and "--template" in ran.error()


@pytest.mark.parametrize("value", ["../outside.md", "/etc/hostname", ".ssh/template.md"])
def test_a_config_file_cannot_point_the_template_outside_the_repository(repo: Path, value: str) -> None:
    (repo.parent / "outside.md").write_text("# Plan\n\n## Goal\n\n{The goal}\n")
    (repo / ".ssh").mkdir()
    (repo / ".ssh" / "template.md").write_text("# Plan\n\n## Goal\n\n{The goal}\n")
    (repo / ".plan.toml").write_text(f'template = "{value}"\n')

    ran = plan("config", "show")

    assert ran.code == 2
    assert "`template` in" in ran.error() and value in ran.error()


def test_a_config_template_inside_the_repository_is_used(repo: Path) -> None:
    (repo / "docs").mkdir()
    (repo / "docs" / "team.md").write_text("# Plan\n\n## Goal\n\n{The goal}\n")
    (repo / ".plan.toml").write_text('template = "docs/team.md"\n')

    ran = plan("config", "show", "--format", "json")

    assert ran.code == 0
    assert json.loads(ran.stdout)["settings"]["template"]["value"].endswith("docs/team.md")


@pytest.mark.parametrize("line", [
    'api_key_env = "STRIPE_API_KEY"',
    "Revert commit 3f64e6aa0f484198d94826fb370b89c4eeed0123 which broke exports.",
    "The order id 550e8400-e29b-41d4-a716-446655440000 fails.",
    'secret_key = os.environ["SECRET_KEY"]',
    "Set password_reset_timeout = 3600 in settings.",
])
def test_what_only_looks_like_a_secret_reaches_the_model_intact(repo: Path, line: str) -> None:
    from agent.context.brief import read_brief

    (repo / "brief.md").write_text(f"# Keys\n\n{line}\n")
    brief = read_brief("brief.md")
    assert line in brief.text and brief.redacted_lines == ()


def test_a_redacted_value_in_a_plan_is_not_a_placeholder_to_fill(repo: Path) -> None:
    (repo / "brief.md").write_text(SECRET_BRIEF)
    ran = plan("draft", "brief.md", "--model", "offline", "--template", "compact", "--format", "json")
    plan_text = Path(json.loads(ran.stdout)["plan_path"]).read_text()
    assert "[REDACTED]" in plan_text  # the offline drafter quotes the brief
    assert not any("[REDACTED]" in finding["message"] for finding in json.loads(ran.stdout)["findings"])


def test_earlier_plans_are_not_context_for_the_next_draft(repo: Path) -> None:
    (repo / "brief.md").write_text("# Invoice export\n\n- Export invoices as CSV\n")
    assert plan("draft", "brief.md", "--model", "offline").code == 3
    ran = plan("context", "brief.md", "--format", "json")
    sent = json.loads(ran.stdout)
    assert not any(item["path"].startswith("implementation-plans/") for item in sent["ranked"])
    assert "implementation-plans/" not in sent["prompt_text"]


def test_a_title_cut_short_keeps_no_part_of_a_secret(repo: Path) -> None:
    (repo / "brief.md").write_text(f"Use this GitHub token for the deploy job please: {GITHUB_TOKEN}\n\n- Rotate it\n")
    ran = plan("draft", "brief.md", "--model", "offline", "--format", "json")
    written = ran.stdout + ran.stderr + "".join(text.decode() for text in tree(repo).values())
    written = written.replace((repo / "brief.md").read_text(), "")
    assert all(GITHUB_TOKEN[i:i + 12] not in written for i in range(len(GITHUB_TOKEN) - 12))


@pytest.mark.parametrize("line", ['password: "HUNTER2_PROD_2024"', 'DB_PASSWORD="CORRECT_HORSE_BATTERY_STAPLE_42"'])
def test_an_upper_case_password_is_still_a_secret(repo: Path, line: str) -> None:
    from agent.context.brief import read_brief

    (repo / "brief.md").write_text(f"# Keys\n\n{line}\n")
    brief = read_brief("brief.md")
    assert line.split('"')[1] not in brief.text and brief.redacted_lines == (3,)


def test_a_long_line_with_a_secret_is_redacted_in_linear_time(repo: Path) -> None:
    import time

    from agent.context.brief import read_brief

    (repo / "brief.md").write_text('# Big\n\npassword = "hunter2xyzzy" ' + "a" * 500_000 + "\n" + "- an item\n" * 20_000)
    started = time.monotonic()
    brief = read_brief("brief.md")
    assert "hunter2xyzzy" not in brief.text and brief.redacted_lines == (3,)
    assert time.monotonic() - started < 20  # was minutes: a backtracking pattern and a quadratic diff


def git_repo(root: Path) -> Path:
    import subprocess

    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root


def test_revise_from_a_subfolder_reads_a_brief_inside_the_git_repository(
        repo: Path, fake_llm_server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch) -> None:
    git_repo(repo)
    (repo / "docs").mkdir()
    draft_plan_with_record(repo, str(repo / "docs" / "brief.md"))
    (repo / "docs" / "brief.md").write_text("# Invoice export\n\n- Export invoices as CSV for finance audits\n")
    monkeypatch.chdir(repo / "shop")
    flags, env = wire_env(fake_llm_server, "openai")

    ran = plan("revise", "../plan.md", "--section", "goal", *flags, env=env)

    assert ran.code in (0, 3), ran.stderr
    assert any("finance audits" in json.dumps(request.body) for request in fake_llm_server.requests)


def test_a_package_config_may_name_a_template_at_the_top_of_its_monorepo(repo: Path) -> None:
    git_repo(repo)
    (repo / "templates").mkdir()
    (repo / "templates" / "team.md").write_text("# Plan\n\n## Goal\n\n{The goal}\n")
    package = repo / "packages" / "api"
    package.mkdir(parents=True)
    (package / ".plan.toml").write_text('template = "../../templates/team.md"\n')

    ran = plan("config", "show", "--repo", str(package), "--format", "json")

    assert ran.code == 0, ran.stderr
    assert json.loads(ran.stdout)["settings"]["template"]["value"].endswith("templates/team.md")


def test_a_template_set_in_the_environment_stands_in_for_one_plan_json_may_not_name(repo: Path, tmp_path: Path) -> None:
    outside = tmp_path / "team" / "plan-template.md"
    outside.parent.mkdir()
    outside.write_text("# Plan\n\n## Goal\n\n{The goal}\n")
    (repo / "plan.md").write_text("# Plan\n\n## Goal\n\nShip the CSV export.\n")
    (repo / "plan.json").write_text(json.dumps({"schema_version": 1, "template": str(outside)}))
    inside = repo / "docs" / "team.md"
    inside.parent.mkdir()
    inside.write_text("# Plan\n\n## Goal\n\n{The goal}\n")

    ran = plan("validate", "plan.md", env={"PLAN_TEMPLATE": str(inside)})

    assert ran.code == 0, ran.stderr

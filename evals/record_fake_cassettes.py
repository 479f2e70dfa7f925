"""Record the cassettes CI replays: every case drafted against the loopback fake LLM server (tests/).

Usage: python evals/record_fake_cassettes.py [--out evals/cassettes/fake-openai]

Run it again whenever a prompt, a template, the context builder or a case changes what is sent: CI
replays these cassettes exactly, and a request they do not hold fails the replay, naming the case.
The fake server answers every section by filling its schema, so the scores measure the graders and
the draft loop, not a model.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from fake_llm_server import FakeLLMServer  # noqa: E402

from agent.config import Settings  # noqa: E402
from agent.evals.report import format_table, report_json  # noqa: E402
from agent.evals.suite import EvalRequest, run_eval  # noqa: E402
from agent.session import Session  # noqa: E402

MODEL = "openai:fake-planner"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "evals" / "cassettes" / "fake-openai")
    args = parser.parse_args()
    if args.out.exists():
        shutil.rmtree(args.out)
    with FakeLLMServer() as server:
        session = Session(settings=Settings(model=MODEL), base_url=server.openai_base_url)
        request = EvalRequest(cases_dir=ROOT / "evals" / "cases", record=args.out)
        run = run_eval(request, session, progress=lambda line: print(line, file=sys.stderr))
    print(format_table(report_json(run)))
    print(f"cassettes written to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()

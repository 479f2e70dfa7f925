"""plan-agent: draft implementation plans in a team's own template, validated section by section.

The public API, importable from here (as httpx re-exports its own):

    from agent import DraftRequest as DraftRequest, Session as Session
    outcome = Session(env=os.environ).resolve({"template": "compact"}).run_draft(DraftRequest(brief="brief.md"))

Each name is imported on first use, so `import agent` (and `plan --help`) loads no SDK and no pydantic.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "Session": "agent.session", "DraftRequest": "agent.session", "DraftOutcome": "agent.session",
    "ProviderOrder": "agent.session", "Clock": "agent.session", "build_provider": "agent.session",
    "Settings": "agent.config", "resolve_settings": "agent.config",
    "compile_template": "agent.template.compile", "load_template": "agent.template.catalog",
    "Template": "agent.template.model",
    "read_brief": "agent.context.brief", "Brief": "agent.context.brief",
    "draft_plan": "agent.draft.loop", "DraftSettings": "agent.draft.loop", "DraftResult": "agent.draft.loop",
    "validate_plan": "agent.check.validate", "validate_file": "agent.check.validate", "Finding": "agent.check.findings",
    "ReviseRequest": "agent.draft.revise", "run_revise": "agent.draft.revise",
    "BatchRequest": "agent.batch.runner", "run_batch": "agent.batch.runner",
    "EvalRequest": "agent.evals.suite", "run_eval": "agent.evals.suite",
    "PlanError": "agent.errors", "InputError": "agent.errors", "ProviderError": "agent.errors",
}
__all__ = ["__version__", *_EXPORTS]

if TYPE_CHECKING:  # what a type checker sees; at run time __getattr__ imports each on first use
    from agent.batch.runner import BatchRequest as BatchRequest
    from agent.batch.runner import run_batch as run_batch
    from agent.check.findings import Finding as Finding
    from agent.check.validate import validate_file as validate_file
    from agent.check.validate import validate_plan as validate_plan
    from agent.config import Settings as Settings
    from agent.config import resolve_settings as resolve_settings
    from agent.context.brief import Brief as Brief
    from agent.context.brief import read_brief as read_brief
    from agent.draft.loop import DraftResult as DraftResult
    from agent.draft.loop import DraftSettings as DraftSettings
    from agent.draft.loop import draft_plan as draft_plan
    from agent.draft.revise import ReviseRequest as ReviseRequest
    from agent.draft.revise import run_revise as run_revise
    from agent.errors import InputError as InputError
    from agent.errors import PlanError as PlanError
    from agent.errors import ProviderError as ProviderError
    from agent.evals.suite import EvalRequest as EvalRequest
    from agent.evals.suite import run_eval as run_eval
    from agent.session import Clock as Clock
    from agent.session import DraftOutcome as DraftOutcome
    from agent.session import DraftRequest as DraftRequest
    from agent.session import ProviderOrder as ProviderOrder
    from agent.session import Session as Session
    from agent.session import build_provider as build_provider
    from agent.template.catalog import load_template as load_template
    from agent.template.compile import compile_template as compile_template
    from agent.template.model import Template as Template


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'agent' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])

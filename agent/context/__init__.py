"""The repository context: what plan-agent knows of the repository, fitted to a token budget, never a secret.

In: a repository root and a brief (`brief` reads one from a file); out: a `RepoContext`, the prompt text
(stack facts, README, file tree, outlines and excerpts of the best-ranked files) and a manifest of what was cut.

Importing this package is cheap; PyStemmer, pathspec and detect-secrets load on the first `build_context` call.
"""

from agent.context.budget import estimate_tokens
from agent.context.build import build_context, context_for_backlog, context_for_brief
from agent.context.repo import (
    DEFAULT_CONTEXT_TOKENS,
    ContextManifest,
    CutItem,
    IncludedItem,
    OutlineEntry,
    RankedFile,
    RepoContext,
    StackFacts,
)
from agent.context.show import SCHEMA_VERSION, format_appendix, format_text, to_json

__all__ = [
    "DEFAULT_CONTEXT_TOKENS",
    "SCHEMA_VERSION",
    "ContextManifest",
    "CutItem",
    "IncludedItem",
    "OutlineEntry",
    "RankedFile",
    "RepoContext",
    "StackFacts",
    "build_context",
    "context_for_backlog",
    "context_for_brief",
    "estimate_tokens",
    "format_appendix",
    "format_text",
    "to_json",
]

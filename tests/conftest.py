"""Shared pytest fixtures. Each block below belongs to one part of the code base; keep them apart."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest

# --- provider layer: fake LLM server ----------------------------------------------------------
from fake_llm_server import FakeLLMServer


@pytest.fixture
def fake_llm_server() -> Iterator[FakeLLMServer]:
    """A real loopback server speaking OpenAI and Anthropic; script it with `.push(...)`."""
    with FakeLLMServer() as server:
        yield server


# --- end provider layer -----------------------------------------------------------------------



# --- the whole suite: which tests start first, on which worker ----------------------------------
# The modules whose tests take longest (waiting on timeouts and processes, or running hypothesis) start
# first, so on `-n auto` the short tests fill the gaps around them instead of a long one starting last.
SLOW_FIRST = ("test_hostile_waits.py", "test_batch_sigkill.py", "test_eval_cli.py", "test_hostile_output.py",
              "test_cost_cap.py", "test_properties.py", "test_mcp_server.py", "test_hostile_batch.py",
              "test_batch_cli.py", "test_draft_e2e.py", "test_hostile_messages.py", "test_hostile_inputs.py")
# Modules whose module-scoped fixture is costly: all their tests go to one worker, which builds it once.
WHOLE_MODULES = ("test_eval_cli.py", "test_eval_relay.py", "test_packaging.py", "test_mcp_server.py")


def pytest_collection_finish(session: pytest.Session) -> None:
    # What collection built (the test modules, the SDKs' thousands of pydantic types) lives to the end:
    # frozen, the garbage collector stops walking it on every full collection (3.5 s of the suite's CPU).
    gc.collect()
    gc.freeze()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: position for position, name in enumerate(SLOW_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(SLOW_FIRST)))  # stable: each module keeps its order


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """In place of `-n`'s default: tests go to whichever worker is free, a few at a time, in the order
    above. (xdist's `--dist loadgroup` would group by marks, but its group suffix is lost on pytest 9.)"""
    if config.getvalue("dist") != "load":
        return None  # a --dist asked for on the command line
    from xdist.scheduler import LoadScopeScheduling

    class SlowFirst(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return module if module.rsplit("/", 1)[-1] in WHOLE_MODULES else nodeid

    config.option.loadscopereorder = False  # keep the order above, not the largest scope first
    return SlowFirst(config, log)

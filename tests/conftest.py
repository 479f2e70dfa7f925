"""Shared pytest fixtures. Each block below belongs to one part of the code base; keep them apart."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

# --- provider layer: fake LLM server ----------------------------------------------------------
from fake_llm_server import FakeLLMServer


@pytest.fixture
def fake_llm_server() -> Iterator[FakeLLMServer]:
    """A real loopback server speaking OpenAI and Anthropic; script it with `.push(...)`."""
    with FakeLLMServer() as server:
        yield server


# --- end provider layer -----------------------------------------------------------------------

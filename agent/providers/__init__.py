"""Turn a model spec such as `openai:gpt-4.1-mini` into a `Provider`, importing only the SDK it needs.

Specs: `openai:MODEL`, `anthropic:MODEL`, `ollama:MODEL` (OpenAI-compatible, at localhost:11434). The
`offline` drafter is built from the brief it drafts, by `agent.session.build_provider`.
Settings arrive as arguments (`env` is passed in, `os.environ` is never read here), so the caller
resolves them once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from agent.errors import InputError, MissingKeyError
from agent.providers.base import (
    Capabilities,
    ModelRequest,
    ModelResponse,
    Provider,
    StopReason,
    TokenCount,
    Usage,
)

if TYPE_CHECKING:  # agent.providers.retry imports tenacity; keep `import agent.providers` light
    from agent.providers.retry import RetryPolicy

__all__ = ["Capabilities", "ModelRequest", "ModelResponse", "Provider", "StopReason", "TokenCount", "Usage",
           "resolve_provider"]

OLLAMA_URL = "http://localhost:11434/v1"
# Local OpenAI-compatible servers ignore the key, but the SDK refuses to start without one.
PLACEHOLDER_KEY = "no-key-needed"


@dataclass(frozen=True)
class _Settings:
    base_url: str | None
    env: Mapping[str, str]
    retry: RetryPolicy | None
    timeout: float | None

    def client_options(self) -> dict[str, Any]:
        """Only what the caller set, so each provider keeps its own defaults."""
        options: dict[str, Any] = {"retry": self.retry}
        if self.timeout is not None:
            options["timeout"] = self.timeout
        return options


def resolve_provider(
    spec: str,
    *,
    base_url: str | None = None,
    env: Mapping[str, str],
    retry: RetryPolicy | None = None,
    timeout: float | None = None,
    origin: str = "--model",
) -> Provider:
    """The provider for `spec`. `base_url` wins over `OPENAI_BASE_URL` / `ANTHROPIC_BASE_URL` in `env`;
    `retry` and `timeout` (seconds per attempt) default to the providers' own.

    Raises `InputError` for a spec it does not know and `MissingKeyError` when the key is missing.
    """
    kind, _, model = spec.partition(":")
    factory = _FACTORIES.get(kind)
    if factory is None and kind == "offline":  # it needs what is drafted, which a spec alone does not give
        raise InputError(f"{origin} offline drafts from a brief and a repository, so it is built with them by "
                         "agent.session.build_provider; use openai:MODEL, anthropic:MODEL or ollama:MODEL here")
    if factory is None:
        raise InputError(f"Unknown provider in {origin} {spec!r}; use one of: {', '.join(_KNOWN)}")
    if not model:
        raise InputError(f"No model named in {origin} {spec!r}; write it as {kind}:MODEL")
    if base_url is not None:
        check_base_url(base_url, "--base-url")
    return factory(model, _Settings(base_url, env, retry, timeout))


def check_base_url(url: str, origin: str) -> None:
    """An http(s) URL with a host, checked before any call: a typo should not cost 14 s of retries."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(f"{origin} {url!r} is not a URL; write it as http://HOST:PORT/v1 or https://HOST/v1")


def _env_url(env: Mapping[str, str], variable: str) -> str | None:
    url = env.get(variable) or None
    if url is not None:
        check_base_url(url, variable)
    return url


def _openai(model: str, settings: _Settings) -> Provider:
    url = settings.base_url or _env_url(settings.env, "OPENAI_BASE_URL")
    key = settings.env.get("OPENAI_API_KEY") or (PLACEHOLDER_KEY if url else None)
    if not key:
        raise MissingKeyError("No key for openai: set OPENAI_API_KEY, or use --model offline")
    from agent.providers.openai import OpenAIProvider

    return OpenAIProvider(model, key, url, **settings.client_options())


def _anthropic(model: str, settings: _Settings) -> Provider:
    key = settings.env.get("ANTHROPIC_API_KEY")
    if not key:
        raise MissingKeyError("No key for anthropic: set ANTHROPIC_API_KEY, or use --model offline")
    url = settings.base_url or _env_url(settings.env, "ANTHROPIC_BASE_URL")
    from agent.providers.anthropic import AnthropicProvider

    return AnthropicProvider(model, key, url, **settings.client_options())


def _ollama(model: str, settings: _Settings) -> Provider:
    from agent.providers.openai import OpenAIProvider

    url = settings.base_url or OLLAMA_URL
    return OpenAIProvider(model, "ollama", url, name=f"ollama:{model}", **settings.client_options())


# `offline` is not here: it drafts from the template, brief and repository, so `agent.session.build_provider`,
# the one place a spec becomes a provider for a draft, builds it with them.
_FACTORIES: dict[str, Callable[[str, _Settings], Provider]] = {
    "openai": _openai,
    "anthropic": _anthropic,
    "ollama": _ollama,
}
_KNOWN = ("openai:MODEL", "anthropic:MODEL", "ollama:MODEL", "offline")

"""Cassettes: a case's model exchanges, recorded at the Provider seam and replayed with no network.

Each exchange is keyed by a digest of the request (system, shared prefix, prompt, section, schema), so a
replay answers exactly the requests that were recorded, and the same grades come out. With
`match="section"` a request that changed since recording (a prompt edit) gets the next answer recorded
for its section instead, so a prompt change is judged on the same model answers.
A cassette holds digests and answers only; API keys are never in a request, and are scrubbed anyway.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import deque
from collections.abc import Iterable
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any, Literal

from agent import errors
from agent.errors import InputError, ProviderError, TransportError
from agent.inputs import load_json, read_text
from agent.output import write_atomic
from agent.providers.base import (
    Capabilities,
    ModelRequest,
    ModelResponse,
    Provider,
    TokenCount,
    Usage,
    count_request,
)

CASSETTE_VERSION = 1
KEY_LIKE = re.compile(r"\b(?:sk|pk|rk)-[A-Za-z0-9_-]{20,}")
REDACTED = "[REDACTED]"
Match = Literal["exact", "section"]

MAX_CASSETTE_BYTES = 100_000_000


class ReplayMissError(InputError):
    """The cassette holds no answer for a request: the prompt, template or repository changed."""


def request_key(request: ModelRequest) -> str:
    parts = [request.system, request.shared_prefix, request.prompt, request.schema_name, request.schema]
    return hashlib.sha256(json.dumps(parts, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def cassette_path(directory: Path, case_id: str, role: str = "") -> Path:
    return directory / (f"{case_id}.{role}.json" if role else f"{case_id}.json")


def replay_capabilities(recorded: Capabilities) -> Capabilities:
    """What a recording declares: no cache warm-up, since a warm-up request differs from its section's only
    in its output budget, which `request_key` leaves out, so its empty answer could replay for the section."""
    return replace(recorded, warm_cache_first=False)


class RecordingProvider:
    """Passes every call to `inner` and keeps the exchange; `save()` writes them as one cassette."""

    def __init__(self, inner: Provider, path: Path, secrets: Iterable[str] = ()) -> None:
        self.inner, self.path = inner, path
        self.name, self.model = inner.name, inner.model
        self.capabilities = replay_capabilities(inner.capabilities)
        self.exchanges: list[dict[str, Any]] = []
        self._secrets = [secret for secret in secrets if secret]
        self._asked: dict[str, int] = {}

    async def complete(self, request: ModelRequest) -> ModelResponse:
        section = request.schema_name
        self._asked[section] = seq = self._asked.get(section, 0) + 1
        entry: dict[str, Any] = {"section": section, "seq": seq, "key": request_key(request)}
        try:
            response = await self.inner.complete(request)
        except ProviderError as error:  # the draft loop reads these; anything else is a bug to surface
            self.exchanges.append({**entry, "error": str(error), "error_type": type(error).__name__})
            raise
        self.exchanges.append({**entry, "response": _response_json(response)})
        return response

    def count_tokens(self, request: ModelRequest) -> TokenCount:
        return self.inner.count_tokens(request)

    async def aclose(self) -> None:
        await self.inner.aclose()

    def save(self, case_id: str) -> None:
        exchanges = sorted(self.exchanges, key=lambda entry: (entry["section"], entry["seq"]))
        data = {"schema_version": CASSETTE_VERSION, "case": case_id, "model": self.name, "exchanges": exchanges}
        text = json.dumps(data, indent=1, ensure_ascii=False)
        for secret in self._secrets:  # cassettes are committed: no key may reach one, even echoed by a model
            text = text.replace(secret, REDACTED)
        write_atomic(self.path, KEY_LIKE.sub(REDACTED, text) + "\n")


class ReplayProvider:
    """Answers from a cassette; a request it has no answer for is a `ReplayMissError` naming case and section."""

    def __init__(self, path: Path, case_id: str, match: Match = "exact") -> None:
        data = _load(path, case_id)
        self.path, self.case_id, self.match = path, case_id, match
        self.name = str(data["model"])
        self.model = self.name.partition(":")[2] or self.name
        self.capabilities = Capabilities()
        self.by_section_answers = 0  # answers given by section because the exact request was not recorded
        self._exchanges: list[dict[str, Any]] = data["exchanges"]
        self._by_key: dict[str, deque[int]] = {}
        self._by_section: dict[str, deque[int]] = {}
        for index, entry in enumerate(self._exchanges):
            self._by_key.setdefault(entry["key"], deque()).append(index)
            self._by_section.setdefault(entry["section"], deque()).append(index)
        self._used: set[int] = set()

    async def complete(self, request: ModelRequest) -> ModelResponse:
        index = self._take(self._by_key.get(request_key(request)))
        if index is None and self.match == "section":
            index = self._take(self._by_section.get(request.schema_name))
            self.by_section_answers += index is not None
        if index is None:
            raise ReplayMissError(
                f"case {self.case_id}, section {request.schema_name}: {self.path} has no answer for this request "
                "(the prompt, template or repository changed since it was recorded); record again with "
                "--record, or replay with --replay-match section")
        entry = self._exchanges[index]
        if "error" in entry:  # raised as the recorded class; one this version no longer has is a TransportError
            recorded = getattr(errors, entry.get("error_type", ""), None)
            if isinstance(recorded, type) and issubclass(recorded, ProviderError):
                raise recorded(entry["error"])
            raise TransportError(entry["error"])
        return _response_from(entry["response"])

    def count_tokens(self, request: ModelRequest) -> TokenCount:
        return count_request(request)

    async def aclose(self) -> None:
        """Nothing to release: it reads a file and holds no connections."""

    def _take(self, queue: deque[int] | None) -> int | None:
        while queue:
            index = queue.popleft()
            if index not in self._used:
                self._used.add(index)
                return index
        return None


def _load(path: Path, case_id: str) -> dict[str, Any]:
    try:
        if not path.exists():
            raise FileNotFoundError(path)
        data = load_json(read_text(str(path), "cassette", MAX_CASSETTE_BYTES), str(path))
    except FileNotFoundError:
        raise ReplayMissError(f"case {case_id}: no cassette at {path}; record one with --record {path.parent}") from None
    except InputError as error:
        raise InputError(f"{error}; record it again with --record") from None
    if not isinstance(data, dict) or data.get("schema_version") != CASSETTE_VERSION or "exchanges" not in data:
        raise InputError(f"{path}: not a version {CASSETTE_VERSION} cassette; record it again with --record")
    return data


def _response_json(response: ModelResponse) -> dict[str, Any]:
    """The answer; its text only when it is more than the JSON of its data, which keeps cassettes small."""
    entry: dict[str, Any] = {"data": response.data, "stop": response.stop, "usage": asdict(response.usage)}
    if response.data is None or response.text != json.dumps(response.data):
        entry["text"] = response.text
    if response.refusal is not None:
        entry["refusal"] = response.refusal
    return entry


def _response_from(entry: dict[str, Any]) -> ModelResponse:
    text = entry["text"] if "text" in entry else json.dumps(entry["data"])
    return ModelResponse(entry["data"], text, entry["stop"], Usage(**entry["usage"]), entry.get("refusal"))

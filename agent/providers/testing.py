"""Providers for tests: no network, no key, the same `Provider` seam as the real models.

The idea of pydantic-ai's `FunctionModel` and `TestModel`. `FunctionProvider(fn)` answers each request with
what `fn` returns for it (an object for the schema, or a whole `ModelResponse` for a truncated, refused or
malformed answer; an exception `fn` raises is the call failing). `SchemaProvider()` answers every request
with a valid object for its schema, for tests that need a draft to go through and care little what it says.

    from agent.providers.testing import FunctionProvider
    provider = FunctionProvider(lambda request: {request.schema_name: "Finance downloads invoices as CSV."})
    result = await draft_plan(template, brief, provider)
    provider.requests  # every request the draft loop sent, in order

Like every provider they keep no usage total: each draft counts its own, so one provider can serve many.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable, Collection
from itertools import count
from typing import Any

from agent.context.budget import estimate_tokens
from agent.providers.base import Capabilities, ModelRequest, ModelResponse, TokenCount, Usage, count_request

Answer = dict[str, Any] | ModelResponse
AnswerFunction = Callable[[ModelRequest], Answer | Awaitable[Answer]]
# Lists a good model leaves empty when nothing is wrong: a section's changes to the plan spine and the
# whole-plan review's findings (filled, they would amend the spine and quote nothing real in the plan).
EMPTY_WHEN_FINE = frozenset({"spine_changes", "findings"})
PLAIN = Capabilities()  # a model with no cache to warm and no batch API, that drafts whole plans
WORDS = ("parser", "cache", "retry", "export", "session", "billing", "webhook", "index", "queue", "audit")


class FunctionProvider:
    """A provider whose answers come from `fn(request)`, sync or async.

    A dict is the parsed answer: it comes back `complete`, its text the dict's JSON, its usage one call with
    tokens estimated from the request and the answer (about four characters a token). A `ModelResponse`
    comes back as it is, usage included. `requests` holds every request in the order it arrived.
    """

    def __init__(self, fn: AnswerFunction, *, name: str = "test:function",
                 capabilities: Capabilities = PLAIN) -> None:
        self.fn, self.name, self.capabilities = fn, name, capabilities
        self.model = name.partition(":")[2] or name
        self.requests: list[ModelRequest] = []

    async def complete(self, request: ModelRequest) -> ModelResponse:
        self.requests.append(request)
        answer = self.fn(request)
        if inspect.isawaitable(answer):
            answer = await answer
        return answer if isinstance(answer, ModelResponse) else answered(request, answer)

    def count_tokens(self, request: ModelRequest) -> TokenCount:
        return count_request(request)

    async def aclose(self) -> None:
        """Nothing to release: it holds no connections."""


def answered(request: ModelRequest, data: dict[str, Any]) -> ModelResponse:
    """`data` as a complete answer to `request`, with estimated usage."""
    text = json.dumps(data, ensure_ascii=False)
    prompt = request.system + request.shared_prefix + request.prompt + json.dumps(request.toolbox or request.schema)
    return ModelResponse(data, text, "complete",
                         Usage(calls=1, input_tokens=estimate_tokens(prompt), output_tokens=estimate_tokens(text)))


class SchemaProvider(FunctionProvider):
    """Answers every request with a valid object for its schema, the same object for the same schema.

    Strings read like plan text (no placeholder, no path), so the plan validator finds nothing to re-ask;
    every optional field is filled, every list has `items` entries, except the lists named in `empty`.
    """

    def __init__(self, *, name: str = "test:schema", capabilities: Capabilities = PLAIN,
                 items: int = 2, empty: Collection[str] = EMPTY_WHEN_FINE) -> None:
        super().__init__(self._answer, name=name, capabilities=capabilities)
        self.items, self.empty = items, frozenset(empty)

    def _answer(self, request: ModelRequest) -> dict[str, Any]:
        data = fill_schema(request.schema, self.items, self.empty)
        if not isinstance(data, dict):
            raise ValueError(f"{request.schema_name}: the schema is not an object's, so no answer fits a ModelResponse")
        return data


def fill_schema(schema: dict[str, Any], items: int = 2, empty: Collection[str] = ()) -> Any:
    """A value valid for `schema`: the subset of JSON Schema that strict structured outputs allow (object,
    array, string, number, integer, boolean, null, enum, const, anyOf, $ref into $defs)."""
    turns = count()
    definitions = schema.get("$defs", {})

    def fill(node: dict[str, Any], name: str) -> Any:
        if "$ref" in node:
            return fill(definitions[node["$ref"].rsplit("/", 1)[-1]], name)
        if "const" in node:
            return node["const"]
        if "enum" in node:
            return node["enum"][next(turns) % len(node["enum"])]
        if "anyOf" in node:  # an optional field is filled: the branch that is not null
            branch = next((b for b in node["anyOf"] if b.get("type") != "null"), node["anyOf"][0])
            return fill(branch, name)
        kind = node.get("type")
        if isinstance(kind, list):  # ["string", "null"]: the first type that is not null
            kind = next((k for k in kind if k != "null"), "null")
        if kind == "object":
            return {key: fill(sub, key) for key, sub in node.get("properties", {}).items()}
        if kind == "array":
            wanted = 0 if name in empty else max(items, node.get("minItems", 0))
            wanted = min(wanted, node.get("maxItems", wanted))
            return [fill(node.get("items", {}), name) for _ in range(wanted)]
        if kind in ("integer", "number"):
            return min(max(node.get("minimum", 3), 3), node.get("maximum", 3))
        if kind == "boolean":
            return True
        if kind == "null":
            return None
        turn = next(turns)
        return f"Handle the {WORDS[turn % len(WORDS)]} change in step {turn + 1} and cover it with a unit test."

    return fill(schema, "")

"""The fake LLM server's default answer: a valid, deterministic object for a JSON schema, whose
strings read like a real plan, so end-to-end drafting runs offline.

Strings are dealt in turn from a bank, so the same schema always gets the same answer and
neighbouring fields and list items differ from each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import count
from typing import Any

SENTENCES = (
    "Move session storage from the web process into Redis so deploys stop logging users out.",
    "Add an idempotency key to the payment endpoint and reject replays within 24 hours.",
    "Split the nightly export job into per-tenant batches so one large tenant cannot delay the rest.",
    "Record p95 latency for every public route and alert when it stays above 400 ms for ten minutes.",
    "Keep the existing REST contract; the new fields are optional and older clients ignore them.",
    "Migrate the orders table with an online schema change, backfilling in batches of 5,000 rows.",
    "Put the new checkout flow behind a feature flag and roll it out to 5% of traffic first.",
    "Write contract tests against the billing service's staging API before switching traffic.",
    "Roll back by turning the flag off, then reverting the migration with its down script.",
    "Cache product lookups for 60 seconds and invalidate them on write through the event bus.",
    "Limit uploads to 25 MB and stream them to object storage instead of buffering in memory.",
    "Pair with the platform team on the Terraform change, since they own the load balancer.",
)
PHRASES = (
    "Rate limiting for the public API",
    "Session storage in Redis",
    "Tenant-aware export batches",
    "Checkout rollout behind a flag",
    "Online orders-table migration",
    "Contract tests for billing",
    "Latency alerts on public routes",
    "Streaming uploads to object storage",
)
# Files to modify name PATHS; files to create name NEW_PATHS, so a repository holding PATHS (and none
# of NEW_PATHS) passes the validator's path checks, as a model that read the repository would.
PATHS = ("src/api/rate_limit.py", "src/billing/client.py", "tests/api/test_rate_limit.py", "docs/runbook.md")
NEW_PATHS = ("src/api/quota_store.py", "tests/api/test_quota_store.py")
SHORT_FIELDS = frozenset({"title", "name", "heading", "label", "owner", "component", "feature"})
FORMATS = {
    "date": "2026-03-02",
    "date-time": "2026-03-02T09:30:00Z",
    "email": "platform-team@example.com",
    "uri": "https://docs.example.com/runbooks/checkout",
}
MAX_DEPTH = 8
# Left empty, as a model answers when nothing is wrong: a section's changes to the plan spine, and the
# whole-plan review's findings (a filled one would quote nothing real in the plan).
EMPTY_BY_DEFAULT = frozenset({"$.spine_changes", "$.findings"})


@dataclass
class _Walk:
    root: dict[str, Any]
    turns: count[int] = field(default_factory=count)

    def pick(self, choices: int) -> int:
        return next(self.turns) % choices


def fill_schema(schema: dict[str, Any]) -> Any:
    """A value that validates against `schema` (objects get every property, as strict mode requires)."""
    return _fill(schema, _Walk(schema), "$", 0)


def _fill(node: dict[str, Any], walk: _Walk, path: str, depth: int) -> Any:
    node = _resolve(node, walk.root)
    if "const" in node:
        return node["const"]
    if "enum" in node:
        return node["enum"][walk.pick(len(node["enum"]))]
    options = node.get("anyOf") or node.get("oneOf")
    if options:
        return _fill(_first_not_null(options, walk.root), walk, path, depth)
    return _fill_type(_type_of(node), node, walk, path, depth)


def _fill_type(kind: str, node: dict[str, Any], walk: _Walk, path: str, depth: int) -> Any:
    if kind == "object":
        props = node.get("properties", {})
        return {key: _fill(sub, walk, f"{path}.{key}", depth + 1) for key, sub in props.items()}
    if kind == "array":
        return _fill_array(node, walk, path, depth)
    if kind in ("integer", "number"):
        return _number(node, kind)
    if kind == "boolean":
        return walk.pick(2) == 0
    if kind == "null":
        return None
    return _string(node, path, walk)


def _fill_array(node: dict[str, Any], walk: _Walk, path: str, depth: int) -> list[Any]:
    if path in EMPTY_BY_DEFAULT:
        return []
    low = node.get("minItems", 0)
    count = low if depth >= MAX_DEPTH else max(low, min(2, node.get("maxItems", 2)))
    items = node.get("items", {"type": "string"})
    return [_fill(items, walk, f"{path}[{i}]", depth + 1) for i in range(count)]


def _string(node: dict[str, Any], path: str, walk: _Walk) -> str:
    if node.get("format") in FORMATS:
        return FORMATS[node["format"]]
    field = path.rsplit(".", 1)[-1].split("[")[0]
    if "date" in field:
        return FORMATS["date"]
    bank = _bank_for(field, node.get("maxLength", 1000))
    start = walk.pick(len(bank))
    text = bank[start]
    while len(text) < node.get("minLength", 0):
        start += 1
        text += " " + bank[start % len(bank)]
    return _clip(text, node.get("maxLength"))


def _bank_for(field: str, max_length: int) -> tuple[str, ...]:
    if ("file" in field or "path" in field) and ("create" in field or "new" in field):
        return NEW_PATHS
    if "file" in field or "path" in field:
        return PATHS
    return PHRASES if field in SHORT_FIELDS or max_length < 60 else SENTENCES


def _clip(text: str, limit: int | None) -> str:
    if limit is None or len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut if cut else text[:limit]


def _number(node: dict[str, Any], kind: str) -> int | float:
    value = 3
    if "minimum" in node or "exclusiveMinimum" in node:
        value = max(value, node.get("minimum", node.get("exclusiveMinimum", 0) + 1))
    if "maximum" in node or "exclusiveMaximum" in node:
        value = min(value, node.get("maximum", node.get("exclusiveMaximum", 0) - 1))
    return int(value) if kind == "integer" else float(value)


def _type_of(node: dict[str, Any]) -> str:
    kind = node.get("type")
    if isinstance(kind, list):
        return next((k for k in kind if k != "null"), "null")
    if kind:
        return str(kind)
    return "object" if "properties" in node else "string"


def _first_not_null(options: list[dict[str, Any]], root: dict[str, Any]) -> dict[str, Any]:
    return next((o for o in options if _resolve(o, root).get("type") != "null"), options[0])


def _resolve(node: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if not ref:
        return node
    target: Any = root
    for part in ref.removeprefix("#/").split("/"):
        target = target[part]
    return _resolve(target, root)

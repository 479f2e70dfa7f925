"""Outline a file: its classes, functions, methods, routes and exports (Python by `ast`, others by line patterns)."""

from __future__ import annotations

import ast
import bisect
import re
from collections.abc import Iterator

from agent.context.outline_patterns import RULES_BY_EXTENSION, Rule
from agent.context.repo import OutlineEntry

MAX_ENTRIES = 60
MAX_DETAIL = 100
_ROUTE_VERBS = frozenset({"get", "post", "put", "patch", "delete", "head", "options", "websocket"})
_CONSTANT = re.compile(r"^[A-Z][A-Z0-9_]+$")


def outline(path: str, text: str, max_entries: int | None = MAX_ENTRIES) -> tuple[OutlineEntry, ...]:
    """The file's symbols in line order; the first `max_entries` of them (all with None)."""
    extension = path.rpartition(".")[2].lower()
    entries: list[OutlineEntry] = []
    if extension in ("py", "pyi"):
        try:
            entries = [entry for node in ast.parse(text).body for entry in _python_node(node)]
        except (SyntaxError, ValueError):  # ValueError: NUL bytes; either way the line patterns take over
            entries = []
    if not entries and extension in RULES_BY_EXTENSION:
        entries = _by_patterns(text, RULES_BY_EXTENSION[extension])
    return tuple(sorted(entries, key=lambda entry: (entry.line, entry.kind, entry.name)))[:max_entries]


def _python_node(node: ast.stmt) -> list[OutlineEntry]:
    if isinstance(node, ast.ClassDef):
        bases = ", ".join(ast.unparse(base) for base in node.bases)
        methods = [m for m in node.body if isinstance(m, ast.FunctionDef | ast.AsyncFunctionDef)]
        head = OutlineEntry("class", node.name, node.lineno, _short(f"({bases})" if bases else ""))
        return [head, *(entry for m in methods for entry in _python_function(m, f"{node.name}."))]
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        return _python_function(node, "")
    if not isinstance(node, ast.Assign | ast.AnnAssign):
        return []
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    names = [target.id for target in targets if isinstance(target, ast.Name)]
    if names == ["__all__"] and isinstance(node.value, ast.List | ast.Tuple):
        exported = [item.value for item in node.value.elts if isinstance(item, ast.Constant)]
        return [OutlineEntry("export", str(name), node.lineno) for name in exported]
    # Constant names only: their values are where configuration, and secrets, live.
    return [OutlineEntry("constant", name, node.lineno) for name in names if _CONSTANT.match(name)]


def _python_function(node: ast.FunctionDef | ast.AsyncFunctionDef, owner: str) -> list[OutlineEntry]:
    returns = f" -> {ast.unparse(node.returns)}" if node.returns else ""
    kind = "method" if owner else "function"
    entry = OutlineEntry(kind, owner + node.name, node.lineno, _short(f"({ast.unparse(node.args)}){returns}"))
    return [*_python_routes(node, owner), entry]


def _python_routes(node: ast.FunctionDef | ast.AsyncFunctionDef, owner: str) -> Iterator[OutlineEntry]:
    """@app.get("/x"), @router.post("/x"), @app.route("/x", methods=["POST"]) and friends."""
    for decorator in node.decorator_list:
        if not (isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute)):
            continue
        verb, args = decorator.func.attr.lower(), decorator.args
        if not (args and isinstance(args[0], ast.Constant) and isinstance(args[0].value, str)):
            continue
        if verb in _ROUTE_VERBS or verb in ("route", "api_route"):
            method = verb.upper() if verb in _ROUTE_VERBS else "GET"  # `route` without `methods=` serves GET
            for keyword in decorator.keywords:
                if keyword.arg == "methods" and isinstance(keyword.value, ast.List | ast.Tuple):
                    method = ",".join(str(getattr(item, "value", "?")).upper() for item in keyword.value.elts)
            yield OutlineEntry("route", args[0].value, decorator.lineno, f"{method} -> {owner}{node.name}")


def _by_patterns(text: str, rules: tuple[Rule, ...]) -> list[OutlineEntry]:
    line_starts = [0, *(match.end() for match in re.finditer("\n", text))]
    found: dict[tuple[int, str], OutlineEntry] = {}
    for kind, pattern in rules:
        for match in pattern.finditer(text):
            line = bisect.bisect_right(line_starts, match.start())
            key = (line, match["name"])
            if key in found:  # earlier rules are more specific (an exported function beats a function)
                continue
            owner = match.groupdict().get("owner")
            name = f"{owner}.{match['name']}" if owner else match["name"]
            detail = (match.groupdict().get("detail") or "").strip()
            found[key] = OutlineEntry(kind, name, line, _short(detail.upper() if kind == "route" else detail))
    return list(found.values())


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_DETAIL else text[: MAX_DETAIL - 1] + "…"

"""Line patterns that outline languages other than Python: definitions, exports and routes, no parser needed."""

from __future__ import annotations

import re

# Each pattern has a `name` group; `owner` prefixes it (Go receivers), `detail` annotates it (route verbs).
Rule = tuple[str, re.Pattern[str]]
_M = re.MULTILINE
_CONTROL_WORDS = r"(?!(?:if|for|while|switch|catch|return|function|else|new|await|typeof)\b)"


def _rules(*pairs: tuple[str, str]) -> tuple[Rule, ...]:
    return tuple((kind, re.compile(pattern, _M)) for kind, pattern in pairs)


JAVASCRIPT = _rules(
    ("function", r"^\s*export\s+(?:default\s+)?(?:async\s+)?function\*?\s+(?P<name>\w+)(?P<detail>\([^)]*\))?"),
    ("function", r"^(?:async\s+)?function\*?\s+(?P<name>\w+)(?P<detail>\([^)]*\))?"),
    ("class", r"^\s*(?:export\s+)?(?:default\s+)?(?:abstract\s+)?class\s+(?P<name>\w+)"),
    ("interface", r"^\s*(?:export\s+)?interface\s+(?P<name>\w+)"),
    ("type", r"^\s*(?:export\s+)?type\s+(?P<name>\w+)\s*(?:<[^>]*>)?\s*="),
    ("enum", r"^\s*(?:export\s+)?(?:const\s+)?enum\s+(?P<name>\w+)"),
    ("export", r"^\s*export\s+(?:const|let|var)\s+(?P<name>\w+)"),
    ("method", rf"^[ \t]+(?:(?:public|private|protected|static|async|readonly|override)\s+)*{_CONTROL_WORDS}"
               r"(?P<name>\w+)\s*(?P<detail>\([^)]*\))\s*(?::\s*[^{;]+)?\{"),
    ("route", r"\b(?:app|router|server|api|routes)\.(?P<detail>get|post|put|patch|delete|all)\(\s*['\"`](?P<name>[^'\"`]+)"),
    ("route", r"@(?P<detail>Get|Post|Put|Patch|Delete)\(\s*['\"](?P<name>[^'\"]*)"),
)
GO = _rules(
    ("method", r"^func\s+\(\s*\w*\s*\*?(?P<owner>\w+)(?:\[[^\]]*\])?\)\s+(?P<name>\w+)(?P<detail>\([^)]*\))"),
    ("function", r"^func\s+(?P<name>\w+)(?:\[[^\]]*\])?(?P<detail>\([^)]*\))"),
    ("struct", r"^type\s+(?P<name>\w+)(?:\[[^\]]*\])?\s+struct\b"),
    ("interface", r"^type\s+(?P<name>\w+)(?:\[[^\]]*\])?\s+interface\b"),
    ("route", r"\.(?P<detail>GET|POST|PUT|PATCH|DELETE|HandleFunc|Handle|Get|Post|Put|Delete)\(\s*\"(?P<name>/[^\"]*)"),
)
RUST = _rules(
    ("function", r"^\s*(?:pub(?:\([^)]*\))?\s+)?(?:const\s+)?(?:async\s+)?(?:unsafe\s+)?fn\s+(?P<name>\w+)"),
    ("struct", r"^\s*(?:pub(?:\([^)]*\))?\s+)?struct\s+(?P<name>\w+)"),
    ("enum", r"^\s*(?:pub(?:\([^)]*\))?\s+)?enum\s+(?P<name>\w+)"),
    ("trait", r"^\s*(?:pub(?:\([^)]*\))?\s+)?trait\s+(?P<name>\w+)"),
    ("impl", r"^impl(?:<[^>]*>)?\s+(?:(?P<detail>[\w:]+)(?:<[^>]*>)?\s+for\s+)?(?P<name>\w+)"),
    ("route", r"#\[(?P<detail>get|post|put|patch|delete)\(\s*\"(?P<name>[^\"]*)"),
)
JVM = _rules(  # Java, Kotlin, Scala, C#
    ("class", r"^\s*(?:(?:public|private|protected|internal|abstract|final|static|sealed|data|open|partial)\s+)*"
              r"(?:class|interface|enum|record|object)\s+(?P<name>\w+)"),
    ("method", r"^\s+(?:public|private|protected|internal)\s+(?:(?:static|final|async|override|virtual|abstract)\s+)*"
               r"(?:[\w<>\[\],.?]+\s+)?(?P<name>\w+)\s*(?P<detail>\([^)]*\))"),
    ("function", r"^\s*(?:(?:public|private|internal|override|suspend)\s+)*fun\s+(?:<[^>]*>\s*)?(?P<name>[\w.]+)"),
    ("route", r"@(?P<detail>Get|Post|Put|Delete|Patch|Request)Mapping\(\s*(?:(?:value|path)\s*=\s*)?\"(?P<name>[^\"]*)"),
)
RUBY = _rules(
    ("class", r"^\s*(?:class|module)\s+(?P<name>[\w:]+)"),
    ("method", r"^\s*def\s+(?P<name>(?:self\.)?\w+[?!=]?)"),
    ("route", r"^\s*(?P<detail>get|post|put|patch|delete)\s+['\"](?P<name>[^'\"]+)"),
)
PHP = _rules(
    ("class", r"^\s*(?:(?:abstract|final|readonly)\s+)*(?:class|interface|trait|enum)\s+(?P<name>\w+)"),
    ("function", r"^\s*(?:(?:public|private|protected|static|abstract|final)\s+)*function\s+(?P<name>\w+)"),
    ("route", r"Route::(?P<detail>get|post|put|patch|delete|any)\(\s*['\"](?P<name>[^'\"]+)"),
)
PYTHON_FALLBACK = _rules(  # for files ast cannot parse (Python 2, templates, syntax errors)
    ("class", r"^\s*class\s+(?P<name>\w+)"),
    ("function", r"^\s*(?:async\s+)?def\s+(?P<name>\w+)(?P<detail>\([^)]*\))?"),
)

RULES_BY_EXTENSION: dict[str, tuple[Rule, ...]] = {
    **dict.fromkeys(("ts", "tsx", "mts", "cts", "js", "jsx", "mjs", "cjs", "vue", "svelte"), JAVASCRIPT),
    "go": GO,
    "rs": RUST,
    **dict.fromkeys(("java", "kt", "kts", "scala", "cs"), JVM),
    "rb": RUBY,
    "php": PHP,
    **dict.fromkeys(("py", "pyi"), PYTHON_FALLBACK),
}

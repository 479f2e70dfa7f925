"""What the validator reports: a finding on a line, and the context that collects them while a plan is read."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from agent.template.model import HEADER, Template

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Finding:
    severity: Severity
    code: str
    message: str
    line: int
    section: str = ""
    unit: str = ""
    column: int = 1  # 1 when only the line is known

    def format(self, path: str) -> str:
        """`PLAN.md:LINE:COL: severity: message`, the line shape IDE problem matchers read."""
        where = f" [{self.section}]" if self.section else ""
        return f"{path}:{self.line}:{self.column}: {self.severity}: {self.message}{where}"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Context:
    template: Template
    tracked_paths: frozenset[str] | None
    findings: list[Finding]
    unit: str = HEADER
    section: str = ""
    listed_files: set[str] = field(default_factory=set)  # paths under "files to modify / create"
    mentions: list[Finding] = field(default_factory=list)  # paths named anywhere else, as would-be findings

    def add(self, severity: Severity, code: str, message: str, line: int, column: int = 1) -> None:
        self.findings.append(Finding(severity, code, message, line, self.section, self.unit, column))


def has_errors(findings: list[Finding]) -> bool:
    return any(finding.severity == "error" for finding in findings)

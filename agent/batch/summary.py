"""What a `plan batch` run reports: each item as it ends, and the whole batch at the end."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from agent.batch.manifest import ItemRecord
from agent.providers.base import Usage

Via = Literal["direct", "batch-api"]


@dataclass(frozen=True)
class ItemOutcome:
    """How one item ended in this run."""

    id: str
    record: ItemRecord
    plan_path: Path
    seconds: float
    findings: tuple[dict[str, Any], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        record = self.record
        return {"schema_version": 1, "type": "item", "id": self.id, "state": record.state,
                "complete": record.complete, "findings": list(self.findings), "plan_path": str(self.plan_path),
                "json_path": str(self.plan_path.with_suffix(".json")),
                "usage": {**record.usage, "cost_usd": record.cost_usd}, "error": record.error,
                "seconds": round(self.seconds, 3)}


@dataclass(frozen=True)
class BatchPlan:
    total: int
    todo: int
    done_before: int
    failed_before: int  # left as they are: --retry-failed redoes them


class Observer(Protocol):
    def started(self, plan: BatchPlan) -> None: ...
    def finished(self, outcome: ItemOutcome) -> None: ...
    def note(self, message: str) -> None: ...


@dataclass
class BatchSummary:
    out: Path
    manifest_path: Path
    model: str
    via: Via
    states: dict[str, int]  # of every item of the backlog, after this run
    complete: int
    drafted: int  # in this run
    usage: Usage
    cost_usd: float | None
    spent_usd: float  # every run of this batch
    wall_s: float
    stopped: str | None = None
    jobs: tuple[str, ...] = ()

    @property
    def exit_code(self) -> int:
        """0: every plan complete; 3: every item drafted, some with findings; 1: items failed or not drafted."""
        if self.states.get("done", 0) < sum(self.states.values()):
            return 1
        return 0 if self.complete == self.states.get("done", 0) else 3

    def as_dict(self) -> dict[str, Any]:
        minutes = self.wall_s / 60
        return {"schema_version": 1, "type": "summary", "out": str(self.out), "manifest": str(self.manifest_path),
                "model": self.model, "via": self.via, "items": sum(self.states.values()), **self.states,
                "complete": self.complete, "drafted": self.drafted,
                "usage": {**asdict(self.usage), "cost_usd": self.cost_usd}, "spent_usd": round(self.spent_usd, 6), "wall_s": round(self.wall_s, 3),
                "items_per_minute": round(self.drafted / minutes, 2) if minutes else None,
                "stopped": self.stopped, "batch_ids": list(self.jobs)}

"""The batch manifest, `OUT/batch-manifest.json`: each item's state and the batch API jobs submitted.

Every change is written through a temporary file and renamed, so a run killed at any moment (SIGKILL
included) leaves either the old manifest or the new one. An item is `done` only after its plan files
were written; `pending` and `running` items are drafted (again) by the next run into the same directory,
so nothing is lost and nothing is duplicated. A lock file keeps two runs from sharing one --out.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from agent.errors import InputError
from agent.inputs import load_json, read_text
from agent.output import write_json

MANIFEST_NAME = "batch-manifest.json"
LOCK_NAME = ".batch.lock"
MAX_MANIFEST_BYTES = 200_000_000
SCHEMA_VERSION = 1
State = Literal["pending", "running", "done", "failed"]
UNFINISHED: frozenset[str] = frozenset({"pending", "running"})


@dataclass
class ItemRecord:
    """Where an item's plan goes and how its last attempt ended (`error` says why it failed)."""

    dir: str
    title: str
    state: State = "pending"
    complete: bool | None = None
    findings: int = 0
    cost_usd: float | None = None
    usage: dict[str, int] = field(default_factory=dict)
    model: str | None = None
    error: str | None = None
    attempts: int = 0


@dataclass
class BatchJob:
    """A batch API job: its id, and the file under OUT listing the `custom_id` of every request in it."""

    id: str
    provider: str
    requests_file: str
    state: Literal["submitted", "ended"] = "submitted"


class Manifest:
    def __init__(self, out: Path, source: str, items: dict[str, ItemRecord], jobs: list[BatchJob],
                 spent_usd: float) -> None:
        self.out, self.source, self.items, self.jobs, self.spent_usd = out, source, items, jobs, spent_usd
        self._lock: int | None = None
        # Item changes are written at most this often (the rest within the interval, and on close): many
        # items end at once when a batch API job does. A change lost to a kill only redoes that item.
        self.save_interval_s = 0.0
        self._saved_at = 0.0
        self._flush: asyncio.TimerHandle | None = None

    @property
    def path(self) -> Path:
        return self.out / MANIFEST_NAME

    @classmethod
    def open(cls, out: Path, source: str) -> Manifest:
        """The manifest of the batch in `out`, locked for this run; a new one when there is none."""
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise InputError(f"{out}: cannot create the output directory: {error.strerror or error}") from None
        lock = _take_lock(out / LOCK_NAME)
        try:
            remove_stale_temporaries(out)
            manifest = cls._read(out) or cls(out, source, {}, [], 0.0)
            if manifest.source != source:
                raise InputError(f"{out} holds the batch of {manifest.source}; pass another --out for {source}")
        except BaseException:
            os.close(lock)
            raise
        manifest._lock = lock
        return manifest

    @classmethod
    def _read(cls, out: Path) -> Manifest | None:
        path = out / MANIFEST_NAME
        if not path.exists():
            return None
        try:
            data = load_json(read_text(str(path), "batch manifest", MAX_MANIFEST_BYTES), str(path))
            items = {key: ItemRecord(**value) for key, value in data["items"].items()}
            jobs = [BatchJob(**job) for job in data.get("jobs", [])]
            return cls(out, data["source"], items, jobs, float(data.get("spent_usd", 0.0)))
        except (InputError, ValueError, KeyError, TypeError) as error:
            raise InputError(f"{path}: not a batch manifest this version can read ({error}); "
                             "pass another --out") from None

    def close(self) -> None:
        self.flush()
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None

    def save(self) -> None:
        if self._flush is not None:
            self._flush.cancel()
            self._flush = None
        write_json(self.path, self.as_dict())
        self._saved_at = time.monotonic()

    def flush(self) -> None:
        """Write the changes `update` held back, if any."""
        if self._flush is not None:
            self.save()

    def _changed(self) -> None:
        wait = self._saved_at + self.save_interval_s - time.monotonic()
        if wait <= 0:
            self.save()
        elif self._flush is None:
            self._flush = asyncio.get_running_loop().call_later(wait, self.save)

    def as_dict(self) -> dict[str, Any]:
        return {"schema_version": SCHEMA_VERSION, "source": self.source, "spent_usd": round(self.spent_usd, 6),
                "items": {key: asdict(record) for key, record in self.items.items()},
                "jobs": [asdict(job) for job in self.jobs]}

    def register(self, entries: dict[str, tuple[str, str]]) -> None:
        """Record every item id (with its directory and title) the manifest does not know yet, as pending."""
        for key, (directory, title) in entries.items():
            self.items.setdefault(key, ItemRecord(directory, title))
        self.save()

    def update(self, key: str, **changes: Any) -> None:
        record = self.items[key]
        for name, value in changes.items():
            setattr(record, name, value)
        self._changed()

    def begin(self, keys: list[str]) -> None:
        """Mark items running, with one more attempt each, in one write."""
        for key in keys:
            record = self.items[key]
            record.state, record.attempts, record.error = "running", record.attempts + 1, None
        self._changed()

    def charge(self, cost_usd: float | None) -> None:
        """Money a call spent, kept across runs so that --max-cost caps the whole batch."""
        self.spent_usd += cost_usd or 0.0
        self._changed()

    def add_job(self, job: BatchJob, custom_ids: list[str]) -> None:
        """Record a submitted job (its request list first, then the manifest naming it)."""
        write_json(self.out / job.requests_file, {"batch_id": job.id, "custom_ids": custom_ids})
        self.jobs.append(job)
        self.save()

    def end_job(self, job_id: str) -> None:
        for job in self.jobs:
            if job.id == job_id and job.state != "ended":
                job.state = "ended"
                self.save()

    def job_requests(self, job: BatchJob) -> list[str]:
        try:
            data = json.loads((self.out / job.requests_file).read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise InputError(f"{self.out / job.requests_file}: cannot read the batch's request list ({error}); "
                             "pass another --out to start the batch again") from None
        return list(data["custom_ids"])

    def __enter__(self) -> Manifest:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def remove_stale_temporaries(directory: Path) -> None:
    """Temporary files `write_atomic` left behind when a run was killed while writing."""
    for stale in directory.glob(".*.tmp"):
        stale.unlink(missing_ok=True)


def _take_lock(path: Path) -> int:
    """An exclusive lock the kernel drops when the process dies, however it dies."""
    handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no lock, one run at a time is up to the user
        return handle
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(handle)
        raise InputError(f"another `plan batch` is writing to {path.parent}; wait for it, or pass another --out") from None
    return handle

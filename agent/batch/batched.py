"""A `Provider` whose calls go out together through the provider's batch API (`--via batch-api`).

Every item's draft loop runs unchanged; each of its section calls joins the next job here. Once no new
call has come for `settle_s`, the waiting calls go out as one job: the first round of every item, then
the re-asks of those that need them as a second job, and so on. A call is named by a hash of its wire
body (its `custom_id`), and a job's ids are recorded in the manifest as soon as it is submitted, so a
later run collects the answers of the jobs it finds recorded instead of sending the same requests
again; only the requests an earlier run's job could not answer are sent anew.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any

from agent.batch.batch_api import BatchAPI, Result, batch_api_for
from agent.batch.manifest import BatchJob, Manifest
from agent.errors import InputError, ProviderError, TransportError
from agent.providers.base import ModelRequest, ModelResponse, Provider, TokenCount, count_body

JOBS_DIR = "batch-jobs"


@dataclass(frozen=True)
class PollPolicy:
    """How long to gather calls before submitting, and how often to look at a running job."""

    settle_s: float = 1.0
    first_s: float = 5.0
    factor: float = 1.5
    max_s: float = 60.0
    max_requests: int = 50_000  # OpenAI's limit per job (Anthropic allows 100,000)
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep


DEFAULT_POLICY = PollPolicy()


def batched_provider(inner: Provider, manifest: Manifest, note: Callable[[str], None],
                     policy: PollPolicy = DEFAULT_POLICY) -> BatchedProvider:
    if not inner.capabilities.batch_api:
        raise InputError(f"{inner.name} has no batch API; drop --via batch-api, or use openai:MODEL or anthropic:MODEL")
    return BatchedProvider(batch_api_for(inner), manifest, note, policy)


def custom_id(body: dict[str, Any]) -> str:
    """The same request always gets the same id (and a valid one for both APIs: `[a-f0-9]{32}`)."""
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:32]


class BatchedProvider:
    def __init__(self, api: BatchAPI, manifest: Manifest, note: Callable[[str], None],
                 policy: PollPolicy = DEFAULT_POLICY) -> None:
        self.api, self.manifest, self.note, self.policy = api, manifest, note, policy
        self.name, self.model = api.provider.name, api.provider.model
        # A warm-up would wait in a job like any other call and finish no sooner than the sections it is for.
        self.capabilities = replace(api.provider.capabilities, warm_cache_first=False)
        self.recorded = {key: job.id for job in manifest.jobs for key in manifest.job_requests(job)}
        self.mine: set[str] = set()  # jobs submitted by this run: their answers are final for it
        self.jobs: dict[str, asyncio.Task[dict[str, Result]]] = {}
        self.waiting: dict[str, dict[str, Any]] = {}
        self.placed: asyncio.Future[dict[str, str]] | None = None  # where the waiting calls went
        self.last_call = 0.0
        self.submitting: set[asyncio.Future[None]] = set()  # held here: the loop keeps only weak references

    async def complete(self, request: ModelRequest) -> ModelResponse:
        body = self.api.wire_body(request)
        result = await self._answer(custom_id(body), body)
        if isinstance(result, str):
            raise TransportError(f"{self.name}: the batch API gave no answer ({result}); "
                                 "run the same command with --retry-failed to send it again")
        return result

    def count_tokens(self, request: ModelRequest) -> TokenCount:
        return count_body(self.api.wire_body(request))

    async def aclose(self) -> None:
        await self.api.provider.aclose()

    async def _answer(self, key: str, body: dict[str, Any]) -> Result:
        job_id = self.recorded.get(key)
        if job_id is not None:
            try:
                result = (await self._results(job_id)).get(key)
            except ProviderError as error:
                if job_id in self.mine:
                    raise
                # An earlier run's job whose results are gone has none: its requests go out again below.
                self.note(f"batch {job_id}: cannot collect its results ({error}); sending its requests again")
                result = None
            if isinstance(result, ModelResponse) or job_id in self.mine:
                return result or f"batch {job_id} ended without an answer for it"
        job_id = (await self._enqueue(key, body))[key]
        return (await self._results(job_id)).get(key) or f"batch {job_id} ended without an answer for it"

    def _enqueue(self, key: str, body: dict[str, Any]) -> asyncio.Future[dict[str, str]]:
        self.last_call = time.monotonic()
        self.waiting.setdefault(key, body)
        if self.placed is None:
            self.placed = asyncio.get_running_loop().create_future()
            task = asyncio.ensure_future(self._submit_when_quiet(self.placed))
            self.submitting.add(task)
            task.add_done_callback(self.submitting.discard)
        return self.placed

    async def _submit_when_quiet(self, placed: asyncio.Future[dict[str, str]]) -> None:
        while (wait := self.last_call + self.policy.settle_s - time.monotonic()) > 0:
            await self.policy.sleep(wait)
        entries, self.waiting, self.placed = list(self.waiting.items()), {}, None
        try:
            placed.set_result(await self._submit(entries))
        except Exception as error:  # every call waiting for this job gets the error, none is left hanging
            placed.set_exception(error)

    async def _submit(self, entries: list[tuple[str, dict[str, Any]]]) -> dict[str, str]:
        where: dict[str, str] = {}
        size = self.policy.max_requests
        for chunk in (entries[start:start + size] for start in range(0, len(entries), size)):
            job_id = await self.api.submit(chunk)
            keys = [key for key, _ in chunk]
            self.manifest.add_job(BatchJob(job_id, self.name, f"{JOBS_DIR}/{job_id}.json"), keys)
            self.mine.add(job_id)
            where.update(dict.fromkeys(keys, job_id))
            self.note(f"batch {job_id}: submitted {len(chunk)} request(s)")
        self.recorded.update(where)
        return where

    def _results(self, job_id: str) -> asyncio.Task[dict[str, Result]]:
        if job_id not in self.jobs:
            self.jobs[job_id] = asyncio.ensure_future(self._collect(job_id))
        return self.jobs[job_id]

    async def _collect(self, job_id: str) -> dict[str, Result]:
        """Poll the job, backing off, until it ends; then its answers and errors by `custom_id`."""
        delay = self.policy.first_s
        while not (status := await self.api.status(job_id)).ended:
            self.note(f"batch {job_id}: {status.state}, {status.finished}/{status.total} answered")
            await self.policy.sleep(delay)
            delay = min(delay * self.policy.factor, self.policy.max_s)
        results = await self.api.results(job_id)
        self.manifest.end_job(job_id)
        self.note(f"batch {job_id}: {status.state}, {len(results)} result(s) collected")
        return results

"""`plan batch` as a Python API: a backlog in, one `plan draft`-shaped plan per item out, resumably.

One repository context and one provider serve the whole batch; every item is drafted by `draft_plan`
with its own `Account`: its own usage, the batch's --max-cost and rate limiter shared with every other
item, each answer charged to the manifest. The manifest says what is finished, so a re-run does only the rest.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from agent.batch.limiter import RateLimiter
from agent.batch.manifest import UNFINISHED, Manifest, remove_stale_temporaries
from agent.batch.sources import BacklogItem, read_backlog
from agent.batch.summary import BatchPlan, BatchSummary, ItemOutcome, Observer, Via
from agent.context import context_for_backlog
from agent.context.repo import RepoContext
from agent.draft.cost import Account, CostCap, Price, cost_usd
from agent.draft.loop import DraftResult
from agent.errors import (
    ContextWindowError,
    InputError,
    OutputExistsError,
    PlanBusyError,
    PlanError,
    ProviderError,
)
from agent.output import plan_lock
from agent.providers.base import Provider, Usage
from agent.providers.retry import RetryPolicy
from agent.session import DraftOutcome, Session, write_outcome
from agent.template.model import Template

FAILED_CODES = frozenset({"transport", "rejected", "budget"})  # a section never drafted: the item is failed
SAME_ERROR_STOPS = 3  # this many items in a row failing alike (a rejected key, a dead server) stop the batch
BATCH_API_DISCOUNT = 0.5


@dataclass(frozen=True, kw_only=True)
class BatchRequest:
    """What `plan batch` was asked beyond the settings (those come from the `Session`)."""

    source: str
    repo: str = "."
    out: str | None = None  # the folder for the plans and the manifest; None: the out_dir setting
    workers: int | None = None  # items drafted at once (--concurrency); None: the concurrency setting
    retry_failed: bool = False
    via: Via = "direct"


def run_batch(request: BatchRequest, session: Session, observer: Observer) -> BatchSummary:
    started = session.clock.now()
    if request.workers is not None and request.workers < 1:
        raise InputError("--concurrency must be at least 1")
    config = session.settings
    items = read_backlog(request.source)
    template = session.template()
    model, note = session.model()
    if request.via == "batch-api" and model.partition(":")[0] not in ("openai", "anthropic"):
        raise InputError(f"--via batch-api needs --model openai:MODEL or anthropic:MODEL, not {model}")
    out = Path(request.out or config.out_dir)
    with Manifest.open(out, str(Path(request.source).resolve())) as manifest:
        # A plan in --out that no manifest records was written by someone else: batch has no --force, so it
        # never overwrites one.
        for item in items:
            plan = manifest.out / item.dir_name / "plan.md"
            if item.id not in manifest.items and plan.exists():
                raise OutputExistsError(f"{plan} already exists and {manifest.path.name} does not record it; move "
                                        "it away, or choose another --out for this backlog")
        manifest.register({item.id: (item.dir_name, item.brief.title) for item in items})
        records = [manifest.items[item.id] for item in items]
        unreadable = [item for item in items if item.error]
        wanted = UNFINISHED | ({"failed"} if request.retry_failed else set())
        todo = [item for item in items if not item.error and manifest.items[item.id].state in wanted]
        run = BatchRun(request, session, model, template, manifest, observer) if todo else None  # a missing key stops here
        observer.started(BatchPlan(len(items), len(todo), sum(r.state == "done" for r in records),
                                   0 if request.retry_failed else sum(r.state == "failed" for r in records)))
        for item in unreadable:  # each fails alone, with what was wrong with it; the others go on
            manifest.update(item.id, **_failed(item.error or "", Usage()))
            observer.finished(ItemOutcome(item.id, manifest.items[item.id], out / item.dir_name / "plan.md", 0.0, ()))
        if run is not None:
            if note:
                observer.note(note)
            context = context_for_backlog(Path(request.repo), [item.brief for item in items], config.context_tokens,
                                          output_dir=out)
            asyncio.run(run.run(todo, context))
        return _summary(manifest, items, model, request.via, run, session.clock.now() - started)


class BatchRun:
    """The asynchronous part: workers drafting items through one shared provider."""

    def __init__(self, request: BatchRequest, session: Session, model: str, template: Template,
                 manifest: Manifest, observer: Observer) -> None:
        config = session.settings
        self.request, self.session, self.model, self.template = request, session, model, template
        self.manifest, self.observer = manifest, observer
        prices = config.prices if request.via == "direct" else _discounted(config.prices)
        sections = config.concurrency if request.via == "direct" else 1_000  # every section into the same job
        # A batch drafts sections and re-asks only: a spine and a review per item would add two more
        # sequential jobs to every --via batch-api run. Not yet measured for batches; `plan draft` has both.
        self.settings = session.draft_settings(concurrency=sections, max_cost_usd=None, prices=prices, spine=False,
                                               review=False)
        self.workers = request.workers or config.concurrency
        self.cap = CostCap(config.max_cost, prices, spent_before=manifest.spent_usd)
        self.limiter = (RateLimiter(config.rpm, config.tpm, clock=session.clock.now, sleep=session.clock.sleep)
                        if request.via == "direct" else None)
        self.deadline = config.deadline
        self.shared = None if model == "offline" else self._shared_provider()
        self.stopped: str | None = None
        self.streak: tuple[str, int] = ("", 0)
        self.drafted = 0
        self.usage_total = Usage()  # of the items this run drafted, failed attempts included

    def _shared_provider(self) -> Provider:
        if self.limiter is None:
            from agent.batch.batched import DEFAULT_POLICY, batched_provider

            return batched_provider(self.session.provider(self.model), self.manifest, self.observer.note,
                                    self.session.polls or DEFAULT_POLICY)
        # One worker's 429 slows them all, and retries wait their turn like any other call.
        retry = replace(self.session.retry or RetryPolicy(), on_fault=self.limiter.on_fault,
                        before_retry=self.limiter.before_retry)
        return self.session.provider(self.model, retry=retry)

    async def run(self, todo: list[BacklogItem], context: RepoContext) -> None:
        self.context = context  # one for the whole batch, so every item's prompt shares its first part
        queue = iter(todo)
        workers = self.workers if self.request.via == "direct" else len(todo)
        if self.request.via == "batch-api":  # every item starts at once and many end together
            self.manifest.save_interval_s = 1.0
            self.manifest.begin([item.id for item in todo])
        try:
            await asyncio.gather(*(self._worker(queue) for _ in range(min(workers, len(todo)))))
        finally:
            if self.shared is not None:
                await self.shared.aclose()

    async def _worker(self, queue: Iterator[BacklogItem]) -> None:
        for item in queue:  # one iterator shared by every worker: each item is taken once
            if self.cap.reached:
                self.stopped = self.stopped or (f"--max-cost ${self.cap.cap_usd:.2f} reached; raise it and run the "
                                                "same command again (with --retry-failed for the items it cut short)")
            if self.stopped:
                return
            await self._draft(item)

    async def _draft(self, item: BacklogItem) -> None:
        record = self.manifest.items[item.id]
        if self.request.via == "direct":  # batch-api began every item at once
            self.manifest.begin([item.id])
        # Each answer is charged to the manifest as it is spent: an interrupted run cannot forget it.
        account = Account(self.cap, self.limiter,
                          lambda usage: self.manifest.charge(cost_usd(self.model, usage, self.settings.prices)))
        plan_path = self.manifest.out / record.dir / "plan.md"
        started = self.session.clock.now()
        try:
            with plan_lock(plan_path):  # a `plan revise` of this item's plan must not be overwritten, nor overwrite it
                changes, findings = await self._draft_locked(item, account, plan_path)
        except PlanBusyError as error:
            changes, findings = _failed(str(error), account.usage), ()
        finally:
            self.usage_total += account.usage
        # Recorded once the lock is gone: an item the manifest calls done leaves no lock file behind.
        self.manifest.update(item.id, model=self.model, **changes)
        # Items failing alike one after another (a rejected key, a dead server) will not stop failing: stop.
        failure = changes["error"] if changes["state"] == "failed" and changes["complete"] is None else ""
        count = self.streak[1] + 1 if failure and failure == self.streak[0] else int(bool(failure))
        self.streak = (failure, count)
        if count >= SAME_ERROR_STOPS:
            self.stopped = f"{count} items in a row failed alike: {failure}"
        self.observer.finished(ItemOutcome(item.id, self.manifest.items[item.id], plan_path,
                                           self.session.clock.now() - started, findings))

    async def _draft_locked(self, item: BacklogItem, account: Account,
                            plan_path: Path) -> tuple[dict[str, Any], tuple[dict[str, Any], ...]]:
        """The item's plan drafted and written; what the manifest should record of it, and its findings."""
        # Offline drafts from the item's brief, so it is a drafter per item; any other provider is shared.
        provider = self.shared or self.session.provider(self.model, template=self.template, brief=item.brief,
                                                        context=self.context)
        try:
            # A batch API job can take hours, so its items wait for it; a direct item has the draft's deadline.
            async with asyncio.timeout(self.deadline if self.request.via == "direct" else None):
                result = await self.session.draft(self.template, item.brief, self.context, provider,
                                                  settings=self.settings, account=account)
        except TimeoutError:
            return _failed(f"not drafted within the {self.deadline:g} s deadline (--deadline); run again to retry it",
                           account.usage), ()
        # No section could be drafted, the provider refused the request, or this item's brief is too long for it.
        except (ProviderError, ContextWindowError) as error:
            return _failed(str(error), account.usage), ()
        try:
            remove_stale_temporaries(plan_path.parent)
            write_outcome(DraftOutcome(result, plan_path, plan_path.with_suffix(".json"), self.model, self.template,
                                       self.context, item.brief.source))
        except (PlanError, OSError) as error:  # this item's folder is in the way or the disk is full: it alone fails
            message = str(error) if isinstance(error, PlanError) else f"{plan_path}: {error.strerror or error}"
            return _failed(message, account.usage), ()
        self.drafted += 1
        return _changes(result), tuple(f.as_dict() for f in result.findings)


def _changes(result: DraftResult) -> dict[str, Any]:
    broken = [finding for finding in result.findings if finding.code in FAILED_CODES]
    return {"state": "failed" if broken else "done", "complete": result.complete, "findings": len(result.findings),
            "cost_usd": result.cost_usd, "usage": asdict(result.usage), "error": broken[0].message if broken else None}


def _failed(message: str, usage: Usage) -> dict[str, Any]:
    return {"state": "failed", "complete": None, "findings": 0, "cost_usd": None, "usage": asdict(usage),
            "error": message}


def _summary(manifest: Manifest, items: list[BacklogItem], model: str, via: Via, run: BatchRun | None,
             wall_s: float) -> BatchSummary:
    records = [manifest.items[item.id] for item in items]
    states = {state: sum(r.state == state for r in records) for state in ("done", "failed", "running", "pending")}
    states["pending"] += states.pop("running")
    usage = run.usage_total if run else Usage()
    cost = cost_usd(model, usage, run.settings.prices) if run else None
    complete = sum(r.state == "done" and bool(r.complete) for r in records)
    return BatchSummary(manifest.out, manifest.path, model, via, states, complete, run.drafted if run else 0,
                        usage, cost, manifest.spent_usd, wall_s, run.stopped if run else None,
                        tuple(job.id for job in manifest.jobs))


def _discounted(prices: Mapping[str, Price]) -> dict[str, Price]:
    """The batch APIs bill every token at half the list price."""
    return {model: Price(*(rate * BATCH_API_DISCOUNT for rate in (p.input, p.output, p.cache_read, p.cache_write)))
            for model, p in prices.items()}


__all__ = ["BatchRequest", "BatchSummary", "ItemOutcome", "Observer", "run_batch"]

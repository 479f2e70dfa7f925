"""The draft loop: the plan spine first, then every section at once, the deterministic checks and one
whole-plan review, then re-asks of only the sections with errors they can fix themselves.

Transport retries live in the providers (`agent.providers.retry`); this loop owns only validation re-asks, a
single larger-budget retry of a truncated answer, and its `Account` (usage, context window, --max-cost),
which a batch item shares with the batch. A re-answer that names fewer real repository paths or brings a
problem back is discarded, keeping the earlier answer.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from functools import partial
from typing import Any

from pydantic import ValidationError

from agent.check.files import paths_in_line
from agent.check.validate import Finding, validate_plan
from agent.config import KEYS
from agent.context.brief import Brief
from agent.context.budget import estimate_tokens
from agent.draft.cost import Account, CostCap, Price, cost_usd
from agent.draft.prompts import (
    prefix_parts,
    reask_prompt,
    review_prompt,
    section_prompt,
    spine_part,
    spine_prompt,
    system_prompt,
    unit_label,
)
from agent.draft.review import REVIEW, Review, ReviewNote, read_review, review_schema
from agent.draft.spine import (
    SPINE,
    default_budget,
    read_spine,
    section_budget,
    spine_changes,
    spine_schema,
    spine_text,
    with_spine_changes,
)
from agent.errors import (
    BudgetError,
    ContextWindowError,
    PlanFileError,
    ProviderError,
    RejectedError,
    TransportError,
)
from agent.providers.base import ModelRequest, ModelResponse, Provider, Usage
from agent.template.model import HEADER, Template
from agent.template.render import render_plan, render_unit
from agent.template.schema import json_schema, unit_model, unit_names

Progress = Callable[[str], None]
# Below this many prompt tokens, Anthropic caches nothing (1,024 for Sonnet and Opus): no warm-up then.
MIN_CACHED_TOKENS = 1024
# Findings a section's own answer cannot fix: headings and their order are the renderer's, not the model's.
NOT_THE_SECTIONS = frozenset({"order", "missing-heading", "extra-heading"})
PURPOSES = ("spine", "section", "review", "reask", "warm_up")


@dataclass(frozen=True)
class DraftSettings:
    """What the draft loop needs of the settings (`Session.draft_settings` makes it from the resolved ones);
    the defaults are the settings' own, for callers of `draft_plan` with no session."""

    max_rounds: int = KEYS["max_rounds"].default
    concurrency: int = KEYS["concurrency"].default
    max_cost_usd: float | None = None
    max_output_tokens: int = 4096
    prices: Mapping[str, Price] | None = None
    max_cost_origin: str = "--max-cost"  # where the cap was set, for messages
    spine: bool = True  # one call for the plan's backbone before the sections (providers that can't: skipped)
    review: bool = True  # one call reviewing the whole plan after the checks (`--no-review` turns it off)
    today: date | None = None  # the date the model is told; None is today
    now: Callable[[], float] = time.perf_counter  # the clock the report's timings are read from


@dataclass(frozen=True)
class Revision:
    """Draft only some units of an existing plan (`plan revise`): `notes` names them, each with what the
    model should know about its current text; `compose` turns the answered units into the whole file."""

    notes: Mapping[str, str]
    compose: Callable[[dict[str, Any]], str]


@dataclass
class DraftResult:
    plan: dict[str, Any]
    markdown: str
    findings: list[Finding]
    rounds: int
    usage: Usage
    cost_usd: float | None
    timings: dict[str, Any]
    # Each answered call, in the order they came back: its section and what the prompt cache did for it.
    calls: list[dict[str, Any]] = field(default_factory=list)
    spine: dict[str, Any] | None = None
    review: list[ReviewNote] | None = None  # None: no review was made
    by_purpose: dict[str, dict[str, Any]] = field(default_factory=dict)  # spine, section, review, reask, warm_up

    @property
    def complete(self) -> bool:
        return not any(finding.severity == "error" for finding in self.findings)


@dataclass
class UnitState:
    name: str
    value: Any = None
    answered: bool = False
    problems: list[Finding] = field(default_factory=list)
    max_output_tokens: int = 0  # raised for good once an answer is cut off
    refused: bool = False  # a refusal is final: asking again costs a call and rarely changes the answer
    words: int = 0  # the section's length budget
    errors_seen: set[tuple[str, str]] = field(default_factory=set)  # every error any answer of it had
    rejected: Any = None  # the last answer that broke the schema, shown in its re-ask so one bad field is fixed


@dataclass(frozen=True)
class Before:
    """A section as it stood before a re-ask: its answer, its errors, its real paths, every error it ever had,
    and the real paths its findings named (a finding may ask for one of them to go)."""

    value: Any
    errors: set[tuple[str, str]]
    paths: frozenset[str]
    seen: set[tuple[str, str]]
    named: frozenset[str]


@dataclass
class Ledger:
    """The calls of one purpose (spine, section, review, reask, warm_up): tokens as answered, and time."""

    usage: Usage = field(default_factory=Usage)
    seconds: list[float] = field(default_factory=list)


async def draft_plan(
    template: Template,
    brief: Brief,
    provider: Provider,
    repository_text: str = "",
    tracked_paths: frozenset[str] | None = None,
    settings: DraftSettings = DraftSettings(),
    progress: Progress = lambda message: None,
    revision: Revision | None = None,
    account: Account | None = None,
) -> DraftResult:
    """Draft `template`'s plan for `brief`. Its calls are charged to `account` (a batch item's, sharing the
    batch's cap); without one the draft opens its own, capped at `settings.max_cost_usd`. Either way the
    result's usage is the draft's own, so one provider can serve drafts running at once."""
    account = account or Account(CostCap(settings.max_cost_usd, settings.prices, origin=settings.max_cost_origin))
    loop = DraftLoop(template, provider, settings, progress, tracked_paths, account, revision, brief)
    common, own = prefix_parts(template, brief, repository_text, settings.today)
    loop.common_prefix_chars = len(common)
    try:
        return await loop.run(common + own)
    except ContextWindowError as error:
        # The repository context is the part a user sizes (the budget counts it as `estimate_tokens` does; the
        # request's JSON escapes only add to it, so a context smaller by `excess` makes the request fit).
        fits = estimate_tokens(repository_text) - error.excess
        fix = (f"lower --context-tokens to {fits:,} or less" if fits > 0 else
               "the brief and template alone are too long for it: shorten the brief or use a model with a larger window")
        raise ContextWindowError(error.what, error.excess, fix) from None


class DraftLoop:
    def __init__(self, template: Template, provider: Provider, settings: DraftSettings, progress: Progress,
                 tracked_paths: frozenset[str] | None, account: Account, revision: Revision | None = None,
                 brief: Brief | None = None) -> None:
        self.template, self.provider, self.settings, self.account = template, provider, settings, account
        self.progress, self.tracked_paths = progress, tracked_paths
        names = unit_names(template)
        self.notes = revision.notes if revision else {}
        self.compose = revision.compose if revision else partial(render_plan, template, today=settings.today)
        words = default_budget(brief, len(names)) if brief else 0
        self.units = {name: UnitState(name, max_output_tokens=settings.max_output_tokens, words=words)
                      for name in names if revision is None or name in revision.notes}
        # A revision redrafts sections of a plan whose backbone exists already; the offline drafter declares
        # that it drafts sections only.
        whole_plan = revision is None and provider.capabilities.drafts_whole_plan
        self.spine_wanted, self.review_wanted = whole_plan and settings.spine, whole_plan and settings.review
        self.system = system_prompt()
        self.common_prefix_chars = 0  # of the prefix, what other drafts share too (see ModelRequest)
        self.ledgers = {purpose: Ledger() for purpose in PURPOSES}
        self.calls: list[dict[str, Any]] = []
        self.semaphore = asyncio.Semaphore(max(1, settings.concurrency))
        self.warmed = False
        self.unreachable: TransportError | None = None  # once a call gave up on the provider, others don't wait
        self.schemas = {name: with_spine_changes(json_schema(unit_model(template, name)), name) for name in names}
        self.schemas[SPINE], self.schemas[REVIEW] = spine_schema(names), review_schema(names)
        self.toolbox = tuple(self.schemas.items())  # every request's, so all calls share one cached prefix
        self.spine: dict[str, Any] | None = None
        self.review: Review | None = None
        self.discarded: list[Finding] = []  # re-answers thrown away, reported

    async def run(self, prefix: str) -> DraftResult:
        started = self.settings.now()
        base = prefix
        if self.spine_wanted:
            prefix = base + await self._draft_spine(base)
        pending, rounds, purpose = list(self.units), 0, "section"
        findings: list[Finding] = []
        for rounds in range(self.settings.max_rounds + 1):
            self.progress(f"round {rounds}: drafting {len(pending)} section(s)")
            before = self._snapshot(pending, findings) if rounds else {}
            changed = await self._ask_all(pending, prefix, findings, purpose)
            findings = self._validate()
            if before:
                changed = self._keep_better(before, findings) and changed
                findings = self._validate()
            if self.spine is not None and self.spine.get("amendments"):
                prefix = base + spine_part(spine_text(self.spine))  # the reconciled spine for every later call
            # The review reads the whole plan, so it waits for a round in which every section has an answer (a
            # section that broke its schema renders as an empty frame the review would only complain about).
            complete = all(state.answered or state.refused for state in self.units.values())
            if self.review_wanted and (complete or rounds == self.settings.max_rounds):
                await self._review_once(prefix)
            findings += self.review.standing(self.compose(self.assembled())) if self.review else []
            # A refusal is final: asking again costs a call and rarely changes the answer.
            pending = sorted({f.unit for f in findings if self._fixable(f) and f.unit in self.units
                              and not self.units[f.unit].refused})
            purpose = "reask"
            if not pending or not changed:
                break
        return self._result(findings + list(dict.fromkeys(self.discarded)), rounds, self.settings.now() - started)

    @staticmethod
    def _fixable(finding: Finding) -> bool:
        """Only errors the section's own answer can fix are sent back: warnings are reported, never sent."""
        return finding.severity == "error" and finding.code not in NOT_THE_SECTIONS

    async def _draft_spine(self, prefix: str) -> str:
        """The spine call; the text every section request then carries ("" when it failed: the sections
        go ahead without one, since a spine helps a plan but is never a reason to fail it)."""
        words = sum(state.words for state in self.units.values())
        request = ModelRequest(self.system, prefix, spine_prompt(words), self.schemas[SPINE], SPINE,
                               self.settings.max_output_tokens, self.toolbox, self.common_prefix_chars)
        self.progress("drafting the plan spine")
        try:
            response = await self._timed(request, "spine")
        except (BudgetError, TransportError, RejectedError) as error:
            if isinstance(error, TransportError):
                self.unreachable = error  # it stayed unreachable through every retry: the sections won't wait again
            self.progress(f"plan spine: {error}; drafting the sections without one")
            return ""
        self.spine = read_spine(response.data, list(self.units))
        if self.spine is None:
            self.progress("plan spine: the answer did not fit its schema; drafting the sections without one")
            return ""
        for state in self.units.values():
            state.words = section_budget(self.spine, state.name, state.words)
        return spine_part(spine_text(self.spine))

    async def _ask_all(self, names: list[str], prefix: str, findings: list[Finding], purpose: str) -> bool:
        """Ask for `names` concurrently; True when any answer differs from the one it replaces."""
        problems = {name: [f for f in findings if f.unit == name and self._fixable(f)] for name in names}
        if len(names) > 1:
            await self._warm_cache(prefix, names[0])
        outcomes = await asyncio.gather(*(self._ask(name, prefix, problems[name], purpose) for name in names))
        failures = [outcome for outcome in outcomes if isinstance(outcome, ProviderError | ContextWindowError)]
        if failures and not any(state.answered for state in self.units.values()):
            raise failures[0]  # nothing useful came back: say why, once
        return any(outcome is True for outcome in outcomes)

    async def _ask(self, name: str, prefix: str, findings: list[Finding],
                   purpose: str) -> bool | ProviderError | ContextWindowError:
        state = self.units[name]
        if not state.answered and not state.problems:
            prompt = section_prompt(self.template, name, state.words, spine=self.spine is not None)
        else:  # a re-ask, with what was wrong
            unique = dict.fromkeys(state.problems + findings)  # the round's findings already hold the unit's problems
            messages = [f"{f.section}: {f.message}" if f.section else f.message for f in unique]
            prompt = reask_prompt(self.template, name, messages, state.value if state.answered else state.rejected,
                                  state.words)
        if note := self.notes.get(name):  # what a revision says of the section's current text
            prompt += f"\n\n{note}"
        request = ModelRequest(self.system, prefix, prompt, self.schemas[name], name, state.max_output_tokens,
                               self.toolbox, self.common_prefix_chars)
        try:
            response = await self._call(state, request, purpose)
        except BudgetError as error:
            state.problems = [self._problem(name, "budget", str(error))]
            return False
        except (TransportError, RejectedError, ContextWindowError) as error:  # this section failed; others may not
            code = ("transport" if isinstance(error, TransportError) else "rejected" if isinstance(error, RejectedError)
                    else "context-window")
            if isinstance(error, TransportError):
                self.unreachable = error
            state.problems = [self._problem(name, code, str(error))]
            return error
        return self._accept(state, response)

    async def _warm_cache(self, prefix: str, name: str) -> None:
        """Write the provider's prompt cache once before the sections fan out.

        A cache only serves what an earlier, finished request wrote, so sections sent all at once would
        each pay to write it. One request for no output (the documented `max_tokens: 0` pre-warm) writes
        it for all of them; a server that refuses it gets a one-token request instead. Providers that
        don't ask for it (`Capabilities.warm_cache_first`) are not warmed.
        """
        if self.warmed or not self.provider.capabilities.warm_cache_first:
            return
        self.warmed = True
        request = ModelRequest(self.system, prefix, section_prompt(self.template, name), self.schemas[name], name,
                               0, self.toolbox, self.common_prefix_chars)
        if self.provider.count_tokens(request).likely < MIN_CACHED_TOKENS:
            return
        try:  # the answer is empty (or one token long) and thrown away
            try:
                await self._timed(request, "warm_up")
            except RejectedError:
                await self._timed(replace(request, max_output_tokens=1), "warm_up")
        except (BudgetError, TransportError, RejectedError):
            return  # the sections' own calls will say what is wrong

    async def _call(self, state: UnitState, request: ModelRequest, purpose: str) -> ModelResponse:
        async with self.semaphore:
            if self.unreachable is not None:  # it stayed unreachable through another section's retries
                raise self.unreachable
            response = await self._timed(request, purpose)
            if response.stop != "truncated" or state.max_output_tokens > self.settings.max_output_tokens:
                return response
            # The same budget would truncate again: double it, once, as far as the context window leaves room.
            window = self.provider.capabilities.context_window
            room = window - self.provider.count_tokens(request).likely if window else 2 * state.max_output_tokens
            if room > state.max_output_tokens:
                self.progress(f"{request.schema_name}: answer cut off; retrying with a larger output budget")
                state.max_output_tokens = min(2 * state.max_output_tokens, room)
                response = await self._timed(replace(request, max_output_tokens=state.max_output_tokens), purpose)
            return response

    async def _timed(self, request: ModelRequest, purpose: str) -> ModelResponse:
        ledger = self.ledgers[purpose]
        started = self.settings.now()
        try:
            response = await self.account.complete(self.provider, request)
        except ProviderError as error:
            if not isinstance(error, BudgetError):  # refused by the cap before it was sent, it is no call
                ledger.usage += Usage(calls=1)  # a failed call is still a call; its attempts are in the account
                ledger.seconds.append(self.settings.now() - started)
            raise
        ledger.seconds.append(self.settings.now() - started)
        usage = response.usage
        ledger.usage += replace(usage, calls=1)
        self.calls.append({"section": request.schema_name, "purpose": purpose, "input_tokens": usage.input_tokens,
                           "cache_read_tokens": usage.cache_read_tokens, "cache_write_tokens": usage.cache_write_tokens,
                           "output_tokens": usage.output_tokens})
        return response

    def _accept(self, state: UnitState, response: ModelResponse) -> bool:
        name = state.name
        if response.stop == "refused":
            state.refused = True
            state.problems = [self._problem(name, "refusal", f"the model refused: {response.refusal or 'no reason'}")]
            return False
        if response.data is None:
            kind = "truncated" if response.stop == "truncated" else "invalid-json"
            message = ("the answer was cut off even with a doubled output budget" if kind == "truncated"
                       else "the answer was not a valid JSON object")
            state.problems = [self._problem(name, kind, message)]
            return False
        data, changes = spine_changes(response.data)
        try:
            value = unit_model(self.template, name).model_validate(data).model_dump(by_alias=True)[name]
        except ValidationError as error:
            state.problems = []
            for detail in error.errors()[:10]:
                where = ".".join(str(part) for part in detail.get("loc", ()))
                message = (f"field `{where}`: {detail.get('msg', 'invalid')}; follow the schema" if where
                           else detail.get("msg", ""))
                state.problems.append(self._problem(name, "schema", message))
            state.rejected = data.get(name) if isinstance(data, dict) else None
            return False
        if changes and self.spine is not None:  # reconciled: the amended spine goes to every later call
            self.spine.setdefault("amendments", []).extend({"section": name, "change": c} for c in changes)
        changed = not state.answered or value != state.value
        state.value, state.answered, state.problems = value, True, []
        return changed

    def _problem(self, unit: str, code: str, message: str) -> Finding:
        return Finding("error", code, message, 0, unit, unit)

    def assembled(self) -> dict[str, Any]:
        return {name: state.value for name, state in self.units.items() if state.answered}

    def _validate(self) -> list[Finding]:
        markdown = self.compose(self.assembled())
        unit_problems = [problem for state in self.units.values() for problem in state.problems]
        try:
            found = validate_plan(self.template, markdown, "plan.md", self.tracked_paths)
        except PlanFileError:
            if not unit_problems:  # our own rendering always follows the template: a bug if it does not
                raise
            found = []  # too little came back to align headings; the units' own problems say why
        failed = {state.name for state in self.units.values() if state.problems}  # rendered empty: their own say why
        findings = unit_problems + [finding for finding in found if finding.unit not in failed]
        for state in self.units.values():
            state.errors_seen |= _errors_of(findings, state.name)
        return findings

    def _snapshot(self, names: list[str], findings: list[Finding]) -> dict[str, Before]:
        """Each re-asked section's answer, errors, real paths and error history before its re-ask."""
        before = {}
        for name in (name for name in names if self.units[name].answered):
            paths = self._real_paths(name)
            sent = " ".join(f.message for f in findings if f.unit == name and self._fixable(f))
            before[name] = Before(self.units[name].value, _errors_of(findings, name), paths,
                                  set(self.units[name].errors_seen), frozenset(p for p in paths if p in sent))
        return before

    def _keep_better(self, before: dict[str, Before], findings: list[Finding]) -> bool:
        """Discard each re-answer that names fewer real paths, brings a problem back, or has more errors than
        the answer it replaces; True when any re-answer was kept."""
        kept = False
        for name, old in before.items():
            state = self.units[name]
            if state.value is old.value:
                continue  # the re-ask gave no usable answer: the earlier one is still in place
            now, real = _errors_of(findings, name), self._real_paths(name)
            back = sorted((now - old.errors) & old.seen)
            lost = len(real) < len(old.paths) and bool(old.paths - real - old.named)  # not the ones asked to go
            if lost or back or len(now) > len(old.errors):
                why = (f"it named {len(real)} real repository path(s) instead of {len(old.paths)}" if lost
                       else f"it brought back: {back[0][1]}" if back
                       else f"it has {len(now)} error(s) where the earlier answer had {len(old.errors)}")
                state.value = old.value
                self.discarded.append(Finding("warning", "reanswer-discarded",
                                              f"the re-asked answer was discarded because {why}; the earlier "
                                              "answer is kept", 0, name, name))
                self.progress(f"{name}: re-answer discarded ({why})")
            else:
                kept = True
        return kept

    def _real_paths(self, name: str) -> frozenset[str]:
        """Repository paths the section names that exist (none without a repository to check against)."""
        if self.tracked_paths is None or not self.units[name].answered:
            return frozenset()
        text = render_unit(self.template, self.assembled(), name)
        return frozenset(path for line in text.splitlines() for path in paths_in_line(line)
                         if path in self.tracked_paths)

    async def _review_once(self, prefix: str) -> None:
        """The whole-plan review, once per draft; a finding is kept when it quotes the section it names."""
        if self.review is not None or not self.assembled():
            return
        self.review = Review([], self._section_text, self._label, self.template.literal_lines)
        markdown = self.compose(self.assembled())
        request = ModelRequest(self.system, prefix, review_prompt(markdown), self.schemas[REVIEW], REVIEW,
                               self.settings.max_output_tokens, self.toolbox, self.common_prefix_chars)
        self.progress("reviewing the whole plan")
        try:
            response = await self._timed(request, "review")
        except (BudgetError, TransportError, RejectedError, ContextWindowError) as error:  # the plan stands without it
            self.progress(f"plan review: {error}; going on without it")
            return
        notes = read_review(response.data, list(self.units))
        if notes is None:
            self.progress("plan review: the answer did not fit its schema; going on without it")
            return
        self.review = Review(notes, self._section_text, self._label, self.template.literal_lines)

    def _section_text(self, name: str) -> str | None:
        answered = name in self.units and self.units[name].answered
        return render_unit(self.template, self.assembled(), name) if answered else None

    def _label(self, name: str) -> str:
        return "header" if name == HEADER else unit_label(self.template.unit(name))

    def _result(self, findings: list[Finding], rounds: int, seconds: float) -> DraftResult:
        plan = self.assembled()
        usage = self.account.usage
        every = [s for ledger in self.ledgers.values() for s in ledger.seconds]
        timings = {"total_s": round(seconds, 3), "calls": len(every), "slowest_call_s": round(max(every, default=0.0), 3)}
        by_purpose = {purpose: {**asdict(ledger.usage),
                           "cost_usd": cost_usd(self.provider.name, ledger.usage, self.settings.prices),
                           "slowest_call_s": round(max(ledger.seconds, default=0.0), 3)}
                 for purpose, ledger in self.ledgers.items() if ledger.seconds}
        # The review is a model's judgment, not a check: what it still finds is reported, never a failure.
        findings = [replace(f, severity="warning") if f.code.startswith("review-") else f for f in findings]
        return DraftResult(plan, self.compose(plan), findings, rounds, usage,
                           cost_usd(self.provider.name, usage, self.settings.prices), timings, self.calls,
                           self.spine, self.review.notes if self.review else None, by_purpose)


def _errors_of(findings: list[Finding], unit: str) -> set[tuple[str, str]]:
    return {(f.code, f.message) for f in findings if f.unit == unit and f.severity == "error"
            and not f.code.startswith("review-")}


__all__ = ["HEADER", "DraftResult", "DraftSettings", "Revision", "draft_plan"]

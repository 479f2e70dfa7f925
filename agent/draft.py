"""The draft loop: ask for every section at once, validate the whole plan, re-ask only what failed.

Transport retries live in the providers (`agent.retry`); this loop owns only validation re-asks, a
single larger-budget retry of a truncated answer, and the --max-cost cap.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

from pydantic import ValidationError

from agent.brief import Brief
from agent.check.validate import Finding, validate_plan
from agent.context.budget import estimate_tokens
from agent.errors import BudgetError, PlanFileError, ProviderError, RejectedError, TransportError
from agent.prompting import prefix_parts, reask_prompt, section_prompt, system_prompt
from agent.providers.base import ModelRequest, ModelResponse, Provider, Usage
from agent.template.model import HEADER, Template
from agent.template.render import render_plan
from agent.template.schema import json_schema, unit_model, unit_names
from agent.usage import CostCap, Price, cost_usd

Progress = Callable[[str], None]
# Below this many prompt tokens, Anthropic caches nothing (1,024 for Sonnet and Opus): no warm-up then.
MIN_CACHED_TOKENS = 1024


@dataclass(frozen=True)
class DraftSettings:
    max_rounds: int = 2
    concurrency: int = 8
    max_cost_usd: float | None = None
    max_output_tokens: int = 4096
    prices: Mapping[str, Price] | None = None
    max_cost_origin: str = "--max-cost"  # where the cap was set, for messages


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


async def draft_plan(
    template: Template,
    brief: Brief,
    provider: Provider,
    repository_text: str = "",
    tracked_paths: frozenset[str] | None = None,
    settings: DraftSettings = DraftSettings(),
    progress: Progress = lambda message: None,
    revision: Revision | None = None,
) -> DraftResult:
    loop = DraftLoop(template, provider, settings, progress, tracked_paths, revision)
    common, own = prefix_parts(template, brief, repository_text)
    loop.common_prefix_chars = len(common)
    return await loop.run(common + own)


class DraftLoop:
    def __init__(self, template: Template, provider: Provider, settings: DraftSettings, progress: Progress,
                 tracked_paths: frozenset[str] | None, revision: Revision | None = None) -> None:
        self.template, self.provider, self.settings = template, provider, settings
        self.progress, self.tracked_paths = progress, tracked_paths
        names = unit_names(template)
        self.notes = revision.notes if revision else {}
        self.compose = revision.compose if revision else partial(render_plan, template)
        self.units = {name: UnitState(name, max_output_tokens=settings.max_output_tokens)
                      for name in names if revision is None or name in revision.notes}
        self.system = system_prompt()
        self.common_prefix_chars = 0  # of the prefix, what other drafts share too (see ModelRequest)
        self.cost_cap = CostCap(settings.max_cost_usd, settings.prices, origin=settings.max_cost_origin)
        self.call_seconds: list[float] = []
        self.calls: list[dict[str, Any]] = []
        self.semaphore = asyncio.Semaphore(max(1, settings.concurrency))
        self.warmed = False
        self.unreachable: TransportError | None = None  # once a call gave up on the provider, others don't wait
        self.schemas = {name: json_schema(unit_model(template, name)) for name in names}
        self.toolbox = tuple(self.schemas.items())  # every unit's, so a revision shares the draft's cached prefix

    async def run(self, prefix: str) -> DraftResult:
        started = time.perf_counter()
        pending, rounds = list(self.units), 0
        findings: list[Finding] = []
        for rounds in range(self.settings.max_rounds + 1):
            self.progress(f"round {rounds}: drafting {len(pending)} section(s)")
            changed = await self._ask_all(pending, prefix, findings)
            findings = self._validate()
            pending = sorted({f.unit for f in findings if f.severity == "error" and self._may_re_ask(f.unit)})
            if not pending or not changed:
                break
        return self._result(findings, rounds, time.perf_counter() - started)

    def _may_re_ask(self, unit: str) -> bool:
        return unit in self.units and not self.units[unit].refused

    async def _ask_all(self, names: list[str], prefix: str, findings: list[Finding]) -> bool:
        """Ask for `names` concurrently; True when any answer differs from the one it replaces."""
        problems = {name: [f for f in findings if f.unit == name] for name in names}
        if len(names) > 1:
            await self._warm_cache(prefix, names[0])
        outcomes = await asyncio.gather(*(self._ask(name, prefix, problems[name]) for name in names))
        failures = [outcome for outcome in outcomes if isinstance(outcome, ProviderError)]
        if failures and not any(state.answered for state in self.units.values()):
            raise failures[0]  # nothing useful came back: say why, once
        return any(outcome is True for outcome in outcomes)

    async def _ask(self, name: str, prefix: str, findings: list[Finding]) -> bool | ProviderError:
        state = self.units[name]
        prompt = self._prompt(state, findings)
        request = ModelRequest(self.system, prefix, prompt, self.schemas[name], name, state.max_output_tokens,
                               self.toolbox, self.common_prefix_chars)
        try:
            response = await self._call(state, request)
        except BudgetError as error:
            state.problems = [self._problem(name, "budget", str(error))]
            return False
        except (TransportError, RejectedError) as error:  # this section failed; the others may not
            code = "transport" if isinstance(error, TransportError) else "rejected"
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
        don't ask for it (`warm_cache_first`) are not warmed.
        """
        if self.warmed or not getattr(self.provider, "warm_cache_first", False):
            return
        self.warmed = True
        request = ModelRequest(self.system, prefix, section_prompt(self.template, name), self.schemas[name], name,
                               0, self.toolbox, self.common_prefix_chars)
        if estimate_tokens(request.system + request.shared_prefix + json.dumps(self.toolbox)) < MIN_CACHED_TOKENS:
            return
        try:  # the answer is empty (or one token long) and thrown away
            try:
                await self._timed(request)
            except RejectedError:
                await self._timed(replace(request, max_output_tokens=1))
        except (BudgetError, TransportError, RejectedError):
            return  # the sections' own calls will say what is wrong

    def _prompt(self, state: UnitState, findings: list[Finding]) -> str:
        note = self.notes.get(state.name, "")
        return self._ask_text(state, findings) + (f"\n\n{note}" if note else "")

    def _ask_text(self, state: UnitState, findings: list[Finding]) -> str:
        if not state.answered and not state.problems:
            return section_prompt(self.template, state.name)
        unique = dict.fromkeys(state.problems + findings)  # the round's findings already hold the unit's problems
        messages = [f"{f.section}: {f.message}" if f.section else f.message for f in unique]
        return reask_prompt(self.template, state.name, messages, state.value if state.answered else None)

    async def _call(self, state: UnitState, request: ModelRequest) -> ModelResponse:
        async with self.semaphore:
            if self.unreachable is not None:  # it stayed unreachable through another section's retries
                raise self.unreachable
            response = await self._timed(request)
            grown = state.max_output_tokens > self.settings.max_output_tokens
            if response.stop == "truncated" and not grown:  # same budget would truncate again: double it, once
                self.progress(f"{request.schema_name}: answer cut off; retrying with a larger output budget")
                state.max_output_tokens *= 2
                response = await self._timed(replace(request, max_output_tokens=state.max_output_tokens))
            return response

    async def _timed(self, request: ModelRequest) -> ModelResponse:
        estimate = await self.cost_cap.reserve(self.provider, request)  # stop before a call that could pass --max-cost
        started = time.perf_counter()
        try:
            response = await self.provider.complete(request)
        finally:
            self.cost_cap.release(estimate)
            self.call_seconds.append(time.perf_counter() - started)
        usage = response.usage
        self.calls.append({"section": request.schema_name, "input_tokens": usage.input_tokens,
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
        try:
            value = unit_model(self.template, name).model_validate(response.data).model_dump(by_alias=True)[name]
        except ValidationError as error:
            state.problems = [self._problem(name, "schema", _schema_message(e)) for e in error.errors()[:10]]
            return False
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
        return unit_problems + found

    def _result(self, findings: list[Finding], rounds: int, seconds: float) -> DraftResult:
        plan = self.assembled()
        usage = self.provider.usage_total
        timings = {"total_s": round(seconds, 3), "calls": len(self.call_seconds),
                   "slowest_call_s": round(max(self.call_seconds, default=0.0), 3)}
        return DraftResult(plan, self.compose(plan), findings, rounds, usage,
                           cost_usd(self.provider.name, usage, self.settings.prices), timings, self.calls)


def _schema_message(error: Any) -> str:
    where = ".".join(str(part) for part in error.get("loc", ()))
    return f"field `{where}`: {error.get('msg', 'invalid')}; follow the schema" if where else error.get("msg", "")


__all__ = ["HEADER", "DraftResult", "DraftSettings", "Revision", "draft_plan"]

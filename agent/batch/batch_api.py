"""The providers' batch APIs behind one small interface: submit requests, see how far a job got, collect.

OpenAI: the requests go up as a JSONL file (`files.create(purpose="batch")`) and run as a `/v1/batches`
job; answers and errors come back as JSONL files. Anthropic: a Message Batch, whose results stream
back as JSONL. Both bill at half price. Each adapter only translates; `agent.batch.batched` decides
what goes into a job and what to do with its results. Every SDK call goes through the provider's
retry policy (`sdk_call`), so errors read and retry exactly as in `plan draft`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol

from agent.providers.base import ModelRequest, ModelResponse, Provider

CHAT_PATH = "/v1/chat/completions"
OPENAI_ENDED = frozenset({"completed", "failed", "expired", "cancelled"})

Result = ModelResponse | str  # a string says why the request got no answer


@dataclass(frozen=True)
class JobStatus:
    ended: bool
    finished: int  # requests with an outcome so far
    total: int
    state: str  # the provider's own word, with its error when the whole job failed


class BatchAPI(Protocol):
    provider: Any

    def wire_body(self, request: ModelRequest) -> dict[str, Any]: ...

    async def submit(self, entries: list[tuple[str, dict[str, Any]]]) -> str: ...

    async def status(self, job_id: str) -> JobStatus: ...

    async def results(self, job_id: str) -> dict[str, Result]: ...


def batch_api_for(provider: Provider) -> BatchAPI:
    """The batch API of the provider `plan draft` would call directly."""
    if provider.name.startswith("anthropic:"):
        return AnthropicBatchAPI(provider)
    return OpenAIBatchAPI(provider)


class OpenAIBatchAPI:
    def __init__(self, provider: Any) -> None:
        self.provider = provider

    def wire_body(self, request: ModelRequest) -> dict[str, Any]:
        body: dict[str, Any] = self.provider.wire_body(request)
        return body

    async def submit(self, entries: list[tuple[str, dict[str, Any]]]) -> str:
        lines = "".join(json.dumps({"custom_id": custom_id, "method": "POST", "url": CHAT_PATH, "body": body},
                                   ensure_ascii=False) + "\n" for custom_id, body in entries)
        upload = await self.provider.sdk_call(
            lambda client: client.files.create(file=("plan-batch.jsonl", lines.encode()), purpose="batch"))
        job = await self.provider.sdk_call(lambda client: client.batches.create(
            input_file_id=upload.id, endpoint=CHAT_PATH, completion_window="24h",
            metadata={"created_by": "plan batch"}))
        return str(job.id)

    async def status(self, job_id: str) -> JobStatus:
        job = await self.provider.sdk_call(lambda client: client.batches.retrieve(job_id))
        counts = job.request_counts
        state = job.status
        if state == "failed" and job.errors and job.errors.data:
            state = f"failed: {job.errors.data[0].message}"
        finished = (counts.completed + counts.failed) if counts else 0
        return JobStatus(job.status in OPENAI_ENDED, finished, counts.total if counts else 0, state)

    async def results(self, job_id: str) -> dict[str, Result]:
        job = await self.provider.sdk_call(lambda client: client.batches.retrieve(job_id))
        found: dict[str, Result] = {}
        for file_id in (job.output_file_id, job.error_file_id):
            if file_id:
                content = await self.provider.sdk_call(lambda client, file_id=file_id: client.files.content(file_id))
                found.update(_openai_result(json.loads(line)) for line in content.text.splitlines() if line.strip())
        return found


def _openai_result(entry: dict[str, Any]) -> tuple[str, Result]:
    from openai.types.chat import ChatCompletion

    from agent.providers.openai import to_response

    response = entry.get("response") or {}
    if response.get("status_code") == 200:
        return entry["custom_id"], to_response(ChatCompletion.model_validate(response["body"]), 1)
    error = entry.get("error") or (response.get("body") or {}).get("error") or {}
    status = f"HTTP {response['status_code']}: " if response.get("status_code") else ""
    return entry["custom_id"], f"{status}{error.get('message') or error.get('code') or 'no answer'}"


class AnthropicBatchAPI:
    def __init__(self, provider: Any) -> None:
        self.provider = provider

    def wire_body(self, request: ModelRequest) -> dict[str, Any]:
        body: dict[str, Any] = self.provider.wire_body(request)
        return body

    async def submit(self, entries: list[tuple[str, dict[str, Any]]]) -> str:
        requests = [{"custom_id": custom_id, "params": body} for custom_id, body in entries]
        job = await self.provider.sdk_call(lambda client: client.messages.batches.create(requests=requests))
        return str(job.id)

    async def status(self, job_id: str) -> JobStatus:
        job = await self.provider.sdk_call(lambda client: client.messages.batches.retrieve(job_id))
        counts = job.request_counts
        finished = counts.succeeded + counts.errored + counts.canceled + counts.expired
        return JobStatus(job.processing_status == "ended", finished, finished + counts.processing,
                         job.processing_status)

    async def results(self, job_id: str) -> dict[str, Result]:
        async def every_result(client: Any) -> list[Any]:
            return [entry async for entry in await client.messages.batches.results(job_id)]

        return dict(_anthropic_result(entry) for entry in await self.provider.sdk_call(every_result))


def _anthropic_result(entry: Any) -> tuple[str, Result]:
    from agent.providers.anthropic import to_response

    result = entry.result
    if result.type == "succeeded":
        return entry.custom_id, to_response(result.message, 1)
    if result.type == "errored":
        error = getattr(result.error, "error", result.error)
        return entry.custom_id, f"{getattr(error, 'type', 'error')}: {getattr(error, 'message', '')}".strip(": ")
    return entry.custom_id, f"the request was {result.type}"

"""Fake batch services for respx: OpenAI's Batch API (files + /v1/batches) and Anthropic's Message Batches.

Each keeps the jobs submitted to it, answers a job's status as in progress for `polls_before_done`
looks, then ended, and answers every request with `answer(body)` (the good answer by default), or an
error when `fails(body)`; a job's results are fixed when it ends, as a real service's are.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import respx
from batch_support import anthropic_message, chat_completion, chat_section
from draft_support import GOOD

OPENAI = "https://api.openai.com/v1"
ANTHROPIC = "https://api.anthropic.com/v1/messages/batches"
Answer = Callable[[dict[str, Any]], Any]


def good_answer(body: dict[str, Any]) -> Any:
    return GOOD[section(body)]


def section(body: dict[str, Any]) -> str:
    return str(body["tool_choice"]["name"]) if "system" in body else chat_section(body)


class FakeBatchService:
    def __init__(self, polls_before_done: int = 1, answer: Answer = good_answer) -> None:
        self.polls_before_done, self.answer = polls_before_done, answer
        self.jobs: dict[str, list[tuple[str, dict[str, Any]]]] = {}  # job id -> (custom_id, body) in order
        self.polls: dict[str, int] = {}
        self.results: dict[str, list[dict[str, Any]]] = {}
        self.fails: Callable[[dict[str, Any]], bool] = lambda body: False  # requests to answer with an error

    def bodies(self, job: int) -> list[dict[str, Any]]:
        return [body for _, body in list(self.jobs.values())[job]]

    def _add(self, prefix: str, requests: list[tuple[str, dict[str, Any]]]) -> str:
        job_id = f"{prefix}_{len(self.jobs) + 1}"
        self.jobs[job_id], self.polls[job_id] = requests, 0
        return job_id

    def _ended(self, job_id: str) -> bool:
        self.polls[job_id] += 1
        ended = job_id in self.results or self.polls[job_id] > self.polls_before_done
        if ended and job_id not in self.results:
            self.results[job_id] = [self._result(custom_id, body) for custom_id, body in self.jobs[job_id]]
        return ended

    def _result(self, custom_id: str, body: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError


class FakeOpenAIBatches(FakeBatchService):
    def mount(self) -> None:
        respx.post(f"{OPENAI}/files").mock(side_effect=self._upload)
        respx.post(f"{OPENAI}/batches").mock(side_effect=self._create)
        respx.get(url__regex=rf"{OPENAI}/batches/[^/]+$").mock(side_effect=self._retrieve)
        respx.get(url__regex=rf"{OPENAI}/files/[^/]+/content$").mock(side_effect=self._content)
        self.uploads: dict[str, list[dict[str, Any]]] = {}

    def _upload(self, request: httpx.Request) -> httpx.Response:
        text = request.content.decode().replace("\r\n", "\n")
        lines = [json.loads(line) for line in text.split("\n") if line.startswith('{"custom_id"')]
        file_id = f"file-in-{len(self.uploads) + 1}"
        self.uploads[file_id] = lines
        return httpx.Response(200, json={"id": file_id, "bytes": len(text), "created_at": 0, "filename": "x.jsonl",
                                         "object": "file", "purpose": "batch", "status": "processed"})

    def _create(self, request: httpx.Request) -> httpx.Response:
        params = json.loads(request.content)
        assert params["endpoint"] == "/v1/chat/completions" and params["completion_window"] == "24h"
        lines = self.uploads[params["input_file_id"]]
        assert all(line["method"] == "POST" and line["url"] == "/v1/chat/completions" for line in lines)
        job_id = self._add("batch", [(line["custom_id"], line["body"]) for line in lines])
        return httpx.Response(200, json=self._job(job_id, "validating"))

    def _retrieve(self, request: httpx.Request) -> httpx.Response:
        job_id = request.url.path.rsplit("/", 1)[1]
        return httpx.Response(200, json=self._job(job_id, "completed" if self._ended(job_id) else "in_progress"))

    def _job(self, job_id: str, status: str) -> dict[str, Any]:
        total = len(self.jobs[job_id])
        done = status == "completed"
        return {"id": job_id, "object": "batch", "endpoint": "/v1/chat/completions", "completion_window": "24h",
                "input_file_id": "file-in", "created_at": 0, "status": status,
                "output_file_id": f"file-out-{job_id}" if done else None,
                "error_file_id": f"file-err-{job_id}" if done else None,
                "request_counts": {"total": total, "completed": total if done else 0, "failed": 0}}

    def _content(self, request: httpx.Request) -> httpx.Response:
        file_id = request.url.path.split("/")[-2]
        job_id = file_id.split("-", 2)[2]
        errors = file_id.startswith("file-err")
        lines = [line for line in self.results[job_id] if (line["error"] is not None) == errors]
        return httpx.Response(200, content="".join(json.dumps(line) + "\n" for line in lines).encode())

    def _result(self, custom_id: str, body: dict[str, Any]) -> dict[str, Any]:
        if self.fails(body):
            return {"id": "r", "custom_id": custom_id, "response": None,
                    "error": {"code": "batch_expired", "message": "This request could not be executed before the completion window expired."}}
        unit = section(body)
        reply = {"status_code": 200, "request_id": "req", "body": chat_completion(unit, self.answer(body))}
        return {"id": "r", "custom_id": custom_id, "response": reply, "error": None}


class FakeAnthropicBatches(FakeBatchService):
    def mount(self) -> None:
        respx.post(ANTHROPIC).mock(side_effect=self._create)
        respx.get(url__regex=rf"{ANTHROPIC}/[^/]+$").mock(side_effect=self._retrieve)
        respx.get(url__regex=rf"{ANTHROPIC}/[^/]+/results$").mock(side_effect=self._results)

    def _create(self, request: httpx.Request) -> httpx.Response:
        requests = json.loads(request.content)["requests"]
        job_id = self._add("msgbatch", [(entry["custom_id"], entry["params"]) for entry in requests])
        return httpx.Response(200, json=self._job(job_id, ended=False))

    def _retrieve(self, request: httpx.Request) -> httpx.Response:
        job_id = request.url.path.rsplit("/", 1)[1]
        return httpx.Response(200, json=self._job(job_id, ended=self._ended(job_id)))

    def _job(self, job_id: str, ended: bool) -> dict[str, Any]:
        total = len(self.jobs[job_id])
        counts = {"processing": 0 if ended else total, "succeeded": total if ended else 0, "errored": 0,
                  "canceled": 0, "expired": 0}
        return {"id": job_id, "type": "message_batch", "processing_status": "ended" if ended else "in_progress",
                "request_counts": counts, "created_at": "2026-01-01T00:00:00Z", "expires_at": "2026-01-02T00:00:00Z",
                "ended_at": "2026-01-01T01:00:00Z" if ended else None, "archived_at": None,
                "cancel_initiated_at": None, "results_url": f"{ANTHROPIC}/{job_id}/results" if ended else None}

    def _result(self, custom_id: str, params: dict[str, Any]) -> dict[str, Any]:
        result = ({"type": "errored", "error": {"type": "error", "error": {"type": "overloaded_error",
                                                                          "message": "Overloaded"}}}
                  if self.fails(params) else
                  {"type": "succeeded", "message": anthropic_message(section(params), self.answer(params))})
        return {"custom_id": custom_id, "result": result}

    def _results(self, request: httpx.Request) -> httpx.Response:
        job_id = request.url.path.split("/")[-2]
        return httpx.Response(200, content="".join(json.dumps(line) + "\n" for line in self.results[job_id]).encode())

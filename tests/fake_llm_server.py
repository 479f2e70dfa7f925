"""A real HTTP server on 127.0.0.1 that speaks OpenAI Chat Completions and Anthropic Messages.

Tests script it with `push(Answer(...), Failure(429, ...))` or a `handler` function; with nothing
scripted it fills the request's JSON schema with a realistic object. Every request is recorded.
`delay_s` and `tokens_per_s` add latency, and repeated prompt prefixes are reported as cache hits
once the first answer that used them has been sent, so a benchmark can run against it too.
`admit_rpm` makes it a rate-limited account: above that many requests a minute it answers 429.

    with FakeLLMServer() as server:
        provider = OpenAIProvider("gpt-test", "sk-test", base_url=server.openai_base_url)
"""

from __future__ import annotations

import json
import math
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

from fake_llm_filler import fill_schema

Wire = Literal["openai", "anthropic"]
PATHS: dict[str, Wire] = {"/v1/chat/completions": "openai", "/v1/messages": "anthropic"}


@dataclass(frozen=True)
class Answer:
    """A successful answer, rendered in whichever format was asked. `data=None` fills the schema.

    `text` replaces the JSON text (OpenAI) or answers in prose instead of the tool (Anthropic).
    Token counts left as None are estimated from the request and answer (4 characters a token).
    """

    data: dict[str, Any] | None = None
    text: str | None = None
    stop: Literal["complete", "truncated", "refused"] = "complete"
    refusal: str = "I can't help with that request."
    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_read_tokens: int | None = None
    cache_write_tokens: int | None = None


@dataclass(frozen=True)
class Failure:
    """An HTTP error answer, e.g. `Failure(429, headers={"retry-after": "2"})`."""

    status: int
    message: str = "scripted failure"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RecordedRequest:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def wire(self) -> Wire:
        return PATHS[self.path]

    @property
    def schema(self) -> dict[str, Any]:
        if self.wire == "openai":
            schema: dict[str, Any] = self.body["response_format"]["json_schema"]["schema"]
            return schema
        return dict(self.tool["input_schema"])

    @property
    def tool(self) -> dict[str, Any]:
        """The Anthropic tool the request forces (`tool_choice`), else its first tool."""
        tools: list[dict[str, Any]] = self.body["tools"]
        forced = (self.body.get("tool_choice") or {}).get("name")
        return next((tool for tool in tools if tool["name"] == forced), tools[0])


Reply = Answer | Failure
Handler = Callable[[RecordedRequest], Reply]


class FakeLLMServer:
    """Scripted replies first (`push`), then `handler`, then a schema-filled `Answer()`."""

    def __init__(
        self,
        handler: Handler | None = None,
        *,
        delay_s: float = 0.0,
        tokens_per_s: float | None = None,
        min_cache_tokens: int = 0,
        admit_rpm: int | None = None,
        rate_headers: bool = False,
    ) -> None:
        self.handler = handler
        self.admission = Admission(admit_rpm, rate_headers) if admit_rpm else None
        self.delay_s = delay_s
        self.tokens_per_s = tokens_per_s
        self.min_cache_tokens = min_cache_tokens
        self.requests: list[RecordedRequest] = []
        self._queue: deque[Reply] = deque()
        self._seen_prefixes: set[str] = set()
        self._lock = threading.Lock()
        self._http = _QuietServer(("127.0.0.1", 0), _handler_class(self))
        self._http.daemon_threads = True
        self._thread = threading.Thread(target=self._http.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        host, port = self._http.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def openai_base_url(self) -> str:
        return f"{self.url}/v1"

    @property
    def anthropic_base_url(self) -> str:
        return self.url

    def push(self, *replies: Reply) -> None:
        self._queue.extend(replies)

    def start(self) -> FakeLLMServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._http.shutdown()
        self._http.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeLLMServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def respond(self, request: RecordedRequest) -> tuple[int, dict[str, str], dict[str, Any]]:
        """Status, headers and JSON body for one request (runs on the server's thread)."""
        with self._lock:
            self.requests.append(request)
            refused = self.admission.refuse() if self.admission else None
            reply = self._queue.popleft() if self._queue and refused is None else None
        if refused is not None:
            return 429, refused, _error_body(request.wire, Failure(429, "Rate limit reached for requests"))
        reply = reply or (self.handler(request) if self.handler else Answer())
        if isinstance(reply, Failure):
            return reply.status, reply.headers, _error_body(request.wire, reply)
        body = self._render(request, reply)
        time.sleep(self._latency(body, request.wire))
        with self._lock:  # like the real caches: a prefix serves later calls once its first answer is out,
            self._seen_prefixes.add(_cacheable_prefix(request)[0])  # not calls already in flight beside it
        return 200, self.admission.headers() if self.admission else {}, body

    def _render(self, request: RecordedRequest, answer: Answer) -> dict[str, Any]:
        data = answer.data if answer.data is not None or answer.text else fill_schema(request.schema)
        text = answer.text if answer.text is not None else json.dumps(data)
        limit = request.body.get("max_tokens") or request.body.get("max_completion_tokens")
        if answer.stop == "complete" and limit and _tokens(text) > limit:  # like a real server: stop at the limit
            answer = replace(answer, stop="truncated", output_tokens=limit)
        prefix, marked = _cacheable_prefix(request)
        usage = self._usage(request, answer, prefix, marked, text)
        render = _openai_body if request.wire == "openai" else _anthropic_body
        return render(request, answer, data, text, usage)

    def _usage(
        self, request: RecordedRequest, answer: Answer, prefix: str, marked: bool, text: str
    ) -> dict[str, int]:
        prefix_tokens = _tokens(prefix) if _tokens(prefix) >= self.min_cache_tokens else 0
        with self._lock:
            hit = prefix in self._seen_prefixes
        read = prefix_tokens if hit else 0
        write = prefix_tokens if marked and not hit else 0
        return {
            "input": _given(answer.input_tokens, _tokens(json.dumps(request.body))),
            "output": _given(answer.output_tokens, _tokens(text)),
            "cache_read": _given(answer.cache_read_tokens, read),
            "cache_write": _given(answer.cache_write_tokens, write),
        }

    def _latency(self, body: dict[str, Any], wire: Wire) -> float:
        usage = body["usage"]
        output = usage["completion_tokens"] if wire == "openai" else usage["output_tokens"]
        return self.delay_s + (output / self.tokens_per_s if self.tokens_per_s else 0.0)


class Admission:
    """`per_minute` requests a minute, enforced per second as providers do: a bucket holding one second's
    requests, refilled continuously. `refuse()` admits a request (None) or gives the 429's headers."""

    def __init__(self, per_minute: int, rate_headers: bool) -> None:
        self.per_minute, self.rate_headers = per_minute, rate_headers
        self.per_s = per_minute / 60.0
        self.capacity = max(1.0, self.per_s)
        self.level, self.at = self.capacity, time.monotonic()
        self.admitted = self.refused = 0

    def refuse(self) -> dict[str, str] | None:
        now = time.monotonic()
        self.level = min(self.capacity, self.level + (now - self.at) * self.per_s)
        self.at = now
        if self.level >= 1.0:
            self.level -= 1.0
            self.admitted += 1
            return None
        self.refused += 1
        wait_ms = math.ceil((1.0 - self.level) / self.per_s * 1000)
        return {"retry-after-ms": str(wait_ms), "retry-after": str(math.ceil(wait_ms / 1000)), **self.headers()}

    def headers(self) -> dict[str, str]:
        if not self.rate_headers:
            return {}
        reset_ms = math.ceil((self.capacity - self.level) / self.per_s * 1000)
        return {"x-ratelimit-limit-requests": str(self.per_minute),
                "x-ratelimit-remaining-requests": str(int(self.level)), "x-ratelimit-reset-requests": f"{reset_ms}ms"}


def _given(scripted: int | None, estimate: int) -> int:
    return estimate if scripted is None else scripted


def _tokens(text: str) -> int:
    return math.ceil(len(text) / 4)


def _cacheable_prefix(request: RecordedRequest) -> tuple[str, bool]:
    """The part a real prompt cache would match on, and whether the request marked it explicitly."""
    body = request.body
    if request.wire == "openai":
        return json.dumps([body.get("response_format"), body["messages"][:-1]]), False
    blocks = body["messages"][0]["content"]
    if isinstance(blocks, str):
        blocks = [{"type": "text", "text": blocks}]
    marked = [i for i, block in enumerate(blocks) if "cache_control" in block]
    cut = marked[-1] + 1 if marked else 0
    head = [body.get("tools"), body.get("system"), blocks[:cut]]
    return json.dumps(head), bool(marked) or any("cache_control" in b for b in body.get("system", []))


def _openai_body(
    request: RecordedRequest, answer: Answer, data: Any, text: str, usage: dict[str, int]
) -> dict[str, Any]:
    refused = answer.stop == "refused"
    content = None if refused else (text[: len(text) // 2] if answer.stop == "truncated" else text)
    message = {"role": "assistant", "content": content, "refusal": answer.refusal if refused else None}
    finish = "length" if answer.stop == "truncated" else "stop"
    prompt = usage["input"]
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.body.get("model", "fake"),
        "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": usage["output"],
            "total_tokens": prompt + usage["output"],
            "prompt_tokens_details": {"cached_tokens": usage["cache_read"]},
        },
    }


def _anthropic_body(
    request: RecordedRequest, answer: Answer, data: Any, text: str, usage: dict[str, int]
) -> dict[str, Any]:
    stop = {"complete": "tool_use", "truncated": "max_tokens", "refused": "refusal"}[answer.stop]
    if answer.stop == "refused":
        content: list[dict[str, Any]] = [{"type": "text", "text": answer.refusal}]
    elif answer.text is not None:
        content, stop = [{"type": "text", "text": text}], "end_turn"
    else:
        name = request.tool["name"]
        content = [{"type": "tool_use", "id": "toolu_fake", "name": name, "input": data}]
    uncached = max(usage["input"] - usage["cache_read"] - usage["cache_write"], 0)
    return {
        "id": "msg_fake",
        "type": "message",
        "role": "assistant",
        "model": request.body.get("model", "fake"),
        "content": content,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": {
            "input_tokens": uncached,
            "output_tokens": usage["output"],
            "cache_read_input_tokens": usage["cache_read"],
            "cache_creation_input_tokens": usage["cache_write"],
        },
    }


def _error_body(wire: Wire, failure: Failure) -> dict[str, Any]:
    if wire == "openai":
        return {"error": {"message": failure.message, "type": "fake_error", "code": None}}
    return {"type": "error", "error": {"type": "fake_error", "message": failure.message}}


class _QuietServer(ThreadingHTTPServer):
    # socketserver's default backlog of 5 drops the connections of a burst of concurrent calls, which the
    # client's kernel retries a second later: a delay no real API adds.
    request_queue_size = 128

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            return  # the client hung up, as a draft that failed does when it closes its connections
        super().handle_error(request, client_address)


def _handler_class(server: FakeLLMServer) -> type[BaseHTTPRequestHandler]:
    class _Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("content-length", 0)))
            if self.path not in PATHS:
                return self._send(404, {}, {"error": {"message": f"no route {self.path}"}})
            headers = {key.lower(): value for key, value in self.headers.items()}
            request = RecordedRequest(self.path, headers, json.loads(raw or b"{}"))
            self._send(*server.respond(request))

        def _send(self, status: int, headers: dict[str, str], body: dict[str, Any]) -> None:
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output clean

    return _Handler

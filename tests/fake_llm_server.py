"""A real HTTP server on 127.0.0.1 that speaks OpenAI Chat Completions and Anthropic Messages.

Tests script it with `push(Answer(...), Failure(429, ...))` or a `handler` function; with nothing
scripted it fills the request's JSON schema (the `response_format`, or the forced tool) with a
realistic object. Every request is recorded. `delay_s` and `tokens_per_s` add latency.
`admit_rpm` makes it a rate-limited account: above that many requests a minute it answers 429.

Prompt caching follows each provider's documented rules, so a benchmark against it measures what the
real API would bill, not what we hope it bills. A prefix serves later calls once the first answer that
used it has been sent, not calls already in flight beside it (both caches are filled by a finished
prefill). Token counts are 4 characters a token.

Anthropic (https://platform.claude.com/docs/en/build-with-claude/prompt-caching, and
https://platform.claude.com/docs/en/agents-and-tools/tool-use/tool-use-with-prompt-caching):
- The prompt is rendered tools -> system -> messages, and only what precedes an explicit
  `cache_control` breakpoint is written; at most 4 breakpoints a request (more is a 400).
- A read is the longest cached prefix ending at a breakpoint or at a block up to 20 blocks before one.
- "Invalidation hierarchy": a change of `tool_choice` invalidates the messages tier only; the tools and
  system tiers are still read. A change of the tool definitions invalidates everything.
- A prefix shorter than the model's minimum cacheable length is not cached (`min_cache_tokens`,
  1,024 for Sonnet and Opus 4.x; 4,096 for Haiku 4.5 and Opus 4.5).
- `max_tokens: 0` pre-warms the cache: the prompt is processed and cached, no output is generated;
  it is refused (400) with a forced `tool_choice` (`tool` or `any`).

OpenAI (https://developers.openai.com/api/docs/guides/prompt-caching):
- Automatic for prompts of 1,024 tokens or more; a hit is the longest exact prefix match with an
  earlier prompt, counted in increments of 128 tokens (so at least 1,024).
- Tools and the structured-output schema are part of the prefix, rendered ahead of the messages
  ("the structured output schema serves as a prefix to the system message").
- `prompt_cache_key` is combined with the prefix to route requests to a cache; here a different key
  is a different cache (the docs promise no sharing across keys).

    with FakeLLMServer() as server:
        provider = OpenAIProvider("gpt-test", "sk-test", base_url=server.openai_base_url)
"""

from __future__ import annotations

import bisect
import hashlib
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
MAX_BREAKPOINTS = 4
LOOKBACK_BLOCKS = 20  # how far before a breakpoint Anthropic looks for an earlier cached prefix
OPENAI_MIN_CACHED = 1024
OPENAI_CACHE_STEP = 128
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
        """The schema the answer must follow: the `response_format`'s, or the forced tool's."""
        if self.wire == "anthropic":
            return dict(self.tool["input_schema"])
        if self.function is not None:
            return dict(self.function["parameters"])
        schema: dict[str, Any] = self.body["response_format"]["json_schema"]["schema"]
        return schema

    @property
    def function(self) -> dict[str, Any] | None:
        """The OpenAI function tool the request forces (`tool_choice`), if it forces one."""
        forced = ((self.body.get("tool_choice") or {}).get("function") or {}).get("name")
        tools = [tool["function"] for tool in self.body.get("tools") or []]
        return next((tool for tool in tools if tool["name"] == forced), None)

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
        min_cache_tokens: int = 1024,
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
        self._anthropic_cache: set[str] = set()
        self._openai_prompts: dict[str | None, list[str]] = {}
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
            invalid = _invalid_anthropic(request) if request.wire == "anthropic" else None
            if invalid is not None:
                return 400, {}, _error_body(request.wire, Failure(400, invalid))
            refused = self.admission.refuse() if self.admission else None
            reply = self._queue.popleft() if self._queue and refused is None else None
        if refused is not None:
            return 429, refused, _error_body(request.wire, Failure(429, "Rate limit reached for requests"))
        reply = reply or (self.handler(request) if self.handler else Answer())
        if isinstance(reply, Failure):
            return reply.status, reply.headers, _error_body(request.wire, reply)
        with self._lock:
            cache = self._anthropic_lookup(request) if request.wire == "anthropic" else self._openai_lookup(request)
        body = self._render(request, reply, cache)
        time.sleep(self._latency(body, request.wire))
        with self._lock:  # like the real caches: a prefix serves later calls once its first answer is out,
            cache.commit()  # not calls already in flight beside it
        return 200, self.admission.headers() if self.admission else {}, body

    def _render(self, request: RecordedRequest, answer: Answer, cache: CacheUse) -> dict[str, Any]:
        limit = request.body.get("max_tokens", request.body.get("max_completion_tokens"))
        if limit == 0:  # a pre-warm: the prompt is processed and cached, nothing is generated
            answer = replace(answer, data={}, text="", stop="truncated", output_tokens=0)
        data = answer.data if answer.data is not None or answer.text is not None else fill_schema(request.schema)
        text = answer.text if answer.text is not None else json.dumps(data)
        if answer.stop == "complete" and limit and _tokens(text) > limit:  # like a real server: stop at the limit
            answer = replace(answer, stop="truncated", output_tokens=limit)
        usage = {
            "input": _given(answer.input_tokens, _tokens(json.dumps(request.body))),
            "output": _given(answer.output_tokens, _tokens(text)),
            "cache_read": _given(answer.cache_read_tokens, cache.read),
            "cache_write": _given(answer.cache_write_tokens, cache.write),
        }
        render = _openai_body if request.wire == "openai" else _anthropic_body
        return render(request, answer, data, text, usage)

    def _anthropic_lookup(self, request: RecordedRequest) -> CacheUse:
        """Read the longest cached prefix; write every breakpoint past it that is long enough to cache."""
        keys, ends, marks = _anthropic_prefixes(request.body)
        near_marks = {i for mark in marks for i in range(max(0, mark - LOOKBACK_BLOCKS), mark + 1)}
        hit = max((i for i in near_marks if keys[i] in self._anthropic_cache), default=None)
        read = ends[hit] if hit is not None else 0
        new = [mark for mark in marks if (hit is None or mark > hit) and ends[mark] >= self.min_cache_tokens]
        write = max(ends[mark] for mark in new) - read if new else 0
        return CacheUse(read, write, lambda: self._anthropic_cache.update(keys[mark] for mark in new))

    def _openai_lookup(self, request: RecordedRequest) -> CacheUse:
        """The longest prefix shared with an earlier prompt under the same key, in 128-token steps from 1,024."""
        prompt = _openai_prompt(request.body)
        seen = self._openai_prompts.setdefault(request.body.get("prompt_cache_key"), [])
        # The earlier prompt sharing the longest prefix is a neighbour in sorted order.
        at = bisect.bisect_left(seen, prompt)
        shared = max((_shared_length(prompt, seen[i]) for i in (at - 1, at) if 0 <= i < len(seen)), default=0) // 4
        read = shared // OPENAI_CACHE_STEP * OPENAI_CACHE_STEP if shared >= OPENAI_MIN_CACHED else 0
        return CacheUse(read, 0, lambda: bisect.insort(seen, prompt))

    def _latency(self, body: dict[str, Any], wire: Wire) -> float:
        usage = body["usage"]
        output = usage["completion_tokens"] if wire == "openai" else usage["output_tokens"]
        return self.delay_s + (output / self.tokens_per_s if self.tokens_per_s else 0.0)


@dataclass(frozen=True)
class CacheUse:
    """What a request reads from and writes to the prompt cache; `commit` stores its writes."""

    read: int
    write: int
    commit: Callable[[], None]


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


def _anthropic_blocks(body: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The prompt as Anthropic renders it, tools -> system -> messages: (tier, block) in order."""
    system = body.get("system") or []
    blocks = [("tools", tool) for tool in body.get("tools") or []]
    blocks += [("system", block) for block in ([{"type": "text", "text": system}] if isinstance(system, str) else system)]
    for message in body.get("messages") or []:
        content = message["content"]
        content = [{"type": "text", "text": content}] if isinstance(content, str) else content
        blocks += [("messages", {"role": message["role"], **block}) for block in content]
    return blocks


def _anthropic_prefixes(body: dict[str, Any]) -> tuple[list[str], list[int], list[int]]:
    """For every block: the cache key of the prefix ending there and its length in tokens; then the
    indices of the blocks marked as breakpoints. A messages-tier key includes `tool_choice`, which
    invalidates that tier alone."""
    keys, ends, marks, digest, length = [], [], [], hashlib.sha256(str(body.get("model")).encode()), 0
    for index, (tier, block) in enumerate(_anthropic_blocks(body)):
        content = json.dumps({key: value for key, value in block.items() if key != "cache_control"}, sort_keys=True)
        digest.update(content.encode())
        length += _tokens(content)
        choice = json.dumps(body.get("tool_choice"), sort_keys=True) if tier == "messages" else ""
        keys.append(digest.hexdigest() + choice)
        ends.append(length)
        if "cache_control" in block:
            marks.append(index)
    return keys, ends, marks


def _invalid_anthropic(request: RecordedRequest) -> str | None:
    """What the Messages API refuses with a 400 before doing anything, per its documentation."""
    marked = sum("cache_control" in block for _, block in _anthropic_blocks(request.body))
    if marked > MAX_BREAKPOINTS:
        return f"A maximum of {MAX_BREAKPOINTS} blocks with cache_control may be provided. Found {marked}."
    forced = (request.body.get("tool_choice") or {}).get("type") in ("tool", "any")
    if request.body.get("max_tokens") == 0 and forced:
        return "max_tokens: 0 cannot be used with a forced tool_choice"
    return None


def _shared_length(one: str, other: str) -> int:
    """How many leading characters two strings share (a binary search of slice comparisons, done in C)."""
    low, high = 0, min(len(one), len(other))
    while low < high:
        middle = (low + high + 1) // 2
        low, high = (middle, high) if one[:middle] == other[:middle] else (low, middle - 1)
    return low


def _openai_prompt(body: dict[str, Any]) -> str:
    """The prompt as OpenAI renders it for caching: tools and the output schema first, then the messages."""
    head = json.dumps([body.get("tools"), body.get("response_format")], sort_keys=True)
    return head + "".join(f"<|{m['role']}|>{m.get('content') or ''}" for m in body.get("messages") or [])


def _openai_body(
    request: RecordedRequest, answer: Answer, data: Any, text: str, usage: dict[str, int]
) -> dict[str, Any]:
    refused = answer.stop == "refused"
    content = None if refused else (text[: len(text) // 2] if answer.stop == "truncated" else text)
    message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": answer.refusal if refused else None}
    if request.function is not None and not refused and answer.text is None:  # a forced tool answers in its call
        call = {"name": request.function["name"], "arguments": content}
        message.update(content=None, tool_calls=[{"id": "call_fake", "type": "function", "function": call}])
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
    elif request.body.get("max_tokens") == 0:
        content = []
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
        # Headers and body go out as two writes; with Nagle's algorithm the body waits for the client's
        # delayed ACK of the headers, 40 ms per answer that no real API adds (and most of the suite's HTTP time).
        disable_nagle_algorithm = True

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

"""What the two SDK adapters share: one retry policy around every call, every attempt counted, no key in
any error, a request's tokens counted from its wire body. Each adapter says only how to build its request,
send it, and read the answer.
"""

from __future__ import annotations

import ssl
from collections.abc import Awaitable, Callable
from functools import cache
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from agent.errors import ProviderError
from agent.providers.base import (
    Capabilities,
    ModelRequest,
    ModelResponse,
    TokenCount,
    count_body,
    with_rate_limits,
)
from agent.providers.retry import CONNECT_TIMEOUT_S, Fault, RetryPolicy, Service, with_retries

if TYPE_CHECKING:
    import httpx

ClientT = TypeVar("ClientT")
T = TypeVar("T")


@cache
def tls_context() -> ssl.SSLContext:
    """The TLS settings every SDK client of this process shares, as httpx builds them (SSL_CERT_FILE and
    SSL_CERT_DIR honoured) and never changed afterwards. Building them loads the CA bundle, about 20 ms of CPU
    under OpenSSL 3 (python/cpython#95031), and an eval run or the MCP server builds a client per draft."""
    import httpx

    return httpx.create_ssl_context()


def client_timeout(seconds: float) -> httpx.Timeout:
    """`seconds` without an answer ends an attempt; a server that does not even accept the connection is
    given up on sooner."""
    import httpx

    return httpx.Timeout(seconds, connect=min(seconds, CONNECT_TIMEOUT_S))


class SDKProvider(Generic[ClientT]):
    """An adapter gives its module's `read` (an SDK answer and its attempts as a `ModelResponse`) and `fault`
    (an SDK error as a `Fault`), and says how to build and send a body (`wire_body`, `_send`).

    A `ModelResponse.usage` covers that one call's attempts; a call that failed says in its error's
    `attempts` how many were made. The provider keeps no total: many drafts may share it."""

    sdk_errors: tuple[type[Exception], ...] = ()  # the SDK's HTTP and connection errors
    capabilities: Capabilities

    def __init__(self, model: str, name: str, client: ClientT, service: Service, retry: RetryPolicy | None, *,
                 read: Callable[[Any, int], ModelResponse], fault: Callable[[Any], Fault]) -> None:
        self.model, self.name = model, name
        self._client, self._service = client, service
        self._retry = retry or RetryPolicy()
        self._read, self._fault = read, fault

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, base_url={self._service.base_url!r})"

    async def complete(self, request: ModelRequest) -> ModelResponse:
        body = self.wire_body(request)
        done = await with_retries(lambda: self._guarded(lambda client: self._send(client, body)),
                                  policy=self._retry, service=self._service)
        answer, headers = done.value  # the headers too, so the rate limits reach the batch's limiter
        return with_rate_limits(self._read(answer, done.attempts), headers)

    def count_tokens(self, request: ModelRequest) -> TokenCount:
        return count_body(self.wire_body(request))

    async def sdk_call(self, action: Callable[[ClientT], Awaitable[T]]) -> T:
        """Any other SDK call (the batch APIs' uploads and polls), retried and scrubbed like `complete`."""
        return (await with_retries(lambda: self._guarded(action), policy=self._retry, service=self._service)).value

    async def aclose(self) -> None:
        """Close the HTTP connections; call it before the event loop that used them ends."""
        await self._client.close()  # type: ignore[attr-defined]

    async def _guarded(self, action: Callable[[ClientT], Awaitable[T]]) -> T:
        try:
            return await action(self._client)
        except self.sdk_errors as exc:
            fault = self._fault(exc)
        raise fault  # outside the except block, so the SDK error (and any key it quotes) is not chained

    def wire_body(self, request: ModelRequest) -> dict[str, Any]:
        raise NotImplementedError

    async def _post(self, client: Any, path: str, body: dict[str, Any], what: str,
                    url_from: str) -> tuple[dict[str, Any], Any]:
        """POST `body`, exactly as built (it is the batch APIs' line too), with the SDK's `client.post`, as both
        SDKs' READMEs show for any endpoint: their typed methods walk the whole body to transform it (10 ms a call
        with every section's schema aboard) and, for OpenAI, import every resource module on first use. The
        answer's JSON object and the headers; anything else is the base URL reaching something not the API."""
        import httpx

        response = await client.post(path, body=body, cast_to=httpx.Response)
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict):  # an HTML page or a proxy's notice
            error = ProviderError(f"{self.name}: {self._service.base_url} answered with something that is not a "
                                  f"{what} response; check the base URL ({url_from})")
            error.attempts = 1
            raise error
        return answer, response.headers

    async def _send(self, client: ClientT, body: dict[str, Any]) -> tuple[Any, Any]:
        """The SDK's answer to `body`, and the response's headers."""
        raise NotImplementedError

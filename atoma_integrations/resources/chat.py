"""``client.chat.completions``: chat completions, whole or streamed (``POST /chat/completions``)."""

from __future__ import annotations

from collections.abc import Awaitable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, TypedDict

import httpx
from typing_extensions import Required, Unpack

from atoma_integrations._config import TimeoutTypes
from atoma_integrations._streaming import AsyncChatCompletionStream, ChatCompletionStream
from atoma_integrations.resources._shared import build_body, parse_response
from atoma_integrations.types import ChatCompletion, ChatCompletionRequest
from atoma_integrations.types.chat import (
    AssistantMessageParam,
    JSONObjectResponseFormat,
    JSONSchemaResponseFormat,
    NamedToolChoice,
    ReasoningEffort,
    StreamOptions,
    SystemMessageParam,
    TextResponseFormat,
    ToolMessageParam,
    ToolParam,
    UserMessageParam,
)

if TYPE_CHECKING:
    from atoma_integrations._client import AsyncAtomaClient, AtomaClient

__all__ = [
    "AsyncChat",
    "AsyncChatCompletions",
    "Chat",
    "ChatCompletionParams",
    "ChatCompletions",
    "MessageInput",
    "ResponseFormatInput",
    "ToolChoiceInput",
    "ToolInput",
    "build_chat_body",
]


# What a caller may pass for each structured field: OpenAI's dict shape or our request type.
MessageInput = (
    Mapping[str, Any]
    | SystemMessageParam
    | UserMessageParam
    | AssistantMessageParam
    | ToolMessageParam
)
ToolInput = Mapping[str, Any] | ToolParam
ToolChoiceInput = Literal["none", "auto", "required"] | Mapping[str, Any] | NamedToolChoice
ResponseFormatInput = (
    Mapping[str, Any] | TextResponseFormat | JSONObjectResponseFormat | JSONSchemaResponseFormat
)


class ChatCompletionParams(TypedDict, total=False):
    """Keyword arguments of ``chat.completions.create`` and ``create_stream``.

    Names and meanings are those of Atoma's (OpenAI's) ``/v1/chat/completions`` fields; see
    :class:`~atoma_integrations.types.ChatCompletionRequest` for shapes and ranges. Messages,
    tools, tool choice and response format are plain dicts (OpenAI's shapes) or the request
    types. None means "not sent".
    """

    model: Required[str]
    messages: Required[Sequence[MessageInput]]
    tools: Sequence[ToolInput] | None
    tool_choice: ToolChoiceInput | None
    parallel_tool_calls: bool | None
    response_format: ResponseFormatInput | None
    stream_options: Mapping[str, Any] | StreamOptions | None
    logprobs: bool | None
    top_logprobs: int | None
    reasoning_effort: ReasoningEffort | None
    max_tokens: int | None
    max_completion_tokens: int | None
    temperature: float | None
    top_p: float | None
    n: int | None
    stop: str | list[str] | None
    seed: int | None
    logit_bias: dict[str, float] | dict[int, float] | None
    presence_penalty: float | None
    frequency_penalty: float | None
    user: str | None
    extra_body: dict[str, Any] | None
    """Extra JSON fields merged into the body (backend extras such as ``top_k``)."""
    timeout: TimeoutTypes | None
    """Timeout for this call only, in seconds or as an httpx.Timeout."""


def build_chat_body(
    params: ChatCompletionParams, *, stream: bool
) -> tuple[bytes, httpx.Timeout | None]:
    """Validate ``params`` and encode the JSON body; raises before any request is made."""
    return build_body(ChatCompletionRequest, params, stream=stream, resource="chat.completions")


class ChatCompletions:
    """``client.chat.completions``: full and streamed chat completions."""

    def __init__(self, client: AtomaClient) -> None:
        self._client = client
        self._url = f"{client.base_url}/chat/completions"

    def create(self, **params: Unpack[ChatCompletionParams]) -> ChatCompletion:
        """Answer ``messages`` and return the whole response."""
        body, timeout = build_chat_body(params, stream=False)
        response = self._client._send("POST", self._url, content=body, timeout=timeout)
        return parse_response(ChatCompletion, response)

    def create_stream(self, **params: Unpack[ChatCompletionParams]) -> ChatCompletionStream:
        """Answer ``messages`` as a stream of chunks; the request is sent now.

        Retries happen only here, before any event arrived; never once text was delivered.
        After the stream ends, ``stream.message`` holds the whole answer.
        """
        body, timeout = build_chat_body(params, stream=True)
        response = self._client._send("POST", self._url, content=body, timeout=timeout, stream=True)
        return ChatCompletionStream(response)


class AsyncChatCompletions:
    """``client.chat.completions`` of the async client."""

    def __init__(self, client: AsyncAtomaClient) -> None:
        self._client = client
        self._url = f"{client.base_url}/chat/completions"

    async def create(self, **params: Unpack[ChatCompletionParams]) -> ChatCompletion:
        """Answer ``messages`` and return the whole response."""
        body, timeout = build_chat_body(params, stream=False)
        response = await self._client._send("POST", self._url, content=body, timeout=timeout)
        return parse_response(ChatCompletion, response)

    def create_stream(self, **params: Unpack[ChatCompletionParams]) -> AsyncChatCompletionStream:
        """Answer ``messages`` as a stream; parameters are checked now, the request is sent
        on ``async with`` or on the first ``async for`` step."""
        body, timeout = build_chat_body(params, stream=True)
        client, url = self._client, self._url

        def open_response() -> Awaitable[httpx.Response]:
            return client._send("POST", url, content=body, timeout=timeout, stream=True)

        return AsyncChatCompletionStream(open_response)


class Chat:
    """``client.chat``: the chat endpoints (``chat.completions``)."""

    def __init__(self, client: AtomaClient) -> None:
        self.completions = ChatCompletions(client)
        """Chat completions: ``create`` and ``create_stream``."""


class AsyncChat:
    """``client.chat`` of the async client."""

    def __init__(self, client: AsyncAtomaClient) -> None:
        self.completions = AsyncChatCompletions(client)
        """Chat completions: ``create`` and ``create_stream``."""

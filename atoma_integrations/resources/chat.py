"""``client.chat.completions``: chat completions, whole or streamed (``POST /chat/completions``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, TypedDict

import httpx
from typing_extensions import Required, Unpack

from atoma_integrations._config import TimeoutTypes
from atoma_integrations._streaming import (
    AsyncChatCompletionStream,
    AsyncStreamOpener,
    ChatCompletionStream,
)
from atoma_integrations.resources._base import AsyncAPIResource, SyncAPIResource
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


PATH = "/chat/completions"


def build_chat_body(
    params: ChatCompletionParams, *, stream: bool
) -> tuple[bytes, httpx.Timeout | None]:
    """Validate ``params`` and encode the JSON body; raises before any request is made."""
    return build_body(ChatCompletionRequest, params, stream=stream, resource="chat.completions")


class ChatCompletions(SyncAPIResource):
    """``client.chat.completions``: full and streamed chat completions."""

    def create(self, **params: Unpack[ChatCompletionParams]) -> ChatCompletion:
        """Answer ``messages`` and return the whole response."""
        body, timeout = build_chat_body(params, stream=False)
        return parse_response(ChatCompletion, self._post(PATH, body, timeout), self._verifier)

    def create_stream(self, **params: Unpack[ChatCompletionParams]) -> ChatCompletionStream:
        """Answer ``messages`` as a stream of chunks; the request is sent now.

        Retries and HTTP errors happen here, before any event arrived; never once text
        was delivered. After the stream ends, ``stream.message`` holds the whole answer.
        """
        body, timeout = build_chat_body(params, stream=True)
        return self._post_stream(PATH, body, timeout, ChatCompletionStream)


class AsyncChatCompletions(AsyncAPIResource):
    """``client.chat.completions`` of the async client."""

    async def create(self, **params: Unpack[ChatCompletionParams]) -> ChatCompletion:
        """Answer ``messages`` and return the whole response."""
        body, timeout = build_chat_body(params, stream=False)
        return parse_response(ChatCompletion, await self._post(PATH, body, timeout), self._verifier)

    def create_stream(
        self, **params: Unpack[ChatCompletionParams]
    ) -> AsyncStreamOpener[AsyncChatCompletionStream]:
        """Answer ``messages`` as a stream: parameters are checked now, and the request is
        sent (with its retries) by ``async with ... as stream`` or ``await``."""
        body, timeout = build_chat_body(params, stream=True)
        return self._post_stream(PATH, body, timeout, AsyncChatCompletionStream)


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

"""A chat stream's state, without I/O: text, role, refusal, reasoning and tool calls.

Tool-call pieces arrive interleaved and, on some servers, with their id and name repeated;
:class:`_ToolCallParts` merges one call's pieces and :class:`ChatStreamState` keeps them by
``index``, so ``message()`` is the answer as a whole. Decoding, usage and the end-of-stream
checks are the base state's (``_stream_state.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from atoma_integrations._stream_state import BaseStreamState
from atoma_integrations.types import (
    ChatCompletionChunk,
    ChatCompletionChunkChoice,
    ChatCompletionMessage,
    ChatCompletionMessageToolCall,
    ChatCompletionToolCallFunction,
    ChoiceDeltaToolCall,
)

if TYPE_CHECKING:
    from atoma_integrations._signatures import SignatureVerifier

__all__ = ["ChatStreamState"]


class _ToolCallParts:
    """One tool call being streamed: id and name once, arguments piece by piece."""

    __slots__ = ("arguments", "id", "name", "type")

    def __init__(self) -> None:
        self.id: str | None = None
        self.type: str | None = None
        self.name: str | None = None
        self.arguments: list[str] = []

    def add(self, piece: ChoiceDeltaToolCall) -> None:
        """Take one piece; a repeated id, type or name is removed from the piece itself.

        OpenAI sends id and name in the first piece only; llama.cpp repeats them in every
        piece. Keeping the first and clearing repeats makes every stream OpenAI-shaped, so
        a consumer that concatenates pieces by index (LangChain's chunk merging does)
        never gets ``get_weatherget_weather``.
        """
        if piece.id:
            if self.id is None:
                self.id = piece.id
            elif piece.id == self.id:
                piece.id = None
        if piece.type:
            if self.type is None:
                self.type = piece.type
            else:
                piece.type = None
        function = piece.function
        if function is not None:
            if function.name:
                if self.name is None:
                    self.name = function.name
                elif function.name == self.name:
                    function.name = None
            if function.arguments:
                self.arguments.append(function.arguments)

    def build(self) -> ChatCompletionMessageToolCall:
        return ChatCompletionMessageToolCall(
            id=self.id or "",
            type=self.type or "function",
            function=ChatCompletionToolCallFunction(
                name=self.name or "", arguments="".join(self.arguments)
            ),
        )


class _MessageParts:
    """One chat choice being streamed: role, refusal, reasoning and tool calls (text is in
    ``_texts``)."""

    __slots__ = ("reasoning", "refusal", "role", "tool_calls")

    def __init__(self) -> None:
        self.role: str | None = None
        self.refusal: list[str] = []
        self.reasoning: list[str] = []
        self.tool_calls: dict[int, _ToolCallParts] = {}


class ChatStreamState(BaseStreamState[ChatCompletionChunk]):
    """A chat stream's state: text, role, refusal, reasoning and tool calls of each choice.

    Tool-call pieces are merged by their ``index`` (several calls may interleave), with
    their argument pieces concatenated, so ``message()`` is the answer as a whole. The
    chunks yielded are OpenAI-shaped: a call's id and name appear in its first piece only.
    """

    __slots__ = ("_messages",)

    chunk_type = ChatCompletionChunk
    what = "chat completion"

    def __init__(
        self, verifier: SignatureVerifier | None = None, request_id: str | None = None
    ) -> None:
        super().__init__(verifier, request_id)
        self._messages: dict[int, _MessageParts] = {}

    def _track(self, choices: list[ChatCompletionChunkChoice]) -> None:
        for choice in choices:
            index = choice.index
            delta = choice.delta
            if delta.content:
                self._add_text(index, delta.content)
            if delta.role or delta.tool_calls or delta.refusal or delta.reasoning:
                parts = self._messages.get(index)
                if parts is None:
                    parts = self._messages[index] = _MessageParts()
                if delta.role:
                    parts.role = delta.role
                if delta.refusal:
                    parts.refusal.append(delta.refusal)
                if delta.reasoning:
                    parts.reasoning.append(delta.reasoning)
                if delta.tool_calls:
                    calls = parts.tool_calls
                    for position, piece in enumerate(delta.tool_calls):
                        key = piece.index if piece.index is not None else position
                        call = calls.get(key)
                        if call is None:
                            call = calls[key] = _ToolCallParts()
                        call.add(piece)
            if choice.finish_reason is not None:
                self._finished.add(index)

    def _started(self) -> set[int]:
        started = {
            i
            for i, parts in self._messages.items()
            if parts.tool_calls or parts.refusal or parts.reasoning
        }
        return super()._started() | started

    def message(self, index: int = 0) -> ChatCompletionMessage:
        """The message of choice ``index`` as received so far (whole once the stream ended)."""
        parts = self._messages.get(index)
        texts = self._texts.get(index)
        tool_calls = (
            [parts.tool_calls[key].build() for key in sorted(parts.tool_calls)]
            if parts is not None and parts.tool_calls
            else None
        )
        if texts:
            content: str | None = "".join(texts)
        else:
            # As in a whole response: null content beside tool calls, "" for an empty answer.
            content = None if tool_calls else ""
        return ChatCompletionMessage(
            role=(parts.role if parts is not None and parts.role else "assistant"),
            content=content,
            tool_calls=tool_calls,
            refusal="".join(parts.refusal) if parts is not None and parts.refusal else None,
            reasoning="".join(parts.reasoning) if parts is not None and parts.reasoning else None,
        )

    @property
    def messages(self) -> dict[int, ChatCompletionMessage]:
        """The message of every choice received so far, per index."""
        indices = sorted(set(self._texts) | set(self._messages) | self._finished)
        return {index: self.message(index) for index in indices}

    def _partial(self) -> ChatCompletionMessage:
        return self.message(0)

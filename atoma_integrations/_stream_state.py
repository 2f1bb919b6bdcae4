"""What a stream has delivered so far, without I/O: one event payload in, one chunk out.

The stream objects (``_streaming.py``) feed every event's raw ``data`` payload to
:meth:`BaseStreamState.decode`, the one place a streamed payload becomes a chunk; a check
that must see each payload's raw bytes before its chunk is yielded belongs there. The
state remembers text, usage and finish reasons, and decides at the end whether the stream
was complete. :class:`StreamState` is the completions' state; the chat state, which also
merges tool calls, is in ``_chat_stream_state.py``.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar, Generic, TypeVar

from pydantic import ValidationError

from atoma_integrations._sse import DONE
from atoma_integrations.errors import (
    AtomaError,
    MalformedEventError,
    StreamInterruptedError,
    error_details,
    validation_detail,
)
from atoma_integrations.types import (
    ChatCompletionChunk,
    CompletionChoice,
    CompletionChunk,
    Usage,
)

__all__ = ["BaseStreamState", "ChunkT", "StreamState"]

ChunkT = TypeVar("ChunkT", CompletionChunk, ChatCompletionChunk)


class BaseStreamState(Generic[ChunkT]):
    """What a stream has delivered so far; shared by the sync and async streams.

    It turns each event payload into a chunk, remembers text, usage and finish reasons,
    and decides, at the end, whether the stream was complete. Subclasses name the chunk
    type and say what to remember of each choice (``_track``).
    """

    __slots__ = ("_finished", "_texts", "done", "usage")

    chunk_type: ClassVar[type[Any]]
    what: ClassVar[str]

    def __init__(self) -> None:
        self._texts: dict[int, list[str]] = {}
        self._finished: set[int] = set()
        self.usage: Usage | None = None
        """The last usage seen (never summed: some backends repeat it on every chunk)."""
        self.done = False
        """True once ``[DONE]`` arrived."""

    def decode(self, payload: bytes) -> ChunkT | None:
        """The chunk to yield for one event, or None (``[DONE]``, usage-only chunks).

        ``payload`` is the event's ``data`` exactly as the server sent it: this is the one
        place a streamed payload is turned into a chunk, for both I/O loops.
        """
        if payload == DONE:
            self.done = True
            return None
        try:
            chunk: ChunkT = self.chunk_type.model_validate_json(payload)
        except ValidationError as exc:
            raise self._error_event(payload, exc) from exc
        if chunk.usage is not None:
            self.usage = chunk.usage
        choices = chunk.choices
        if not choices:
            extra = chunk.model_extra
            if extra and "error" in extra:
                raise self._error_event(payload, None)
            return None
        self._track(choices)
        return chunk

    def _track(self, choices: Any) -> None:
        raise NotImplementedError

    def _add_text(self, index: int, text: str) -> None:
        texts = self._texts.get(index)
        if texts is None:
            self._texts[index] = [text]
        else:
            texts.append(text)

    def _started(self) -> set[int]:
        """The choice indices that delivered anything."""
        return set(self._texts) | self._finished

    @property
    def texts(self) -> dict[int, str]:
        """Text received so far, per choice index."""
        return {index: "".join(parts) for index, parts in self._texts.items()}

    def _partial(self) -> Any:
        """Beside the text, what an interruption carries (chat: the partial message)."""
        return None

    def interrupted(
        self,
        reason: str,
        *,
        body: Any = None,
        error_type: type[StreamInterruptedError] = StreamInterruptedError,
    ) -> StreamInterruptedError:
        """The error for a stream cut short, carrying what arrived."""
        texts = self.texts
        text = texts.get(0, "")
        partial = self._partial()
        message = f"The {self.what} stream was interrupted: {reason}"
        if texts:
            message += f" ({sum(len(t) for t in texts.values())} characters arrived before it)"
        elif partial is not None and partial.tool_calls:
            message += " (a tool call had started arriving)"
        else:
            message += " (no text arrived before it)"
        return error_type(
            message,
            text=text,
            texts=texts,
            usage=self.usage,
            body=body,
            partial_message=partial,
        )

    def _error_event(self, payload: bytes, exc: ValidationError | None) -> AtomaError:
        try:
            body = json.loads(payload)
        except ValueError:
            return self.interrupted(
                f"a malformed event could not be decoded as JSON: {payload[:200]!r}",
                error_type=MalformedEventError,
            )
        if isinstance(body, dict) and "error" in body:
            code, message = error_details(body)
            what = "the server sent an error event" + (f" ({code})" if code else "")
            return self.interrupted(f"{what}: {message or 'no message'}", body=body)
        detail = validation_detail(exc) if exc is not None else "unexpected shape"
        return self.interrupted(
            f"an event did not have the {self.what} chunk shape ({detail}): {payload[:200]!r}",
            error_type=MalformedEventError,
        )

    def finish(self) -> None:
        """Raise unless every choice that started also got its ``finish_reason``."""
        if not self._finished:
            raise self.interrupted("the stream ended before a finish_reason arrived")
        unfinished = self._started() - self._finished
        if unfinished:
            raise self.interrupted(f"choices {sorted(unfinished)} ended without a finish_reason")


class StreamState(BaseStreamState[CompletionChunk]):
    """A completion stream's state: the text of each choice."""

    __slots__ = ()

    chunk_type = CompletionChunk
    what = "completion"

    def _track(self, choices: list[CompletionChoice]) -> None:
        for choice in choices:
            if choice.text:
                self._add_text(choice.index, choice.text)
            if choice.finish_reason is not None:
                self._finished.add(choice.index)

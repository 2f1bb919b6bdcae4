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
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from pydantic import ValidationError

from atoma_integrations._sse import DONE
from atoma_integrations.errors import (
    AtomaError,
    MalformedEventError,
    SignatureVerificationError,
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
from atoma_integrations.types.shared import mark_signed

if TYPE_CHECKING:
    from atoma_integrations._signatures import SignatureVerifier

__all__ = ["BaseStreamState", "ChunkT", "StreamState"]

ChunkT = TypeVar("ChunkT", CompletionChunk, ChatCompletionChunk)


class BaseStreamState(Generic[ChunkT]):
    """What a stream has delivered so far; shared by the sync and async streams.

    It turns each event payload into a chunk, remembers text, usage and finish reasons,
    and decides, at the end, whether the stream was complete. Subclasses name the chunk
    type and say what to remember of each choice (``_track``).
    """

    __slots__ = ("_finished", "_request_id", "_texts", "done", "signers", "usage", "verifier")

    chunk_type: ClassVar[type[Any]]
    what: ClassVar[str]

    def __init__(
        self, verifier: SignatureVerifier | None = None, request_id: str | None = None
    ) -> None:
        self._texts: dict[int, list[str]] = {}
        self._finished: set[int] = set()
        self.usage: Usage | None = None
        """The last usage seen (never summed: some backends repeat it on every chunk)."""
        self.done = False
        """True once ``[DONE]`` arrived."""
        self.verifier = verifier
        """Checks every payload's signature before its chunk exists; None: no checks."""
        self._request_id = request_id
        self.signers: set[str] = set()
        """The Sui addresses whose signatures the payloads so far passed."""

    def decode(self, payload: bytes) -> ChunkT | None:
        """The chunk to yield for one event, or None (``[DONE]``, usage-only chunks).

        ``payload`` is the event's ``data`` exactly as the server sent it: this is the one
        place a streamed payload is turned into a chunk, for both I/O loops.
        """
        if payload == DONE:
            # Not signed by any node (Atoma sends none); it carries no content, and a
            # stream cut short is caught by finish() whether or not [DONE] ends it.
            self.done = True
            return None
        verifier = self.verifier
        chunk: ChunkT
        if verifier is None:
            try:
                chunk = self.chunk_type.model_validate_json(payload)
            except ValidationError as exc:
                raise self._error_event(payload, exc) from exc
        else:
            chunk = self._verified_chunk(verifier, payload)
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

    def _verified_chunk(self, verifier: SignatureVerifier, payload: bytes) -> ChunkT:
        """The chunk of a payload whose signature passed, marked with its signer.

        Checked before the payload is parsed, so a tampered payload fails as a signature
        failure, whatever it was tampered into. A failure carries what was verified and
        delivered before it. An error event the node did not sign (Atoma's proxy writes
        its own errors, unsigned) is not content: it is raised as the server's error, as
        without verification; nothing of it is ever yielded.
        """
        try:
            signer = verifier.verify(payload, self._request_id)
        except SignatureVerificationError as exc:
            if exc.reason == "unsigned" and _is_error_event(payload):
                raise self._error_event(payload, None) from exc
            texts = self.texts
            raise exc.in_stream(
                self.what,
                text=texts.get(0, ""),
                texts=texts,
                usage=self.usage,
                partial_message=self._partial(),
            ) from None
        try:
            chunk: ChunkT = self.chunk_type.model_validate_json(payload)
        except ValidationError as exc:
            raise self._error_event(payload, exc) from exc
        mark_signed(chunk, signer)
        self.signers.add(signer)
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


def _is_error_event(payload: bytes) -> bool:
    """Whether ``payload`` is an error event, ``{"error": ...}``."""
    try:
        body = json.loads(payload)
    except ValueError:
        return False
    return isinstance(body, dict) and "error" in body

"""Text completions as LlamaIndex responses, whole and streamed, and as chat responses.

Pure functions and one small per-stream state, shared by the sync and async paths of
``Atoma``. What a response carries:

- ``text`` (so far, when streaming) and ``delta`` (the new piece);
- ``raw``: the decoded body or chunk (the final streamed one with the usage), so LlamaIndex's
  ``TokenCountingHandler`` counts the server's tokens;
- ``logprobs``: per position, the chosen token first, then the other alternatives;
- ``additional_kwargs``: ``finish_reason``, token counts and Atoma's ``response_hash`` /
  ``signature``.
"""

from __future__ import annotations

from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    CompletionResponse,
    LogProb,
    MessageRole,
)

from atoma_integrations._adapters import atoma_extras, usage_counts
from atoma_integrations.llama_index._stream_relay import FinishHoldingMapper, choice_zero
from atoma_integrations.types import (
    Completion,
    CompletionChoice,
    CompletionChunk,
    Logprobs,
    Usage,
)

__all__ = ["CompletionChunkMapper", "as_chat_response", "completion_response"]


def _llama_logprobs(logprobs: Logprobs | None) -> list[list[LogProb]] | None:
    """Legacy logprobs as LlamaIndex's per-position lists: the chosen token first, then
    the other alternatives the server returned, most likely first."""
    if logprobs is None:
        return None
    tops = logprobs.top_logprobs or []
    positions: list[list[LogProb]] = []
    for i, token in enumerate(logprobs.tokens):
        chosen = logprobs.token_logprobs[i] if i < len(logprobs.token_logprobs) else None
        entries: list[LogProb] = []
        if chosen is not None:
            entries.append(LogProb(token=token, logprob=chosen, bytes=list(token.encode())))
        alternatives = tops[i] if i < len(tops) else None
        if alternatives:
            for alt, value in sorted(alternatives.items(), key=lambda kv: -kv[1]):
                if alt != token or chosen is None:
                    entries.append(LogProb(token=alt, logprob=value, bytes=list(alt.encode())))
        positions.append(entries)
    return positions


def completion_response(completion: Completion) -> CompletionResponse:
    """A whole completion as LlamaIndex's response; ``raw`` is the decoded body."""
    choices = completion.choices
    choice = choice_zero(choices) or (choices[0] if choices else None)
    extra = atoma_extras(completion)
    if choice is not None:
        extra["finish_reason"] = choice.finish_reason
    extra.update(usage_counts(completion.usage))
    if len(choices) > 1:
        extra["texts"] = [c.text for c in sorted(choices, key=lambda c: c.index)]
    return CompletionResponse(
        text=choice.text if choice is not None else "",
        raw=completion,
        logprobs=_llama_logprobs(choice.logprobs) if choice is not None else None,
        additional_kwargs=extra,
    )


class CompletionChunkMapper(
    FinishHoldingMapper[CompletionChunk, CompletionChoice, CompletionResponse]
):
    """Completion stream chunks to ``CompletionResponse``\\ s: one per chunk with new text
    (``text`` so far, ``delta`` new), the final one with the usage."""

    __slots__ = ("text",)

    def __init__(self) -> None:
        super().__init__()
        self.text = ""

    def feed(self, chunk: CompletionChunk) -> CompletionResponse | None:
        """The response for ``chunk``, or None (no text yet, or held back)."""
        choice = choice_zero(chunk.choices)
        if choice is None:
            return None
        self.last = chunk
        if choice.finish_reason is not None:
            self.hold(chunk, choice)
            return None
        if not choice.text and choice.logprobs is None:
            return None
        return self._respond(chunk, choice)

    def finish(self, usage: Usage | None) -> CompletionResponse:
        """The final response: the held chunk (or an empty delta) with the usage."""
        choice, extra, raw = self.take_final(usage)
        delta = choice.text if choice is not None else ""
        self.text += delta
        return CompletionResponse(
            text=self.text,
            delta=delta,
            raw=raw,
            logprobs=_llama_logprobs(choice.logprobs) if choice is not None else None,
            additional_kwargs=extra,
        )

    def _respond(self, chunk: CompletionChunk, choice: CompletionChoice) -> CompletionResponse:
        # Runs once per token: arguments left at their defaults are not passed, which
        # saves pydantic a little work on every chunk of a plain stream.
        delta = choice.text
        self.text += delta
        signature = atoma_extras(chunk)
        if choice.logprobs is None:
            if not signature:
                return CompletionResponse(text=self.text, delta=delta, raw=chunk)
            return CompletionResponse(
                text=self.text, delta=delta, raw=chunk, additional_kwargs=signature
            )
        return CompletionResponse(
            text=self.text,
            delta=delta,
            raw=chunk,
            logprobs=_llama_logprobs(choice.logprobs),
            additional_kwargs=signature,
        )


def as_chat_response(completion: CompletionResponse) -> ChatResponse:
    """LlamaIndex's completion-to-chat conversion, keeping ``logprobs`` and ``delta``."""
    return ChatResponse(
        message=ChatMessage(
            role=MessageRole.ASSISTANT,
            content=completion.text,
            additional_kwargs=completion.additional_kwargs,
        ),
        raw=completion.raw,
        delta=completion.delta,
        logprobs=completion.logprobs,
        additional_kwargs=completion.additional_kwargs,
    )

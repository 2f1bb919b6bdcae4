"""Text completion stream chunks as LangChain ``GenerationChunk``\\ s (``AtomaLLM``'s stream).

The twin of ``_chat_chunks.ChatChunkMapper`` for ``ChatAtoma``; both feed the one relay of
``_base`` (``relay_stream`` / ``arelay_stream``).
"""

from __future__ import annotations

from typing import Any

from langchain_core.outputs import GenerationChunk

from atoma_integrations._adapters import usage_counts
from atoma_integrations.types import CompletionChunk, Usage

__all__ = ["CompletionChunkMapper"]


class CompletionChunkMapper:
    """Core stream chunks to GenerationChunks: text as it comes, a final chunk at the end.

    LangChain merges chunks by concatenating strings and summing ints, so anything that is
    not per-token (``finish_reason``, usage, the model name) goes on the final chunk only.
    Usage is known only after the last event (Atoma sends it on a ``choices: []`` event
    after the ``finish_reason`` one), which is why the final chunk is a separate, empty one.
    """

    __slots__ = ("finish_reason", "model_name", "signer")

    def __init__(self, model: str) -> None:
        self.finish_reason: str | None = None
        self.model_name = model
        self.signer: str | None = None

    def chunk(self, event: CompletionChunk) -> GenerationChunk | None:
        choice = event.choices[0]
        if choice.finish_reason is not None:
            self.finish_reason = choice.finish_reason
            # Read here, not per token: with verification on every chunk passed its check,
            # and the one that ends the answer names the signer (stream.signers has all).
            self.signer = event.signer
            if event.model:
                self.model_name = event.model
        if choice.logprobs is not None:
            info: dict[str, Any] | None = {"logprobs": choice.logprobs.model_dump()}
        elif choice.text:
            info = None
        else:
            return None  # nothing new: an empty event (llama.cpp holds back stop prefixes)
        return GenerationChunk(text=choice.text, generation_info=info)

    def final(self, usage: Usage | None) -> GenerationChunk:
        info: dict[str, Any] = {"finish_reason": self.finish_reason, "model_name": self.model_name}
        if usage is not None:
            info["token_usage"] = usage_counts(usage)
        if self.signer is not None:
            info["signer"] = self.signer
        return GenerationChunk(text="", generation_info=info)

"""Chat completions as LangChain messages: whole responses as ``ChatResult``, stream chunks
as ``ChatGenerationChunk``.

What a message carries: the text as ``content``; tool calls parsed (arguments that are not
JSON in ``invalid_tool_calls``); a reasoning model's thinking in
``additional_kwargs["reasoning_content"]`` (the key langchain-deepseek, -ollama and -groq
use, which langchain-core turns into the first ``content_blocks`` entry); the usage, with
``output_token_details["reasoning"]``; ``finish_reason``, the model name and Atoma's
``response_hash`` / ``signature`` in ``response_metadata``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    InvalidToolCall,
    ToolCall,
    UsageMetadata,
)
from langchain_core.messages.tool import tool_call_chunk
from langchain_core.output_parsers.openai_tools import make_invalid_tool_call, parse_tool_call
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

from atoma_integrations._adapters import atoma_extras, usage_counts
from atoma_integrations.types import (
    ChatCompletion,
    ChatCompletionChoice,
    ChatCompletionChunk,
    ChatCompletionMessageToolCall,
    Usage,
)

__all__ = ["PROVIDER", "REASONING_KEY", "ChatChunkMapper", "chat_result"]

PROVIDER = "atoma"
"""``response_metadata["model_provider"]`` and LangSmith's ``ls_provider``."""

REASONING_KEY = "reasoning_content"
"""Where a message keeps the model's reasoning, in ``additional_kwargs``."""


def _usage_metadata(usage: Usage | None) -> UsageMetadata | None:
    """The server's usage as LangChain's ``UsageMetadata`` (with cache and reasoning
    details when the server reports them)."""
    if usage is None:
        return None
    # A cast: langchain-core declares the detail keys with typing.NotRequired, which mypy
    # checking for Python 3.10 does not know, and then wrongly requires them.
    metadata = cast(
        "UsageMetadata",
        {
            "input_tokens": usage.prompt_tokens,
            "output_tokens": usage.completion_tokens,
            "total_tokens": usage.total_tokens,
        },
    )
    extra = usage.model_extra
    prompt_details = extra.get("prompt_tokens_details") if extra else None
    if isinstance(prompt_details, dict) and prompt_details.get("cached_tokens") is not None:
        metadata["input_token_details"] = {"cache_read": prompt_details["cached_tokens"]}
    details = usage.completion_tokens_details
    if details is not None and details.reasoning_tokens is not None:
        metadata["output_token_details"] = {"reasoning": details.reasoning_tokens}
    return metadata


def _tool_calls(
    raw: Sequence[ChatCompletionMessageToolCall],
) -> tuple[list[ToolCall], list[InvalidToolCall]]:
    """Parsed tool calls, and those whose arguments are not a JSON object."""
    parsed: list[ToolCall] = []
    invalid: list[InvalidToolCall] = []
    for call in raw:
        as_dict = call.model_dump()
        try:
            result = parse_tool_call(as_dict, return_id=True)
        except Exception as exc:  # langchain-core raises OutputParserException
            invalid.append(make_invalid_tool_call(as_dict, str(exc)))
            continue
        if result is None:
            invalid.append(make_invalid_tool_call(as_dict, "the arguments are not JSON"))
        else:
            parsed.append(cast("ToolCall", result))
    return parsed, invalid


def _response_metadata(
    finish_reason: str | None, model_name: str, extras: Mapping[str, Any], fingerprint: Any
) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "finish_reason": finish_reason,
        "model_name": model_name,
        "model_provider": PROVIDER,
    }
    if fingerprint is not None:
        metadata["system_fingerprint"] = fingerprint
    metadata.update(extras)
    return metadata


def _ai_message(completion: ChatCompletion, choice: ChatCompletionChoice, model: str) -> AIMessage:
    """One choice of a whole response as an ``AIMessage``."""
    message = choice.message
    tool_calls, invalid = _tool_calls(message.tool_calls or [])
    additional: dict[str, Any] = {}
    if message.reasoning:
        additional[REASONING_KEY] = message.reasoning
    if message.refusal:
        additional["refusal"] = message.refusal
    metadata = _response_metadata(
        choice.finish_reason,
        completion.model or model,
        atoma_extras(completion),
        completion.system_fingerprint,
    )
    if choice.logprobs is not None:
        metadata["logprobs"] = choice.logprobs.model_dump(exclude_none=True)
    usage = _usage_metadata(completion.usage)
    return AIMessage(
        content=message.content or "",
        tool_calls=tool_calls,
        invalid_tool_calls=invalid,
        additional_kwargs=additional,
        response_metadata=metadata,
        usage_metadata=usage,
        id=completion.id or None,
    )


def chat_result(completion: ChatCompletion, model: str) -> ChatResult:
    """A whole response as a ``ChatResult``: one generation per choice."""
    generations = [
        ChatGeneration(
            message=_ai_message(completion, choice, model),
            generation_info={"finish_reason": choice.finish_reason},
        )
        for choice in sorted(completion.choices, key=lambda c: c.index)
    ]
    return ChatResult(
        generations=generations,
        llm_output={
            "token_usage": usage_counts(completion.usage),
            "model_name": completion.model or model,
        },
    )


class ChatChunkMapper:
    """Core stream chunks to ``ChatGenerationChunk``s: content and tool-call pieces as they
    come, then a final chunk.

    A piece of reasoning is a chunk too (content ``""``, the piece in
    ``additional_kwargs["reasoning_content"]``), so the merged chunks hold the whole
    reasoning, as a whole response does, and a stream is not silent while the model thinks.

    LangChain merges chunks by concatenating strings and summing numbers, so what is not
    per-token (``finish_reason``, model name, usage, Atoma's signature of the whole
    answer) goes on the final chunk only; it also marks the end (``chunk_position``), so
    LangChain parses the merged tool-call pieces into ``tool_calls``.
    """

    __slots__ = ("extras", "fingerprint", "finish_reason", "id", "model_name")

    def __init__(self, model: str) -> None:
        self.finish_reason: str | None = None
        self.model_name = model
        self.id: str | None = None
        self.extras: dict[str, Any] = {}
        self.fingerprint: Any = None

    def chunk(self, event: ChatCompletionChunk) -> ChatGenerationChunk | None:
        choice = event.choices[0]
        if event.id:
            self.id = event.id
        extras = atoma_extras(event)
        if extras:
            self.extras = extras  # the last chunk's signature covers the whole answer
        if choice.finish_reason is not None:
            self.finish_reason = choice.finish_reason
            if event.model:
                self.model_name = event.model
            self.fingerprint = event.system_fingerprint
        delta = choice.delta
        pieces = [
            tool_call_chunk(
                name=piece.function.name if piece.function else None,
                args=piece.function.arguments if piece.function else None,
                id=piece.id,
                index=piece.index,
            )
            for piece in delta.tool_calls or ()
        ]
        reasoning = delta.reasoning
        info: dict[str, Any] | None = None
        if choice.logprobs is not None:
            info = {"logprobs": choice.logprobs.model_dump(exclude_none=True)}
        elif not delta.content and not pieces and not delta.refusal and not reasoning:
            return None  # nothing new: the role-only first event, an empty event
        if not pieces and not delta.refusal and not reasoning:
            # The per-token path: fields left at their defaults are not passed, which saves
            # pydantic work on every token (measured in benchmarks/RESULTS.md, W2).
            message = AIMessageChunk(content=delta.content or "", id=self.id)
        else:
            additional: dict[str, Any] = {}
            if reasoning:
                additional[REASONING_KEY] = reasoning
            if delta.refusal:
                additional["refusal"] = delta.refusal
            message = AIMessageChunk(
                content=delta.content or "",
                tool_call_chunks=pieces,
                additional_kwargs=additional,
                id=self.id,
            )
        if info is None:
            return ChatGenerationChunk(message=message)
        return ChatGenerationChunk(message=message, generation_info=info)

    def final(self, usage: Usage | None) -> ChatGenerationChunk:
        metadata = _response_metadata(
            self.finish_reason, self.model_name, self.extras, self.fingerprint
        )
        message = AIMessageChunk(
            content="",
            usage_metadata=_usage_metadata(usage),
            response_metadata=metadata,
            chunk_position="last",
            id=self.id,
        )
        return ChatGenerationChunk(
            message=message,
            generation_info={"finish_reason": self.finish_reason, "model_name": self.model_name},
        )

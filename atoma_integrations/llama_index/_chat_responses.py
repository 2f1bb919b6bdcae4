"""Chat completions as LlamaIndex responses, whole and streamed; tool calls as ToolSelections.

Pure functions and one small per-stream state, shared by the sync and async paths of
``AtomaChat``. What a response carries:

- ``message``: the answer as a ``ChatMessage``: the model's reasoning as a ``ThinkingBlock``
  (when it reasoned), a text block, then one ``ToolCallBlock`` per tool call, and the
  client's typed calls in ``additional_kwargs["tool_calls"]`` (as llama-index-llms-openai
  keeps them);
- ``raw``: the decoded body or chunk (the final streamed one with the usage), so LlamaIndex's
  ``TokenCountingHandler`` counts the server's tokens;
- ``additional_kwargs``: ``finish_reason``, token counts and Atoma's ``response_hash`` /
  ``signature``.

While streaming, each response with a new piece of reasoning carries it in
``additional_kwargs["thinking_delta"]`` (which agents show as ``AgentStream.thinking_delta``),
and every response's message holds the reasoning, the text and the tool calls so far
(as far as the client has read: when several events came in one network read, a few pieces
ahead of the chunk). The arguments of a call still arriving are parsed as partial JSON into
its block (so an agent can show them); the final message holds each call's arguments exactly
as sent.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    CompletionResponse,
    ContentBlock,
    LogProb,
    MessageRole,
    TextBlock,
    ThinkingBlock,
    ToolCallBlock,
)
from llama_index.core.llms.llm import ToolSelection
from llama_index.core.llms.utils import parse_partial_json

from atoma_integrations._adapters import atoma_extras, usage_counts
from atoma_integrations._streaming import AsyncChatCompletionStream, ChatCompletionStream
from atoma_integrations.llama_index._messages import tool_call_dicts
from atoma_integrations.llama_index._stream_relay import FinishHoldingMapper, choice_zero
from atoma_integrations.types import (
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionMessage,
    ChatCompletionMessageToolCall,
    Usage,
)
from atoma_integrations.types.chat import ChatCompletionChunkChoice, ChatLogprobs

__all__ = [
    "ChatChunkMapper",
    "as_completion_response",
    "chat_response",
    "llama_message",
    "single_tool_call",
    "tool_selections",
]

logger = logging.getLogger("atoma_integrations.llama_index")


# -- whole responses -----------------------------------------------------------------------


def llama_message(
    message: ChatCompletionMessage,
    extra: dict[str, Any] | None = None,
    *,
    partial_arguments: Sequence[dict[str, Any]] | None = None,
) -> ChatMessage:
    """The client's message as LlamaIndex's.

    ``partial_arguments``: the tool calls are still arriving, and these are their arguments
    parsed so far (one per call); otherwise each block holds the arguments exactly as sent.
    """
    calls = message.tool_calls or []
    blocks: list[ContentBlock] = []
    if message.reasoning:
        blocks.append(ThinkingBlock(content=message.reasoning))
    if message.content or not calls:
        blocks.append(TextBlock(text=message.content or ""))
    for position, call in enumerate(calls):
        arguments: str | dict[str, Any] = call.function.arguments
        if partial_arguments is not None:
            arguments = partial_arguments[position]
        blocks.append(
            ToolCallBlock(tool_call_id=call.id, tool_name=call.function.name, tool_kwargs=arguments)
        )
    kwargs: dict[str, Any] = dict(extra) if extra else {}
    if calls:
        kwargs["tool_calls"] = calls
    if message.refusal:
        kwargs["refusal"] = message.refusal
    return ChatMessage(role=MessageRole.ASSISTANT, blocks=blocks, additional_kwargs=kwargs)


def _partial_arguments(text: str, previous: dict[str, Any]) -> dict[str, Any]:
    """Arguments still arriving, parsed as far as they go; where a piece leaves the JSON
    unparsable for a moment (a key without its value), the last parse stands."""
    if not text:
        return {}
    try:
        parsed = parse_partial_json(text)
    except (ValueError, TypeError):
        return previous
    return parsed if isinstance(parsed, dict) and parsed else previous


def chat_response(completion: ChatCompletion) -> ChatResponse:
    """A whole chat completion as LlamaIndex's response; ``raw`` is the decoded body."""
    choices = sorted(completion.choices, key=lambda c: c.index)
    choice = choices[0] if choices else None
    extra = atoma_extras(completion)
    if choice is not None:
        extra["finish_reason"] = choice.finish_reason
    extra.update(usage_counts(completion.usage))
    if len(choices) > 1:
        extra["texts"] = [c.message.content or "" for c in choices]
    message = choice.message if choice is not None else ChatCompletionMessage(content="")
    return ChatResponse(
        message=llama_message(message, extra),
        raw=completion,
        logprobs=llama_logprobs(choice.logprobs) if choice is not None else None,
        additional_kwargs=extra,
    )


def llama_logprobs(logprobs: ChatLogprobs | None) -> list[list[LogProb]] | None:
    """Per-token log-probabilities as LlamaIndex's lists: the chosen token first, then the
    other alternatives the server returned, most likely first."""
    if logprobs is None or logprobs.content is None:
        return None
    positions: list[list[LogProb]] = []
    for entry in logprobs.content:
        entries: list[LogProb] = []
        if entry.logprob is not None:
            entries.append(
                LogProb(
                    token=entry.token,
                    logprob=entry.logprob,
                    bytes=entry.bytes if entry.bytes is not None else list(entry.token.encode()),
                )
            )
        alternatives = [
            alt
            for alt in entry.top_logprobs or []
            if isinstance(alt.get("token"), str) and isinstance(alt.get("logprob"), (int, float))
        ]
        for alt in sorted(alternatives, key=lambda a: -float(a["logprob"])):
            token = alt["token"]
            if token == entry.token and entry.logprob is not None:
                continue
            raw_bytes = alt.get("bytes")
            entries.append(
                LogProb(
                    token=token,
                    logprob=float(alt["logprob"]),
                    bytes=raw_bytes if isinstance(raw_bytes, list) else list(token.encode()),
                )
            )
        positions.append(entries)
    return positions


# -- streams ---------------------------------------------------------------------------------


class ChatChunkMapper(
    FinishHoldingMapper[ChatCompletionChunk, ChatCompletionChunkChoice, ChatResponse]
):
    """Chat stream chunks to ``ChatResponse``\\ s: one per chunk with new content, reasoning,
    logprobs or tool-call pieces (``message`` so far, ``delta`` new), the final one with the
    whole message and the usage.

    It reads the tool calls (merged by the core) and, at the end, the whole message back from
    ``stream``, the core stream it maps.
    """

    __slots__ = ("_arguments", "_calls", "_stream", "_text_block", "_thinking", "text")

    def __init__(self, stream: ChatCompletionStream | AsyncChatCompletionStream) -> None:
        super().__init__()
        self._stream = stream
        self.text = ""
        # The reasoning so far as one block, rebuilt only when a piece of reasoning arrives
        # and shared by the responses after it (text tokens do not pay for it).
        self._thinking: ThinkingBlock | None = None
        # Likewise the text so far, shared while pieces of reasoning arrive.
        self._text_block: TextBlock | None = None
        self._calls: list[ChatCompletionMessageToolCall] = []
        self._arguments: list[dict[str, Any]] = []

    def feed(self, chunk: ChatCompletionChunk) -> ChatResponse | None:
        """The response for ``chunk``, or None (nothing new yet, or held back)."""
        choice = choice_zero(chunk.choices)
        if choice is None:
            return None
        self.last = chunk
        if choice.finish_reason is not None:
            self.hold(chunk, choice)
            return None
        delta = choice.delta
        if delta.tool_calls:
            # The core merges the pieces by index; read back only when a piece arrived.
            self._calls = self._stream.message.tool_calls or []
            previous = self._arguments
            self._arguments = [
                _partial_arguments(
                    call.function.arguments, previous[i] if i < len(previous) else {}
                )
                for i, call in enumerate(self._calls)
            ]
        elif not delta.content and choice.logprobs is None and not delta.reasoning:
            return None
        return self._respond(chunk, choice)

    def finish(self, usage: Usage | None) -> ChatResponse:
        """The final response: the whole message (as the core accumulated it) and the usage."""
        choice, extra, raw = self.take_final(usage)
        delta = (choice.delta.content or "") if choice is not None else ""
        answer = llama_message(self._stream.message, extra)
        if choice is not None and choice.delta.reasoning:
            extra = {**extra, "thinking_delta": choice.delta.reasoning}
        return ChatResponse(
            message=answer,
            delta=delta,
            raw=raw,
            logprobs=llama_logprobs(choice.logprobs) if choice is not None else None,
            additional_kwargs=extra,
        )

    def _respond(
        self, chunk: ChatCompletionChunk, choice: ChatCompletionChunkChoice
    ) -> ChatResponse:
        delta = choice.delta.content or ""
        self.text += delta
        signature = atoma_extras(chunk)
        extra = signature  # the response's additional_kwargs: the signature, the thinking delta
        thinking = choice.delta.reasoning
        if thinking:
            previous = (self._thinking.content or "") if self._thinking is not None else ""
            self._thinking = ThinkingBlock(content=previous + thinking)
            extra = {**signature, "thinking_delta": thinking}
        if self._calls:
            message = llama_message(
                ChatCompletionMessage(content=self.text, tool_calls=self._calls),
                signature,
                partial_arguments=self._arguments,
            )
            if self._thinking is not None:
                message.blocks.insert(0, self._thinking)
        else:
            if delta or self._text_block is None:
                self._text_block = TextBlock(text=self.text)
            blocks: list[ContentBlock] = [self._text_block]
            if self._thinking is not None:
                blocks.insert(0, self._thinking)
            if not signature:
                # The per-token path: the message built directly, no intermediate model,
                # and fields left at their defaults not passed (pydantic work on every token).
                message = ChatMessage(role=MessageRole.ASSISTANT, blocks=blocks)
            else:
                message = ChatMessage(
                    role=MessageRole.ASSISTANT, blocks=blocks, additional_kwargs=dict(signature)
                )
        if choice.logprobs is None:
            if not extra:
                return ChatResponse(message=message, delta=delta, raw=chunk)
            return ChatResponse(message=message, delta=delta, raw=chunk, additional_kwargs=extra)
        return ChatResponse(
            message=message,
            delta=delta,
            raw=chunk,
            logprobs=llama_logprobs(choice.logprobs),
            additional_kwargs=extra,
        )


# -- completions through chat ------------------------------------------------------------------


def as_completion_response(response: ChatResponse) -> CompletionResponse:
    """A chat response as a completion response, keeping delta, logprobs and every extra."""
    return CompletionResponse(
        text=response.message.content or "",
        delta=response.delta,
        raw=response.raw,
        logprobs=response.logprobs,
        additional_kwargs={**response.message.additional_kwargs, **response.additional_kwargs},
    )


# -- tool calls ---------------------------------------------------------------------------------


def tool_selections(response: ChatResponse, error_on_no_tool_call: bool) -> list[ToolSelection]:
    """The tool calls of ``response`` as LlamaIndex's selections, arguments parsed.

    Calls come from the message's ``ToolCallBlock``\\ s, else from
    ``additional_kwargs["tool_calls"]`` (typed, or dicts after a JSON round trip). A call whose
    arguments are not a JSON object (cut off by ``max_tokens``, say) raises, naming the tool,
    when ``error_on_no_tool_call`` is set; otherwise it is left out and a warning logged. No
    call at all raises likewise, or gives an empty list.
    """
    message = response.message
    found: list[tuple[str, str, str | dict[str, Any]]] = [
        (block.tool_call_id or "", block.tool_name, block.tool_kwargs)
        for block in message.blocks
        if isinstance(block, ToolCallBlock)
    ]
    if not found and message.additional_kwargs.get("tool_calls"):
        for call in tool_call_dicts(message.additional_kwargs["tool_calls"]):
            function = call["function"]
            found.append((call["id"], function["name"], function["arguments"]))
    if not found:
        if error_on_no_tool_call:
            finish = response.additional_kwargs.get("finish_reason")
            raise ValueError(
                "Expected at least one tool call, but the model made none"
                + (f" (finish_reason {finish!r})" if finish else "")
                + f"; it answered: {(message.content or '')[:200]!r}"
            )
        return []
    selections: list[ToolSelection] = []
    for call_id, name, arguments in found:
        kwargs = _arguments(arguments)
        if kwargs is None:
            problem = (
                f"the arguments of the call of {name!r} (id {call_id!r}) are not a JSON object: "
                f"{str(arguments)[:200]!r}"
            )
            finish = response.additional_kwargs.get("finish_reason")
            if finish == "length":
                problem += " (generation stopped at max_tokens: raise it)"
            if error_on_no_tool_call:
                raise ValueError(problem)
            logger.warning("AtomaChat: skipping a tool call: %s", problem)
            continue
        selections.append(ToolSelection(tool_id=call_id, tool_name=name, tool_kwargs=kwargs))
    return selections


def _arguments(arguments: str | dict[str, Any]) -> dict[str, Any] | None:
    if isinstance(arguments, dict):
        return arguments
    if not arguments.strip():
        return {}  # a function without parameters, called with no arguments
    try:
        parsed = json.loads(arguments)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def single_tool_call(response: ChatResponse, allow_parallel_tool_calls: bool) -> ChatResponse:
    """With parallel calls not allowed, keep the first tool call (as LlamaIndex's contract
    asks); the ones left out are logged, not dropped silently."""
    if allow_parallel_tool_calls:
        return response
    message = response.message
    blocks = [b for b in message.blocks if isinstance(b, ToolCallBlock)]
    if len(blocks) <= 1:
        return response
    dropped = [b.tool_name for b in blocks[1:]]
    logger.warning(
        "AtomaChat: the model made %d tool calls with allow_parallel_tool_calls=False; "
        "keeping the first (%r), leaving out %r",
        len(blocks),
        blocks[0].tool_name,
        dropped,
    )
    message.blocks = [
        b for b in message.blocks if not isinstance(b, ToolCallBlock) or b is blocks[0]
    ]
    calls: Sequence[Any] = message.additional_kwargs.get("tool_calls") or []
    if calls:
        message.additional_kwargs["tool_calls"] = list(calls)[:1]
    return response

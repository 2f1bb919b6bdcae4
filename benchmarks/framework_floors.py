"""The cheapest LangChain and LlamaIndex LLMs and chat models: raw httpx in each framework.

They are not products; they are yardsticks. Each one streams with the same hand-written
``iter_lines`` + ``json.loads`` loop as the raw httpx floor and hands every token to its
framework the minimal correct way (LangChain: a ``GenerationChunk`` and
``on_llm_new_token``; LlamaIndex: a ``CompletionResponse`` through
``@llm_completion_callback``). What they cost above raw httpx is what the framework itself
costs per token, which no adapter can avoid; what an adapter costs above them is its own.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx

__all__ = [
    "CHAT_QUESTION",
    "LangChainChatFloor",
    "LangChainFloor",
    "LangChainReasoningFloor",
    "LlamaIndexChatFloor",
    "LlamaIndexFloor",
    "LlamaIndexReasoningFloor",
    "araw_texts",
    "raw_chat_pieces",
    "raw_chat_texts",
    "raw_texts",
]

CHAT_QUESTION = "Tell me a story."
"""The one user message every chat benchmark sends."""


def raw_texts(http: httpx.Client, url: str, payload: dict[str, Any]) -> Iterator[str]:
    """Each streamed token's text, by the hand-written loop the benchmarks call the floor.

    It reads the body to its end (skipping ``[DONE]`` instead of breaking on it) so the
    connection goes back to the pool, as a careful hand-written client would.
    """
    with http.stream("POST", url, json=payload) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            if line.startswith("data: {"):
                choices = json.loads(line[6:])["choices"]
                if choices:
                    yield choices[0]["text"]


async def araw_texts(
    http: httpx.AsyncClient, url: str, payload: dict[str, Any]
) -> AsyncIterator[str]:
    """The async twin of :func:`raw_texts`."""
    async with http.stream("POST", url, json=payload) as response:
        response.raise_for_status()
        async for line in response.aiter_lines():
            if line.startswith("data: {"):
                choices = json.loads(line[6:])["choices"]
                if choices:
                    yield choices[0]["text"]


def _payload(model: str, prompt: str, max_tokens: int, stream: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": model,
        "prompt": prompt,
        "max_tokens": max_tokens,
        "temperature": 0.0,
    }
    if stream:
        body["stream"] = True
    return body


def LangChainFloor(
    base_url: str, model: str, max_tokens: int, http: httpx.Client, ahttp: httpx.AsyncClient
) -> Any:
    """A minimal ``BaseLLM`` on raw httpx (LangChain is imported on first call)."""
    from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
    from langchain_core.language_models.llms import BaseLLM
    from langchain_core.outputs import Generation, GenerationChunk, LLMResult

    url = f"{base_url}/completions"

    class _Floor(BaseLLM):
        @property
        def _llm_type(self) -> str:
            return "raw-httpx-floor"

        def _generate(
            self,
            prompts: list[str],
            stop: list[str] | None = None,
            run_manager: CallbackManagerForLLMRun | None = None,
            **kwargs: Any,
        ) -> LLMResult:
            generations = []
            for prompt in prompts:
                body = http.post(url, json=_payload(model, prompt, max_tokens, False)).json()
                generations.append([Generation(text=body["choices"][0]["text"])])
            return LLMResult(generations=generations)

        def _stream(
            self,
            prompt: str,
            stop: list[str] | None = None,
            run_manager: CallbackManagerForLLMRun | None = None,
            **kwargs: Any,
        ) -> Iterator[GenerationChunk]:
            for text in raw_texts(http, url, _payload(model, prompt, max_tokens, True)):
                chunk = GenerationChunk(text=text)
                if run_manager is not None:
                    run_manager.on_llm_new_token(text, chunk=chunk)
                yield chunk

        async def _astream(
            self,
            prompt: str,
            stop: list[str] | None = None,
            run_manager: AsyncCallbackManagerForLLMRun | None = None,
            **kwargs: Any,
        ) -> AsyncIterator[GenerationChunk]:
            payload = _payload(model, prompt, max_tokens, True)
            async for text in araw_texts(ahttp, url, payload):
                chunk = GenerationChunk(text=text)
                if run_manager is not None:
                    await run_manager.on_llm_new_token(text, chunk=chunk)
                yield chunk

    return _Floor()


def LlamaIndexFloor(
    base_url: str, model: str, max_tokens: int, http: httpx.Client, ahttp: httpx.AsyncClient
) -> Any:
    """A minimal ``CustomLLM`` on raw httpx (LlamaIndex is imported on first call)."""
    from llama_index.core.base.llms.types import (
        CompletionResponse,
        CompletionResponseAsyncGen,
        CompletionResponseGen,
        LLMMetadata,
    )
    from llama_index.core.llms.callbacks import llm_completion_callback
    from llama_index.core.llms.custom import CustomLLM

    url = f"{base_url}/completions"

    class _Floor(CustomLLM):
        @property
        def metadata(self) -> LLMMetadata:
            return LLMMetadata(context_window=8192, num_output=max_tokens, model_name=model)

        @llm_completion_callback()
        def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> Any:
            body = http.post(url, json=_payload(model, prompt, max_tokens, False)).json()
            return CompletionResponse(text=body["choices"][0]["text"])

        @llm_completion_callback()
        def stream_complete(
            self, prompt: str, formatted: bool = False, **kwargs: Any
        ) -> CompletionResponseGen:
            def gen() -> CompletionResponseGen:
                text = ""
                for delta in raw_texts(http, url, _payload(model, prompt, max_tokens, True)):
                    text += delta
                    yield CompletionResponse(text=text, delta=delta)

            return gen()

        @llm_completion_callback()
        async def astream_complete(
            self, prompt: str, formatted: bool = False, **kwargs: Any
        ) -> CompletionResponseAsyncGen:
            async def gen() -> CompletionResponseAsyncGen:
                text = ""
                payload = _payload(model, prompt, max_tokens, True)
                async for delta in araw_texts(ahttp, url, payload):
                    text += delta
                    yield CompletionResponse(text=text, delta=delta)

            return gen()

    return _Floor()


# --- chat: the same yardsticks on /v1/chat/completions ----------------------------------


def _chat_payload(model: str, max_tokens: int) -> dict[str, Any]:
    return {
        "model": model,
        "messages": [{"role": "user", "content": CHAT_QUESTION}],
        "max_tokens": max_tokens,
        "temperature": 0.0,
        "stream": True,
    }


def raw_chat_texts(http: httpx.Client, url: str, model: str, max_tokens: int) -> Iterator[str]:
    """Each streamed token's text by a hand-written ``iter_lines`` + ``json.loads`` loop,
    reading the body to its end so the connection goes back to the pool."""
    payload = _chat_payload(model, max_tokens)
    with http.stream("POST", url, json=payload) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            if line.startswith("data: {"):
                choices = json.loads(line[6:])["choices"]
                if choices:
                    content = choices[0]["delta"].get("content")
                    if content:
                        yield content


def LangChainChatFloor(url: str, model: str, max_tokens: int, http: httpx.Client) -> Any:
    """A minimal ``BaseChatModel`` on the raw loop: LangChain's own per-token cost."""
    from langchain_core.callbacks import CallbackManagerForLLMRun
    from langchain_core.language_models.chat_models import BaseChatModel
    from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
    from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

    class _Floor(BaseChatModel):
        @property
        def _llm_type(self) -> str:
            return "raw-httpx-chat-floor"

        def _generate(
            self,
            messages: list[BaseMessage],
            stop: list[str] | None = None,
            run_manager: CallbackManagerForLLMRun | None = None,
            **kwargs: Any,
        ) -> ChatResult:
            text = "".join(raw_chat_texts(http, url, model, max_tokens))
            return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

        def _stream(
            self,
            messages: list[BaseMessage],
            stop: list[str] | None = None,
            run_manager: CallbackManagerForLLMRun | None = None,
            **kwargs: Any,
        ) -> Iterator[ChatGenerationChunk]:
            for text in raw_chat_texts(http, url, model, max_tokens):
                chunk = ChatGenerationChunk(message=AIMessageChunk(content=text))
                if run_manager is not None:
                    run_manager.on_llm_new_token(text, chunk=chunk)
                yield chunk

    return _Floor()


def LlamaIndexChatFloor(url: str, model: str, max_tokens: int, http: httpx.Client) -> Any:
    """A minimal chat ``CustomLLM`` on the raw loop: LlamaIndex's own per-token cost."""
    from llama_index.core.base.llms.types import (
        ChatMessage,
        ChatResponse,
        ChatResponseGen,
        CompletionResponse,
        LLMMetadata,
    )
    from llama_index.core.llms.callbacks import llm_chat_callback, llm_completion_callback
    from llama_index.core.llms.custom import CustomLLM

    class _Floor(CustomLLM):
        @property
        def metadata(self) -> LLMMetadata:
            return LLMMetadata(
                context_window=8192, num_output=max_tokens, is_chat_model=True, model_name=model
            )

        @llm_completion_callback()
        def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> Any:
            return CompletionResponse(text="".join(raw_chat_texts(http, url, model, max_tokens)))

        @llm_completion_callback()
        def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> Any:
            raise NotImplementedError("the chat floor streams through stream_chat")

        @llm_chat_callback()
        def stream_chat(self, messages: Any, **kwargs: Any) -> ChatResponseGen:
            def gen() -> ChatResponseGen:
                text = ""
                for delta in raw_chat_texts(http, url, model, max_tokens):
                    text += delta
                    message = ChatMessage(role="assistant", content=text)
                    yield ChatResponse(message=message, delta=delta)

            return gen()

    return _Floor()


# --- chat with reasoning: the same yardsticks for a reasoning model's stream -------------


def raw_chat_pieces(
    http: httpx.Client, url: str, model: str, max_tokens: int
) -> Iterator[tuple[bool, str]]:
    """Each streamed piece as ``(is_reasoning, text)``, by the raw loop of
    :func:`raw_chat_texts` reading the reasoning as vLLM sends it (``reasoning``, else
    ``reasoning_content``)."""
    with http.stream("POST", url, json=_chat_payload(model, max_tokens)) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            if line.startswith("data: {"):
                choices = json.loads(line[6:])["choices"]
                if choices:
                    delta = choices[0]["delta"]
                    reasoning = delta.get("reasoning") or delta.get("reasoning_content")
                    if reasoning:
                        yield True, reasoning
                    content = delta.get("content")
                    if content:
                        yield False, content


def LangChainReasoningFloor(url: str, model: str, max_tokens: int, http: httpx.Client) -> Any:
    """A minimal ``BaseChatModel`` streaming a reasoning model the way LangChain's partner
    packages do: each piece of reasoning a chunk with ``additional_kwargs["reasoning_content"]``
    (and no text), each piece of text a chunk with it as ``content``."""
    from langchain_core.callbacks import CallbackManagerForLLMRun
    from langchain_core.language_models.chat_models import BaseChatModel
    from langchain_core.messages import AIMessageChunk, BaseMessage
    from langchain_core.outputs import ChatGenerationChunk, ChatResult

    class _Floor(BaseChatModel):
        @property
        def _llm_type(self) -> str:
            return "raw-httpx-reasoning-floor"

        def _generate(
            self,
            messages: list[BaseMessage],
            stop: list[str] | None = None,
            run_manager: CallbackManagerForLLMRun | None = None,
            **kwargs: Any,
        ) -> ChatResult:
            raise NotImplementedError("the reasoning floor only streams")

        def _stream(
            self,
            messages: list[BaseMessage],
            stop: list[str] | None = None,
            run_manager: CallbackManagerForLLMRun | None = None,
            **kwargs: Any,
        ) -> Iterator[ChatGenerationChunk]:
            for is_reasoning, text in raw_chat_pieces(http, url, model, max_tokens):
                if is_reasoning:
                    message = AIMessageChunk(
                        content="", additional_kwargs={"reasoning_content": text}
                    )
                    token = ""
                else:
                    message = AIMessageChunk(content=text)
                    token = text
                chunk = ChatGenerationChunk(message=message)
                if run_manager is not None:
                    run_manager.on_llm_new_token(token, chunk=chunk)
                yield chunk

    return _Floor()


def LlamaIndexReasoningFloor(url: str, model: str, max_tokens: int, http: httpx.Client) -> Any:
    """A minimal chat ``CustomLLM`` streaming a reasoning model as LlamaIndex's agents read
    it: each response's message holds the reasoning so far (a ``ThinkingBlock``) and the
    text so far; a piece of reasoning is also ``additional_kwargs["thinking_delta"]``."""
    from llama_index.core.base.llms.types import (
        ChatMessage,
        ChatResponse,
        ChatResponseGen,
        ContentBlock,
        LLMMetadata,
        TextBlock,
        ThinkingBlock,
    )
    from llama_index.core.llms.callbacks import llm_chat_callback, llm_completion_callback
    from llama_index.core.llms.custom import CustomLLM

    class _Floor(CustomLLM):
        @property
        def metadata(self) -> LLMMetadata:
            return LLMMetadata(
                context_window=8192, num_output=max_tokens, is_chat_model=True, model_name=model
            )

        @llm_completion_callback()
        def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> Any:
            raise NotImplementedError("the reasoning floor streams through stream_chat")

        @llm_completion_callback()
        def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> Any:
            raise NotImplementedError("the reasoning floor streams through stream_chat")

        @llm_chat_callback()
        def stream_chat(self, messages: Any, **kwargs: Any) -> ChatResponseGen:
            def gen() -> ChatResponseGen:
                thinking = text = ""
                # Each block is rebuilt only when its part grows: a response shares the
                # other one with the response before.
                thinking_block: ThinkingBlock | None = None
                text_block = TextBlock(text="")
                for is_reasoning, piece in raw_chat_pieces(http, url, model, max_tokens):
                    if is_reasoning:
                        thinking += piece
                        thinking_block = ThinkingBlock(content=thinking)
                    else:
                        text += piece
                        text_block = TextBlock(text=text)
                    blocks: list[ContentBlock] = (
                        [text_block] if thinking_block is None else [thinking_block, text_block]
                    )
                    message = ChatMessage(role="assistant", blocks=blocks)
                    if is_reasoning:
                        yield ChatResponse(
                            message=message, delta="", additional_kwargs={"thinking_delta": piece}
                        )
                    else:
                        yield ChatResponse(message=message, delta=piece)

            return gen()

    return _Floor()

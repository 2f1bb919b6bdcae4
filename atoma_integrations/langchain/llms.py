"""LangChain: ``AtomaLLM``, Atoma's text completions as a ``BaseLLM`` for any chain.

The class is a table from LangChain concepts to calls on the shared client; HTTP,
retries, SSE and error mapping live once, in the core (``atoma_integrations._client``):

=================================  ===================================================
LangChain                          here
=================================  ===================================================
``invoke`` / ``generate``          ``_generate``: one ``completions.create`` per prompt,
                                   prompts in flight together (at most ``max_concurrency``)
``ainvoke`` / ``agenerate``        ``_agenerate``: the same on ``AsyncAtomaClient``
``stream`` / ``astream``           ``_stream`` / ``_astream``: ``completions.create_stream``
``on_llm_new_token``               fired for each chunk, before the chunk is yielded
``streaming=True``                 ``invoke``/``generate`` stream under the hood (callbacks
                                   see tokens) and return the merged result
``llm_output["token_usage"]``      usage summed over the requests of the call
``generation_info``                ``finish_reason``, ``logprobs``, Atoma's
                                   ``response_hash`` / ``signature``; in a stream, usage
                                   and ``finish_reason`` ride on the final chunk only
``stop=`` at call time             replaces the ``stop`` field for that call
errors                             the core's typed errors, which are also LangChain's
                                   ``Model*Error`` types when langchain-core has them
``dumpd`` / ``load`` / pickle      the key travels as a secret reference (``ATOMA_API_KEY``)
=================================  ===================================================
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import aclosing
from typing import Any, ClassVar

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models.base import LangSmithParams
from langchain_core.language_models.llms import BaseLLM
from langchain_core.outputs import Generation, GenerationChunk, LLMResult
from pydantic import ConfigDict, Field

from atoma_integrations._adapters import (
    RESERVED_BODY_KEYS,
    ClientSettings,
    GenerationFields,
    async_client_for,
    atoma_extras,
    completion_params,
    sum_usage_counts,
    sync_client_for,
    usage_counts,
)
from atoma_integrations._concurrency import gather_bounded, run_bounded
from atoma_integrations._rules import prepare_stream
from atoma_integrations.langchain._base import AtomaLangChainSettings, arelay_stream, relay_stream
from atoma_integrations.langchain._errors import typed_errors
from atoma_integrations.resources import CompletionParams
from atoma_integrations.types import Completion, CompletionChunk, Usage

__all__ = ["AtomaLLM"]


# ---------------------------------------------------------------------------------------
# Pure mapping steps, shared by the sync and async paths.
# ---------------------------------------------------------------------------------------


def _generations(completion: Completion) -> list[Generation]:
    """One Generation per choice (``n`` of them), in ``index`` order."""
    extras = atoma_extras(completion)
    generations = []
    for choice in sorted(completion.choices, key=lambda c: c.index):
        info: dict[str, Any] = {"finish_reason": choice.finish_reason}
        if choice.logprobs is not None:
            info["logprobs"] = choice.logprobs.model_dump()
        info.update(extras)
        generations.append(Generation(text=choice.text, generation_info=info))
    return generations


class _Outcome:
    """What one prompt's request produced: its generations, usage and model name."""

    __slots__ = ("generations", "model_name", "usage")

    def __init__(
        self, generations: list[Generation], usage: dict[str, int], model_name: str
    ) -> None:
        self.generations = generations
        self.usage = usage
        self.model_name = model_name

    @classmethod
    def from_completion(cls, completion: Completion, model: str) -> _Outcome:
        return cls(
            _generations(completion), usage_counts(completion.usage), completion.model or model
        )

    @classmethod
    def from_chunks(cls, chunks: list[GenerationChunk], model: str) -> _Outcome:
        merged = chunks[0]
        for chunk in chunks[1:]:
            merged += chunk
        info = dict(merged.generation_info or {})
        # Usage and model belong to llm_output, as in the non-streaming path.
        usage = info.pop("token_usage", None) or {}
        model_name = info.pop("model_name", None) or model
        generation = Generation(text=merged.text, generation_info=info or None)
        return cls([generation], usage, model_name)


def _llm_result(outcomes: Sequence[_Outcome], model: str) -> LLMResult:
    return LLMResult(
        generations=[o.generations for o in outcomes],
        llm_output={
            "token_usage": sum_usage_counts([o.usage for o in outcomes]),
            "model_name": outcomes[0].model_name if outcomes else model,
        },
    )


class _StreamMapper:
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


# ---------------------------------------------------------------------------------------
# The LLM.
# ---------------------------------------------------------------------------------------


class AtomaLLM(AtomaLangChainSettings, BaseLLM, GenerationFields):
    """Atoma's hosted open models (or any OpenAI-compatible ``/v1/completions``) in LangChain.

    Example:
        ```python
        from langchain_core.output_parsers import StrOutputParser
        from langchain_core.prompts import PromptTemplate
        from atoma_integrations.langchain import AtomaLLM

        llm = AtomaLLM(model="meta-llama/Llama-3.3-70B-Instruct", max_tokens=64)  # ATOMA_API_KEY
        chain = PromptTemplate.from_template("One line about {topic}:") | llm | StrOutputParser()
        for token in chain.stream({"topic": "the sea"}):
            print(token, end="", flush=True)
        ```

    The key comes from ``api_key``, else from ``ATOMA_API_KEY`` / ``ATOMASDK_BEARER_AUTH``
    when the server is the Atoma cloud or ``ATOMA_BASE_URL``; an environment key is never
    sent to another ``base_url``. Generation parameters have the client's names and ranges
    and are checked when the object is built.
    """

    # pydantic < 2.10 reserves every "model_" name; model_kwargs is LangChain's convention.
    model_config = ConfigDict(protected_namespaces=())
    _reserved_body_keys: ClassVar[frozenset[str]] = RESERVED_BODY_KEYS

    # LangChain's completion models default to one generation per prompt, sent as n=1.
    n: int = Field(1, description=GenerationFields.model_fields["n"].description)

    # --- LangChain identity, tracing, serialization ------------------------------------

    @property
    def _llm_type(self) -> str:
        return "atoma"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        """Every setting that changes the output (the cache key); never the key."""
        return self._identity(self.model, self.generation_defaults())

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        params = super()._get_ls_params(stop=stop, **kwargs)
        params["ls_provider"] = "atoma"
        if kwargs.get("model"):  # a per-call model (older langchain-core ignores it)
            params["ls_model_name"] = kwargs["model"]
        effective_stop = stop if stop is not None else self.stop
        if effective_stop:
            params["ls_stop"] = list(effective_stop)
        return params

    # --- requests ------------------------------------------------------------------------

    def _params(
        self, prompt: str, stop: list[str] | None, kwargs: Mapping[str, Any]
    ) -> CompletionParams:
        return completion_params(
            self.model,
            prompt,
            self.generation_defaults(),
            stop=stop,
            overrides=kwargs,
            extra_body=self.model_kwargs,
        )

    def _stream_params(
        self, prompt: str, stop: list[str] | None, kwargs: Mapping[str, Any]
    ) -> CompletionParams:
        kwargs = dict(kwargs)
        stream_usage = kwargs.pop("stream_usage", self.stream_usage)
        params = self._params(prompt, stop, kwargs)
        prepare_stream(params, stream_usage=stream_usage)
        return params

    # --- sync ----------------------------------------------------------------------------

    def _generate(
        self,
        prompts: list[str],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> LLMResult:
        """One request per prompt, up to ``max_concurrency`` in flight.

        LangChain hands ``_generate`` only the first prompt's run manager, so with
        ``streaming=True`` tokens reach callbacks for the first prompt of a multi-prompt
        call; the others still stream, and their full text arrives in ``on_llm_end``.
        """
        if self.streaming:
            tasks = [
                self._streamed_task(p, stop, run_manager if i == 0 else None, kwargs)
                for i, p in enumerate(prompts)
            ]
        else:
            settings = self._settings()
            tasks = [
                self._completion_task(settings, self._params(p, stop, kwargs)) for p in prompts
            ]
        return _llm_result(run_bounded(tasks, self.max_concurrency), self.model)

    def _completion_task(
        self, settings: ClientSettings, params: CompletionParams
    ) -> Callable[[], _Outcome]:
        def run() -> _Outcome:
            with typed_errors():
                completion = sync_client_for(settings).completions.create(**params)
            return _Outcome.from_completion(completion, self.model)

        return run

    def _streamed_task(
        self,
        prompt: str,
        stop: list[str] | None,
        run_manager: CallbackManagerForLLMRun | None,
        kwargs: Mapping[str, Any],
    ) -> Callable[[], _Outcome]:
        def run() -> _Outcome:
            chunks = list(self._stream(prompt, stop, run_manager, **kwargs))
            return _Outcome.from_chunks(chunks, self.model)

        return run

    def _stream(
        self,
        prompt: str,
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[GenerationChunk]:
        params = self._stream_params(prompt, stop, kwargs)
        yield from relay_stream(
            lambda: sync_client_for(self._settings()).completions.create_stream(**params),
            _StreamMapper(self.model),
            run_manager,
        )

    # --- async ---------------------------------------------------------------------------

    async def _agenerate(
        self,
        prompts: list[str],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> LLMResult:
        """The async twin of ``_generate``, on ``AsyncAtomaClient`` (no threads)."""
        tasks: list[Callable[[], Any]]
        if self.streaming:
            tasks = [
                self._astreamed_task(p, stop, run_manager if i == 0 else None, kwargs)
                for i, p in enumerate(prompts)
            ]
        else:
            settings = self._settings()
            tasks = [
                self._acompletion_task(settings, self._params(p, stop, kwargs)) for p in prompts
            ]
        outcomes: list[_Outcome] = await gather_bounded(tasks, self.max_concurrency)
        return _llm_result(outcomes, self.model)

    def _acompletion_task(
        self, settings: ClientSettings, params: CompletionParams
    ) -> Callable[[], Any]:
        async def run() -> _Outcome:
            with typed_errors():
                completion = await async_client_for(settings).completions.create(**params)
            return _Outcome.from_completion(completion, self.model)

        return run

    def _astreamed_task(
        self,
        prompt: str,
        stop: list[str] | None,
        run_manager: AsyncCallbackManagerForLLMRun | None,
        kwargs: Mapping[str, Any],
    ) -> Callable[[], Any]:
        async def run() -> _Outcome:
            chunks = [c async for c in self._astream(prompt, stop, run_manager, **kwargs)]
            return _Outcome.from_chunks(chunks, self.model)

        return run

    async def _astream(
        self,
        prompt: str,
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[GenerationChunk]:
        params = self._stream_params(prompt, stop, kwargs)
        # aclosing: an early-exiting consumer closes the relay (and so the HTTP response)
        # now, not when the event loop gets round to finalizing it.
        async with aclosing(
            arelay_stream(
                lambda: async_client_for(self._settings()).completions.create_stream(**params),
                _StreamMapper(self.model),
                run_manager,
            )
        ) as chunks:
            async for chunk in chunks:
                yield chunk

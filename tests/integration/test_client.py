"""The client against the real llama.cpp server (tiny model): what a user relies on."""

from __future__ import annotations

import asyncio

import pytest

from atoma_integrations import AsyncAtomaClient, AtomaClient, ContextLengthExceededError

PROMPT = "Once upon a time"


def greedy(client: AtomaClient, model: str, max_tokens: int = 16) -> str:
    result = client.completions.create(
        model=model, prompt=PROMPT, max_tokens=max_tokens, temperature=0
    )
    return result.choices[0].text


def test_create_returns_text_usage_and_finish_reason(
    client: AtomaClient, server_model: str
) -> None:
    result = client.completions.create(
        model=server_model, prompt=PROMPT, max_tokens=16, temperature=0
    )
    choice = result.choices[0]
    assert choice.text
    assert choice.finish_reason == "length"
    assert result.usage is not None
    assert result.usage.completion_tokens == 16  # the tiny model never stops early
    assert result.usage.total_tokens == result.usage.prompt_tokens + 16
    assert result.model == server_model


def test_stream_text_equals_full_completion_at_temperature_zero(
    client: AtomaClient, server_model: str
) -> None:
    full = greedy(client, server_model, 24)
    with client.completions.create_stream(
        model=server_model, prompt=PROMPT, max_tokens=24, temperature=0
    ) as stream:
        chunks = list(stream)
    assert "".join(c.choices[0].text for c in chunks) == full
    assert chunks[-1].choices[0].finish_reason == "length"
    assert len(chunks) >= 2


@pytest.mark.parametrize("max_tokens", [1, 5, 40])
def test_completion_tokens_equal_max_tokens(
    client: AtomaClient, server_model: str, max_tokens: int
) -> None:
    result = client.completions.create(model=server_model, prompt=PROMPT, max_tokens=max_tokens)
    assert result.usage is not None and result.usage.completion_tokens == max_tokens


def test_stop_string_ends_generation(client: AtomaClient, server_model: str) -> None:
    full = greedy(client, server_model, 32)
    stop = full[10:13]
    assert stop.strip(), f"greedy output too uniform to pick a stop string: {full!r}"
    result = client.completions.create(
        model=server_model, prompt=PROMPT, max_tokens=32, temperature=0, stop=[stop]
    )
    choice = result.choices[0]
    assert choice.finish_reason == "stop"
    assert stop not in choice.text
    assert full.startswith(choice.text)
    with client.completions.create_stream(
        model=server_model, prompt=PROMPT, max_tokens=32, temperature=0, stop=stop
    ) as stream:
        streamed = "".join(c.choices[0].text for c in stream)
    assert streamed == choice.text


def test_seed_makes_sampling_repeatable(client: AtomaClient, server_model: str) -> None:
    def sample(seed: int) -> str:
        result = client.completions.create(
            model=server_model, prompt=PROMPT, max_tokens=24, temperature=1.0, seed=seed
        )
        return result.choices[0].text

    assert sample(7) == sample(7)
    assert sample(7) != sample(8)


def test_logprobs_in_full_and_streamed_completions(client: AtomaClient, server_model: str) -> None:
    result = client.completions.create(
        model=server_model, prompt=PROMPT, max_tokens=4, temperature=0, logprobs=2
    )
    logprobs = result.choices[0].logprobs
    assert logprobs is not None
    assert len(logprobs.tokens) == 4 == len(logprobs.token_logprobs)
    assert "".join(logprobs.tokens) == result.choices[0].text
    assert all(lp is not None and lp <= 0 for lp in logprobs.token_logprobs)
    with client.completions.create_stream(
        model=server_model, prompt=PROMPT, max_tokens=4, temperature=0, logprobs=2
    ) as stream:
        streamed = [c.choices[0].logprobs for c in stream if c.choices[0].text]
    assert streamed and all(lp is not None and lp.tokens for lp in streamed)


def test_prompt_beyond_the_context_window_is_a_context_length_error(
    client: AtomaClient, server_model: str
) -> None:
    with pytest.raises(ContextLengthExceededError) as info:
        client.completions.create(model=server_model, prompt="word " * 3000, max_tokens=16)
    assert info.value.status_code == 400
    assert "context" in str(info.value)


def test_models_list_names_the_served_model(client: AtomaClient, server_model: str) -> None:
    assert server_model in [m.id for m in client.models.list()]


def test_sequential_streams_reuse_one_connection(server_base_url: str, server_model: str) -> None:
    connections: list[object] = []
    with AtomaClient(base_url=server_base_url, max_retries=0) as client:
        for _ in range(3):
            with client.completions.create_stream(
                model=server_model, prompt=PROMPT, max_tokens=4
            ) as stream:
                for _ in stream:
                    pass
            pool = client._http._transport._pool  # type: ignore[attr-defined]
            connections.extend(id(c) for c in pool.connections)
    assert len(set(connections)) == 1


async def test_async_create_and_stream(async_client: AsyncAtomaClient, server_model: str) -> None:
    full = await async_client.completions.create(
        model=server_model, prompt=PROMPT, max_tokens=12, temperature=0
    )
    async with async_client.completions.create_stream(
        model=server_model, prompt=PROMPT, max_tokens=12, temperature=0
    ) as stream:
        text = "".join([c.choices[0].text async for c in stream])
    assert text == full.choices[0].text
    models = await async_client.models.list()
    assert server_model in [m.id for m in models]


async def test_many_concurrent_streams_on_one_client(
    async_client: AsyncAtomaClient, server_model: str
) -> None:
    async def one(i: int) -> tuple[str, str | None]:
        async with async_client.completions.create_stream(
            model=server_model, prompt=f"{PROMPT} {i}", max_tokens=8, temperature=0
        ) as stream:
            chunks = [c async for c in stream]
        return "".join(c.choices[0].text for c in chunks), chunks[-1].choices[0].finish_reason

    results = await asyncio.gather(*(one(i) for i in range(24)))
    assert all(text and reason == "length" for text, reason in results)


async def test_async_context_overflow(async_client: AsyncAtomaClient, server_model: str) -> None:
    with pytest.raises(ContextLengthExceededError):
        await async_client.completions.create(
            model=server_model, prompt="word " * 3000, max_tokens=8
        )

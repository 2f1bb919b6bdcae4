"""The client against the real llama.cpp server: the basic round trips."""

from __future__ import annotations

from atoma_integrations import AsyncAtomaClient, AtomaClient

PROMPT = "Once upon a time"


def test_create_and_stream_agree_at_temperature_zero(
    client: AtomaClient, server_model: str
) -> None:
    full = client.completions.create(
        model=server_model, prompt=PROMPT, max_tokens=16, temperature=0
    )
    with client.completions.create_stream(
        model=server_model, prompt=PROMPT, max_tokens=16, temperature=0
    ) as stream:
        streamed = "".join(chunk.choices[0].text for chunk in stream)
    assert full.choices[0].text
    assert streamed == full.choices[0].text
    assert full.usage is not None and full.usage.completion_tokens == 16
    assert full.choices[0].finish_reason == "length"


async def test_async_create(async_client: AsyncAtomaClient, server_model: str) -> None:
    result = await async_client.completions.create(
        model=server_model, prompt=PROMPT, max_tokens=8, temperature=0
    )
    assert result.usage is not None and result.usage.completion_tokens == 8

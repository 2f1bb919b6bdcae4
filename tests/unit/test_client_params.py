"""What the client sends: parameter names, omissions, validation before any request."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tests.support.mock_server import MockServer, completion, json_reply


@pytest.fixture
def server() -> MockServer:
    return MockServer([json_reply(200, completion())])


def test_every_parameter_is_sent_under_its_atoma_name(server: MockServer) -> None:
    client = server.client()
    client.completions.create(
        model="m",
        prompt="p",
        max_tokens=7,
        temperature=0.5,
        top_p=0.9,
        n=2,
        stop=["a", "b"],
        seed=42,
        logprobs=3,
        logit_bias={"50": -100, 7: 2.5},
        presence_penalty=0.1,
        frequency_penalty=-0.2,
        suffix="s",
        echo=True,
        best_of=3,
        user="u",
    )
    assert server.bodies[0] == {
        "model": "m",
        "prompt": "p",
        "max_tokens": 7,
        "temperature": 0.5,
        "top_p": 0.9,
        "n": 2,
        "stop": ["a", "b"],
        "seed": 42,
        "logprobs": 3,
        "logit_bias": {"50": -100.0, "7": 2.5},
        "presence_penalty": 0.1,
        "frequency_penalty": -0.2,
        "suffix": "s",
        "echo": True,
        "best_of": 3,
        "user": "u",
    }


def test_none_is_not_sent_and_suffix_best_of_only_when_set(server: MockServer) -> None:
    server.client().completions.create(model="m", prompt="p", temperature=None, suffix=None)
    assert server.bodies[0] == {"model": "m", "prompt": "p"}


def test_a_single_stop_string_is_sent_as_a_list(server: MockServer) -> None:
    server.client().completions.create(model="m", prompt="p", stop="\n")
    assert server.bodies[0]["stop"] == ["\n"]


def test_list_prompt_and_extra_body_are_sent(server: MockServer) -> None:
    server.client().completions.create(
        model="m", prompt=["a", "b"], extra_body={"top_k": 1, "repeat_penalty": 1.1}
    )
    assert server.bodies[0] == {
        "model": "m",
        "prompt": ["a", "b"],
        "top_k": 1,
        "repeat_penalty": 1.1,
    }


def test_stream_sets_stream_true(server: MockServer) -> None:
    server.replies = [json_reply(200, {"choices": []})]
    client = server.client()
    stream = client.completions.create_stream(model="m", prompt="p", max_tokens=1)
    stream.close()
    assert server.bodies[0]["stream"] is True


def test_a_stream_can_ask_for_the_usage(server: MockServer) -> None:
    server.replies = [json_reply(200, {"choices": []})]
    stream = server.client().completions.create_stream(
        model="m", prompt="p", max_tokens=1, stream_options={"include_usage": True}
    )
    stream.close()
    assert server.bodies[0]["stream_options"] == {"include_usage": True}


def test_stream_options_are_for_streams_only_as_in_chat(server: MockServer) -> None:
    client = server.client()
    options = {"include_usage": True}
    with pytest.raises(ValidationError) as completions:
        client.completions.create(model="m", prompt="p", stream_options=options)
    with pytest.raises(ValidationError) as chat:
        client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "hi"}], stream_options=options
        )
    # The same rule, the same words, on both endpoints.
    assert completions.value.errors()[0]["msg"] == chat.value.errors()[0]["msg"]
    assert "stream_options is only for create_stream(...)" in str(completions.value)
    with pytest.raises(ValidationError, match=r"stream_options\.usage"):
        client.completions.create_stream(model="m", prompt="p", stream_options={"usage": 1})
    assert server.requests == []


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"temperature": 2.5}, "temperature"),
        ({"temperature": -0.1}, "temperature"),
        ({"top_p": 1.5}, "top_p"),
        ({"presence_penalty": 3}, "presence_penalty"),
        ({"frequency_penalty": -3}, "frequency_penalty"),
        ({"n": 0}, "n"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"logprobs": 21}, "logprobs"),
        ({"logit_bias": {"1": 101}}, "logit_bias"),
        ({"logit_bias": {"abc": 1}}, "logit_bias"),
        ({"stop": ["a", "b", "c", "d", "e"]}, "stop"),
        ({"model": ""}, "model"),
        ({"prompt": ""}, "prompt"),
        ({"prompt": []}, "prompt"),
        ({"temperature": "hot"}, "temperature"),
        ({"max_tokens": True}, "max_tokens"),
        ({"tempreature": 0.5}, "tempreature"),
    ],
)
def test_bad_values_fail_before_any_request_naming_the_field(
    server: MockServer, kwargs: dict[str, object], field: str
) -> None:
    params: dict[str, object] = {"model": "m", "prompt": "p", **kwargs}
    with pytest.raises(ValidationError) as info:
        server.client().completions.create(**params)  # type: ignore[arg-type]
    assert field in str(info.value)
    assert server.requests == []


async def test_async_validation_happens_before_any_request(server: MockServer) -> None:
    client = server.async_client()
    with pytest.raises(ValidationError, match="top_p"):
        await client.completions.create(model="m", prompt="p", top_p=2)
    with pytest.raises(ValidationError, match="temperature"):
        client.completions.create_stream(model="m", prompt="p", temperature=9)
    assert server.requests == []


def test_negative_timeout_is_rejected_naming_timeout(server: MockServer) -> None:
    with pytest.raises(ValueError, match="timeout"):
        server.client().completions.create(model="m", prompt="p", timeout=-1)
    assert server.requests == []


def test_response_keeps_atoma_extras_and_reads_chat_shape(server: MockServer) -> None:
    body = completion(response_hash="abc", signature="sig")
    body["choices"] = [
        {"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}
    ]
    server.replies = [json_reply(200, body)]
    result = server.client().completions.create(model="m", prompt="p")
    assert result.choices[0].text == "hi"
    assert result.model_extra == {"response_hash": "abc", "signature": "sig"}
    assert result.usage is not None and result.usage.total_tokens == 5


def test_choice_keeps_vllm_stop_reason(server: MockServer) -> None:
    body = completion()
    body["choices"][0]["stop_reason"] = "\n"
    server.replies = [json_reply(200, body)]
    result = server.client().completions.create(model="m", prompt="p")
    assert result.choices[0].stop_reason == "\n"
    assert result.choices[0].finish_reason == "stop"

"""``client.embeddings.create``: what is sent, validation before any request, the answer
in input order, base64 decoding, errors and retries like completions."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from atoma_integrations import (
    APITimeoutError,
    AtomaError,
    AuthenticationError,
    BadRequestError,
    CreateEmbeddingResponse,
    InternalServerError,
    NotFoundError,
    RateLimitError,
)
from tests.support.mock_server import (
    MockServer,
    embeddings_body,
    embeddings_echo,
    json_reply,
    vector_for,
)

KEY = "sk-embed-secret-123"


def test_parameters_are_sent_under_their_names_and_none_is_not_sent() -> None:
    server = MockServer([embeddings_echo])
    client = server.client()
    client.embeddings.create(
        model="m", input=["a", "b"], dimensions=3, encoding_format="float", user="u"
    )
    client.embeddings.create(model="m", input="only", extra_body={"truncate": True})
    assert server.bodies == [
        {
            "model": "m",
            "input": ["a", "b"],
            "dimensions": 3,
            "encoding_format": "float",
            "user": "u",
        },
        {"model": "m", "input": "only", "truncate": True},
    ]
    assert server.requests[0].url.path == "/v1/embeddings"


def test_vectors_come_back_in_input_order_whatever_order_the_server_sends() -> None:
    texts = ["a", "bbb", "cc", "dddd", "e"]
    server = MockServer([json_reply(200, embeddings_body(texts, order=[3, 0, 4, 2, 1]))])
    response = server.client().embeddings.create(model="m", input=texts)
    assert [item.index for item in response.data] == [0, 1, 2, 3, 4]
    assert response.embeddings == [vector_for(t) for t in texts]
    assert response.model == "m"
    assert response.usage is not None
    assert (response.usage.prompt_tokens, response.usage.total_tokens) == (5, 5)


def test_base64_vectors_decode_to_the_same_floats_as_float_vectors() -> None:
    texts = ["alpha", "beta"]
    as_floats = MockServer([json_reply(200, embeddings_body(texts))])
    as_b64 = MockServer([json_reply(200, embeddings_body(texts, order=[1, 0], b64=True))])
    floats = as_floats.client().embeddings.create(model="m", input=texts)
    decoded = as_b64.client().embeddings.create(model="m", input=texts, encoding_format="base64")
    assert decoded.embeddings == floats.embeddings
    assert all(isinstance(x, float) for x in decoded.data[0].embedding)


def test_unknown_fields_are_kept() -> None:
    body = embeddings_body(["a"], response_hash="h", signature="s")
    server = MockServer([json_reply(200, body)])
    response = server.client().embeddings.create(model="m", input="a")
    assert response.__pydantic_extra__ == {"response_hash": "h", "signature": "s"}


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"input": []}, "input", "empty list"),
        ({"input": ["a", 3]}, "input", r"input\[1\] must be a string, got int"),
        ({"input": ["a", ""]}, "input", r"input\[1\] is an empty string"),
        ({"input": ""}, "input", "at least 1 character"),
        ({"input": 7}, "input", "a string or a list of strings"),
        ({"input": "x", "dimensions": 0}, "dimensions", "greater than or equal to 1"),
        ({"input": "x", "encoding_format": "int8"}, "encoding_format", "'float' or 'base64'"),
        ({"input": "x", "model": ""}, "model", "at least 1 character"),
        ({"input": "x", "top_k": 3}, "top_k", "Extra inputs are not permitted"),
    ],
)
def test_bad_parameters_fail_before_any_request(
    params: dict[str, Any], field: str, message: str
) -> None:
    server = MockServer([embeddings_echo])
    call: dict[str, Any] = {"model": "m", **params}
    with pytest.raises(ValidationError, match=message) as info:
        server.client().embeddings.create(**call)
    assert field in {str(error["loc"][0]) for error in info.value.errors()}
    assert server.requests == []


def test_stream_is_refused_with_a_clear_message() -> None:
    server = MockServer([embeddings_echo])
    with pytest.raises(TypeError, match="embeddings does not stream"):
        server.client().embeddings.create(model="m", input="x", extra_body={"stream": True})
    assert server.requests == []


@pytest.mark.parametrize(
    ("data", "why"),
    [
        ([{"index": 0, "embedding": [1.0]}], "1 vector"),
        ([{"index": 0, "embedding": [1.0]}, {"index": 0, "embedding": [2.0]}], r"\[0, 0\]"),
        ([{"index": 0, "embedding": [1.0]}, {"index": 5, "embedding": [2.0]}], r"\[0, 5\]"),
    ],
)
def test_an_answer_without_one_vector_per_input_is_an_error(
    data: list[dict[str, Any]], why: str
) -> None:
    server = MockServer([json_reply(200, {"data": data, "model": "m"})])
    with pytest.raises(AtomaError, match=why):
        server.client().embeddings.create(model="m", input=["a", "b"])


def test_one_vector_per_token_is_explained() -> None:
    body = {"data": [{"index": 0, "embedding": [[0.1, 0.2], [0.3, 0.4]]}], "model": "m"}
    server = MockServer([json_reply(200, body)])
    with pytest.raises(AtomaError, match="pooling type"):
        server.client().embeddings.create(model="m", input="two tokens")


def test_a_string_that_is_not_base64_is_an_error() -> None:
    server = MockServer([json_reply(200, {"data": [{"index": 0, "embedding": "%%%"}]})])
    with pytest.raises(AtomaError, match="not base64"):
        server.client().embeddings.create(model="m", input="x")


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (404, NotFoundError),
        (429, RateLimitError),
        (500, InternalServerError),
    ],
)
def test_status_errors_are_typed_and_never_show_the_key(status: int, cls: type[Exception]) -> None:
    body = {"error": {"code": "X", "message": f"no luck {status}"}}
    server = MockServer([json_reply(status, body)])
    with pytest.raises(cls, match=f"no luck {status}") as info:
        server.client(api_key=KEY, max_retries=0).embeddings.create(model="m", input="x")
    assert KEY not in str(info.value) and KEY not in repr(info.value)


def test_retries_then_succeeds_like_completions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("atoma_integrations._client._sleep", lambda seconds: None)
    server = MockServer(
        [
            json_reply(503, {"error": {"message": "busy"}}),
            httpx.ConnectError("refused"),
            embeddings_echo,
        ]
    )
    response = server.client(max_retries=2).embeddings.create(model="m", input=["a", "b"])
    assert response.embeddings == [vector_for("a"), vector_for("b")]
    assert len(server.requests) == 3


def test_a_timeout_is_typed_and_the_per_call_timeout_is_used() -> None:
    seen: list[dict[str, Any]] = []

    def timing_out(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        raise httpx.ReadTimeout("slow", request=request)

    server = MockServer([timing_out])
    with pytest.raises(APITimeoutError):
        server.client(max_retries=0).embeddings.create(model="m", input="x", timeout=3.0)
    assert seen[0]["read"] == 3.0


async def test_async_create_is_the_same() -> None:
    server = MockServer([embeddings_echo])
    client = server.async_client()
    response = await client.embeddings.create(model="m", input=["x", "yy"], dimensions=2)
    assert response.embeddings == [vector_for("x"), vector_for("yy")]
    assert server.bodies == [{"model": "m", "input": ["x", "yy"], "dimensions": 2}]
    with pytest.raises(ValidationError):
        await client.embeddings.create(model="m", input=[])
    assert len(server.requests) == 1
    await client.aclose()


async def test_async_errors_are_typed() -> None:
    server = MockServer([json_reply(429, {"error": {"message": "slow down"}})])
    client = server.async_client(max_retries=0)
    with pytest.raises(RateLimitError, match="slow down"):
        await client.embeddings.create(model="m", input="x")
    await client.aclose()


def test_the_response_type_sorts_on_its_own() -> None:
    response = CreateEmbeddingResponse.model_validate(
        {"data": [{"index": 1, "embedding": [2.0]}, {"index": 0, "embedding": [1.0]}]}
    )
    assert response.embeddings == [[1.0], [2.0]]

"""The request models are the one source of the parameters: everything else agrees with them.

A parameter is declared in its request model (``SamplingRequest``, ``CompletionRequest``,
``ChatCompletionRequest``): name, range, normal form, description. The resources' keyword
TypedDicts, the adapters' pydantic fields and the name lists are derived from the models or
held to them here, so adding a parameter to a model and nowhere else fails a test (or the
import) instead of leaving one adapter without it.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
import types
from typing import Annotated, Any, Literal, Union, get_args, get_origin, get_type_hints

import pytest
from pydantic import BaseModel
from typing_extensions import Required

from atoma_integrations import _params
from atoma_integrations._params import (
    CHAT_CALL_FIELDS,
    CHAT_GENERATION_PARAMS,
    CHAT_RESERVED_BODY_KEYS,
    COMPLETION_CALL_FIELDS,
    GENERATION_PARAMS,
    RESERVED_BODY_KEYS,
    SAMPLING_PARAMS,
    ChatGenerationFields,
    GenerationFields,
)
from atoma_integrations.resources import ChatCompletionParams, CompletionParams
from atoma_integrations.types import ChatCompletionRequest, CompletionRequest
from atoma_integrations.types._sampling import SamplingRequest

# Keyword arguments of the resource methods that are not body fields.
_CALL_ONLY = {"extra_body", "timeout"}
_ONE_MESSAGE = [{"role": "user", "content": "x"}]

# (request model, resource keyword TypedDict, adapter fields, the adapter's parameter names,
# fields the request needs besides the one under test)
ENDPOINTS = {
    "completions": (
        CompletionRequest,
        CompletionParams,
        GenerationFields,
        GENERATION_PARAMS,
        {"model": "m", "prompt": "p"},
    ),
    "chat": (
        ChatCompletionRequest,
        ChatCompletionParams,
        ChatGenerationFields,
        CHAT_GENERATION_PARAMS,
        {"model": "m", "messages": _ONE_MESSAGE},
    ),
}


def _erased(annotation: Any) -> set[Any]:
    """What ``annotation`` accepts, as plain types: constraints (``Annotated``) dropped,
    unions flattened, ``list[NonEmptyStr]`` read as ``list[str]``."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _erased(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        return set().union(*(_erased(arg) for arg in get_args(annotation)))
    if origin is Literal:
        return {type(value) for value in get_args(annotation)}
    if origin is not None:
        args = []
        for arg in get_args(annotation):
            (single,) = _erased(arg)  # generic arguments here are single types
            args.append(single)
        return {origin[tuple(args)] if len(args) > 1 else origin[args[0]]}
    return {annotation}


def _attribute_docstrings(model: type[BaseModel]) -> dict[str, str]:
    """The docstrings under ``model``'s own fields, as pydantic would read them."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(model)))
    body = tree.body[0]
    assert isinstance(body, ast.ClassDef)
    docs: dict[str, str] = {}
    for statement, following in zip(body.body, body.body[1:], strict=False):
        if (
            isinstance(statement, ast.AnnAssign)
            and isinstance(statement.target, ast.Name)
            and isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            docs[statement.target.id] = inspect.cleandoc(following.value.value)
    return docs


def _request_description(model: type[BaseModel], name: str) -> str:
    description = model.model_fields[name].description
    if description is None:
        owner = next(c for c in model.__mro__ if name in getattr(c, "__annotations__", {}))
        description = _attribute_docstrings(owner).get(name)
    assert description, f"{model.__name__}.{name} has no description"
    return description


# -- the name lists ----------------------------------------------------------------------


def test_the_name_lists_are_the_request_fields_the_adapters_own() -> None:
    inputs = {"model", "prompt", "messages", "stream"}
    assert set(SAMPLING_PARAMS) == set(SamplingRequest.model_fields) - {"model"}
    assert set(GENERATION_PARAMS) == (
        set(CompletionRequest.model_fields) - inputs - COMPLETION_CALL_FIELDS
    )
    assert set(CHAT_GENERATION_PARAMS) == (
        set(ChatCompletionRequest.model_fields) - inputs - CHAT_CALL_FIELDS
    )
    # Both endpoints share the sampling parameters, first and in the same order.
    assert GENERATION_PARAMS[: len(SAMPLING_PARAMS)] == SAMPLING_PARAMS
    assert CHAT_GENERATION_PARAMS[: len(SAMPLING_PARAMS)] == SAMPLING_PARAMS
    assert set(CompletionRequest.model_fields) >= COMPLETION_CALL_FIELDS
    assert set(ChatCompletionRequest.model_fields) >= CHAT_CALL_FIELDS


def test_an_adapter_owns_every_body_field_it_sends_itself() -> None:
    assert set(CompletionRequest.model_fields) == RESERVED_BODY_KEYS
    assert {*GENERATION_PARAMS, "model", "prompt", "stream", "stream_options"} <= (
        RESERVED_BODY_KEYS
    )
    assert {*CHAT_GENERATION_PARAMS, "model", "messages", "stream", "stream_options"} == (
        CHAT_RESERVED_BODY_KEYS
    )
    assert set(ChatCompletionRequest.model_fields) >= CHAT_RESERVED_BODY_KEYS


# -- the resources' keyword arguments -----------------------------------------------------


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_the_keyword_typed_dict_has_every_request_field_but_stream(endpoint: str) -> None:
    request, params, *_ = ENDPOINTS[endpoint]
    keys = params.__required_keys__ | params.__optional_keys__
    assert keys == set(request.model_fields) - {"stream"} | _CALL_ONLY
    # Read from the annotations: with postponed annotations, TypedDict's own
    # __required_keys__ cannot see ``Required[...]``.
    hints = get_type_hints(params, include_extras=True)
    marked = {name for name, hint in hints.items() if get_origin(hint) is Required}
    required = {name for name, info in request.model_fields.items() if info.is_required()}
    assert marked == required


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_the_keyword_typed_dict_accepts_what_the_request_accepts(endpoint: str) -> None:
    request, params, _, names, _ = ENDPOINTS[endpoint]
    hints = get_type_hints(params)
    for name in ("model", *names, "stream_options"):
        accepted = _erased(request.model_fields[name].annotation)
        offered = _erased(hints[name])
        assert accepted <= offered, (name, accepted - offered)


# -- the adapters' fields -----------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_the_adapter_fields_are_the_request_parameters(endpoint: str) -> None:
    _, _, fields, names, _ = ENDPOINTS[endpoint]
    assert set(fields.model_fields) == {"model", *names, "stream_usage"}
    assert tuple(fields(model="m").generation_defaults()) == names


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_the_adapter_field_types_are_ones_the_request_accepts(endpoint: str) -> None:
    request, _, fields, names, _ = ENDPOINTS[endpoint]
    for name in ("model", *names):
        adapter = _erased(fields.model_fields[name].annotation)
        assert adapter <= _erased(request.model_fields[name].annotation), name


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_the_adapter_defaults_are_values_the_request_accepts(endpoint: str) -> None:
    request, _, fields, names, needed = ENDPOINTS[endpoint]
    for name in names:
        default = fields.model_fields[name].default
        request(**{**needed, name: default})  # raises, naming the field, if refused


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_the_adapter_descriptions_are_the_request_ones(endpoint: str) -> None:
    request, _, fields, names, _ = ENDPOINTS[endpoint]
    for name in ("model", *names):
        adapter = fields.model_fields[name].description
        assert adapter is not None, name
        # An adapter may add a note of its own (max_tokens is always sent) after the text.
        assert adapter.startswith(_request_description(request, name)), name


def test_a_field_without_a_description_cannot_be_derived() -> None:
    class Bare(BaseModel):
        x: int = 0

    with pytest.raises(TypeError, match=r"Bare\.x has no description to derive from"):
        _params._describe(Bare, "x")


# -- the public adapters keep their names and defaults ---------------------------------------


def _defaults(adapter: type[BaseModel], names: tuple[str, ...]) -> dict[str, Any]:
    return {name: adapter.model_fields[name].default for name in names}


def test_the_framework_adapters_keep_their_parameters_and_defaults() -> None:
    from atoma_integrations.langchain import AtomaLLM, ChatAtoma
    from atoma_integrations.llama_index import Atoma, AtomaChat

    unset = dict.fromkeys(GENERATION_PARAMS)
    assert _defaults(AtomaLLM, GENERATION_PARAMS) == {**unset, "max_tokens": 256, "n": 1}
    assert _defaults(Atoma, GENERATION_PARAMS) == {**unset, "max_tokens": 256}
    chat_unset = dict.fromkeys(CHAT_GENERATION_PARAMS)
    for chat in (ChatAtoma, AtomaChat):
        assert _defaults(chat, CHAT_GENERATION_PARAMS) == {**chat_unset, "max_tokens": 256}
    for adapter in (AtomaLLM, Atoma, ChatAtoma, AtomaChat):
        assert adapter.model_fields["model"].is_required()
        assert adapter.model_fields["stream_usage"].default is True
        description = adapter.model_fields["n"].description
        assert description == _request_description(SamplingRequest, "n") + (
            " Not with streaming: a stream holds one answer."
        )

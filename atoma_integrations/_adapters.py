"""What the LangChain and LlamaIndex adapters share: parameters, calls, embeddings.

The connection settings and the process-shared clients are in ``_settings``, the
generation parameters in ``_params`` and the per-call merge in ``_call_params``; they are
re-exported here for the adapters that import them from this module.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    ValidationError,
    ValidationInfo,
)
from pydantic import field_validator as _field_validator

from atoma_integrations import _rules
from atoma_integrations._call_params import chat_params, completion_params
from atoma_integrations._params import (
    CHAT_CALL_FIELDS,
    CHAT_GENERATION_PARAMS,
    CHAT_RESERVED_BODY_KEYS,
    GENERATION_PARAMS,
    RESERVED_BODY_KEYS,
    SAMPLING_PARAMS,
    ChatGenerationFields,
    GenerationFields,
)
from atoma_integrations._settings import ClientSettings, async_client_for, sync_client_for
from atoma_integrations.resources import EmbeddingParams
from atoma_integrations.types import EmbeddingRequest, Usage
from atoma_integrations.types.embedding import check_embedding_inputs
from atoma_integrations.types.shared import Signed

__all__ = [
    "CHAT_CALL_FIELDS",
    "CHAT_GENERATION_PARAMS",
    "CHAT_RESERVED_BODY_KEYS",
    "DEFAULT_MAX_CONCURRENCY",
    "EMBEDDING_BODY_KEYS",
    "GENERATION_PARAMS",
    "RESERVED_BODY_KEYS",
    "SAMPLING_PARAMS",
    "ChatGenerationFields",
    "ClientSettings",
    "EmbeddingFields",
    "GenerationFields",
    "async_client_for",
    "atoma_extras",
    "batched",
    "chat_params",
    "check_extra_body",
    "checked_query",
    "checked_texts",
    "completion_params",
    "sum_usage_counts",
    "sync_client_for",
    "usage_counts",
]

# Prompts of one batch call in flight at once, unless the caller says otherwise.
DEFAULT_MAX_CONCURRENCY = 8


def usage_counts(usage: Usage | None) -> dict[str, int]:
    """Token counts as the frameworks report them (empty when the server sent none)."""
    if usage is None:
        return {}
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
    }


def sum_usage_counts(usages: Sequence[Mapping[str, int]]) -> dict[str, int]:
    """Token counts of several requests added up, name by name."""
    total: dict[str, int] = {}
    for usage in usages:
        for name, value in usage.items():
            total[name] = total.get(name, 0) + value
    return total


def atoma_extras(completion: Signed) -> dict[str, Any]:
    """Atoma's verifiability fields (``response_hash``, ``signature``) when present, and
    ``signer``, the Sui address whose signature the client checked, when it verifies."""
    extra = completion.__pydantic_extra__
    extras = (
        {k: extra[k] for k in ("response_hash", "signature") if extra.get(k) is not None}
        if extra
        else {}
    )
    signer = completion.signer
    if signer is not None:
        extras["signer"] = signer
    return extras


# ---------------------------------------------------------------------------------------
# Embeddings: what AtomaEmbeddings (LangChain) and AtomaEmbedding (LlamaIndex) share.
# ---------------------------------------------------------------------------------------

# Body fields an embeddings adapter owns; its extra-body field may not set them.
EMBEDDING_BODY_KEYS = frozenset(EmbeddingRequest.model_fields)


class EmbeddingFields(BaseModel):
    """The embedding parameters of both adapters, under the client's names, checked by
    the client's request model when the adapter is built."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    dimensions: int | None = None
    """Length of the vectors, for models that can shorten them; None: the model's own."""
    user: str | None = None
    """An end-user id for abuse monitoring."""

    @_field_validator("dimensions", "user", mode="before")
    @classmethod
    def _same_rules_as_the_client(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None:
            return None
        name = info.field_name or ""
        try:
            request = EmbeddingRequest(model="m", input="x", **{name: value})
        except ValidationError as exc:
            raise ValueError(str(exc.errors()[0]["msg"]).removeprefix("Value error, ")) from None
        return getattr(request, name)

    def embedding_params(
        self,
        model: str,
        texts: str | list[str],
        extra_body: Mapping[str, Any] | None = None,
    ) -> EmbeddingParams:
        """The client call for ``texts``, with the adapter's parameters."""
        params: EmbeddingParams = {"model": model, "input": texts}
        if self.dimensions is not None:
            params["dimensions"] = self.dimensions
        if self.user is not None:
            params["user"] = self.user
        if extra_body:
            params["extra_body"] = dict(extra_body)
        return params


def check_extra_body(extra_body: Mapping[str, Any], field: str, owner: str) -> None:
    """An embeddings adapter's extra-body field may not override a validated field."""
    _rules.check_extra_body(extra_body, EMBEDDING_BODY_KEYS, field, owner)


def checked_texts(texts: Any, name: str = "texts") -> list[str]:
    """``texts`` as a list, each a non-empty string, checked once for the whole call so an
    error names the caller's position (batches would each count from 0)."""
    if isinstance(texts, str):
        raise TypeError(f"{name} must be a list of strings, got one string; embed it as a query")
    listed = list(texts)
    check_embedding_inputs(listed, name=name)
    return listed


def checked_query(text: Any, name: str = "text") -> str:
    """``text`` if it is a non-empty string, else a clear error before any request."""
    if not isinstance(text, str):
        raise TypeError(f"the {name} to embed must be a string, got {type(text).__name__}")
    if not text:
        raise ValueError(f"the {name} to embed is an empty string; embeddings need some text")
    return text


def batched(texts: list[str], size: int) -> list[list[str]]:
    """``texts`` in consecutive batches of at most ``size``."""
    return [texts[i : i + size] for i in range(0, len(texts), size)]

"""Types every endpoint shares (usage, models), and the deferred build of all the types.

Validators are built on first use, not at import: building them is most of what
``import atoma_integrations`` would otherwise cost over httpx + pydantic. Each types module
registers its models with :func:`defer_build`; clients call :func:`build_models` when they
are created. The build's state is process-wide, so it lives in ``_registry`` with the
package's other process-wide state.
"""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from atoma_integrations._registry import build_models, defer_build

__all__ = [
    "CompletionTokensDetails",
    "Lenient",
    "Model",
    "ModelList",
    "NonEmptyStr",
    "Signed",
    "Usage",
    "build_models",
    "defer_build",
    "mark_signed",
]

NonEmptyStr = Annotated[str, Field(min_length=1)]


class Lenient(BaseModel):
    """Base of response types: unknown fields are kept, not rejected."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, defer_build=True)


class Signed(Lenient):
    """Base of the types a node signs: whole responses and stream chunks.

    ``signer`` is set by the client after a passed check, never read from the body: it is a
    class attribute (None) that a verified object shadows in its own ``__dict__`` (see
    :func:`mark_signed`), so a server cannot fill it by sending a ``"signer"`` member (that
    lands in ``model_extra`` like any unknown field), it is not a field (``model_dump`` and
    the JSON the adapters pass on stay the server's wire fields), and an unverified object
    pays nothing for it.
    """

    signer: ClassVar[str | None] = None
    """The Sui address of the node key whose signature this object passed; None when the
    client does not verify signatures."""


def mark_signed(obj: Signed, signer: str) -> None:
    """Record on ``obj`` the signer whose signature its raw bytes passed."""
    # Pydantic's __setattr__ would put an unknown name into the extras (and so into dumps).
    object.__setattr__(obj, "signer", signer)


class CompletionTokensDetails(Lenient):
    """What the generated tokens were spent on, when the server says."""

    reasoning_tokens: int | None = None
    """Tokens a reasoning model spent thinking (part of ``completion_tokens``)."""


class Usage(Lenient):
    """Token counts of one request, as the server reports them."""

    prompt_tokens: int = 0
    """Tokens in the prompt."""
    completion_tokens: int = 0
    """Tokens generated."""
    total_tokens: int = 0
    """prompt_tokens + completion_tokens."""
    completion_tokens_details: CompletionTokensDetails | None = None
    """The split of ``completion_tokens`` (``reasoning_tokens``), when the server sends it."""


class Model(Lenient):
    """One entry of ``GET /models``."""

    id: str
    """The model id to pass as ``model``."""
    object: str = "model"
    """Always ``model``."""
    created: int | None = None
    """Unix time (Atoma sends a constant)."""
    owned_by: str | None = None
    """Owner, as the server reports it."""


class ModelList(Lenient):
    """The body of ``GET /models``."""

    object: str = "list"
    """Always ``list``."""
    data: list[Model] = Field(default_factory=list)
    """The models the server serves."""


defer_build(CompletionTokensDetails, Usage, Model, ModelList)

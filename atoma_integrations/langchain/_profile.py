"""``ChatAtoma``'s LangChain model profile and token counts, without a request or a tokenizer.

LangChain reads ``BaseChatModel.profile`` (a ``ModelProfile``) before the first call:
``create_agent`` picks its structured-output strategy from it, the summarization and
context-editing middleware size their windows from it. The facts come from the package's
static table (``atoma_integrations._profiles``); this module only spells them LangChain's way.

Token counts use LangChain's approximate counter (about four characters a token, plus a
few per message and per tool), the one its agent middleware uses by default: the models
Atoma serves each have their own tokenizer, and the base class's fallback needs
``transformers`` and counts with GPT-2's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from langchain_core.language_models.model_profile import ModelProfile
from langchain_core.messages import BaseMessage
from langchain_core.messages.utils import count_tokens_approximately

from atoma_integrations._profiles import chat_model_profile

__all__ = ["approximate_text_token_count", "approximate_token_count", "langchain_profile"]

# LangChain's own default: a token is about four characters of English text.
_CHARS_PER_TOKEN = 4.0


def langchain_profile(model: str) -> ModelProfile | None:
    """The LangChain profile of ``model``, or None when Atoma documents no such id."""
    known = chat_model_profile(model)
    if known is None:
        return None
    profile = ModelProfile(
        max_input_tokens=known.max_input_tokens,
        text_inputs=True,
        image_inputs=known.image_inputs,
        text_outputs=True,
        tool_calling=known.tool_calling,
        structured_output=known.structured_output,
        reasoning_output=known.reasoning_output,
    )
    if known.max_output_tokens is not None:
        profile["max_output_tokens"] = known.max_output_tokens
    if known.reasoning_effort_levels:
        profile["reasoning_effort_levels"] = list(known.reasoning_effort_levels)
    return profile


def approximate_token_count(
    messages: Sequence[BaseMessage], tools: Sequence[Any] | None = None
) -> int:
    """About how many tokens ``messages`` (and ``tools``, when given) take in a prompt."""
    return count_tokens_approximately(
        messages, chars_per_token=_CHARS_PER_TOKEN, tools=list(tools) if tools else None
    )


def approximate_text_token_count(text: str) -> int:
    """About how many tokens ``text`` alone takes: the counter above without a message's
    role and overhead."""
    return math.ceil(len(text) / _CHARS_PER_TOKEN)

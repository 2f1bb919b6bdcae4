"""What the chat models Atoma documents can do: a static table, read without any request.

Frameworks size prompts and pick strategies from a model's capabilities before the first
call (LangChain's ``BaseChatModel.profile``, LlamaIndex's ``LLMMetadata``), and a network
call cannot happen while an adapter is being built. So the package ships one entry per
model id that Atoma's documentation names, each with its sources, and answers ``None`` for
any other id: a deployment's own models get no guesses (pass ``profile=`` / ``context_window=``
for them).

``structured_output`` (native ``response_format: json_schema``) is False for every entry:
Atoma serves these models with vLLM, which constrains the whole generation to the schema
when a request carries both a schema and tools, so tool calls never come. With it False,
LangChain's ``create_agent`` gives structured answers through a tool (``ToolStrategy``),
which works beside the agent's own tools.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ChatModelProfile", "chat_model_profile"]


@dataclass(frozen=True)
class ChatModelProfile:
    """The capabilities of one chat model, as its sources state them."""

    max_input_tokens: int
    """The context window: prompt and answer together (the model card's context length)."""
    max_output_tokens: int | None
    """The longest answer, when a source states one apart from the context window."""
    tool_calling: bool
    """The model calls tools (OpenAI ``tools``, parsed by Atoma's vLLM)."""
    reasoning_output: bool
    """The model thinks before it answers, and vLLM returns that as ``reasoning``."""
    image_inputs: bool
    """The model reads images in user messages."""
    reasoning_effort_levels: tuple[str, ...] = ()
    """The ``reasoning_effort`` values the model knows (empty: none)."""
    structured_output: bool = False
    """Native JSON-schema output that can be combined with tools (see the module docstring)."""


# Llama 3.3 70B Instruct: text in, text out, 128k context, tool use ("Llama 3.3 supports
# tool use", Meta's model card at huggingface.co/meta-llama/Llama-3.3-70B-Instruct); no
# separate output limit is stated.
_LLAMA_3_3_70B = ChatModelProfile(
    max_input_tokens=131_072,
    max_output_tokens=None,
    tool_calling=True,
    reasoning_output=False,
    image_inputs=False,
)

# Llama 3.2 1B / 3B Instruct: text only, 128k context, tool calling in Meta's prompt format
# (the model cards at huggingface.co/meta-llama/Llama-3.2-1B-Instruct and -3B-Instruct).
_LLAMA_3_2_SMALL = ChatModelProfile(
    max_input_tokens=131_072,
    max_output_tokens=None,
    tool_calling=True,
    reasoning_output=False,
    image_inputs=False,
)

# gpt-oss-120b: text only, 128k context (131,072), tool use and a configurable reasoning
# effort of low / medium / high, raw chain of thought returned apart from the answer
# (OpenAI's model card at huggingface.co/openai/gpt-oss-120b and the gpt-oss model card
# paper, section 2).
_GPT_OSS_120B = ChatModelProfile(
    max_input_tokens=131_072,
    max_output_tokens=None,
    tool_calling=True,
    reasoning_output=True,
    image_inputs=False,
    reasoning_effort_levels=("low", "medium", "high"),
)

_PROFILES: dict[str, ChatModelProfile] = {
    # The example model of Atoma's API spec, SDKs and docs site.
    "meta-llama/Llama-3.3-70B-Instruct": _LLAMA_3_3_70B,
    # The FP8 build of the same model in atoma-proxy's config.example.toml.
    "Infermatic/Llama-3.3-70B-Instruct-FP8-Dynamic": _LLAMA_3_3_70B,
    # Listed in earlier versions of atoma-proxy's config.example.toml.
    "meta-llama/Llama-3.2-1B-Instruct": _LLAMA_3_2_SMALL,
    "meta-llama/Llama-3.2-3B-Instruct": _LLAMA_3_2_SMALL,
    # The example id of Atoma's docs, get-started/on-demand-offerings (Aug 2025).
    "gpt-oss-120b": _GPT_OSS_120B,
}


def chat_model_profile(model: str) -> ChatModelProfile | None:
    """The profile of ``model``, or None for an id Atoma does not document.

    The id is matched exactly: Atoma's proxy matches model ids case-sensitively, so a
    differently cased id is not the documented model on Atoma either.
    """
    return _PROFILES.get(model)

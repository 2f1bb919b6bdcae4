"""The README's tool-calling demo: ChatAtoma calls a tool, reads its result, answers.

One round of an agent loop, by hand: the model is bound to a ``get_weather`` tool and made
to call it ("any" with one tool is sent as the named choice, which every OpenAI-compatible
server honours), the tool runs, and the model streams its answer from the tool's result.
On the local llama.cpp server the first tool call of a fresh server takes several seconds
(the server builds its grammar machinery once); later ones take well under a second.

Run it alone with ``python examples/demo_chat_tools.py`` (ATOMA_API_KEY for the Atoma
cloud, or ATOMA_BASE_URL and ATOMA_DEMO_MODEL for another server).
"""

from __future__ import annotations

import os
import sys
import time

from langchain_core.messages import HumanMessage, SystemMessage
from langchain_core.tools import tool

from atoma_integrations.langchain import ChatAtoma

ATOMA_MODEL = "meta-llama/Llama-3.3-70B-Instruct"


@tool
def get_weather(city: str) -> str:
    """The current weather in a city."""
    return f"Sunny and 21 degrees Celsius in {city}."


def run(base_url: str | None, model: str) -> None:
    """Ask ``model`` at ``base_url`` (None: Atoma / ATOMA_BASE_URL) a question it answers
    with one tool call, then stream its answer."""
    chat = ChatAtoma(model=model, base_url=base_url, max_tokens=64, temperature=0)
    print(f"== LangChain tools: ChatAtoma({model}).bind_tools([get_weather])\n")
    started = time.perf_counter()
    instructions = "Answer the question in one sentence, using the result of the get_weather tool."
    messages = [
        SystemMessage(instructions),
        HumanMessage("What is the weather like in Paris?"),
    ]
    call_message = chat.bind_tools([get_weather], tool_choice="any").invoke(messages)
    for bad in call_message.invalid_tool_calls:  # arguments that are not JSON: shown, not run
        print(f"[invalid tool call] {bad['name']}: {bad['args']!r}")
    for call in call_message.tool_calls:
        print(f"[tool call] {call['name']}({call['args']})")
        result = get_weather.invoke(call)
        print(f"[tool result] {result.content}")
        messages += [call_message, result]
    print("[answer] ", end="", flush=True)
    for chunk in chat.stream(messages):
        print(chunk.content, end="", flush=True)
    print(f"\n\n[tools] one tool round trip in {time.perf_counter() - started:.2f}s")


def main() -> int:
    model = os.environ.get("ATOMA_DEMO_MODEL") or ATOMA_MODEL
    run(None, model)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The README's LangChain demo: a prompt | AtomaLLM | parser chain streaming to the terminal.

Tokens reach the terminal through a LangChain callback handler, as they would reach a web
socket or a UI in an application; the chain still returns the whole text. Then the demo
prints the token usage and the timing.

Run it alone with ``python examples/demo_langchain.py`` (ATOMA_API_KEY for the Atoma
cloud, or ATOMA_BASE_URL and ATOMA_DEMO_MODEL for another server).
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.output_parsers import StrOutputParser
from langchain_core.outputs import LLMResult
from langchain_core.prompts import PromptTemplate

from atoma_integrations.langchain import AtomaLLM

ATOMA_MODEL = "meta-llama/Llama-3.3-70B-Instruct"


class TerminalPrinter(BaseCallbackHandler):
    """Prints each token the moment LangChain reports it, and keeps what the run reported."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.first_token_at: float | None = None
        self.tokens = 0
        self.usage: dict[str, int] = {}

    def on_llm_new_token(self, token: str, **kwargs: Any) -> None:
        if token and self.first_token_at is None:
            self.first_token_at = time.perf_counter()
        self.tokens += bool(token)
        print(token, end="", flush=True)

    def on_llm_end(self, response: LLMResult, **kwargs: Any) -> None:
        self.usage = dict((response.llm_output or {}).get("token_usage") or {})


def run(base_url: str | None, model: str) -> None:
    """Stream one chain answer from ``model`` at ``base_url`` (None: Atoma / ATOMA_BASE_URL)."""
    # streaming=True makes invoke() stream under the hood, so the handler sees every token.
    llm = AtomaLLM(model=model, base_url=base_url, max_tokens=64, temperature=0.7, streaming=True)
    prompt = PromptTemplate.from_template("Write two sentences about {topic}:")
    chain = prompt | llm | StrOutputParser()

    printer = TerminalPrinter()
    print(f"== LangChain: prompt | AtomaLLM({model}) | StrOutputParser, streamed via callback\n")
    text = chain.invoke({"topic": "the sea"}, config={"callbacks": [printer]})
    elapsed = time.perf_counter() - printer.started

    first = (printer.first_token_at or printer.started) - printer.started
    print(
        f"\n\n[langchain] {len(text)} characters in {elapsed:.2f}s, first token after {first:.2f}s"
    )
    if printer.usage:
        completion = printer.usage.get("completion_tokens", 0)
        rate = completion / elapsed if elapsed > 0 else 0.0
        print(f"[langchain] usage: {printer.usage} ({rate:.0f} tokens/s)")
    else:
        # llama.cpp sends no usage in streams; Atoma always does.
        print(f"[langchain] {printer.tokens} chunks; this server reports no usage in streams")


def main() -> int:
    model = os.environ.get("ATOMA_DEMO_MODEL") or ATOMA_MODEL
    run(None, model)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The README's demo: the client, a LangChain chain, a tool call and a LlamaIndex query.

Uses the Atoma cloud when ATOMA_API_KEY is set; otherwise the local server that
``make demo`` starts (ATOMA_BASE_URL and ATOMA_DEMO_MODEL say where and which model).
"""

from __future__ import annotations

import os
import sys
import time

import demo_chat_tools
import demo_langchain
import demo_llama_index

from atoma_integrations import AtomaClient

ATOMA_MODEL = "meta-llama/Llama-3.3-70B-Instruct"


def client_demo(model: str) -> None:
    """Stream one completion through the bare client, then print usage and timing."""
    with AtomaClient() as client:
        print(f"== Client: {model} at {client.base_url}\n")
        started = time.perf_counter()
        with client.completions.create_stream(
            model=model, prompt="Write one sentence about the sea:", max_tokens=48, temperature=0.7
        ) as stream:
            for chunk in stream:
                print(chunk.choices[0].text, end="", flush=True)
        elapsed = time.perf_counter() - started
        usage = stream.usage or "none reported by this server in streams"
        print(f"\n\n[client] {elapsed:.2f}s, usage: {usage}\n")


def main() -> int:
    model = os.environ.get("ATOMA_DEMO_MODEL") or ATOMA_MODEL
    where = "the Atoma cloud" if os.environ.get("ATOMA_API_KEY") else "a local server"
    print(f"atoma-integrations demo on {where}\n")
    started = time.perf_counter()
    client_demo(model)
    demo_langchain.run(None, model)
    print()
    demo_chat_tools.run(None, model)
    print()
    demo_llama_index.run(None, model)
    print(f"\nDemo finished in {time.perf_counter() - started:.1f}s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The README's demo: the client, a LangChain chain, a tool call and a LlamaIndex RAG query.

Uses the Atoma cloud when ATOMA_API_KEY is set; otherwise the local server that
``make demo`` starts. ATOMA_BASE_URL says where; ATOMA_MODEL (completions),
ATOMA_CHAT_MODEL (chat) and ATOMA_EMBED_MODEL (embeddings) say which models, since a server
may serve each kind under its own id (ATOMA_DEMO_MODEL is read as ATOMA_MODEL).
The client part checks every chunk's node signature (docs/verification.md);
ATOMA_TRUSTED_SIGNER pins the one Sui address accepted.
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
ATOMA_EMBED_MODEL = "intfloat/multilingual-e5-large-instruct"


def client_demo(model: str) -> None:
    """Stream one completion through the bare client, every chunk's signature checked, then
    print usage, timing and the verified signer (pinned when ATOMA_TRUSTED_SIGNER is set,
    as ``make demo`` does for the local signing relay)."""
    pinned = os.environ.get("ATOMA_TRUSTED_SIGNER")
    trusted = [pinned] if pinned else None
    with AtomaClient(verify_signatures=True, trusted_signers=trusted) as client:
        print(f"== Client: {model} at {client.base_url}\n")
        started = time.perf_counter()
        with client.completions.create_stream(
            model=model, prompt="Write one sentence about the sea:", max_tokens=48, temperature=0.7
        ) as stream:
            for chunk in stream:
                print(chunk.choices[0].text, end="", flush=True)
        elapsed = time.perf_counter() - started
        usage = stream.usage or "none reported by this server in streams"
        print(f"\n\n[client] {elapsed:.2f}s, usage: {usage}")
        signers = ", ".join(sorted(stream.signers))
        print(f"[client] every chunk's signature verified; signed by {signers}\n")


def main() -> int:
    model = os.environ.get("ATOMA_MODEL") or os.environ.get("ATOMA_DEMO_MODEL") or ATOMA_MODEL
    chat_model = os.environ.get("ATOMA_CHAT_MODEL") or model
    embed_model = os.environ.get("ATOMA_EMBED_MODEL") or ATOMA_EMBED_MODEL
    where = "the Atoma cloud" if os.environ.get("ATOMA_API_KEY") else "a local server"
    print(f"atoma-integrations demo on {where}\n")
    started = time.perf_counter()
    client_demo(model)
    demo_langchain.run(None, model)
    print()
    demo_chat_tools.run(None, chat_model)
    print()
    demo_llama_index.run(None, model, embed_model)
    print(f"\nDemo finished in {time.perf_counter() - started:.1f}s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The README demo's LlamaIndex part: retrieval and generation, both on Atoma.

A VectorStoreIndex over a few short documents, embedded with ``AtomaEmbedding`` (Atoma's
``/v1/embeddings``), queried with a streaming query engine on ``Atoma``: the question is
embedded, the nearest documents retrieved, and the answer's tokens print as they arrive;
then the embedding calls and token usage LlamaIndex's TokenCountingHandler recorded, and
the timing. ``examples/demo.py`` calls :func:`run`; run this file alone with
``python examples/demo_llama_index.py [BASE_URL] MODEL EMBED_MODEL``.
"""

from __future__ import annotations

import sys
import time

from llama_index.core import Document, Settings, VectorStoreIndex
from llama_index.core.callbacks import CallbackManager, TokenCountingHandler

from atoma_integrations.llama_index import Atoma, AtomaEmbedding

DOCUMENTS = [
    "Atoma is a decentralized cloud that serves open models such as Llama 3.3 70B "
    "behind an OpenAI-style API at api.atoma.network.",
    "Every Atoma response is signed by the node that computed it: a response_hash and "
    "a signature travel with each body and each streamed chunk.",
    "atoma-integrations makes Atoma a native LLM in LangChain and LlamaIndex, with "
    "streaming, async, typed errors and token usage.",
]
QUESTION = "What is Atoma, and what does each response carry?"


def run(base_url: str | None, model: str, embed_model: str) -> None:
    """Stream one query through a VectorStoreIndex on Atoma embeddings, answered by Atoma.

    ``base_url`` None means ATOMA_BASE_URL, else the Atoma cloud (with ATOMA_API_KEY).
    Settings are restored afterwards, so other demos in the same process are unaffected.
    """
    saved = (Settings._llm, Settings._embed_model, Settings._callback_manager)
    counter = TokenCountingHandler()
    try:
        llm = Atoma(model=model, base_url=base_url, max_tokens=64, temperature=0.2)
        Settings.llm = llm
        Settings.embed_model = AtomaEmbedding(model_name=embed_model, base_url=base_url)
        Settings.callback_manager = CallbackManager([counter])
        started = time.perf_counter()
        index = VectorStoreIndex.from_documents([Document(text=text) for text in DOCUMENTS])
        indexed = time.perf_counter() - started
        engine = index.as_query_engine(similarity_top_k=2, streaming=True)
        # Asked of the server once (Atoma publishes it; a local server does not, and a
        # warning says which default is used), before the output starts.
        window = llm.metadata.context_window

        print(
            f"== LlamaIndex: VectorStoreIndex over {len(DOCUMENTS)} documents "
            "(Atoma embeddings), streaming query"
        )
        print(f"[llama-index] {embed_model}: documents embedded in {indexed:.2f}s")
        print(f"[llama-index] {model}: context window {window} tokens")
        print(f"Q: {QUESTION}\nA: ", end="", flush=True)
        started = time.perf_counter()
        first_token: float | None = None
        response = engine.query(QUESTION)
        for token in response.response_gen:  # type: ignore[union-attr]
            if first_token is None:
                first_token = time.perf_counter() - started
            print(token, end="", flush=True)
        elapsed = time.perf_counter() - started

        print(
            f"\n\n[llama-index] {len(counter.embedding_token_counts)} texts embedded "
            f"(the documents, then the question), {len(response.source_nodes)} documents "
            "retrieved"
        )
        print(
            f"[llama-index] {len(counter.llm_token_counts)} LLM call: "
            f"{counter.prompt_llm_token_count} prompt + "
            f"{counter.completion_llm_token_count} completion tokens "
            "(the server's usage when the stream carries it, as Atoma's does; "
            "LlamaIndex's estimate otherwise)"
        )
        ttft = f"{first_token:.2f}s" if first_token is not None else "n/a"
        print(f"[llama-index] first token after {ttft}, {elapsed:.2f}s in total")
    finally:
        Settings._llm, Settings._embed_model, Settings._callback_manager = saved


if __name__ == "__main__":
    args = sys.argv[1:]
    if len(args) not in (2, 3):
        sys.exit("usage: python examples/demo_llama_index.py [BASE_URL] MODEL EMBED_MODEL")
    run(args[0] if len(args) == 3 else None, args[-2], args[-1])

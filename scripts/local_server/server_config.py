#!/usr/bin/env python3
"""Write the llama-cpp-python server config (--config_file) that start_server.sh runs.

One server process, one port, two model entries over the SAME .gguf file:

* the completion model (id e.g. ``tiny-llama``): ``/v1/completions`` exactly as before,
  plus ``/v1/chat/completions`` with the ``chatml-function-calling`` chat format
  (tools, ``tool_choice``, ``response_format``);
* the embedding model (id e.g. ``tiny-llama-embed``): ``/v1/embeddings``. It is loaded
  with ``embedding: true`` and two GGUF metadata overrides (``kv_overrides``; the file
  on disk is not changed):
    - ``<arch>.pooling_type = 1`` (mean): without a pooling type llama-cpp-python
      returns one vector per *token*, not one per input;
    - ``tokenizer.ggml.add_bos_token = true``: SmolLM2 adds no BOS, so an empty input
      fails to decode, and the server then dies (double free) when it next swaps
      models. With a BOS every input has at least one token.

llama-cpp-python keeps one model loaded and swaps (unloads, loads) when a request names
the other id; a request naming an unknown id (or none) goes to the first entry, the
completion model. Completions are not served from the embedding entry because
``embedding: true`` changes the greedy text.

Runs with the server venv's python (it reads the architecture with ``gguf``).
Usage: server_config.py --model PATH --alias ID --embed-alias ID --port N --out FILE
       [--chat-format NAME] [--n-ctx N] [--n-threads N] [--n-threads-batch N]
"""

from __future__ import annotations

import argparse
import json
import os
import sys


def architecture(path: str) -> str:
    import gguf

    field = gguf.GGUFReader(path).fields["general.architecture"]
    return bytes(field.parts[field.data[0]]).decode()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--alias", required=True)
    ap.add_argument("--embed-alias", required=True)
    ap.add_argument("--chat-format", default="chatml-function-calling")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--n-ctx", type=int, default=2048)
    ap.add_argument("--n-threads", type=int, default=1)
    ap.add_argument("--n-threads-batch", type=int, default=2)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    common = {
        "model": os.path.abspath(args.model),
        "n_ctx": args.n_ctx,
        "n_threads": args.n_threads,
        "n_threads_batch": args.n_threads_batch,
        "use_mlock": False,
    }
    completion = {**common, "model_alias": args.alias}
    if args.chat_format:  # empty: use the chat template stored in the model file
        completion["chat_format"] = args.chat_format
    embed = {
        **common,
        "model_alias": args.embed_alias,
        "embedding": True,
        "kv_overrides": [
            f"{architecture(args.model)}.pooling_type=int:1",
            "tokenizer.ggml.add_bos_token=bool:true",
        ],
    }
    config = {
        "host": "127.0.0.1",  # loopback only
        "port": args.port,
        # A new request waits for the running one instead of cutting its stream short.
        "interrupt_requests": False,
        "models": [completion, embed],  # the first one is the default
    }
    tmp = args.out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    os.replace(tmp, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())

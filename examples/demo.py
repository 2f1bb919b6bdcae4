"""The README's demo: stream a completion through the client.

Uses the Atoma cloud when ATOMA_API_KEY is set, otherwise the local server that
``make demo`` starts (ATOMA_BASE_URL / ATOMA_DEMO_MODEL tell it where and which model).
"""

from __future__ import annotations

import os
import sys
import time

from atoma_integrations import AtomaClient

ATOMA_MODEL = "meta-llama/Llama-3.3-70B-Instruct"


def main() -> int:
    on_atoma = bool(os.environ.get("ATOMA_API_KEY"))
    model = os.environ.get("ATOMA_DEMO_MODEL") or ATOMA_MODEL
    with AtomaClient() as client:
        where = "the Atoma cloud" if on_atoma else client.base_url
        print(f"== atoma-integrations demo: {model} on {where}\n")
        started = time.perf_counter()
        with client.completions.create_stream(
            model=model, prompt="Write one sentence about the sea:", max_tokens=48, temperature=0.7
        ) as stream:
            for chunk in stream:
                print(chunk.choices[0].text, end="", flush=True)
        elapsed = time.perf_counter() - started
        print(f"\n\n[client] {elapsed:.2f}s, usage: {stream.usage}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

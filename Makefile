# The two commands of the README's quick start, and a few helpers.
.PHONY: demo test lint bench bench-chat bench-ray bench-before-after ray-example server-start server-stop clean

demo:  ## Stream a completion through LangChain and LlamaIndex (local SmolLM2, or Atoma when ATOMA_API_KEY is set)
	@bash scripts/run_demo.sh

test:  ## Create .venv, start the tiny-model server, run ruff, mypy and the whole pytest suite, stop the server
	@bash scripts/run_tests.sh

lint:
	@bash scripts/bootstrap.sh && .venv/bin/ruff check atoma_integrations tests benchmarks scripts examples notebooks && .venv/bin/mypy atoma_integrations

bench:  ## Overhead versus raw httpx and the incumbent adapters; writes benchmarks/RESULTS.md
	@bash scripts/bootstrap.sh && .venv/bin/python benchmarks/run.py

bench-chat:  ## Chat streaming per token: ours, the incumbents and the frameworks' floors; updates its section of benchmarks/RESULTS.md
	@bash scripts/bootstrap.sh && .venv/bin/python benchmarks/chat_stream.py

bench-before-after:  ## This checkout against REF (a commit), both in one process: make bench-before-after REF=e632e29
	@test -n "$(REF)" || { echo "usage: make bench-before-after REF=<commit>" >&2; exit 2; }
	@bash scripts/bootstrap.sh && .venv/bin/python -m benchmarks.before_after --ref "$(REF)"

bench-ray:  ## Rows/s of one-process abatch versus Ray Data actors; updates its section of benchmarks/RESULTS.md
	@bash scripts/bootstrap.sh && .venv/bin/python benchmarks/ray_batch.py

ray-example:  ## Batch completion on Ray Data (local SmolLM2 server, or Atoma when ATOMA_API_KEY is set)
	@bash scripts/bootstrap.sh && .venv/bin/python examples/ray_batch.py

server-start:
	@bash scripts/local_server/start_server.sh

server-stop:
	@bash scripts/local_server/stop_server.sh

clean:
	rm -rf .venv .pytest_cache .mypy_cache .ruff_cache

"""Several prompts in one call go out together, bounded by max_concurrency.

A real (loopback) HTTP server counts the requests it holds at once. Each request is held
until either ``limit`` requests are in flight or every expected request has arrived, so a
client that sends prompts one after another never reaches the limit (and waits out the
safety timeout), while one that over-sends shows a count above the limit. No test sleeps.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from atoma_integrations.langchain import AtomaLLM
from tests.support.mock_server import embeddings_body

HOLD_TIMEOUT = 5.0  # only reached when the client under test is not concurrent


class InFlightServer(ThreadingHTTPServer):
    """A completions and embeddings server; records the most requests it held at once."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.cond = threading.Condition()
        self.limit = 1
        self.expected = 1
        self.arrived = 0
        self.in_flight = 0
        self.max_in_flight = 0

    def expect(self, total: int, limit: int) -> None:
        with self.cond:
            self.expected, self.limit = total, limit
            self.arrived = self.in_flight = self.max_in_flight = 0

    def enter(self) -> None:
        with self.cond:
            self.arrived += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            self.cond.notify_all()
            self.cond.wait_for(
                lambda: self.in_flight >= self.limit or self.arrived >= self.expected,
                timeout=HOLD_TIMEOUT,
            )

    def leave(self) -> None:
        # Before the response is written, so the client cannot send its next request
        # while this one still counts.
        with self.cond:
            self.in_flight -= 1

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


class _Handler(BaseHTTPRequestHandler):
    server: InFlightServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.enter()
        self.server.leave()
        if self.path.endswith("/embeddings"):
            self._reply("application/json", json.dumps(embeddings_body(body["input"])).encode())
            return
        text = f"echo:{body['prompt']}"
        usage = {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}
        if body.get("stream"):
            events = [
                {"choices": [{"index": 0, "text": text, "finish_reason": None}]},
                {"choices": [{"index": 0, "text": "", "finish_reason": "stop"}], "usage": usage},
            ]
            payload = b"".join(b"data: " + json.dumps(e).encode() + b"\n\n" for e in events)
            content_type = "text/event-stream"
        else:
            choice = {"index": 0, "text": text, "finish_reason": "stop"}
            payload = json.dumps({"model": body["model"], "choices": [choice], "usage": usage})
            payload = payload.encode()
            content_type = "application/json"
        self._reply(content_type, payload)

    def _reply(self, content_type: str, payload: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@pytest.fixture(scope="module")
def in_flight_server() -> Iterator[InFlightServer]:
    server = InFlightServer()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def prompts(count: int) -> list[str]:
    return [f"p{i}" for i in range(count)]


@pytest.mark.parametrize(("count", "limit"), [(6, 3), (4, 8), (5, 2)])
def test_generate_keeps_max_concurrency_requests_in_flight(
    in_flight_server: InFlightServer, count: int, limit: int
) -> None:
    in_flight_server.expect(count, limit)
    llm = AtomaLLM(model="m", base_url=in_flight_server.base_url, max_concurrency=limit)
    result = llm.generate(prompts(count))
    assert in_flight_server.max_in_flight == min(count, limit)
    assert [g[0].text for g in result.generations] == [f"echo:{p}" for p in prompts(count)]
    assert result.llm_output is not None
    assert result.llm_output["token_usage"]["total_tokens"] == 3 * count


@pytest.mark.parametrize(("count", "limit"), [(6, 3), (4, 8)])
async def test_agenerate_keeps_max_concurrency_requests_in_flight(
    in_flight_server: InFlightServer, count: int, limit: int
) -> None:
    in_flight_server.expect(count, limit)
    llm = AtomaLLM(model="m", base_url=in_flight_server.base_url, max_concurrency=limit)
    result = await llm.agenerate(prompts(count))
    assert in_flight_server.max_in_flight == min(count, limit)
    assert [g[0].text for g in result.generations] == [f"echo:{p}" for p in prompts(count)]


def test_batch_and_streaming_generate_are_concurrent_too(
    in_flight_server: InFlightServer,
) -> None:
    in_flight_server.expect(4, 4)
    llm = AtomaLLM(model="m", base_url=in_flight_server.base_url)
    assert llm.batch(prompts(4)) == [f"echo:{p}" for p in prompts(4)]
    assert in_flight_server.max_in_flight == 4

    in_flight_server.expect(3, 3)
    streaming = AtomaLLM(model="m", base_url=in_flight_server.base_url, streaming=True)
    result = streaming.generate(prompts(3))
    assert in_flight_server.max_in_flight == 3
    assert [g[0].text for g in result.generations] == [f"echo:{p}" for p in prompts(3)]
    assert result.llm_output is not None
    assert result.llm_output["token_usage"]["total_tokens"] == 9


async def test_abatch_with_streaming_is_concurrent(in_flight_server: InFlightServer) -> None:
    in_flight_server.expect(3, 3)
    llm = AtomaLLM(model="m", base_url=in_flight_server.base_url, streaming=True)
    assert await llm.abatch(prompts(3)) == [f"echo:{p}" for p in prompts(3)]
    assert in_flight_server.max_in_flight == 3

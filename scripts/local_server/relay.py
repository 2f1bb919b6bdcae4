#!/usr/bin/env python3
"""A relay that makes the local llama.cpp server speak Atoma's wire: signed answers.

It sits in front of the OpenAI-compatible server and does to every answer what an Atoma
node and the Atoma proxy do (``docs/verification.md`` says what a client can check):

* parses the JSON answer and re-serializes it as serde_json does (compact, keys in the
  server's order, raw UTF-8, Ryu floats), because a node hashes and signs its own
  serialization of the parsed answer, not the inference server's bytes: llama.cpp writes
  ``1e-05`` and ``", "`` where the node writes ``0.00001`` and ``","``, so signing the
  upstream bytes as they came would sign a text no node ever sends;
* signs the text with an Ed25519 key made at start (BLAKE2b-256, then the signature over
  the 32 digest bytes) and appends ``"signature"`` and ``"response_hash"``;
* in a stream, does the same to every ``data:`` event, drops ``[DONE]`` (the stream ends
  when the body ends) and sends ``: keep-alive`` comments while the server is silent;
* answers errors in Atoma's shape, ``{"error": {"code": ..., "message": ...}}``, with the
  proxy's statuses and without the backend's text (which the proxy never passes on).

Usage (with the project's .venv python; scripts/local_server/start_relay.sh runs it):
    relay.py --upstream http://127.0.0.1:8765 --port 8775 [--keep-alive-ms 15]
Prints ``TS_RELAY_URL=...`` and ``TS_SIGNER_ADDRESS=...`` on stdout once it listens.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import sys
from http import HTTPStatus
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

# The node's serialization and signature live once, in the test support code.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from atoma_integrations._streaming import SSEDecoder
from tests.support.signing import NodeKey, sign_value

log = logging.getLogger("relay")

SIGNED_ROUTES = ("/v1/completions", "/v1/chat/completions", "/v1/embeddings")
# Atoma's proxy sends a keep-alive comment after this long without an event.
DEFAULT_KEEP_ALIVE_MS = 15.0
_DONE = b"[DONE]"
_KEEP_ALIVE = b": keep-alive\n\n"
_END = object()  # the upstream stream ended


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def atoma_error(status: int, code: str, message: str) -> web.Response:
    """An error the way Atoma's proxy writes it."""
    body = {"error": {"code": code, "message": message}}
    return web.json_response(body, status=status, dumps=_compact)


def backend_error(status: int) -> web.Response:
    """The proxy's answer to a backend error: a node passes on only "too many requests";
    everything else becomes a 500 that carries only the canonical reason phrase."""
    if status in (HTTPStatus.TOO_MANY_REQUESTS, HTTPStatus.SERVICE_UNAVAILABLE):
        return atoma_error(429, "TOO_MANY_REQUESTS", "Too many requests")
    if status == HTTPStatus.UNAUTHORIZED:
        return atoma_error(401, "AUTH_ERROR", "Authentication failed")
    return atoma_error(500, "INTERNAL_ERROR", HTTPStatus.INTERNAL_SERVER_ERROR.phrase)


class Relay:
    """The relay's state: the node key, the upstream and one HTTP session to it."""

    def __init__(self, upstream: str, key: NodeKey, keep_alive: float) -> None:
        root = upstream.rstrip("/")
        self.upstream = root[: -len("/v1")] if root.endswith("/v1") else root
        self.key = key
        self.keep_alive = keep_alive
        self.session: aiohttp.ClientSession | None = None

    async def start(self, app: web.Application) -> None:
        # No total timeout: a long generation is not an error; the client decides.
        self.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None))

    async def stop(self, app: web.Application) -> None:
        if self.session is not None:
            await self.session.close()

    def sign(self, payload: bytes) -> bytes | None:
        """The signed serialization of one JSON object, or None when it is not one."""
        try:
            value = json.loads(payload)
        except ValueError:
            return None
        return sign_value(value, self.key) if isinstance(value, dict) else None

    async def models(self, request: web.Request) -> web.StreamResponse:
        """``GET /v1/models`` as the server lists them (the proxy does not sign lists)."""
        assert self.session is not None
        try:
            async with self.session.get(self.upstream + request.path) as upstream:
                body = await upstream.read()
                return web.Response(
                    body=body, status=upstream.status, content_type="application/json"
                )
        except aiohttp.ClientError as exc:
            log.warning("upstream unreachable: %s", exc)
            return atoma_error(429, "TOO_MANY_REQUESTS", "Too many requests")

    async def signed(self, request: web.Request) -> web.StreamResponse:
        """A completions, chat or embeddings request: forwarded, and its answer signed."""
        assert self.session is not None
        raw = await request.read()
        try:
            body: Any = json.loads(raw)
        except ValueError as exc:
            return atoma_error(400, "REQUEST_ERROR", f"Request error: invalid JSON body ({exc})")
        if not isinstance(body, dict):
            return atoma_error(400, "REQUEST_ERROR", "Request error: the body must be an object")
        stream = body.get("stream") is True
        try:
            upstream = await self.session.post(
                self.upstream + request.path,
                data=raw,
                headers={"Content-Type": "application/json"},
            )
        except aiohttp.ClientError as exc:
            # The proxy answers 429 when it cannot reach the node.
            log.warning("upstream unreachable: %s", exc)
            return atoma_error(429, "TOO_MANY_REQUESTS", "Too many requests")
        async with upstream:
            if upstream.status >= 400:
                text = (await upstream.read()).decode(errors="replace")
                log.info("upstream %s on %s: %s", upstream.status, request.path, text[:500])
                return backend_error(upstream.status)
            if stream:
                return await self._stream(request, upstream)
            signed = self.sign(await upstream.read())
            if signed is None:
                return atoma_error(500, "INTERNAL_ERROR", "Invalid response from inference service")
            return web.Response(body=signed, content_type="application/json")

    async def _stream(
        self, request: web.Request, upstream: aiohttp.ClientResponse
    ) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        # One task reads the upstream; this loop waits on its queue with a timeout, so a
        # silent upstream gets a keep-alive without cancelling a read halfway.
        events: asyncio.Queue[object] = asyncio.Queue()
        reader = asyncio.create_task(_read_events(upstream, events))
        try:
            while True:
                try:
                    event = await asyncio.wait_for(events.get(), self.keep_alive)
                except asyncio.TimeoutError:
                    await response.write(_KEEP_ALIVE)
                    continue
                if event is _END:
                    break
                if isinstance(event, BaseException):
                    # A broken upstream ends the stream quietly, as the proxy does.
                    log.warning("upstream stream failed: %r", event)
                    break
                assert isinstance(event, bytes)
                if event == _DONE:
                    continue  # neither signed nor sent
                signed = self.sign(event)
                if signed is None:
                    # The proxy logs and drops a chunk it cannot parse.
                    log.warning("dropped an event that is not a JSON object: %r", event[:200])
                    continue
                await response.write(b"data: " + signed + b"\n\n")
            await response.write_eof()
        except ConnectionResetError:
            # The client went away: stop reading, so the server stops generating.
            log.info("client closed the stream on %s", request.path)
            upstream.close()
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
        return response


async def _read_events(upstream: aiohttp.ClientResponse, events: asyncio.Queue[object]) -> None:
    decoder = SSEDecoder()
    try:
        async for data in upstream.content.iter_any():
            for payload in decoder.feed(data):
                events.put_nowait(payload)
        for payload in decoder.flush():
            events.put_nowait(payload)
        events.put_nowait(_END)
    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
        events.put_nowait(exc)


def make_app(relay: Relay) -> web.Application:
    app = web.Application()
    app.on_startup.append(relay.start)
    app.on_cleanup.append(relay.stop)
    for route in SIGNED_ROUTES:
        app.router.add_post(route, relay.signed)
    app.router.add_get("/v1/models", relay.models)
    return app


async def serve(args: argparse.Namespace) -> None:
    key = NodeKey.generate("ed25519")
    relay = Relay(args.upstream, key, args.keep_alive_ms / 1000)
    runner = web.AppRunner(make_app(relay), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", args.port)
    await site.start()
    port = runner.addresses[0][1]  # the one the system picked, for --port 0
    print(f"TS_RELAY_URL=http://127.0.0.1:{port}/v1", flush=True)
    print(f"TS_SIGNER_ADDRESS={key.address}", flush=True)
    log.info("http://127.0.0.1:%s -> %s, signing as %s", port, relay.upstream, key.address)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upstream", required=True, help="the server's URL, with or without /v1")
    parser.add_argument("--port", type=int, required=True, help="0: any free port")
    parser.add_argument(
        "--keep-alive-ms",
        type=float,
        default=DEFAULT_KEEP_ALIVE_MS,
        help="silence before a ': keep-alive' comment in a stream (Atoma: 15 ms)",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="[relay] %(message)s", stream=sys.stderr)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A scripted OpenAI-compatible server that answers the way Atoma's vLLM backends do.

The documentation's examples run against the real local llama.cpp server, except where they
show what only Atoma's backends do: ``response_format`` ``json_schema`` (llama.cpp refuses
it), a tool call chosen with ``tool_choice: "auto"`` while streaming (llama.cpp sends an
empty body), a free-text tool argument (the tiny test model never closes the string), and
usage in streams (llama.cpp never sends it). Those examples run against this server.

It has no model: its answers are scripted from the request. A tool call or a JSON answer is
filled from the schema the request carries (a few property names get the values the docs'
examples expect, any other property a value of its type); a request that ends with a tool
result gets a text answer quoting it; anything else gets a short text. Streams are shaped as
Atoma's are: a role delta, content or tool-call deltas, a chunk with ``finish_reason``, then
a usage chunk with no choices (always, as Atoma sends it), then ``[DONE]``.

The HTTP layer is the fault server's (``fault_server.FaultServer``), as for the agents'
scripted server (``scripted_server.ScriptedServer``); the two differ in where answers come
from. The scripted server plays a fixed conversation and checks every request against it
(agent loops, where the history sent back is what is under test); this one derives each
answer from the request and checks nothing (documentation examples, which send whatever
their prose shows), and serves every endpoint a doc uses, not only chat.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from tests.support.fault_server import DONE, FaultServer, RecordedRequest, Reply, Stream, Write, sse

__all__ = ["AtomaStandIn"]

# Values for the property names the docs' examples use; anything else gets a typed default.
_KNOWN_VALUES: dict[str, Any] = {
    "city": "Paris",
    "name": "Paris",
    "country": "France",
    "a": 6,
    "b": 7,
    "answer": "yes",
    "confidence": 9,
}
_DEFAULTS: dict[str, Any] = {
    "string": "text",
    "integer": 1,
    "number": 1.0,
    "boolean": True,
    "array": [],
    "object": {},
}
_TEXT_ANSWER = "Paris is the capital of France."


def _fill(schema: dict[str, Any]) -> dict[str, Any]:
    """An object that satisfies ``schema``'s properties (top level, as the docs use)."""
    properties = schema.get("properties") or {}
    out: dict[str, Any] = {}
    for name, spec in properties.items():
        if name in _KNOWN_VALUES:
            out[name] = _KNOWN_VALUES[name]
        elif isinstance(spec, dict) and spec.get("enum"):
            out[name] = spec["enum"][0]
        else:
            kind = spec.get("type", "string") if isinstance(spec, dict) else "string"
            out[name] = _DEFAULTS.get(kind if isinstance(kind, str) else "string", "text")
    return out


def _words(text: str) -> int:
    return max(1, len(text.split()))


def _answer(body: dict[str, Any]) -> tuple[str | None, dict[str, Any] | None]:
    """The reply to a chat request: ``(text, None)`` or ``(None, tool_call)``."""
    messages = body.get("messages") or []
    last = messages[-1] if messages else {}
    response_format = body.get("response_format") or {}
    if response_format.get("type") == "json_schema":
        schema = (response_format.get("json_schema") or {}).get("schema") or {}
        return json.dumps(_fill(schema)), None
    tools = body.get("tools") or []
    choice = body.get("tool_choice", "auto")
    if tools and choice != "none" and last.get("role") != "tool":
        if isinstance(choice, dict):
            name = choice["function"]["name"]
        else:
            name = tools[0]["function"]["name"]
        spec = next(t["function"] for t in tools if t["function"]["name"] == name)
        arguments = json.dumps(_fill(spec.get("parameters") or {}))
        return None, {"id": f"call_{name}_0", "name": name, "arguments": arguments}
    if last.get("role") == "tool":
        return f"The tool answered: {last.get('content')}.", None
    return _TEXT_ANSWER, None


def _json(status: int, body: Any) -> Reply:
    return Reply(status, json.dumps(body).encode())


def _sse(events: Iterator[dict[str, Any]]) -> Stream:
    steps = [Write(sse(event)) for event in events]
    steps.append(Write(DONE))
    return Stream(steps)


def _not_found(path: str) -> Reply:
    return _json(404, {"error": {"message": f"no route {path}", "code": 404}})


def _respond(record: RecordedRequest) -> Reply | Stream:
    """The answer to one request, derived from it."""
    path = record.path.rstrip("/")
    if record.method == "GET":
        if path != "/v1/models":
            return _not_found(record.path)
        models = [
            "meta-llama/Llama-3.3-70B-Instruct",
            "intfloat/multilingual-e5-large-instruct",
        ]
        return _json(
            200, {"object": "list", "data": [{"id": m, "object": "model"} for m in models]}
        )
    body = json.loads(record.body or b"{}")
    if path == "/v1/chat/completions":
        return _chat(body)
    if path == "/v1/completions":
        return _completion(body)
    if path == "/v1/embeddings":
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        data = [
            {"object": "embedding", "index": i, "embedding": [float(len(t)), 1.0, 0.5]}
            for i, t in enumerate(inputs)
        ]
        tokens = sum(_words(t) for t in inputs)
        usage = {"prompt_tokens": tokens, "total_tokens": tokens}
        return _json(200, {"object": "list", "model": body["model"], "data": data, "usage": usage})
    return _not_found(record.path)


def _completion(body: dict[str, Any]) -> Reply | Stream:
    prompt = str(body.get("prompt", ""))
    usage = {
        "prompt_tokens": _words(prompt),
        "completion_tokens": _words(_TEXT_ANSWER),
        "total_tokens": _words(prompt) + _words(_TEXT_ANSWER),
    }
    base = {"id": "cmpl-stand-in", "object": "text_completion", "model": body["model"]}
    if not body.get("stream"):
        choice = {"index": 0, "text": _TEXT_ANSWER, "finish_reason": "stop"}
        return _json(200, {**base, "choices": [choice], "usage": usage})

    def events() -> Iterator[dict[str, Any]]:
        for word in _TEXT_ANSWER.split(" "):
            yield {**base, "choices": [{"index": 0, "text": word + " ", "finish_reason": None}]}
        yield {**base, "choices": [{"index": 0, "text": "", "finish_reason": "stop"}]}
        yield {**base, "choices": [], "usage": usage}

    return _sse(events())


def _chat(body: dict[str, Any]) -> Reply | Stream:
    text, call = _answer(body)
    prompt_tokens = sum(_words(str(m.get("content") or "")) for m in body.get("messages", []))
    completion_tokens = _words(text if text is not None else call["arguments"])  # type: ignore[index]
    usage = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }
    finish = "stop" if call is None else "tool_calls"
    base = {"id": "chatcmpl-stand-in", "object": "chat.completion", "model": body["model"]}
    if not body.get("stream"):
        message: dict[str, Any] = {"role": "assistant", "content": text}
        if call is not None:
            message["tool_calls"] = [
                {
                    "id": call["id"],
                    "type": "function",
                    "function": {"name": call["name"], "arguments": call["arguments"]},
                }
            ]
        choice = {"index": 0, "message": message, "finish_reason": finish}
        return _json(200, {**base, "choices": [choice], "usage": usage})
    base["object"] = "chat.completion.chunk"

    def delta(d: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        return {**base, "choices": [{"index": 0, "delta": d, "finish_reason": finish_reason}]}

    def events() -> Iterator[dict[str, Any]]:
        yield delta({"role": "assistant", "content": ""})
        if call is None:
            assert text is not None
            for word in text.split(" "):
                yield delta({"content": word + " "})
        else:
            head = {"id": call["id"], "type": "function"}
            yield delta(
                {
                    "tool_calls": [
                        {"index": 0, **head, "function": {"name": call["name"], "arguments": ""}}
                    ]
                }
            )
            arguments = call["arguments"]
            for start in range(0, len(arguments), 8):
                piece = arguments[start : start + 8]
                yield delta({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]})
        yield delta({}, finish)
        yield {**base, "choices": [], "usage": usage}

    return _sse(events())


class AtomaStandIn:
    """The stand-in on a free port of 127.0.0.1, in a daemon thread, for a whole test session."""

    def __init__(self) -> None:
        # A docs session lasts as long as its examples take; the fault server's default
        # lifetime is for one test.
        self._http = FaultServer(lifetime=3600.0)
        self._http.always(_respond)

    @property
    def base_url(self) -> str:
        """The base URL, with ``/v1``."""
        return self._http.url

    def __enter__(self) -> AtomaStandIn:
        self._http.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.stop()

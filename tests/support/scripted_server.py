"""An OpenAI-compatible chat server that plays a fixed conversation and checks every request.

Agent loops (LangChain ``create_agent``, LangGraph, LlamaIndex agents) send several
requests, each built from the answers before it. A tiny local model cannot drive them
(it neither thinks nor picks tools on its own), and a mock that answers anything hides
what matters: whether the history an adapter sends back is one a strict server accepts.
So this server plays a script, one :class:`Turn` per request, in Atoma's wire style
(vLLM's ``reasoning_content`` and/or ``reasoning`` on deltas and messages, the usage on
the last chunk, no ``[DONE]`` unless asked), and checks each request before answering it:

- message shapes: roles, content types (text, ``image_url`` parts), tool-call fields;
- every tool result answers a tool call of the assistant message before it, and the tool
  results after the last assistant message answer the calls of the previous turn;
- no ``reasoning`` / ``reasoning_content`` in the history unless the server was told the
  client sends it back (``reasoning_in_history=True``), and then each turn's own;
- no empty ``tools``, no ``tool_choice`` without tools, every tool a turn calls is offered,
  and never ``tools`` beside a ``json_schema`` response format (vLLM drops tool calls then).

A violation is answered with 400 and an Atoma-style error naming it, and recorded, so
:meth:`ScriptedServer.check` fails the test with that message even if the client swallowed
the error. The HTTP layer is the reliability suite's raw HTTP/1.1 server, in a thread on an
ephemeral loopback port.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from tests.support.fault_server import (
    DONE,
    FaultServer,
    RecordedRequest,
    Reply,
    Stream,
    Write,
    sse,
)

__all__ = ["Play", "ScriptedServer", "ScriptedToolCall", "Turn"]

ReasoningField = Literal["reasoning_content", "reasoning", "both"]
Play = Callable[..., "ScriptedServer"]
"""A fixture's ``play(turns, **options)``: a started :class:`ScriptedServer`."""

_ROLES = ("system", "developer", "user", "assistant", "tool")
_MESSAGE_KEYS = {
    "system": {"role", "content", "name"},
    "developer": {"role", "content", "name"},
    "user": {"role", "content", "name"},
    "assistant": {"role", "content", "name", "tool_calls", "refusal"},
    "tool": {"role", "content", "tool_call_id"},
}
_REASONING_KEYS = ("reasoning", "reasoning_content")


@dataclass(frozen=True)
class ScriptedToolCall:
    """One tool call the model makes in a turn."""

    id: str
    """The call's id; the tool result must repeat it."""
    name: str
    """The tool's name; the request must offer it."""
    arguments: Mapping[str, Any]
    """The arguments (sent as JSON text, in two pieces when streamed)."""


@dataclass(frozen=True)
class Turn:
    """What the model answers to one request: reasoning, then text and/or tool calls."""

    content: str = ""
    """The answer's text (streamed word by word)."""
    reasoning: str = ""
    """What the model thought first (streamed word by word, before the text)."""
    tool_calls: Sequence[ScriptedToolCall] = ()
    """The tool calls the model makes."""

    @property
    def finish_reason(self) -> str:
        return "tool_calls" if self.tool_calls else "stop"


@dataclass
class ScriptedServer:
    """Plays ``turns`` in order, one per chat request; ``start()``, point a client at ``url``,
    run the agent, then :meth:`check`."""

    turns: Sequence[Turn]
    """The conversation, one turn per request."""
    reasoning_field: ReasoningField = "reasoning_content"
    """Where reasoning goes on the wire: vLLM <= 0.11 ``reasoning_content``, 0.11.1-0.15
    both, >= 0.16 ``reasoning``."""
    reasoning_in_history: bool = False
    """The client was told to send reasoning back (``send_reasoning=True``)."""
    done_marker: bool = False
    """End streams with ``data: [DONE]``, as OpenAI and vLLM do (Atoma's proxy ends them
    without it)."""
    requests: list[dict[str, Any]] = field(default_factory=list)
    """The JSON body of every chat request, in order."""
    violations: list[str] = field(default_factory=list)
    """Every check that failed, with the request it failed on."""

    def __post_init__(self) -> None:
        self._http = FaultServer(lifetime=120.0)
        self._http.always(self._answer)
        self._lock = threading.Lock()

    # --- life cycle ----------------------------------------------------------------------

    @property
    def url(self) -> str:
        """Base URL to give a client, including ``/v1``."""
        return self._http.url

    def start(self) -> ScriptedServer:
        self._http.start()
        return self

    def stop(self) -> None:
        self._http.stop()

    def __enter__(self) -> ScriptedServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def check(self) -> None:
        """Fail (``AssertionError``) on any violation, or when the script was not played out."""
        problems = list(self.violations)
        if len(self.requests) < len(self.turns):
            problems.append(
                f"the script has {len(self.turns)} turns but only {len(self.requests)} "
                "requests came"
            )
        assert not problems, "scripted server: " + "; ".join(problems)

    @contextlib.contextmanager
    def checked(self) -> Iterator[ScriptedServer]:
        """Run an agent inside: any violation fails the block with its message, also when
        the agent raised (the 400 it got) or swallowed the error."""
        try:
            yield self
        except Exception as exc:
            if self.violations:
                raise AssertionError("scripted server: " + "; ".join(self.violations)) from exc
            raise
        self.check()

    # --- answering -------------------------------------------------------------------------

    def _answer(self, record: RecordedRequest) -> Reply | Stream:
        if record.method == "GET" and record.path.endswith("/open_router/models"):
            # LlamaIndex asks for context windows; answer as a bare vLLM does (no list), so
            # the package's table of documented models answers instead.
            return _error("no model list here", status=404, code="NOT_FOUND")
        with self._lock:
            number = len(self.requests)
            try:
                body = record.json()
            except ValueError:
                body = None
            self.requests.append(body if isinstance(body, dict) else {})
            problems = self._problems(record, body, number)
            if problems:
                message = f"request {number + 1}: " + "; ".join(problems)
                self.violations.append(message)
                return _error(message)
            assert isinstance(body, dict)
            turn = self.turns[number]
            # Each answer its own id, as on a real server: LangGraph merges messages by id.
            envelope = _envelope(str(body["model"]), number + 1)
            if body.get("stream"):
                return self._stream(turn, envelope)
            return Reply(200, json.dumps(self._completion(turn, envelope)).encode())

    def _problems(self, record: RecordedRequest, body: Any, number: int) -> list[str]:
        if record.method != "POST" or not record.path.endswith("/chat/completions"):
            return [f"{record.method} {record.path}: only POST /v1/chat/completions is served"]
        if not isinstance(body, dict):
            return ["the body is not a JSON object"]
        if number >= len(self.turns):
            return [f"the script has only {len(self.turns)} turns"]
        if not isinstance(body.get("model"), str) or not body["model"]:
            return ["no model"]
        problems = _tool_problems(body, self.turns[number])
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return [*problems, "messages must be a non-empty list"]
        for position, message in enumerate(messages):
            problems += [f"messages[{position}]: {p}" for p in _message_problems(message)]
        if problems:
            return problems
        problems += _tool_result_problems(messages, self.turns[number - 1] if number else None)
        problems += self._reasoning_problems(messages)
        return problems

    def _reasoning_problems(self, messages: Sequence[Mapping[str, Any]]) -> list[str]:
        problems: list[str] = []
        sent = [
            (position, m)
            for position, m in enumerate(messages)
            if any(key in m for key in _REASONING_KEYS)
        ]
        if not self.reasoning_in_history:
            return [
                f"messages[{position}] carries reasoning, which is not to be sent back"
                for position, _ in sent
            ]
        # A tool-call answer is known by its call ids; its turn's reasoning must come back.
        by_calls = {
            frozenset(call.id for call in turn.tool_calls): turn.reasoning
            for turn in self.turns
            if turn.tool_calls
        }
        for position, message in enumerate(messages):
            if message["role"] != "assistant":
                if any(key in message for key in _REASONING_KEYS):
                    problems.append(
                        f"messages[{position}]: reasoning on a {message['role']} message"
                    )
                continue
            ids = frozenset(call["id"] for call in message.get("tool_calls") or ())
            expected = by_calls.get(ids) if ids else None
            if expected and message.get("reasoning") != expected:
                problems.append(
                    f"messages[{position}]: the reasoning sent back is "
                    f"{message.get('reasoning')!r}, expected {expected!r} in 'reasoning'"
                )
        return problems

    # --- the wire ----------------------------------------------------------------------------

    def _reasoning(self, text: str) -> dict[str, str]:
        if not text:
            return {}
        if self.reasoning_field == "both":
            return {"reasoning_content": text, "reasoning": text}
        return {self.reasoning_field: text}

    def _completion(self, turn: Turn, envelope: Mapping[str, Any]) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": turn.content or None}
        message.update(self._reasoning(turn.reasoning))
        if turn.tool_calls:
            message["tool_calls"] = [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": json.dumps(call.arguments)},
                }
                for call in turn.tool_calls
            ]
        return {
            **envelope,
            "object": "chat.completion",
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "finish_reason": turn.finish_reason,
                    "logprobs": None,
                }
            ],
            "usage": _usage(turn),
        }

    def _stream(self, turn: Turn, envelope: Mapping[str, Any]) -> Stream:
        events = [_delta(envelope, {"role": "assistant", "content": ""})]
        events += [_delta(envelope, self._reasoning(p)) for p in _pieces(turn.reasoning)]
        events += [_delta(envelope, {"content": piece}) for piece in _pieces(turn.content)]
        for index, call in enumerate(turn.tool_calls):
            arguments = json.dumps(call.arguments)
            half = len(arguments) // 2
            head = {
                "index": index,
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": arguments[:half]},
            }
            tail = {"index": index, "function": {"arguments": arguments[half:]}}
            events += [_delta(envelope, {"tool_calls": [x]}) for x in (head, tail)]
        last = _delta(envelope, {}, finish_reason=turn.finish_reason)
        last["usage"] = _usage(turn)  # Atoma: the usage rides on the last chunk
        events.append(last)
        steps = [Write(sse(event)) for event in events]
        if self.done_marker:
            steps.append(Write(DONE))
        return Stream(steps)


# --- checks ---------------------------------------------------------------------------------


def _tool_problems(body: Mapping[str, Any], turn: Turn) -> list[str]:
    problems = []
    tools = body.get("tools")
    offered: list[str] = []
    if "tools" in body:
        if not isinstance(tools, list) or not tools:
            problems.append(f"tools must be a non-empty list when sent, got {tools!r}")
        else:
            for position, tool in enumerate(tools):
                function = tool.get("function") if isinstance(tool, dict) else None
                if (
                    not isinstance(tool, dict)
                    or tool.get("type") != "function"
                    or not isinstance(function, dict)
                    or not isinstance(function.get("name"), str)
                ):
                    problems.append(f"tools[{position}] is not an OpenAI function tool: {tool!r}")
                else:
                    offered.append(function["name"])
    if "tool_choice" in body and not tools:
        problems.append("tool_choice is sent without tools")
    response_format = body.get("response_format")
    if tools and isinstance(response_format, dict) and response_format.get("type") == "json_schema":
        problems.append(
            "tools beside a json_schema response_format: vLLM constrains the answer to the "
            "schema and drops the tool calls"
        )
    problems += [
        f"the script calls {call.name!r}, which the request does not offer (offered: {offered})"
        for call in turn.tool_calls
        if call.name not in offered
    ]
    return problems


def _content_problems(content: Any, *, images: bool) -> list[str]:
    if isinstance(content, str):
        return []
    if not isinstance(content, list) or not content:
        return [f"content must be a string or a non-empty list of parts, got {content!r}"]
    problems = []
    for position, part in enumerate(content):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text" and isinstance(part.get("text"), str) and set(part) == {"type", "text"}:
            continue
        if images and kind == "image_url":
            image = part.get("image_url")
            if isinstance(image, dict) and isinstance(image.get("url"), str):
                continue
        problems.append(f"content[{position}] is not a valid part: {part!r}")
    return problems


def _message_problems(message: Any) -> list[str]:
    if not isinstance(message, dict):
        return [f"not an object: {message!r}"]
    role = message.get("role")
    if role not in _ROLES:
        return [f"unknown role {role!r}"]
    allowed = _MESSAGE_KEYS[role] | (set(_REASONING_KEYS) if role == "assistant" else set())
    problems = [
        f"unexpected key {key!r} on a {role} message" for key in message if key not in allowed
    ]
    content = message.get("content")
    if role == "assistant":
        calls = message.get("tool_calls")
        if content is None and not calls:
            problems.append("an assistant message with neither content nor tool calls")
        if content is not None:
            problems += _content_problems(content, images=False)
        if calls is not None:
            problems += _tool_call_problems(calls)
        for key in _REASONING_KEYS:
            if key in message and not isinstance(message[key], str):
                problems.append(f"{key} must be a string, got {message[key]!r}")
    else:
        problems += _content_problems(content, images=role == "user")
    if role == "tool" and not (
        isinstance(message.get("tool_call_id"), str) and message["tool_call_id"]
    ):
        problems.append("a tool message without tool_call_id")
    return problems


def _tool_call_problems(calls: Any) -> list[str]:
    if not isinstance(calls, list) or not calls:
        return [f"tool_calls must be a non-empty list, got {calls!r}"]
    problems = []
    for position, call in enumerate(calls):
        function = call.get("function") if isinstance(call, dict) else None
        valid = (
            isinstance(call, dict)
            and set(call) == {"id", "type", "function"}
            and isinstance(call["id"], str)
            and call["id"]
            and call["type"] == "function"
            and isinstance(function, dict)
            and set(function) == {"name", "arguments"}
            and isinstance(function["name"], str)
            and isinstance(function["arguments"], str)
        )
        if not valid:
            problems.append(f"tool_calls[{position}] is not an OpenAI tool call: {call!r}")
            continue
        try:
            json.loads(function["arguments"])
        except ValueError:
            problems.append(f"tool_calls[{position}] arguments are not JSON")
    return problems


def _tool_result_problems(
    messages: Sequence[Mapping[str, Any]], previous: Turn | None
) -> list[str]:
    """Tool results answer the calls of the assistant message just before them, all of them,
    and those after the last assistant message answer the previous turn's calls."""
    problems = []
    pending: set[str] = set()
    for position, message in enumerate(messages):
        role = message["role"]
        if role == "tool":
            call_id = message["tool_call_id"]
            if call_id not in pending:
                problems.append(
                    f"messages[{position}]: tool result for {call_id!r}, which no call of the "
                    "assistant message before it made (or which was answered already)"
                )
            pending.discard(call_id)
            continue
        if pending:
            problems.append(f"messages[{position}]: tool calls {sorted(pending)} were not answered")
            pending = set()
        if role == "assistant":
            pending = {call["id"] for call in message.get("tool_calls") or ()}
    if pending:
        problems.append(f"tool calls {sorted(pending)} were not answered")
    if previous is not None and previous.tool_calls:
        expected = [call.id for call in previous.tool_calls]
        trailing: list[str] = []
        for message in reversed(messages):
            if message["role"] != "tool":
                break
            trailing.insert(0, message["tool_call_id"])
        if sorted(trailing) != sorted(expected):
            problems.append(
                f"the tool results after the last answer are for {trailing}, but the previous "
                f"turn called {expected}"
            )
    return problems


# --- wire builders ------------------------------------------------------------------------


def _pieces(text: str) -> list[str]:
    """``text`` in word-sized pieces that concatenate back to it."""
    pieces: list[str] = []
    for word in text.split(" "):
        pieces.append(f" {word}" if pieces else word)
    return [p for p in pieces if p]


def _envelope(model: str, number: int) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-scripted-{number}",
        "created": 1730000000,
        "model": model,
        "response_hash": "aGFzaA==",
        "signature": "sig",
    }


def _delta(
    envelope: Mapping[str, Any], delta: Mapping[str, Any], *, finish_reason: str | None = None
) -> dict[str, Any]:
    return {
        **envelope,
        "object": "chat.completion.chunk",
        "choices": [
            {"index": 0, "delta": dict(delta), "finish_reason": finish_reason, "logprobs": None}
        ],
        "usage": None,
    }


def _usage(turn: Turn) -> dict[str, Any]:
    reasoning = len(_pieces(turn.reasoning))
    completion = reasoning + len(_pieces(turn.content)) + 8 * len(turn.tool_calls)
    return {
        "prompt_tokens": 20,
        "completion_tokens": completion,
        "total_tokens": 20 + completion,
        "completion_tokens_details": {"reasoning_tokens": reasoning},
    }


def _error(message: str, *, status: int = 400, code: str = "SCRIPT_VIOLATION") -> Reply:
    body = {"error": {"code": code, "message": message}}
    return Reply(status, json.dumps(body).encode())

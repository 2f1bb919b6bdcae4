"""Bytes to server-sent events: the framing layer of every stream, without I/O or types.

:class:`SSEDecoder` is fed the body's bytes as they arrive and returns each complete event's
``data`` payload, still ``bytes``: the state classes (``_stream_state.py``) hand that payload
to pydantic-core, which parses it straight into the chunk the caller gets, once.

The framing is done here on bytes rather than with httpx-sse, which decodes the body to
``str`` line by line before it finds the ``data:`` field, so the JSON would then be decoded
again from that ``str`` (``benchmarks/`` measures both side by side). It is also where
Atoma's framing quirks are handled: ``:`` keep-alive comments between events, and UTF-8
characters split across network reads (lines are cut on ``\\n`` bytes, which never occur
inside a multi-byte character).
"""

from __future__ import annotations

__all__ = ["DONE", "SSEDecoder"]

DONE = b"[DONE]"
"""The payload of the event that ends an OpenAI-style stream."""


class SSEDecoder:
    """Incremental SSE parser: feed it raw bytes, get back each event's ``data`` payload.

    Only ``data`` matters for completions; ``event``, ``id`` and ``retry`` fields and
    ``:`` comments are skipped. Lines end in ``\\n``, ``\\r\\n`` or ``\\r``.
    """

    __slots__ = ("_buffer", "_data")

    def __init__(self) -> None:
        self._buffer = b""
        self._data: list[bytes] = []

    def feed(self, chunk: bytes) -> list[bytes]:
        """Consume ``chunk``; return the payloads of the events it completed, in order."""
        buffer = self._buffer + chunk if self._buffer else chunk
        if b"\r" in buffer:
            # A trailing "\r" may be the first half of "\r\n": keep it for the next read.
            if buffer.endswith(b"\r"):
                self._buffer = b"\r"
                buffer = buffer[:-1]
            else:
                self._buffer = b""
            buffer = buffer.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
            lines = buffer.split(b"\n")
            self._buffer = lines.pop() + self._buffer
        else:
            lines = buffer.split(b"\n")
            self._buffer = lines.pop()
        events: list[bytes] = []
        data = self._data
        for line in lines:
            if not line:
                if data:
                    events.append(data[0] if len(data) == 1 else b"\n".join(data))
                    data.clear()
            elif line.startswith(b"data:"):
                value = line[5:]
                data.append(value[1:] if value.startswith(b" ") else value)
            # Comments (":..."), and "event:", "id:", "retry:" fields carry nothing we use.
        return events

    def flush(self) -> list[bytes]:
        """End of body: return an event left without its closing blank line, if any."""
        events = self.feed(b"\n\n") if self._buffer or self._data else []
        self._buffer = b""
        return events

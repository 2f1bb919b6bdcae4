"""The SSE framing: events, comments and line endings, fed in arbitrary pieces."""

from __future__ import annotations

from atoma_integrations._sse import SSEDecoder


def decode_all(pieces: list[bytes]) -> list[bytes]:
    decoder = SSEDecoder()
    events = [event for piece in pieces for event in decoder.feed(piece)]
    return events + decoder.flush()


def test_comments_are_skipped_and_data_kept() -> None:
    body = b': keep-alive\n\ndata: {"a": 1}\n\n: keep-alive\n\ndata: [DONE]\n\n'
    assert decode_all([body]) == [b'{"a": 1}', b"[DONE]"]


def test_crlf_split_between_reads() -> None:
    body = b"data: one\r\n\r\ndata: two\r\n\r\n"
    pieces = [body[i : i + 1] for i in range(len(body))]
    assert decode_all(pieces) == [b"one", b"two"]


def test_event_without_final_blank_line_is_flushed() -> None:
    assert decode_all([b"data: last"]) == [b"last"]
